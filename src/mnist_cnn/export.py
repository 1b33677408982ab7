"""Exporting a trained model to SavedModel, ONNX or LiteRT, each export checked before it is kept.

    mnist-cnn export runs/NAME --format onnx [--int8] [--out PATH]

    from mnist_cnn.export import export
    result = export("runs/NAME", "litert", int8=True)       # runs/NAME/exports/model.int8.tflite
    result.path, result.check["agreement"]

The model is loaded computing in float32 (a bfloat16-trained model is rebuilt with the same weights)
and written with Keras' own `model.export` (SavedModel; ONNX through tf2onnx; LiteRT through
TensorFlow's converter). `int8=True` quantizes after training, calibrated on 500 images of the run's
own training split (never the test set): LiteRT with the converter's representative data set (full
integer kernels, float input and output), ONNX with ONNX Runtime's static QDQ quantization.

Then the 10,000 test images go through the written file in its own runtime (TensorFlow for a
SavedModel, ONNX Runtime, LiteRT's interpreter) and are compared with the Keras model's answers.
A float export must give the Keras model's digit on >= 99.99% of them; an int8 export must keep
its test accuracy within 0.1 percentage point of the Keras model's. The figures are stored next to
the export (model.onnx.check.json). A failed check is a UserError (exit 1) and leaves nothing.
Everything is written in a temporary folder beside the destination and renamed into place.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import data, files, runtime
from .console import Report, quiet
from .errors import ConfigError, UserError
from .extras import check
from .rundir import EXPORT_SUFFIXES, check_path, export_path_for, saved_config, sha256_file

# How TensorFlow's file errors end for a full disk, a quota or a file size limit: "PATH; No space left on device"
NO_ROOM_TEXT = re.compile(r"(/[^\s;]+)[;:] (No space left on device|Disk quota exceeded|File too large)")

FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx", "litert": "litert"}  # ours -> Keras' format names
FLOAT_AGREEMENT = 0.9999  # a float export gives the Keras model's digit on at least this share of test images
INT8_ACCURACY_DROP = 0.001  # an int8 export's test accuracy may be at most 0.1 point below the float model's
REPRESENTATIVE = 500  # training images that calibrate int8 quantization
CALIBRATION_BATCH = 50


@dataclass
class Exported:
    path: Path
    check: dict


def export(source: str | os.PathLike, fmt: str, int8: bool = False, out: str | os.PathLike | None = None,
           data_dir: str | os.PathLike | None = None, report: Report = quiet) -> Exported:
    """Export the run folder or .keras file `source` in `fmt`, check it, keep it; see the module's text."""
    from .models import load_model, model_path

    if fmt not in FORMATS:
        raise ConfigError("format", f"expected one of {', '.join(FORMATS)}, found {fmt!r}")
    if int8 and fmt == "savedmodel":
        raise ConfigError("int8", "a SavedModel is exported in float32 only; int8 is for the onnx and litert formats")
    keras_file = model_path(source)  # a wrong path first: no package would mend it
    require_exporter(fmt)
    dest = _destination(keras_file, fmt, int8, out)
    config = saved_config(keras_file)
    dataset = config.dataset if config else "mnist"
    started = time.perf_counter()

    model = load_model(keras_file, "float32")
    (x_train, _), (x_test, y_test) = data.load_dataset(dataset, data_dir, report=report)
    x_test = data.normalise(x_test)
    reference = np.asarray(model.predict(x_test, batch_size=1000, verbose=0), dtype=np.float32)
    calibration = _representative(x_train, config) if int8 else None

    files.make_dir(dest.parent, "out" if out is not None else "export folder")
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    except OSError as e:
        raise UserError(f"{dest}: cannot create a folder there ({e.strerror or e})",
                        exit_code=1 if e.errno in files.NO_ROOM else None) from None
    try:
        report(f"Exporting {keras_file} as {fmt}{' int8' if int8 else ''}")
        written = _write(model, fmt, work / dest.name, calibration)
        report(f"Checking it on the {len(x_test):,} test images")
        check = _check(written, fmt, int8, x_test, y_test, reference)
        check.update(_describe(keras_file, config, model, dataset, int8, calibration, started))
        if not check["passed"]:
            raise UserError(f"{dest}: the export failed its check: {check['verdict']}; nothing was kept",
                            exit_code=1)
        _replace(written, dest)
    except Exception as e:  # the converters' own writes onto a full disk (tf2onnx, TFLite, TensorFlow's SaveV2)
        if (full := _no_room(e, work, dest)) is None:
            raise
        raise UserError(f"{full}; nothing half-written was left", exit_code=1) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files.write_json(check_path(dest), check)
    return Exported(dest, check)


