"""The benchmark: every recipe trained and timed on this machine, side by side, in one run.

    mnist-cnn bench                  # everything (up to about an hour on 2 cores)
    mnist-cnn bench --quick          # every code path on a tiny subset (seconds; part of `make test`)
    mnist-cnn bench --only fast      # one entry
    mnist-cnn bench --keep-runs runs # keep each entry's run folder (runs/bench-best-seed42, ...)

Each recipe trains in its own subprocess (so its peak memory is its own) with the project's normal
training code, then reports: training throughput, training seconds and final test accuracy (the
model chosen by validation loss; also with test-time augmentation), inference images/s at batch
1024 and single-image latency, peak resident memory, and the physical limit: FLOPs per training
image against the matmul GFLOPS this machine reaches in the same run in the recipe's precision. Results print as a Markdown table and are saved as
JSON under bench/results/.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from . import files
from .errors import UserError

ENTRIES = ("seed", "keras-io", "pytorch-examples", "fast", "best")  # the side-by-side list
REFERENCE = "keras-io"  # time-to-accuracy ratios are against this well-known recipe
QUICK = dict(limit=1200, epochs=1)  # every path, tiny subset: a smoke test of the benchmark itself
LATENCY_CALLS = 300  # single-image calls timed for p50/p99
MATMUL_N = 4096  # a big square fp32 matmul: what the BLAS/oneDNN kernels reach at their best
RESULTS = Path("bench/results")
LOAD_CLIENTS = 8  # concurrent clients of the serve load check
LOAD_SECONDS = 15  # how long they send requests (a bounded loop: it stops by itself)


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


def run_name(name: str, seed: int) -> str:
    return f"bench-{name}-seed{seed}"


def worker(name: str, quick: bool, seed: int, data_dir: str | None, load: bool = False,
           keep_runs: str | None = None) -> dict:
    """Train one recipe in this process and measure it (run by the parent in a subprocess).

    load: also run the serve load check against this recipe's model.
    keep_runs: train into this folder (kept) instead of a temporary one.
    """
    from . import evaluate
    from .config import Config
    from .models import get_recipe
    from .predict import Predictor
    from .train import train

    with tempfile.TemporaryDirectory(prefix="mnist-cnn-bench-") as tmp:
        cfg = Config(model=name, out=keep_runs or tmp, name=run_name(name, seed), seed=seed, data_dir=data_dir,
                     **(QUICK if quick else {}))
        result = train(cfg, verbose=0, report=lambda m: None)
        history, m = result.history, result.metrics
        predictor = Predictor(result.run_dir)
        x_test, y_test = result.test[:2]
        tta = evaluate.predict_proba(predictor.model, x_test, tta=True)
        fit_seconds = sum(h["seconds"] - h["val_seconds"] for h in history)
        images = m["n_train"] * len(history)
        flops = forward_flops(predictor.model)
        row = {
            "name": name, "source": get_recipe(name).source, "epochs": len(history),
            "precision": result.config.precision,
            "batch_size": result.config.batch_size, "n_train": m["n_train"],
            "parameters": int(predictor.model.count_params()),
            "train_seconds": m["train_seconds"], "fit_seconds": fit_seconds,
            "train_images_per_s": images / fit_seconds,
            "test_accuracy": m["test_accuracy"], "tta_accuracy": evaluate.accuracy(y_test, tta),
            "best_epoch": m["best_epoch"],
            "best_val_accuracy": m["best_val_accuracy"],
            "train_flops_per_image": 3 * flops,  # forward + backward (about twice the forward)
            **inference(predictor, x_test, LATENCY_CALLS // 10 if quick else LATENCY_CALLS),
        }
        if load:
            row["serve"] = serve_load(str(result.run_dir), x_test, *((2, 2) if quick else ()))
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _digit_png(x: np.ndarray) -> bytes:
    """A test digit as the page would send it: 280x280 PNG, dark ink on white."""
    import io

    from PIL import Image

    img = Image.fromarray(255 - np.round(x.reshape(28, 28) * 255).astype(np.uint8)).resize((280, 280))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _multipart(png: bytes) -> tuple[bytes, str]:
    boundary = "mnistcnnbench"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def serve_load(model_dir: str, x: np.ndarray, clients: int = LOAD_CLIENTS, seconds: float = LOAD_SECONDS) -> dict:
    """`mnist-cnn serve` in its own process on a free loopback port; `clients` threads POST digit
    PNGs to /api/predict for `seconds`. Returns requests/s, latency p50/p99 and the error count."""
    import http.client
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "mnist_cnn", "serve", "--model", model_dir, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        deadline = time.time() + 120
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/api/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise UserError(f"bench: the server did not start ({server.stderr.read().strip()[-200:]})",
                                    exit_code=1) from None
                time.sleep(0.2)
        bodies = [_multipart(_digit_png(x[i])) for i in range(min(50, len(x)))]
        latencies, errors, lock = [], [0], threading.Lock()
        stop = time.perf_counter() + seconds

        def client(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = k
            while time.perf_counter() < stop:
                body, ctype = bodies[i % len(bodies)]
                i += clients
                started = time.perf_counter()
                try:
                    conn.request("POST", "/api/predict", body=body, headers={"Content-Type": ctype})
                    response = conn.getresponse()
                    ok = response.status == 200 and json.loads(response.read())["digit"] is not None
                except (OSError, http.client.HTTPException, ValueError):
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors[0] += not ok

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"clients": clients, "seconds": seconds, "requests": len(latencies), "requests_per_s": len(latencies) / elapsed,
            "latency_p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "latency_p99_ms": 1000 * float(np.percentile(latencies, 99)), "errors": errors[0]}


def run(only: str | None = None, quick: bool = False, seed: int = 42, data_dir: str | None = None,
        report=lambda m: None, results_dir: Path = RESULTS, keep_runs: str | None = None) -> dict:
    """Run the entries, each in a subprocess; return {"machine", "entries"} and save it as JSON."""
    from .models import RECIPES

    names = [only] if only else list(ENTRIES)
    for n in names:
        if n not in RECIPES:
            raise UserError(f"--only: unknown entry {n!r}; valid entries: {', '.join(ENTRIES)}")
        if keep_runs and (Path(keep_runs) / run_name(n, seed)).exists():
            raise UserError(f"--keep-runs: {Path(keep_runs) / run_name(n, seed)} already exists; "
                            f"move it away or pick another folder")
    if keep_runs:
        files.make_dir(keep_runs, "--keep-runs")
    started = time.perf_counter()
    # the limit of a bfloat16 recipe is the bfloat16 matmul rate (AVX512-BF16), of the others fp32's
    gflops = {p: matmul_gflops(1024 if quick else MATMUL_N, dtype=d)
              for p, d in (("float32", "float32"), ("mixed_bfloat16", "bfloat16"))}
    report(f"matmul: {gflops['float32']:.0f} GFLOPS fp32, {gflops['mixed_bfloat16']:.0f} GFLOPS bf16")
    rows = []
    for name in names:
        report(f"{name}: training{' (quick)' if quick else ''}...")
        cmd = [sys.executable, "-m", "mnist_cnn", "bench", "--worker", name, "--seed", str(seed)]
        cmd += ["--load"] if name == names[0] else []  # the serve load check, once per run
        cmd += ["--quick"] if quick else []
        cmd += ["--data-dir", data_dir] if data_dir else []
        cmd += ["--keep-runs", keep_runs] if keep_runs else []
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"bench entry {name} failed (exit {proc.returncode}): {tail}", exit_code=1)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["limit_seconds"] = row["train_flops_per_image"] * row["n_train"] * row["epochs"] / (
            gflops[row["precision"]] * 1e9)
        row["limit_ratio"] = row["fit_seconds"] / row["limit_seconds"]
        rows.append(row)
        report(f"{name}: {row['test_accuracy']:.2%} in {row['train_seconds']:.1f} s")
    reference = next((r for r in rows if r["name"] == REFERENCE), None)
    for r in rows:
        r["time_vs_reference"] = r["train_seconds"] / reference["train_seconds"] if reference else None
    result = {"date": datetime.now().isoformat(timespec="seconds"), "quick": quick, "seed": seed,
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "matmul_gflops": gflops["float32"], "matmul_gflops_bf16": gflops["mixed_bfloat16"],
                          "python": platform.python_version()},
              "wall_seconds": time.perf_counter() - started, "entries": rows}
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    files.write_json(results_dir / f"{'quick' if quick else 'full'}-{stamp}.json", result)
    return result


def markdown(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"| recipe | epochs x batch | params | train s | train img/s | test acc | + TTA | vs {REFERENCE} time | "
        f"infer img/s (b=1024) | latency p50 / p99 ms | peak RSS MiB | train MFLOP/img | limit s | measured / limit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["entries"]:
        ratio = f"{r['time_vs_reference']:.2f}x" if r["time_vs_reference"] else "-"
        lines.append(
            f"| {r['name']} | {r['epochs']} x {r['batch_size']}{', bf16' if r['precision'] != 'float32' else ''} | "
            f"{r['parameters']:,} | {r['train_seconds']:.1f} | "
            f"{r['train_images_per_s']:,.0f} | {r['test_accuracy']:.2%} | {r['tta_accuracy']:.2%} | {ratio} | {r['inference_images_per_s']:,.0f} | "
            f"{r['latency_p50_ms']:.2f} / {r['latency_p99_ms']:.2f} | {r['peak_rss_mib']:,.0f} | "
            f"{r['train_flops_per_image'] / 1e6:.1f} | {r['limit_seconds']:.1f} | {r['limit_ratio']:.1f}x |")
    lines.append("")
    for r in result["entries"]:
        if "serve" in r:
            v = r["serve"]
            lines.append(f"Serve load check ({r['name']} model): {v['clients']} concurrent clients for {v['seconds']} s "
                         f"posting 280x280 PNG digits to /api/predict on loopback: {v['requests_per_s']:.0f} requests/s, "
                         f"latency p50 {v['latency_p50_ms']:.1f} ms / p99 {v['latency_p99_ms']:.1f} ms, "
                         f"{v['errors']} errors in {v['requests']} requests.")
            lines.append("")
    lines.append(f"Matmul on this machine: {machine['matmul_gflops']:.0f} GFLOPS fp32, "
                 f"{machine['matmul_gflops_bf16']:.0f} GFLOPS bf16 (the limit column: FLOPs / the rate of the "
                 f"recipe's precision). "
                 f"Train s includes per-epoch validation; img/s counts training steps only; "
                 f"+ TTA: the same model with test-time augmentation (mnist-cnn evaluate --tta). "
                 f"{'QUICK run on a tiny subset: accuracies mean nothing. ' if result['quick'] else ''}"
                 f"Wall time {result['wall_seconds'] / 60:.1f} min.")
    return "\n".join(lines)
