"""A run folder: the one owner of its file names and of all reading and writing in it.

    from mnist_cnn.rundir import RunDir, list_runs, best_run
    run = RunDir.create("runs", "seed-20261130-0512", cfg)    # config.json + the folder, or UserError
    run = RunDir.open("runs/seed-20261130-0512")              # an existing run
    with run.lock(): ...                                       # one trainer at a time
    run.config(), run.metrics(), run.load_best()               # what it holds

Files: config.json (the whole TrainConfig), env.json (versions, CPU, precision), summary.txt,
history.csv, model.keras (the best epoch by validation loss), the pictures, checkpoint/ (the last
whole epoch), exports/ (`mnist-cnn export`: model.onnx, model.int8.tflite, ... each with its
.check.json) and metrics.json. metrics.json is written last: a run is finished when it exists.
A checkpoint is committed at one point: its weights go to checkpoint/epoch-NNNN.keras first, then
checkpoint/state.json, which names that file and its SHA-256, replaces the old state in one
rename. A state whose weights file is missing or differs is refused, never silently resumed.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
from datetime import datetime
from pathlib import Path

from . import files
from .config import KINDS, TrainConfig, check_values, load_file
from .console import Report, quiet
from .errors import ConfigError, UserError

CONFIG, ENV, SUMMARY, HISTORY = "config.json", "env.json", "summary.txt", "history.csv"
MODEL, METRICS, CHECKPOINT, LOCK = "model.keras", "metrics.json", "checkpoint", ".lock"
STATE = "state.json"
EXPORTS = "exports"  # `mnist-cnn export`'s default folder inside a run
EXPORT_SUFFIXES = {"savedmodel": ".savedmodel", "onnx": ".onnx", "litert": ".tflite"}  # by export format
CHECK_SUFFIX = ".check.json"  # an export's check figures: model.onnx -> model.onnx.check.json
READER, READER_STEM = "linereader.keras", "linereader"  # the line reader (line_fit.py), exports/linereader.onnx
LEGACY_WEIGHTS = "last.keras"  # the checkpoint's weights in runs saved before state.json named them
PICTURES = ("learning_curves.png", "confusion_matrix.png", "examples.png", "misclassified.png")
HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds", "val_seconds"]


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    @classmethod
    def create(cls, out: str | os.PathLike, name: str, cfg: TrainConfig) -> "RunDir":
        run = cls(Path(out) / name)
        if run.path.exists():
            raise UserError(f"{run.path}: run folder already exists; pick another name or resume it")
        try:
            run.path.mkdir(parents=True)
        except OSError as e:
            raise UserError(f"{run.path}: cannot create the run folder ({e.strerror or e})") from None
        run.write_json(CONFIG, cfg.to_dict())
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> "RunDir":
        run = cls(path)
        if not str(path):
            raise UserError("run folder: expected a path, found an empty value")
        if not run.path.is_dir():
            raise UserError(f"{run.path}: expected a run folder, found a file" if run.path.exists() else
                            f"{run.path}: run folder does not exist")
        if not (run.path / CONFIG).is_file():
            raise UserError(f"{run.path}: not a run folder (expected {CONFIG}, found none)")
        return run

    def file(self, name: str) -> Path:
        return self.path / name

    # ------------------------------------------------------------------ JSON, text and tables
    def write_json(self, name: str, obj) -> None:
        files.write_json(self.path / name, obj)

    def write_text(self, name: str, text: str) -> None:
        files.write_text(self.path / name, text)

    def config(self) -> TrainConfig:
        """config.json, checked as a TOML file is: a broken one is a UserError naming the file and key."""
        try:
            cfg = TrainConfig(**load_file(self.path / CONFIG))
            check_values(cfg)
        except TypeError as e:
            raise UserError(f"{self.path / CONFIG}: not a run configuration ({e})") from None
        except ConfigError as e:  # not the CLI's --flag: the value comes from the file
            raise UserError(f"{self.path / CONFIG}: key {e.field!r}: {e.what}") from None
        return cfg

    def metrics(self) -> dict | None:
        """metrics.json, or None while the run is unfinished."""
        return read_object(self.path / METRICS) if (self.path / METRICS).is_file() else None

    def env(self) -> dict | None:
        """env.json (versions, CPU, precision), or None when the run has none."""
        return read_object(self.path / ENV)

    def write_history(self, history: list[dict]) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        self.write_text(HISTORY, out.getvalue())

    # ------------------------------------------------------------------ models and checkpoints
    def save_model(self, model, name: str = MODEL) -> None:
        with files.atomic_path(self.path / name) as tmp:
            model.save(tmp)

    def load_best(self, policy: str | None = None):
        from .models import load_model

        return load_model(self.path / MODEL, policy)

    def save_checkpoint(self, model, state: dict) -> None:
        """Weights first, then the state naming them: the state's rename is the commit."""
        folder = self.path / CHECKPOINT
        folder.mkdir(exist_ok=True)
        weights = f"epoch-{state['epoch']:04d}.keras"
        self.save_model(model, f"{CHECKPOINT}/{weights}")
        digest = sha256_file(folder / weights)
        self.write_json(f"{CHECKPOINT}/{STATE}", {**state, "weights": weights, "weights_sha256": digest})
        for old in folder.glob("epoch-*.keras"):
            if old.name != weights:
                old.unlink(missing_ok=True)

    def resumable(self) -> tuple[Path, dict] | None:
        """load_checkpoint() of a run not yet finished; a finished run (its metrics.json written) is a UserError."""
        if self.metrics() is not None:
            raise UserError(f"{self.path}: the run is finished; nothing to resume")
        return self.load_checkpoint()

    def load_checkpoint(self) -> tuple[Path, dict] | None:
        """(weights path, state) of the last committed epoch, None before the first; UserError if inconsistent."""
        state_path = self.path / CHECKPOINT / STATE
        if not state_path.is_file():
            return None
        state = read_object(state_path)
        if state is not None and "weights" not in state and (self.path / CHECKPOINT / LEGACY_WEIGHTS).is_file():
            return self.path / CHECKPOINT / LEGACY_WEIGHTS, state  # written before checkpoints named their weights
        weights = state.get("weights") if state else None
        if not isinstance(weights, str) or "/" in weights or not isinstance(state.get("epoch"), int):
            raise UserError(f"{state_path}: not a checkpoint state written by this version (no weights file named)")
        path = self.path / CHECKPOINT / weights
        if not path.is_file() or sha256_file(path) != state.get("weights_sha256"):
            raise UserError(f"{state_path}: names {weights} with SHA-256 {str(state.get('weights_sha256'))[:16]}..., "
                            f"but that file is {'different' if path.is_file() else 'missing'}; the checkpoint is "
                            f"inconsistent, so it is not resumed")
        return path, state

    # ------------------------------------------------------------------ exports
    def export_path(self, fmt: str, int8: bool = False) -> Path:
        """Where `mnist-cnn export` puts this run's model in format fmt: exports/model[.int8].onnx, ..."""
        return self.path / EXPORTS / export_name("model", fmt, int8)

    # ------------------------------------------------------------------ one trainer at a time
    def line_reader(self, runtime: str = "keras") -> Path:
        """Where the run's line reader is kept: linereader.keras, or its ONNX export for any other runtime."""
        if runtime == "keras":
            return self.path / READER
        return self.path / EXPORTS / (READER_STEM + EXPORT_SUFFIXES["onnx"])

    @contextlib.contextmanager
    def lock(self):
        """Hold an exclusive lock on the run folder; UserError naming the holder's PID if taken."""
        path = self.path / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                raise UserError(f"{self.path}: in use by another mnist-cnn process (PID {holder}); "
                                f"wait for it to finish or stop it") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            for stale in self.path.rglob(".*.part*"):  # a temp file of a writer killed by SIGKILL; we hold the lock
                stale.unlink(missing_ok=True)
            yield self
        finally:
            os.close(fd)  # closing releases the lock; the file stays (removing it would race a waiter)


