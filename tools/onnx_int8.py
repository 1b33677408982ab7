"""ONNX Runtime's int8 settings side by side on a run: accuracy, agreement with Keras, speed (Markdown rows).

    cd /tmp && python CHECKOUT/tools/onnx_int8.py runs/NAME [--threads 1]

Exports the run's model to float32 ONNX in a temporary folder, quantizes it three ways with the code
`mnist-cnn export --int8` runs (export._quantize_onnx: uint8 weights, the default; int8 weights, U8S8; int8
weights with reduce_range, 7 bits), and runs the 10,000 test images through each in ONNX Runtime: test
accuracy, the share with the Keras model's digit, images/s at batch 1,024 (best of 3) and one image's p50
latency. On a CPU without VNNI, U8S8's 16-bit sums can saturate (README: "Why uint8 weights").
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mnist_cnn import export  # noqa: E402
from mnist_cnn.data import load_dataset, normalise  # noqa: E402
from mnist_cnn.errors import UserError, run_tool  # noqa: E402
from mnist_cnn.hardware import cpu_info  # noqa: E402
from mnist_cnn.rundir import CONFIG, read_object  # noqa: E402

SETTINGS = (("uint8 weights (U8U8, the default)", {}), ("int8 weights (U8S8)", {"weights": "int8"}),
            ("int8 weights, reduce_range", {"weights": "int8", "reduce_range": True}))


def measure(path: Path, x: np.ndarray, y: np.ndarray, keras_digits: np.ndarray, threads: int) -> str:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    digits = np.concatenate([session.run(None, {name: x[i:i + 1024]})[0].argmax(1) for i in range(0, len(x), 1024)])
    best = np.inf
    for _ in range(3):
        started = time.perf_counter()
        for i in range(0, len(x), 1024):
            session.run(None, {name: x[i:i + 1024]})
        best = min(best, time.perf_counter() - started)
    one = []
    for i in range(300):
        started = time.perf_counter()
        session.run(None, {name: x[i:i + 1]})
        one.append(time.perf_counter() - started)
    return (f"{(digits == y).mean():.2%} | {(digits == keras_digits).mean():.2%} | {len(x) / best:,.0f} | "
            f"{1000 * np.median(one):.3f} | {path.stat().st_size / 1e6:.2f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="a run folder (model.keras, config.json)")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime's threads (default: 1)")
    args = p.parse_args()
    config = read_object(args.run / CONFIG)
    if config is None or not (args.run / "model.keras").is_file():
        raise UserError(f"{args.run}: expected a run folder (model.keras and a readable {CONFIG}), found none")
    from mnist_cnn.models import load_model

    model = load_model(args.run / "model.keras", "float32")
    (x_train, _), (x, y) = load_dataset(config.get("dataset", "mnist"))  # the run's own data set, as export's
    x = normalise(x)
    keras_digits = model.predict(x, batch_size=1000, verbose=0).argmax(1)
    calibration = export._representative(x_train, config)
    print(f"CPU: {cpu_info().model}; Keras float32: {(keras_digits == y).mean():.2%}\n")
    print("| file | test accuracy | same digit as Keras | images/s, batch 1,024 | one image p50 ms | MB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "float.onnx"
        model.export(str(float_path), format="onnx", verbose=False)
        print(f"| float32 | {measure(float_path, x, y, keras_digits, args.threads)} |")
        for k, (label, kwargs) in enumerate(SETTINGS):
            path = Path(tmp) / f"int8-{k}.onnx"
            export._quantize_onnx(float_path, path, calibration, **kwargs)
            print(f"| {label} | {measure(path, x, y, keras_digits, args.threads)} |")
    return 0


if __name__ == "__main__":
    run_tool(main)