def _no_room(e: Exception, work: Path, dest: Path) -> str | None:
    """"PATH: cannot write (REASON)" when e is a full disk (or a quota, or a file size limit), else None. Python's
    OSError carries an errno; TensorFlow's file writes raise its own errors, whose text names the file and the reason
    (ResourceExhaustedError, OutOfRangeError). A file in the export's work folder is named as the export; one
    elsewhere (the converters' temporary SavedModel) by its own path: that is the disk to free."""
    if isinstance(e, OSError):
        path, why = (e.filename, e.strerror) if e.errno in files.NO_ROOM else (None, None)
    else:
        path, why = match.groups() if (match := NO_ROOM_TEXT.search(str(e))) else (None, None)
    if why is None:
        return None
    return f"{dest if path is None or str(path).startswith(str(work)) else path}: cannot write ({why})"


def require_exporter(fmt: str, what: str | None = None) -> None:
    """Everything exporting to `fmt` needs (Keras and TensorFlow, and ONNX's converter, and the runtime that checks the
    file), or one line naming the extras to install; what: the work, for that line (default "exporting to FMT")."""
    check(("tensorflow", "keras", *(("tf2onnx", "onnx") if fmt == "onnx" else ())), what or f"exporting to {fmt}")
    if fmt in runtime.RUNTIMES:
        runtime.require(fmt)


def _destination(keras_file: Path, fmt: str, int8: bool, out) -> Path:
    """--out (a file path, or a folder for the default file name), else beside the model (rundir.export_path_for)."""
    if out is None:
        return export_path_for(keras_file, fmt, int8)
    out = Path(out)
    suffix = EXPORT_SUFFIXES[fmt]
    if out.is_dir() and out.suffix != suffix and not (out / "saved_model.pb").is_file():
        return out / export_path_for(keras_file, fmt, int8).name  # a folder to put it in
    if fmt != "savedmodel" and out.suffix != suffix:
        raise ConfigError("out", f"{'an ONNX' if fmt == 'onnx' else 'a LiteRT'} export is a {suffix} file, "
                        f"found {out.name!r}")
    if fmt == "savedmodel" and out.is_file():
        raise ConfigError("out", f"a SavedModel is a folder, found a file at {out}")
    if fmt != "savedmodel" and out.is_dir():
        raise ConfigError("out", f"expected a {suffix} file or a folder to put it in, found a folder named "
                                 f"{out.name!r}")
    return out


def _representative(x_train: np.ndarray, config) -> np.ndarray:
    """REPRESENTATIVE images from the front of the run's own (seeded, shuffled) training split, normalised; `config`:
    the run's TrainConfig, None for a .keras file on its own (the defaults' split)."""
    from .config import TrainConfig

    config = config or TrainConfig()
    train_idx, _ = data.split(len(x_train), config.validation_split, config.seed, config.limit)
    return data.normalise(x_train[train_idx[:REPRESENTATIVE]])


def _write(model, fmt: str, path: Path, calibration: np.ndarray | None) -> Path:
    """model.export to path (int8: quantized with `calibration`); returns the file or folder written."""
    with warnings.catch_warnings(), runtime.quiet_stderr():
        warnings.simplefilter("ignore")  # tf2onnx's numpy 2 shims and the converter's deprecation notes
        if fmt == "litert" and calibration is not None:
            import tensorflow as tf

            def representative():
                for i in range(len(calibration)):
                    yield [calibration[i:i + 1]]

            model.export(str(path), format="litert", verbose=False, optimizations=[tf.lite.Optimize.DEFAULT],
                         representative_dataset=representative,
                         target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]})
        elif fmt == "onnx" and calibration is not None:
            float_path = path.with_name("float.onnx")
            model.export(str(float_path), format="onnx", verbose=False)
            _quantize_onnx(float_path, path, calibration)
        else:
            model.export(str(path), format=FORMATS[fmt], verbose=False)
    return path


def _quantize_onnx(float_path: Path, path: Path, calibration: np.ndarray, weights: str = "uint8",
                   reduce_range: bool = False) -> None:
    """ONNX Runtime's static quantization: QDQ, uint8 weights per channel and uint8 activations. Not int8 weights
    (U8S8, the fast path on CPUs with VNNI): without VNNI, x86 multiplies U8S8 with VPMADDUBSW, whose 16-bit sums
    can saturate (ONNX Runtime's quantization guide), and a file checked on one CPU must read alike on every other. On
    an AVX2-only CPU the tiny test model's U8S8 export agreed with Keras on 97.3% of the test images, U8U8 99.3%
    (tools/onnx_int8.py compares them: weights "int8" and reduce_range, 7-bit weights, are its other settings)."""
    if weights not in ("uint8", "int8"):
        raise ValueError(f"weights: expected uint8 or int8, found {weights!r}")
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = path.with_name("prepared.onnx")
    quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)  # fold + infer shapes
    name = runtime.OnnxModel(float_path).input

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration[i:i + CALIBRATION_BATCH] for i in range(0, len(calibration),
                                                                                    CALIBRATION_BATCH))

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {name: batch}

    quantize_static(str(prepared), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, reduce_range=reduce_range,
                    weight_type=QuantType.QUInt8 if weights == "uint8" else QuantType.QInt8)


