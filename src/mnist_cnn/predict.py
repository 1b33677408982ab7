"""Predicting the digit in people's own images (photos, scans, drawings) with a trained model.

    mnist-cnn predict photo.jpg scans/ [--model runs/NAME] [--top-k 3] [--json | --csv]

    from mnist_cnn.predict import Predictor
    p = Predictor("runs/NAME")                      # or a .keras file; None = the best run in runs/
    p = Predictor("runs/NAME/exports/model.onnx")   # an export: ONNX Runtime / LiteRT, no TensorFlow
    p.probabilities(x)                              # x: (N, 28, 28) float32 in [0, 1] -> (N, 10)

Every image goes through `images.to_mnist` (the MNIST preprocessing: polarity, crop, 20 px box,
centre of mass, slant), the same function the web page's API uses; a photo with a shadow's sharp edge across it also
with the shade for its paper (`images.candidates`), and `readings.choose` takes that reading only where the plain one
is refused; a refused plain reading gets such readings too (a second look, `images.more_readings`). Many files are
read and preprocessed in worker processes (preprocess_pool.py), and predicted in batches.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from . import extras, files
from .dotted import dotted_each
from .console import Report, quiet
from .errors import UserError
from .imagefile import STDIN
from .images import NO_DIGIT
from .refusal import NOT_A_DIGIT, Decision, Rule
from .rundir import read_object, saved_config

# A folder's files read as pictures: the formats a person's picture comes in that Pillow (and pillow-heif) decode
IMAGE_SUFFIXES = {".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".jp2", ".bmp", ".dib", ".gif", ".webp", ".avif",
                  ".heic", ".heif", ".tif", ".tiff", ".pgm", ".ppm", ".pbm", ".pnm", ".ico", ".tga", ".qoi"}
BATCH = 256  # images per forward pass: large enough to amortise the call, small enough to show progress


class Predictor:
    """A model loaded once: Keras through a compiled forward pass (Keras' predict() costs ~90 ms a call, this
    ~1 ms), or an export (.onnx, .tflite) in its own runtime without TensorFlow (runtime.py).

    runtime: "keras", "onnx" or "litert"; None picks an export file's own runtime, and for a run folder
    or .keras file its fastest checked export, else Keras (runtime.choose).
    threads: the runtime's threads for one forward pass (default: its own, about one per core); the server
    uses 1, as its requests already keep the cores busy. report: what resolve_model says while it picks a run.
    """

    def __init__(self, model: str | os.PathLike | None = None, out: str | os.PathLike = "runs",
                 check_dataset: bool = True, runtime: str | None = None, threads: int | None = None,
                 report: Report = quiet):
        from . import runtime as runtimes

        self.runtime, self.path = runtimes.choose(runtimes.resolve_model(model, out, report, runtime), runtime)
        self.model = None  # the Keras model, for the keras runtime
        if self.runtime != "keras":
            self._export = runtimes.open_export(self.path, self.runtime, threads)
            self._info = runtimes.run_info(self.path, self._export.check)
            self.config = {"model": self._info["recipe"], "dataset": self._info["dataset"] or "mnist"}
            self._forward = self._export.probabilities
        else:
            cfg = saved_config(self.path)
            self.config = {"model": cfg.model, "dataset": cfg.dataset} if cfg else {}
        dataset = self.config.get("dataset", "mnist")
        if check_dataset and dataset != "mnist":
            raise UserError(f"{self.path}: a {dataset} model; reading digits needs a model trained on mnist")
        if self.runtime == "keras":
            self._load_keras(threads, runtime)
        self.rule = Rule.for_model(self.path)
        self._gate = self._open_gate(threads)
        self._threads = threads
        self._line_reader = ...  # the run's line reader or the package's (line_reader.open_reader), opened on first use
        self._piece_gate = ...  # the piece gate that goes with that reader (gate.PIECE_STEM), likewise

    @property
    def line_reader(self):
        """The run's line reader for touching digits in this runtime, the package's for a run without one (bundled.py),
        or None (`read` then cuts them)."""
        if self._line_reader is ...:
            from .line_reader import open_reader
            from .refusal import run_folder_of

            self._line_reader = open_reader(run_folder_of(self.path), self.runtime, self._threads)
        return self._line_reader

    @line_reader.setter
    def line_reader(self, reader) -> None:
        self._line_reader = reader

    def _open_gate(self, threads: int | None):
        """The run's "not a digit" gate in this runtime (gate.py), when its rule uses one; with the model's threads
        (a server's one-thread model beside a gate on the default pool: its spinning cost 0.8-1.4 ms a request)."""
        from .gate import GATE_STEM, missing_gate, open_gate
        from .refusal import run_folder_of

        if self.rule.gate_threshold is None:
            return None
        run = run_folder_of(self.path)
        gate = open_gate(run, self.runtime, threads)
        if gate is None:
            raise missing_gate(run, GATE_STEM, self.runtime, "its refusal rule needs the \"not a digit\" gate")
        return gate

    def _load_keras(self, threads: int | None, asked: str | None) -> None:
        from .runtime import NO_EXPORT

        tf = extras.require("tensorflow", f"running {self.path} in Keras{'' if asked else NO_EXPORT}")
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:  # TensorFlow already ran something in this process: its pools stay as they are
                pass
        from .hardware import inference_policy
        from .models import load_model

        self.model = load_model(self.path, inference_policy())
        forward = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True,
                              input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        self._forward = lambda x: np.asarray(forward(x), dtype=np.float32)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(N, 28, 28) or (N, 28, 28, 1) float32 in [0, 1] -> (N, 10) float32 probabilities."""
        return self._forward(np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1))

    def decide(self, x: np.ndarray) -> list[Decision]:
        """(N, 28, 28) float32 in [0, 1] -> a Decision per image: digit or refusal, calibrated confidence."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        return self.rule.decide(self.probabilities(x), self.not_digit(x))

    def not_digit(self, x: np.ndarray) -> np.ndarray | None:
        """(N, 28, 28) float32 in [0, 1] -> the "not a digit" gate's (N,) P(not a digit) alone (no digit model), 1 for a
        ! or ? (dotted.py), or None when the run's rule has no gate."""
        if self._gate is None:
            return None
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        found = np.array(self._gate(x), dtype=np.float32).reshape(-1)
        found[dotted_each(x)] = 1.0
        return found

    def piece_not_digit(self, x: np.ndarray) -> np.ndarray | None:
        """(N, 28, 28) float32 pieces cut between the line reader's digits -> (N,) P(not a digit) by the piece gate that
        goes with the reader (gate.PIECE_STEM); None when the run has no gate, or its own reader but no piece gate."""
        if self._piece_gate is ...:
            self._piece_gate = self._open_piece_gate()
        if self._piece_gate is None:
            return None
        return np.asarray(self._piece_gate(np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)), dtype=np.float32)

    def _open_piece_gate(self):
        from . import bundled
        from .gate import PIECE_STEM, gate_paths, missing_gate, open_gate
        from .refusal import run_folder_of

        run = run_folder_of(self.path)
        if getattr(self.line_reader, "bundled", False):  # its own piece gate, whatever the run keeps
            return bundled.piece_gate(self._threads) if self._gate is not None else None
        if self._gate is None or not gate_paths(run, PIECE_STEM)["keras"].is_file():
            return None
        found = open_gate(run, self.runtime, self._threads, PIECE_STEM)
        if found is None:
            raise missing_gate(run, PIECE_STEM, self.runtime, "its piece gate is needed")
        return found

    def info(self) -> dict:
        """Name, parameter count, runtime and test accuracy (an export's: measured by its check; a run's: its
        metrics.json)."""
        if self.runtime != "keras":
            info = {k: v for k, v in self._info.items() if k != "dataset"}
            return {**info, "path": str(self.path), "runtime": self._export.version}
        metrics = read_object(self.path.parent / "metrics.json") or {}
        run = self.path.parent.name if self.config else None
        return {"name": self.model.name, "recipe": self.config.get("model"), "run": run, "file": self.path.name,
                "path": str(self.path), "parameters": int(self.model.count_params()),
                "test_accuracy": metrics.get("test_accuracy"), "runtime": "keras"}


