"""The benchmark: every recipe trained and timed on this machine, side by side, in one run.

    mnist-cnn bench                  # everything (about 30 min on 2 cores)
    mnist-cnn bench --quick          # every code path on a tiny subset (seconds; part of `make test`)
    mnist-cnn bench --only fast      # one entry
    mnist-cnn bench --dataset fashion-mnist
    mnist-cnn bench --keep-runs runs # keep each entry's run folder (runs/bench-best-seed42, ...)
    mnist-cnn bench --only fast --seeds 1,2,3   # once per seed, then mean ± std per recipe (seeds_markdown)

    from mnist_cnn import bench
    result = bench.run(only="fast", quick=True)     # {"machine": {...}, "entries": [Row, ...]}

Each recipe trains in a fresh worker process (a process pool of one, one task per process, so its
peak memory is its own; --quick trains them all in one) with the project's normal training code and
returns a `Row`: training throughput, training seconds and final test accuracy (the model chosen by
validation loss; also with test-time augmentation), inference images/s at batch 1024 and single-image latency, peak
resident memory, the resolved precision, and the physical limit: FLOPs per training image against
the matmul GFLOPS this machine reaches in the same run in that precision. The `fast` and `best`
models are also exported to ONNX and LiteRT (float32 and int8) and each file timed on its own
(bench_export.py), and the first recipe's model gets the serve load check in Keras and ONNX, with
one and two worker processes. The CPU's model and
flags head the table. A full run's JSON is saved under bench/results/; a quick one's nowhere
unless --results says so.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from . import files
from .config import RECIPES, resolve
from .console import quiet, table
from .errors import ConfigError

REFERENCE = "keras-io"  # time-to-accuracy ratios are against this well-known recipe
QUICK = dict(limit=1200, epochs=1)  # every path, tiny subset: a smoke test of the benchmark itself
QUICK_TEST = 256  # --quick: test images for the TTA and inference figures (TTA of all 10,000: ~2 min, class C)
LATENCY_CALLS = 300  # single-image calls timed for p50/p99
EXPORT_RECIPES = ("fast", "best")  # the recipes that get export rows (--quick: the first entry, ONNX only)
LOAD_CASES = (("keras", 1), ("keras", 2), ("onnx", 1), ("onnx", 2))  # serve load checks: (runtime, --workers)
QUICK_LOAD_CASES = (("keras", 1), ("onnx", 2))  # --quick: both runtimes and --workers, in seconds
MATMUL_N = 4096  # a big square matmul: what the BLAS/oneDNN kernels reach at their best
RESULTS = Path("bench/results")
SOURCES = {  # where each recipe comes from, for the table
    "seed": "the user's script", "keras-io": "keras.io/examples/vision/mnist_convnet",
    "pytorch-examples": "github.com/pytorch/examples mnist/main.py",
    "fast": "this project (after the GPU 1-epoch records)",
    "best": "this project (after C. Deotte's Kaggle MNIST nets)",
}


@dataclasses.dataclass
class Row:
    """One recipe's measurements (see the module docstring); serve: the load check, when run."""

    name: str
    source: str
    dataset: str
    epochs: int
    batch_size: int
    precision: str
    precision_reason: str
    n_train: int
    parameters: int
    train_seconds: float
    fit_seconds: float
    train_images_per_s: float
    test_accuracy: float
    tta_accuracy: float
    best_epoch: int
    best_val_accuracy: float
    train_flops_per_image: int
    inference_images_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    peak_rss_mib: float = 0.0
    limit_seconds: float = 0.0
    limit_ratio: float = 0.0
    time_vs_reference: float | None = None
    serve: list[dict] | None = None  # one load check per (runtime, workers) of LOAD_CASES
    exports: list[dict] | None = None  # bench_export.measure: Keras and each export format


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the convolution and dense layers for one image (the rest is small)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def matmul_gflops(n: int = MATMUL_N, repeats: int = 3, dtype: str = "float32") -> float:
    """Best of `repeats` n x n x n matmuls in TensorFlow (float32 or bfloat16 inputs), in GFLOPS."""
    import tensorflow as tf

    a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
    tf.linalg.matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * n ** 3 / best / 1e9


