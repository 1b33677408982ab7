"""Running an exported model without TensorFlow or Keras: ONNX Runtime and LiteRT.

    from mnist_cnn.runtime import open_export, choose
    model = open_export("runs/NAME/exports/model.onnx")     # or a .tflite file
    model.probabilities(x)                                  # (N, 28, 28[, 1]) float32 in [0, 1] -> (N, 10)
    kind, path = choose("runs/NAME")                        # the fastest checked export there, else Keras
    run = resolve_model(None, "runs")                       # the default model: the best run (one that runs here)

`mnist-cnn export` writes each export with its check figures (model.onnx.check.json: accuracy,
agreement with the Keras model, SHA-256 of the file and of the model.keras it came from). An
export with a check next to it is used only while both digests still match, so a damaged file or
one left over from an older model.keras is refused (or, when picking automatically, passed over).
A file without a check is loaded as any ONNX/LiteRT classifier of 28x28x1 images.

Nothing here, nor anything it imports, loads TensorFlow or Keras (tests/test_export.py checks
`sys.modules` after a prediction), so `mnist-cnn predict --model m.onnx` starts in a fraction of a
second. ONNX Runtime comes with the package (`pip install mnist-cnn`, no TensorFlow); LiteRT is the `litert` extra
(extras.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .console import Report, quiet
from .errors import ConfigError, UserError
from .extras import PACKAGES, importable
from .rundir import (CONFIG, EXPORT_SUFFIXES, EXPORTS, best_run, check_path, export_path_for, read_object,
                     sha256_file)

MAX_EXPORT_BYTES = 200 * 2**20  # ours are 0.2-15 MB; refuse before reading anything bigger


@dataclass(frozen=True)
class Runtime:
    name: str  # the --runtime value and the export format
    title: str  # how messages name it
    module: str  # the Python package that runs it
    suffix: str  # of its export files


RUNTIMES = {
    "onnx": Runtime("onnx", "ONNX Runtime", "onnxruntime", EXPORT_SUFFIXES["onnx"]),
    "litert": Runtime("litert", "LiteRT", "ai_edge_litert", EXPORT_SUFFIXES["litert"]),
}
# Picked in this order from a run folder's checked exports (README, "Export and run anywhere":
# LiteRT's XNNPACK kernels answer one image and 1,024 images faster than ONNX Runtime here and
# start as fast). Float32 exports only: an int8 file is used when named with --model.
FASTEST_FIRST = ("litert", "onnx")
RUNTIME_CHOICES = ("keras", *RUNTIMES)


def installed(name: str) -> bool:
    """Whether runtime `name`'s package is importable (without importing it)."""
    return importable(RUNTIMES[name].module)


def require(name: str, what: str = "module"):
    """Import the runtime's package, or a UserError naming the extra that installs it (onnxruntime: the package's own
    dependency, missing only from a broken install)."""
    rt = RUNTIMES[name]
    try:
        return importlib.import_module(what if what != "module" else rt.module)
    except ImportError as e:
        if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):  # a Ctrl-C inside an extension's import
            raise KeyboardInterrupt from None
        package, extra = PACKAGES.get(rt.module, (rt.module, None))
        how = f"'mnist-cnn[{extra}]'" if extra else package
        raise UserError(f"{rt.title} is not installed (Python package {package}); "
                        f"install it with: pip install {how}") from None


def kind_of(path: Path) -> str | None:
    """The runtime an export file's suffix names (.onnx -> onnx, .tflite -> litert), else None."""
    return next((name for name, rt in RUNTIMES.items() if path.suffix == rt.suffix), None)


def digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder (a SavedModel) as its sorted relative paths and contents."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + bytes.fromhex(sha256_file(f)))
    return h.hexdigest()


def read_check(export: Path) -> dict | None:
    """The check figures stored next to an export, or None when it has none."""
    return read_object(check_path(export)) if check_path(export).is_file() else None


def verify(export: Path, source: Path | None = None) -> dict | None:
    """The export's check when it passed and still describes the file (and `source`, if given); else UserError.

    An export without a check file gives None: there is nothing to hold it to.
    """
    check = read_check(export)
    if check is None:
        if check_path(export).exists():
            raise UserError(f"{check_path(export)}: not a check written by mnist-cnn export; re-export the model")
        return None
    if check.get("passed") is not True:
        raise UserError(f"{export}: its check did not pass ({check_path(export).name}); re-export the model")
    if digest(export) != check.get("sha256"):
        raise UserError(f"{export}: differs from the file that was checked (SHA-256 in {check_path(export).name}); "
                        f"it is damaged or was replaced: re-export the model")
    if source is not None and source.is_file() and sha256_file(source) != check.get("source_sha256"):
        raise UserError(f"{export}: exported from an earlier {source.name} than the one there now; re-export it")
    return check