def export_name(stem: str, fmt: str, int8: bool = False) -> str:
    return f"{stem}{'.int8' if int8 else ''}{EXPORT_SUFFIXES[fmt]}"


def export_path_for(model_file: str | os.PathLike, fmt: str, int8: bool = False) -> Path:
    """The default place of a .keras file's export: its run folder's exports/, else beside the file."""
    model_file = Path(model_file)
    if model_file.name == MODEL and (model_file.parent / CONFIG).is_file():
        return RunDir(model_file.parent).export_path(fmt, int8)
    return model_file.with_name(export_name(model_file.stem, fmt, int8))


def check_path(export: str | os.PathLike) -> Path:
    """The check figures stored next to an export: model.onnx -> model.onnx.check.json."""
    export = Path(export)
    return export.with_name(export.name + CHECK_SUFFIX)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def saved_config(path: str | os.PathLike) -> TrainConfig | None:
    """The checked config.json (RunDir.config) of a run folder, or of the run whose model.keras `path` is; None for a
    folder without one and for any other model file (one's own .keras may lie beside an unrelated config.json)."""
    path = Path(path)
    folder = path.parent if path.name == MODEL and path.is_file() else path if path.is_dir() else None
    return RunDir(folder).config() if folder is not None and (folder / CONFIG).is_file() else None