def inference(predictor, x: np.ndarray, calls: int) -> dict:
    """images/s at batch 1024 over x, and single-image latency percentiles, through the compiled path."""
    predictor.probabilities(x[:1024])
    started = time.perf_counter()
    for i in range(0, len(x), 1024):
        predictor.probabilities(x[i:i + 1024])
    rate = len(x) / (time.perf_counter() - started)
    times = []
    for i in range(calls):
        started = time.perf_counter()
        predictor.probabilities(x[i % len(x)][None])
        times.append(time.perf_counter() - started)
    return {"inference_images_per_s": rate, "latency_p50_ms": 1000 * float(np.percentile(times, 50)),
            "latency_p99_ms": 1000 * float(np.percentile(times, 99))}


def _serve_loads(run: Path, x: np.ndarray, quick: bool, data_dir: str | None) -> list[dict]:
    """The serve load check for each (runtime, workers) of LOAD_CASES, exporting to ONNX first if needed."""
    from .export import export
    from .loadtest import serve_load
    from .rundir import export_path_for

    if not export_path_for(run / "model.keras", "onnx").exists():
        export(run, "onnx", data_dir=data_dir)
    loads = []
    for runtime, workers in QUICK_LOAD_CASES if quick else LOAD_CASES:
        options = ("--runtime", runtime, "--workers", str(workers))
        loads.append({"runtime": runtime, "workers": workers,
                      **serve_load(str(run), x, *((2, 2) if quick else ()), options=options)})
    return loads


def extra_checks(name: str, names: list[str], dataset: str, quick: bool) -> tuple[bool, bool]:
    """(the serve load check, the exports) for entry `name` of `names`: on MNIST only (`serve` and the exports' checks
    read digits), the load check for the first entry, the exports for EXPORT_RECIPES (--quick: the first entry)."""
    digits = dataset == "mnist"
    return digits and name == names[0], digits and (name == names[0] if quick else name in EXPORT_RECIPES)


def run_name(name: str, seed: int) -> str:
    return f"bench-{name}-seed{seed}"


