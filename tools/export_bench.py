"""Inference speed of a run's model in Keras and in each of its exports, side by side (Markdown table).

    .venv/bin/python tools/export_bench.py runs/NAME        # after `mnist-cnn export runs/NAME --format ...`

For Keras and every ONNX / LiteRT export in RUN/exports/ (float32 and int8), each in a fresh
process holding only its own runtime: images/s at batch 1024 over the 10,000 test images, one-image
latency p50/p99 (the compiled path `predict` and `serve` use, `bench.inference`), the file's size,
its check's test accuracy, and the cold start: the wall time of `mnist-cnn predict ONE.png --model
...`, the median of --starts fresh processes, in wall and CPU seconds (CPU time is what a busy
machine changes least). The README's "Export and run anywhere" figures come
from this script.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = """
import json, sys
import numpy as np
from mnist_cnn.bench import inference
from mnist_cnn.data import load_mnist, normalise
from mnist_cnn.predict import Predictor
p = Predictor(sys.argv[1], runtime=sys.argv[2])
x = normalise(load_mnist()[1][0])
print(json.dumps(inference(p, x, int(sys.argv[3]))))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a run folder with exports/")
    p.add_argument("--calls", type=int, default=2000, help="one-image calls for the latency (default: 2000)")
    p.add_argument("--starts", type=int, default=5, help="fresh processes timed for the cold start (default: 5)")
    args = p.parse_args()
    run = Path(args.run)
    from PIL import Image

    from mnist_cnn.data import load_mnist

    targets = [("keras", run / "model.keras", "keras")]
    for f in sorted((run / "exports").glob("model*")):
        if f.suffix in (".onnx", ".tflite"):
            targets.append((f.name, f, "onnx" if f.suffix == ".onnx" else "litert"))
    digit = Path(tempfile.mkdtemp()) / "one.png"
    Image.fromarray(load_mnist()[1][0][0]).save(digit)
    rows = [("model", "runtime", "MB", "test acc", "images/s (batch 1024)", "p50 ms", "p99 ms", "cold start s",
             "its CPU s")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for name, path, kind in targets:
        model = str(run if kind == "keras" else path)
        out = subprocess.run([sys.executable, "-c", WORKER, model, kind, str(args.calls)], env=env, check=True,
                             capture_output=True, text=True).stdout
        speed = json.loads(out.strip().splitlines()[-1])
        starts, cpu = [], []
        for _ in range(args.starts):
            before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([sys.executable, "-m", "mnist_cnn", "predict", str(digit), "--model", model, "--runtime",
                            kind], env=env, check=True, capture_output=True)
            starts.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if kind == "keras":
            metrics = json.loads((run / "metrics.json").read_text())
            size, accuracy = path.stat().st_size, metrics["test_accuracy"]
        else:
            check = json.loads(path.with_name(path.name + ".check.json").read_text())
            size, accuracy = check["bytes"], check["test_accuracy"]
        rows.append((name, kind, f"{size / 1e6:.2f}", f"{accuracy:.2%}", f"{speed['inference_images_per_s']:,.0f}",
                     f"{speed['latency_p50_ms']:.2f}", f"{speed['latency_p99_ms']:.2f}",
                     f"{statistics.median(starts):.2f}", f"{statistics.median(cpu):.2f}"))
        print(f"{name}: done", file=sys.stderr, flush=True)
    from mnist_cnn.console import table

    print(table(rows, markdown=True))


if __name__ == "__main__":
    main()