def read_object(path: Path) -> dict | None:
    """The JSON object in path; None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# The types of what `runs` shows from each file, where present (older runs lack some keys)
SHAPES = {CONFIG: {"model": str, "dataset": str, "epochs": int},
          METRICS: {"test_accuracy": (int, float), "best_val_accuracy": (int, float), "epochs_run": int,
                    "train_seconds": (int, float), "finished": str}}


def _fault(obj: dict | None, shape: dict) -> str | None:
    """What a run file's JSON (read_object's) lacks for `runs`, in words; None when it has what it needs."""
    if obj is None:
        return "expected a JSON object, found none (missing, unreadable, not JSON, or not an object)"
    wrong = next((k for k, t in shape.items() if k in obj and (not isinstance(obj[k], t) or isinstance(obj[k], bool))),
                 None)
    if wrong is None:
        return None
    kind = "a number" if shape[wrong] == (int, float) else KINDS[shape[wrong]]
    return f"key {wrong!r}: expected {kind}, found {obj[wrong]!r}"


def list_runs(out: str | os.PathLike, report: Report = quiet) -> list[dict]:
    """One row per run folder under out, oldest first; a folder with a malformed file is skipped with a report."""
    rows = []
    out = Path(out)
    if not out.is_dir():
        return rows
    for path in sorted(p for p in out.iterdir() if (p / CONFIG).is_file()):
        cfg = read_object(path / CONFIG)
        metrics = read_object(path / METRICS) if (path / METRICS).exists() else {}
        if bad := next(((name, fault) for name, v in ((CONFIG, cfg), (METRICS, metrics))
                        if (fault := _fault(v, SHAPES[name]))), None):
            report(f"{path / bad[0]}: {bad[1]}; run skipped")
            continue
        state = read_object(path / CHECKPOINT / STATE) or {}
        rows.append({
            "name": path.name, "path": str(path), "model": cfg.get("model", "?"),
            "dataset": cfg.get("dataset", "mnist"),
            "epochs": metrics.get("epochs_run", state.get("epoch", 0)), "of": cfg.get("epochs"),
            "val_accuracy": metrics.get("best_val_accuracy"), "test_accuracy": metrics.get("test_accuracy"),
            "train_seconds": metrics.get("train_seconds", state.get("train_seconds")),
            "date": str(metrics.get("finished") or datetime.fromtimestamp((path / CONFIG).stat().st_mtime)
                        .isoformat(timespec="seconds")),
            "status": "finished" if metrics else "unfinished",
        })
    return sorted(rows, key=lambda r: r["date"])


def best_run(out: str | os.PathLike, dataset: str = "mnist", report: Report = quiet, keep=None) -> Path | None:
    """The finished run of `dataset` with the highest validation accuracy (never chosen by the test set); keep: the
    best of the run folders (Paths) for which it is true, asked best first until one is."""
    done = [r for r in list_runs(out, report) if isinstance(r["val_accuracy"], (int, float))
            and r["dataset"] == dataset and Path(r["path"], MODEL).is_file()]
    done.sort(key=lambda r: -r["val_accuracy"])  # stable: of equals, the first listed, as max() takes
    return next((Path(r["path"]) for r in done if keep is None or keep(Path(r["path"]))), None)


def top_runs(out: str | os.PathLike, k: int, dataset: str | None = None, report: Report = quiet) -> list[dict]:
    """The k finished runs under out with the highest validation accuracy (ties: by name), best first.

    dataset: only runs of it; None: the data set of the best run. Never chosen by the test set.
    """
    done = [r for r in list_runs(out, report) if r["status"] == "finished"
            and isinstance(r["val_accuracy"], (int, float)) and Path(r["path"], MODEL).is_file()]
    done.sort(key=lambda r: (-r["val_accuracy"], r["name"]))
    if done and dataset is None:
        dataset = done[0]["dataset"]
    return [r for r in done if r["dataset"] == dataset][:k]


def runs_table(rows: list[dict]) -> list[tuple]:
    """Rows for console.table: name, model, data set, epochs, accuracies, seconds, date."""
    def pct(v):
        return f"{v:.2%}" if isinstance(v, (int, float)) else "-"

    table = [("name", "model", "data", "epochs", "val acc", "test acc", "train s", "date")]
    for r in rows:
        epochs = f"{r['epochs']}/{r['of']}" if r["status"] != "finished" else str(r["epochs"])
        seconds = f"{r['train_seconds']:.1f}" if isinstance(r["train_seconds"], (int, float)) else "-"
        table.append((r["name"], r["model"], r["dataset"], epochs, pct(r["val_accuracy"]), pct(r["test_accuracy"]),
                      seconds, r["date"].replace("T", " ")))
    return table