def resolve_model(model: str | os.PathLike | None, out: str | os.PathLike = "runs", report: Report = quiet,
                  runtime: str | None = None) -> Path:
    """The model to use: the given run folder/.keras/export file, else the best finished MNIST run under `out` (a run
    folder skipped for a malformed file is reported); without TensorFlow, the best one that an export (of `runtime`)
    answers for, if any, said so when a better one needs Keras."""
    if model is not None:
        return Path(model)
    best = best_run(out, "mnist", report=report)
    if best is None:
        raise UserError(f"no trained model in {out}/ (expected a finished run folder); train one first with "
                        f"`make run` or `mnist-cnn train` (or copy a run folder there), or pass --model "
                        f"RUN_DIR|MODEL.keras|MODEL.onnx")
    if runtime == "keras" or importable("tensorflow") or runs_without_keras(best, runtime):
        return best
    exported = best_run(out, "mnist", keep=lambda run: runs_without_keras(run, runtime))
    if exported is not None:
        report(f"{exported}: the best run here an export answers for ({best} validates higher but has no current, "
               f"checked export, and TensorFlow is not installed)")
    return exported or best


NO_EXPORT = " (it has no current, checked ONNX or LiteRT export)"  # why a run goes to Keras when no runtime was named


def runs_without_keras(run: str | os.PathLike, runtime: str | None = None) -> bool:
    """Whether choose() picks an export (of `runtime`) for this run folder or .keras file: one that runs without
    TensorFlow."""
    try:
        return choose(run, runtime)[0] != "keras"
    except UserError:
        return False


def choose(path: str | os.PathLike, runtime: str | None = None) -> tuple[str, Path]:
    """(runtime, file) for a --model value: an export file, or a run folder/.keras file and its exports.

    runtime None: an export file's own runtime; for a run folder or .keras file the first of
    FASTEST_FIRST whose float32 export is there, checked, current and installed, else "keras".
    """
    from .models import model_path

    path = Path(path)
    if runtime is not None and runtime not in RUNTIME_CHOICES:
        raise ConfigError("runtime", f"expected one of {', '.join(RUNTIME_CHOICES)}, found {runtime!r}")
    kind = kind_of(path) if path.is_file() else None
    if kind is not None:
        if runtime not in (None, kind):
            raise ConfigError("runtime", f"{runtime} cannot run {path}, an export for {RUNTIMES[kind].title}")
        return kind, path
    if path.is_file() and path.suffix != ".keras":
        exports = " or ".join(rt.suffix for rt in RUNTIMES.values())
        raise UserError(f"{path}: expected a run folder, a .keras model or an export ({exports}), found a "
                        f"{path.suffix or 'plain'} file")
    keras_file = model_path(path)
    if runtime == "keras":
        return "keras", keras_file
    for name in (runtime,) if runtime else FASTEST_FIRST:
        export = export_path_for(keras_file, name)
        if runtime is None and not (installed(name) and export.exists() and check_path(export).is_file()):
            continue
        if not export.exists():
            raise UserError(f"{path}: no {name} export (expected {export}); make one with: "
                            f"mnist-cnn export {path} --format {name}")
        try:
            if verify(export, keras_file) is None:
                raise UserError(f"{export}: has no check ({check_path(export).name}); re-export the model")
        except UserError:
            if runtime:
                raise
            continue  # a stale or damaged export is passed over: the Keras model still answers
        return name, export
    return "keras", keras_file


def open_export(path: str | os.PathLike, kind: str | None = None, threads: int | None = None):
    """An OnnxModel or LiteRTModel for an export file; UserError if missing, damaged or not a digit classifier.

    threads: the runtime's threads for one forward pass (default: one per core)."""
    path = Path(path)
    kind = kind or kind_of(path)
    if kind not in RUNTIMES:
        raise UserError(f"{path}: expected an ONNX (.onnx) or LiteRT (.tflite) export, found a "
                        f"{path.suffix or 'plain'} file")
    if not path.is_file():
        raise UserError(f"{path}: no such export file")
    if path.stat().st_size > MAX_EXPORT_BYTES:
        raise UserError(f"{path}: export too large ({path.stat().st_size:,} bytes; limit {MAX_EXPORT_BYTES:,})")
    require(kind)
    check = verify(path)
    model = (OnnxModel if kind == "onnx" else LiteRTModel)(path, threads=threads)
    model.check = check or {}
    return model


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]