def find_images(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[tuple[str, str]]]:
    """(image files, [(path, error)]): files as given, folders searched recursively by image suffix; a path or a
    folder inside one that cannot be read (no permission, a symlink loop) is an error naming it, not a gap; "-" is
    standard input."""
    found, errors = [], []
    for given in map(os.fspath, paths):  # errors name a path as given ("./a.png", not "a.png")
        p = Path(given)
        if given == STDIN:  # read when its turn comes (imagefile)
            found.append(p)
            continue
        try:
            mode = p.stat().st_mode
        except OSError as e:
            errors.append((given, "no such file or folder" if e.errno == errno.ENOENT else
                           f"cannot read ({e.strerror or e})"))
            continue
        if stat.S_ISDIR(mode):
            inside, unreadable = _images_in(p)
            if not inside and not unreadable:
                errors.append((given, f"no images in this folder (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"))
            found += inside
            errors += unreadable
        elif stat.S_ISREG(mode):
            found.append(p.absolute() if str(p) == STDIN else p)  # "./-": a file named "-", not standard input
        else:  # a FIFO would block the read for ever; a device is no picture
            errors.append((given, "not a regular file (expected an image file or a folder)"))
    return found, errors


def _images_in(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The image files under `folder` in path order (symlinked folders not followed, as os.walk), and the folders under
    it that cannot be listed, as errors."""
    # os.scandir's entries, not os.walk's names and a stat of each: a plain file's type comes with its name (d_type),
    # and 2,000 files took ~25 ms, before the workers start, against ~8 ms.
    found, errors, stack = [], [], [os.fspath(folder)]
    while stack:
        root = stack.pop()
        try:
            with os.scandir(root) as listing:
                entries = list(listing)
        except OSError as e:
            errors.append((e.filename, f"cannot read folder ({e.strerror or e})"))
            continue
        folders, searchable = [], os.access(root, os.X_OK)  # listed but not searchable: its files cannot be read
        for entry in entries:
            if _is_dir(entry):
                if not entry.is_symlink():
                    folders.append(entry.path)
            elif _suffix(entry.name) in IMAGE_SUFFIXES:
                try:  # a symlink's target, or a file past a folder it may not search: "cannot read (...)"
                    regular = searchable and entry.is_file() or stat.S_ISREG(os.stat(entry.path).st_mode)
                except OSError as e:  # a broken symlink named like a picture
                    errors.append((str(Path(entry.path)), f"cannot read ({e.strerror or e})"))
                    continue
                if regular:
                    found.append(entry.path)
                else:  # a FIFO named like a picture: reading it would block for ever
                    errors.append((str(Path(entry.path)), "not a regular file (expected an image file)"))
        stack += reversed(folders)  # the first listed is walked first
    # Path's order (its parts, case-folded on Windows) without a Path each: the paths share `folder`'s prefix
    return [Path(f) for f in sorted(found, key=lambda f: os.path.normcase(f).split(os.sep))], errors


def _suffix(name: str) -> str:
    """Path(name).suffix, lower case, without a Path: ".png" for "a.png" and "..png", "" for ".png" and "a."."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _is_dir(entry: os.DirEntry) -> bool:
    """A folder or a symlink to one (os.walk's test: such a symlink is neither walked nor a file)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


@dataclass
class Prediction:
    path: str
    digit: int | None = None
    confidence: float | None = None
    top_k: list[tuple[int, float]] = field(default_factory=list)
    rejected: bool = False  # ink that is not a digit (refusal.NOT_A_DIGIT): an answer, not an error
    error: str | None = None  # images.NO_DIGIT, or why the file could not be read

    @property
    def failed(self) -> bool:
        """The file could not be read (a blank page is an answer, not a failure)."""
        return self.error is not None and self.error != NO_DIGIT

    def to_dict(self) -> dict:
        """The keys of POST /api/predict's answer and its meanings: a blank page's NO_DIGIT is a `message` (an answer,
        as "not a digit" is), `error` only a file that could not be read."""
        blank = self.error == NO_DIGIT
        return {"path": self.path, "digit": self.digit, "confidence": self.confidence,
                "top_k": [{"digit": d, "probability": p} for d, p in self.top_k], "rejected": self.rejected,
                "message": NOT_A_DIGIT if self.rejected else NO_DIGIT if blank else None,
                "error": None if blank else self.error}


def preprocess_file(path: Path) -> np.ndarray | None:
    """The 28x28 float32 plain reading of a file (to_mnist; `images.candidates`' first), or None when there is no ink;
    UserError if unreadable."""
    from . import images

    return images.to_mnist(images.load_grey(path, max_side=images.MAX_SIDE))


def predict_files(predictor: Predictor, paths: list[Path], top_k: int = 3, save_preprocessed: Path | None = None,
                  batch: int = BATCH, preprocessor=None, read=None) -> Iterator[Prediction]:
    """Predictions for image paths in order, batch by batch; unreadable files and blank images come back as errors.

    preprocessor: a started `preprocess_pool.Preprocessor` to read the files with (default: one made here,
    with worker processes when there are many files). read: instead, its `map(paths)`, already under way."""
    from .preprocess_pool import Preprocessor, read_again
    from .readings import decide_candidates

    if read is None and preprocessor is None:
        with Preprocessor(len(paths)) as own:
            yield from predict_files(predictor, paths, top_k, save_preprocessed, batch, own)
        return
    read = preprocessor.map(paths) if read is None else read
    for start in range(0, len(paths), batch):
        results, pixels, slots = [], [], []
        for f, xs in itertools.islice(read, batch):
            if isinstance(xs, str):
                results.append(Prediction(str(f), error=xs))
                continue
            if xs[0] is None:  # images.candidates: [None], no ink
                results.append(Prediction(str(f), error=NO_DIGIT))
                continue
            slots.append((len(results), f))
            results.append(Prediction(str(f)))
            pixels.append(xs)
        if pixels:
            chosen = decide_candidates(predictor, pixels, lambda i: read_again(slots[i][1]))
            for (slot, f), (x, d) in zip(slots, chosen):
                if save_preprocessed is not None:
                    stem = files.short_stem(f"{start + slot:05d}_{f.stem}", ".png")
                    _save(x, save_preprocessed / f"{stem}.png")
                p = d.probabilities
                order = np.argsort(-p, kind="stable")[:top_k]
                r = results[slot]
                r.digit, r.confidence, r.rejected = d.digit, d.confidence, d.rejected
                r.top_k = [(int(k), float(p[k])) for k in order]
        yield from results


def _save(x: np.ndarray, path: Path) -> None:
    from PIL import Image

    with files.atomic_path(path) as tmp:
        Image.fromarray(np.round(x * 255).astype(np.uint8)).save(tmp, format="PNG")