class _SavedModel:
    """A SavedModel's `serve` endpoint in TensorFlow, the runtime it is made for."""

    def __init__(self, path: Path):
        import tensorflow as tf

        self.tf, self.loaded = tf, tf.saved_model.load(str(path))
        self.version = f"tensorflow {tf.__version__}"

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.loaded.serve(self.tf.constant(x)), dtype=np.float32)


def _open(path: Path, fmt: str):
    if fmt == "savedmodel":
        return _SavedModel(path)
    return runtime.open_export(path, fmt)


def _check(path: Path, fmt: str, int8: bool, x: np.ndarray, y: np.ndarray, reference: np.ndarray) -> dict:
    """Run the test images through the written export and compare with the Keras model's probabilities."""
    started = time.perf_counter()
    model = _open(path, fmt)
    probs = np.concatenate([model.probabilities(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    seconds = time.perf_counter() - started
    keras_accuracy = float((reference.argmax(1) == y).mean())
    accuracy = float((probs.argmax(1) == y).mean())
    agree = probs.argmax(1) == reference.argmax(1)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
    check = {
        "format": fmt, "int8": int8, "file": path.name, "bytes": size, "mb": round(size / 1e6, 3),
        "sha256": runtime.digest(path), "runtime": model.version, "test_images": len(x),
        "test_accuracy": accuracy, "keras_test_accuracy": keras_accuracy,
        "agreement": float(agree.mean()), "disagreements": int((~agree).sum()),
        "max_probability_difference": float(np.abs(probs - reference).max()), "check_seconds": round(seconds, 2),
    }
    if int8:
        check["required"] = {"test_accuracy_at_least": round(keras_accuracy - INT8_ACCURACY_DROP, 6)}
        check["passed"] = accuracy >= keras_accuracy - INT8_ACCURACY_DROP - 1e-9
        check["verdict"] = (f"test accuracy {accuracy:.2%} against the float model's {keras_accuracy:.2%} "
                            f"(at most {INT8_ACCURACY_DROP:.1%} lower allowed)")
    else:
        check["required"] = {"agreement_at_least": FLOAT_AGREEMENT}
        check["passed"] = check["agreement"] >= FLOAT_AGREEMENT
        check["verdict"] = (f"the Keras model's digit on {check['agreement']:.2%} of the {len(x):,} test images "
                            f"({check['disagreements']} differ; at least {FLOAT_AGREEMENT:.2%} needed)")
    return check


def _describe(keras_file: Path, config, model, dataset: str, int8: bool, calibration, started) -> dict:
    """Where the export came from: the model file and its digest, run, recipe, parameters, data set, and the test-time
    augmentation its net takes (evaluate.tta_kind: an export keeps no augmentation layer to tell)."""
    from .evaluate import tta_kind

    run = keras_file.parent.name if config else None
    extra = {"representative_images": len(calibration), "representative_from": "the run's training split"} \
        if int8 else {}
    return {"source": str(keras_file), "source_sha256": sha256_file(keras_file), "model_name": model.name,
            "recipe": config.model if config else None, "run": run, "dataset": dataset, "tta": tta_kind(model),
            "parameters": int(model.count_params()), "reference": "the Keras model computing in float32",
            **extra, "seconds": round(time.perf_counter() - started, 1),
            "exported": datetime.now(UTC).isoformat(timespec="seconds")}


def _replace(written: Path, dest: Path) -> None:
    """Move the checked export into place in one rename (a folder: the old one is moved aside first)."""
    check_path(dest).unlink(missing_ok=True)  # an old check must never describe the new file
    if written.is_dir() and dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
        os.replace(written, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(written, dest)


def summary(result: Exported) -> str:
    """The check in three lines for the terminal."""
    c = result.check
    kind = "int8" if c["int8"] else "float32"
    return (f"Exported {result.path} ({c['format']}, {kind}, {c['mb']:.2f} MB)\n"
            f"Check on the {c['test_images']:,} test images with {c['runtime']}: accuracy {c['test_accuracy']:.2%} "
            f"(Keras {c['keras_test_accuracy']:.2%}), same digit as Keras on {c['agreement']:.2%} "
            f"({c['disagreements']} differ), largest probability difference {c['max_probability_difference']:.1e}: "
            f"passed\nFigures in {check_path(result.path)}")