def _classifier_shapes(path: Path, inputs: list, outputs: list, classes: int = 10) -> None:
    """Refuse anything but one (batch, 28, 28, 1) input and one (batch, classes) output."""
    def dims(shape):
        return [d if isinstance(d, (int, np.integer)) and d > 0 else None for d in shape]

    ok = len(inputs) == 1 and len(outputs) == 1 and dims(inputs[0])[1:] == [28, 28, 1] \
        and dims(outputs[0])[1:] == [classes]
    if not ok:
        raise UserError(f"{path}: expected a {classes}-class classifier of 28x28x1 images (input (N, 28, 28, 1), "
                        f"output (N, {classes})), found inputs {[list(s) for s in inputs]}, "
                        f"outputs {[list(s) for s in outputs]}")


def _as_batch(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1))


class OnnxModel:
    """An .onnx classifier in ONNX Runtime (CPU). Its run() may be called from several threads."""

    runtime = "onnx"

    def __init__(self, path: Path, classes: int = 10, threads: int | None = None):
        ort = require("onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one per core
        options.log_severity_level = 3  # errors only: its graph-optimisation notes say nothing actionable
        try:
            # The file's bytes, not its name: a name that is no UTF-8 ("m\xff.onnx") fails pybind11's conversion
            self.session = ort.InferenceSession(Path(path).read_bytes(), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf/... for a bad file
            raise UserError(f"{path}: cannot load the ONNX model ({_first_line(e)})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        _classifier_shapes(path, [i.shape for i in inputs], [o.shape for o in outputs], classes)
        self.input = inputs[0].name
        self.version = f"onnxruntime {ort.__version__}"

    def probabilities(self, x) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input: _as_batch(x)})[0], dtype=np.float32)


class LiteRTModel:
    """A .tflite classifier in LiteRT's interpreter (XNNPACK on the CPU); one call at a time."""

    runtime = "litert"

    def __init__(self, path: Path, classes: int = 10, threads: int | None = None):
        interpreter = require("litert", "ai_edge_litert.interpreter")
        from importlib.metadata import version

        try:
            self.interpreter = interpreter.Interpreter(model_content=Path(path).read_bytes(),  # as for ONNX
                                                          num_threads=threads or os.cpu_count() or 1)
            with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every start
                self.interpreter.allocate_tensors()
        except Exception as e:  # ValueError for a file that is not a LiteRT flatbuffer
            raise UserError(f"{path}: cannot load the LiteRT model ({_first_line(e)})") from None
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        _classifier_shapes(path, [i["shape_signature"] for i in inputs], [o["shape_signature"] for o in outputs],
                           classes)
        self.input, self.output = inputs[0]["index"], outputs[0]["index"]
        self.batch = int(inputs[0]["shape"][0])
        self.lock = threading.Lock()  # the interpreter holds its tensors: calls must not overlap
        self.version = f"ai-edge-litert {version('ai-edge-litert')}"

    def probabilities(self, x) -> np.ndarray:
        x = _as_batch(x)
        with self.lock:
            if len(x) != self.batch:
                self.interpreter.resize_tensor_input(self.input, [len(x), 28, 28, 1])
                self.interpreter.allocate_tensors()
                self.batch = len(x)
            self.interpreter.set_tensor(self.input, x)
            self.interpreter.invoke()
            return self.interpreter.get_tensor(self.output).copy()


@contextlib.contextmanager
def quiet_stderr():
    """Hold back what C++ code writes to file descriptor 2 (runtimes' start-up notes); replayed on an exception."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            os.write(2, held.read()[-4000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run_info(export: Path, check: dict) -> dict:
    """What Predictor.info() says about an export: from its check, else what the file's folder tells."""
    inside_run = export.parent.name == EXPORTS  # RUN/exports/FILE: the run's config names recipe and data set
    config = (read_object(export.parent.parent / CONFIG) if inside_run else None) or {}
    return {"name": check.get("model_name"), "recipe": check.get("recipe", config.get("model")),
            "run": check.get("run"), "file": export.name, "parameters": check.get("parameters"),
            "test_accuracy": check.get("test_accuracy"), "dataset": check.get("dataset", config.get("dataset"))}
