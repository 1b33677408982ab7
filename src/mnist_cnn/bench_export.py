"""The benchmark's export rows: a trained run in Keras and in each export format, each timed in a fresh process.

    from mnist_cnn import bench_export
    rows = bench_export.measure("runs/NAME")            # exports ONNX, LiteRT (float32 and int8), then times each
    rows = bench_export.measure("runs/NAME", quick=True)  # ONNX float32 only, few calls: the path, in seconds
    print(bench_export.markdown(rows))

`mnist-cnn bench` calls it for the `fast` and `best` recipes (`--quick`: the first recipe). Each row:
the file's size and its check's test accuracy; images/s at batch 1024 over the 10,000 test images
and one-image latency p50/p99 through the compiled path `predict` and `serve` use (bench.inference);
the measuring process's peak RSS (model, runtime and the test images); and the cold start, the
median wall time of fresh `mnist-cnn predict ONE.png --model M --runtime R` processes, from start
to exit after the first answer. Every target runs in its own process, so only its runtime is loaded.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXPORTS = (("onnx", False), ("onnx", True), ("litert", False), ("litert", True))  # (format, int8) per row
QUICK_EXPORTS = (("onnx", False),)  # --quick: one export, to run every step in seconds
CALLS, QUICK_CALLS = 2000, 30  # one-image calls timed for the latency percentiles
STARTS, QUICK_STARTS = 5, 1  # fresh `predict` processes timed for the cold start
QUICK_IMAGES = 2048  # --quick: test images for the images/s figure (full: all 10,000)

WORKER = """
import json, resource, sys
from mnist_cnn.bench import inference
from mnist_cnn.data import load_dataset, normalise
from mnist_cnn.predict import Predictor
model, runtime, calls, images, data_dir = sys.argv[1:6]
p = Predictor(model, runtime=runtime, check_dataset=False)
x = normalise(load_dataset("mnist", data_dir or None)[1][0][:int(images)])
row = inference(p, x, int(calls))
row["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(row))
"""


def _python(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """This interpreter in a fresh process, with this package importable (tests and tools run from a checkout)."""
    src = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, **kwargs)


def _targets(run: Path, quick: bool, data_dir: str | None, report) -> list[tuple[str, str, Path]]:
    """(row name, runtime, file) for Keras and each export, exporting what is missing."""
    from .export import export
    from .rundir import export_path_for

    keras_file = run / "model.keras"
    targets = [("model.keras", "keras", keras_file)]
    for fmt, int8 in QUICK_EXPORTS if quick else EXPORTS:
        path = export_path_for(keras_file, fmt, int8)
        if not path.exists():
            report(f"{run.name}: exporting {fmt}{' int8' if int8 else ''}")
            export(run, fmt, int8=int8, data_dir=data_dir)
        targets.append((path.name, fmt, path))
    return targets


def _cold_start(model: Path, runtime: str, digit: Path, starts: int) -> float:
    times = []
    for _ in range(starts):
        started = time.perf_counter()
        done = _python("-m", "mnist_cnn", "predict", str(digit), "--model", str(model), "--runtime", runtime)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"predict --model {model} failed: {done.stderr.strip()[-300:]}")
    return statistics.median(times)


def measure(run: str | os.PathLike, quick: bool = False, data_dir: str | None = None, label: str | None = None,
            report=lambda _: None) -> list:
    """One dict per target (see the module docstring), Keras first; `label` names the model (default: the run's)."""
    from PIL import Image

    from .data import load_dataset
    from .runtime import read_check

    run = Path(run)
    metrics = json.loads((run / "metrics.json").read_text())
    rows = []
    with tempfile.TemporaryDirectory(prefix="mnist-cnn-bench-export-") as tmp:
        digit = Path(tmp) / "one.png"
        Image.fromarray(load_dataset("mnist", data_dir)[1][0][0]).save(digit)
        for name, runtime, path in _targets(run, quick, data_dir, report):
            report(f"{run.name}: timing {name}")
            model = str(run if runtime == "keras" else path)
            done = _python("-c", WORKER, model, runtime, str(QUICK_CALLS if quick else CALLS),
                           str(QUICK_IMAGES if quick else 10_000), data_dir or "", timeout=1800)
            if done.returncode != 0:
                raise RuntimeError(f"timing {path} failed: {done.stderr.strip()[-300:]}")
            speed = json.loads(done.stdout.strip().splitlines()[-1])
            check = read_check(path) or {}
            rows.append({"model": label or run.name, "file": name, "runtime": runtime,
                         "mb": path.stat().st_size / 1e6,
                         "test_accuracy": metrics["test_accuracy"] if runtime == "keras" else check["test_accuracy"],
                         **speed, "cold_start_s": _cold_start(Path(model), runtime, digit,
                                                             QUICK_STARTS if quick else STARTS)})
    return rows


def markdown(rows: list[dict]) -> str:
    from .console import table

    out = [("model", "file", "runtime", "MB", "test acc", "infer img/s (b=1024)", "latency p50 / p99 ms",
            "RSS MiB", "cold start s")]
    for r in rows:
        out.append((r["model"], r["file"], r["runtime"], f"{r['mb']:.2f}", f"{r['test_accuracy']:.2%}",
                    f"{r['inference_images_per_s']:,.0f}", f"{r['latency_p50_ms']:.2f} / {r['latency_p99_ms']:.2f}",
                    f"{r['rss_mib']:,.0f}", f"{r['cold_start_s']:.2f}"))
    return table(out, markdown=True)