def worker(name: str, quick: bool, seed: int, dataset: str, data_dir: str | None, load: bool = False,
           keep_runs: str | None = None, exports: bool = False) -> Row:
    """Train one recipe in this process and measure it (the parent runs it in a fresh process).

    load: also run the serve load check against this recipe's model (Keras and its ONNX export).
    keep_runs: train into this folder (kept) instead of a temporary one.
    exports: also export the model in every format and time each (bench_export).
    """
    from . import evaluate
    from .predict import Predictor
    from .train import train

    with tempfile.TemporaryDirectory(prefix="mnist-cnn-bench-") as tmp:
        # the recipe with its settings for the data set (config.FOR_DATASET), as `mnist-cnn train` takes it
        cfg = resolve(name, flags={"out": keep_runs or tmp, "name": run_name(name, seed), "seed": seed,
                                   "dataset": dataset, "data_dir": data_dir, **(QUICK if quick else {})})
        result = train(cfg, verbose=0, report=quiet)
        history, m = result.history, result.metrics
        predictor = Predictor(result.run_dir, check_dataset=False, runtime="keras")  # its .model: FLOPs, TTA
        x_test, y_test = result.test[:2]
        x_test, y_test = (x_test[:QUICK_TEST], y_test[:QUICK_TEST]) if quick else (x_test, y_test)
        fit_seconds = sum(h["seconds"] - h["val_seconds"] for h in history)
        tta_probabilities = evaluate.predict_proba(predictor.model, x_test, tta=evaluate.tta_kind(predictor.model))
        row = Row(
            name=name, source=SOURCES.get(name, ""), dataset=dataset, epochs=len(history),
            batch_size=cfg.batch_size, precision=result.precision.policy, precision_reason=result.precision.reason,
            n_train=m["n_train"], parameters=int(predictor.model.count_params()),
            train_seconds=m["train_seconds"], fit_seconds=fit_seconds,
            train_images_per_s=m["n_train"] * len(history) / fit_seconds, test_accuracy=m["test_accuracy"],
            tta_accuracy=evaluate.accuracy(y_test, tta_probabilities),
            best_epoch=m["best_epoch"], best_val_accuracy=m["best_val_accuracy"],
            train_flops_per_image=3 * forward_flops(predictor.model),  # forward + backward (about twice the forward)
            **inference(predictor, x_test, LATENCY_CALLS // 10 if quick else LATENCY_CALLS))
        if exports:
            from . import bench_export

            row.exports = bench_export.measure(result.run_dir, quick, data_dir, label=name)
        if load:
            row.serve = _serve_loads(result.run_dir, x_test, quick, data_dir)
    row.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _workers(quick: bool) -> concurrent.futures.ProcessPoolExecutor:
    """A pool of one spawned interpreter (no TensorFlow state from the parent), replaced after every entry so each
    full entry's timing and peak memory are its own; --quick keeps one for all, whose figures mean nothing: four
    TensorFlow imports fewer (~40 s of `make test` on a 2-core AVX2 machine)."""
    context = multiprocessing.get_context("spawn")
    return concurrent.futures.ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=None if quick else 1)


def run(only: str | None = None, quick: bool = False, seed: int = 42, dataset: str = "mnist",
        data_dir: str | None = None, report=quiet, results_dir: str | os.PathLike | None = None,
        keep_runs: str | None = None) -> dict:
    """Run the entries, each in a fresh process (--quick: all in one); return {"machine", "entries": [Row]} (saved
    as JSON)."""
    from .hardware import cpu_info

    names = [only] if only else list(RECIPES)
    for n in names:
        if n not in RECIPES:
            raise ConfigError("only", f"unknown entry {n!r}; valid entries: {', '.join(RECIPES)}")
        if keep_runs and (Path(keep_runs) / run_name(n, seed)).exists():
            raise ConfigError("keep_runs", f"{Path(keep_runs) / run_name(n, seed)} already exists; "
                            f"move it away or pick another folder")
    if keep_runs:
        files.make_dir(keep_runs, "keep_runs")
    started = time.perf_counter()
    gflops = {p: matmul_gflops(1024 if quick else MATMUL_N, dtype=d)
              for p, d in (("float32", "float32"), ("mixed_bfloat16", "bfloat16"))}
    report(f"matmul: {gflops['float32']:.0f} GFLOPS fp32, {gflops['mixed_bfloat16']:.0f} GFLOPS bf16")
    rows = []
    with _workers(quick) as pool:
        for name in names:
            report(f"{name}: training{' (quick)' if quick else ''}...")
            load, exports = extra_checks(name, names, dataset, quick)
            row = pool.submit(worker, name, quick, seed, dataset, data_dir, load, keep_runs, exports).result()
            row.limit_seconds = row.train_flops_per_image * row.n_train * row.epochs / (gflops[row.precision] * 1e9)
            row.limit_ratio = row.fit_seconds / row.limit_seconds
            rows.append(row)
            report(f"{name}: {row.test_accuracy:.2%} in {row.train_seconds:.1f} s ({row.precision})")
    reference = next((r for r in rows if r.name == REFERENCE), None)
    for r in rows:
        r.time_vs_reference = r.train_seconds / reference.train_seconds if reference else None
    result = {"date": datetime.now().isoformat(timespec="seconds"), "quick": quick, "seed": seed, "dataset": dataset,
              "machine": {**cpu_info().to_dict(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "matmul_gflops": gflops["float32"], "matmul_gflops_bf16": gflops["mixed_bfloat16"],
                          "python": platform.python_version()},
              "wall_seconds": time.perf_counter() - started, "entries": rows}
    folder = Path(results_dir) if results_dir else (None if quick else RESULTS)
    if folder is not None:
        files.make_dir(folder, "results")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        files.write_json(folder / f"{'quick' if quick else 'full'}-{dataset}-{stamp}.json",
                         {**result, "entries": [dataclasses.asdict(r) for r in rows]})
    return result


def seeds_markdown(results: list[dict]) -> str:
    """One row per recipe over several bench.run results (one per seed): mean ± sample standard deviation."""
    from .seeds import mean_std

    def pm(values, fmt):
        mean, std = mean_std(values)
        return f"{mean:{fmt}} ± {std:{fmt}}" if std is not None else f"{mean:{fmt}}"

    rows = [("recipe", "seeds", "test acc", "+ TTA", "train s")]
    for name in dict.fromkeys(r.name for result in results for r in result["entries"]):
        entries = [r for result in results for r in result["entries"] if r.name == name]
        rows.append((name, ", ".join(str(result["seed"]) for result in results),
                     pm([100 * r.test_accuracy for r in entries], ".2f") + "%",
                     pm([100 * r.tta_accuracy for r in entries], ".2f") + "%",
                     pm([r.train_seconds for r in entries], ".1f")))
    return table(rows, markdown=True) + "\n\nMean ± standard deviation (n - 1) over the seeds, each a whole bench run."


def bfloat16_words(machine: dict) -> str:
    """How this CPU computes bfloat16 and whether `auto` trains in it (results saved before 2026-12-03 have no
    fast_bfloat16: `auto` then used bfloat16 wherever it was native)."""
    if not machine["native_bfloat16"]:
        return "bfloat16 emulated, auto trains in float32"
    if machine.get("fast_bfloat16", True):
        return "bfloat16 native, auto trains in it"
    return "bfloat16 native but slower than float32 here, auto trains in float32"


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"CPU: {m['cpu']} ({m['cpu_count']} cores; flags: {' '.join(m['cpu_flags']) or 'none of note'}; "
             f"{bfloat16_words(m)}). Data set: {result['dataset']}.", ""]
    rows = [("recipe", "epochs x batch", "precision", "params", "train s", "train img/s", "test acc", "+ TTA",
             f"vs {REFERENCE} time", "infer img/s (b=1024)", "latency p50 / p99 ms", "peak RSS MiB",
             "train MFLOP/img", "limit s", "measured / limit")]
    for r in result["entries"]:
        rows.append((r.name, f"{r.epochs} x {r.batch_size}", r.precision, f"{r.parameters:,}", f"{r.train_seconds:.1f}",
                     f"{r.train_images_per_s:,.0f}", f"{r.test_accuracy:.2%}", f"{r.tta_accuracy:.2%}",
                     f"{r.time_vs_reference:.2f}x" if r.time_vs_reference else "-",
                     f"{r.inference_images_per_s:,.0f}", f"{r.latency_p50_ms:.2f} / {r.latency_p99_ms:.2f}",
                     f"{r.peak_rss_mib:,.0f}", f"{r.train_flops_per_image / 1e6:.1f}", f"{r.limit_seconds:.1f}",
                     f"{r.limit_ratio:.1f}x"))
    lines += [table(rows, markdown=True), ""]
    exports = [e for r in result["entries"] for e in r.exports or []]
    if exports:
        from .bench_export import markdown as export_markdown

        lines += ["Exports (each in a fresh process; cold start: `mnist-cnn predict ONE.png --model M --runtime R`, "
                  "median wall seconds; RSS: the timing process's peak):", "", export_markdown(exports), ""]
    for r in result["entries"]:
        for v in r.serve or []:
            lines += [f"Serve load check ({r.name} model, {v['runtime']}, --workers {v['workers']}): {v['clients']} "
                      f"concurrent keep-alive clients for {v['seconds']} s posting 280x280 PNG digits to /api/predict "
                      f"on loopback: {v['requests_per_s']:.0f} requests/s, latency p50 {v['latency_p50_ms']:.1f} ms / "
                      f"p99 {v['latency_p99_ms']:.1f} ms, {v['errors']} errors in {v['requests']} requests.", ""]
    precisions = "; ".join(f"{r.name}: {r.precision} ({r.precision_reason})" for r in result["entries"])
    lines.append(f"Precision of each recipe: {precisions}. Matmul on this machine: {m['matmul_gflops']:.0f} GFLOPS "
                 f"fp32, {m['matmul_gflops_bf16']:.0f} GFLOPS bf16 (the limit column: FLOPs / the rate of the "
                 f"recipe's precision). Train s includes per-epoch validation; img/s counts training steps only; "
                 f"+ TTA: the same model with test-time augmentation (mnist-cnn evaluate --tta). "
                 f"{'QUICK run on a tiny subset: accuracies mean nothing. ' if result['quick'] else ''}"
                 f"Wall time {result['wall_seconds'] / 60:.1f} min.")
    return "\n".join(lines)
