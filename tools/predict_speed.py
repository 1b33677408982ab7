"""`mnist-cnn predict FOLDER` speed on 2,000 photo-like 160x160 PNGs, end to end and in its predict phase.

    .venv/bin/python tools/predict_speed.py --model 'runs/NAME --runtime keras' [--model runs/NAME/exports/model.onnx]
    .venv/bin/python tools/predict_speed.py --model runs/NAME --old-src /tmp/old/src   # against older code

Makes the PNGs in a temporary folder (the first MNIST test digits as dark ink on grey noisy paper,
small and off-centre, as tests/test_predict.py does), then runs `python -m mnist_cnn predict FOLDER
--model M --json` in fresh processes, --rounds times per model and per source tree, interleaved so
that a busy machine slows all alike. Prints the median wall time from start to exit, the rate its
progress line shows last (from the workers' start, the model's load included; code before 2026-12-01
counted from after the load), the CPU seconds of the process and all its descendants, and whether
every source tree gave the same digits. Each tree's bytecode is compiled first and used, as in an
installed package (PYTHONDONTWRITEBYTECODE is dropped). The "Your own images" (docs/images.md)
rate comes from this script.
--by-thread also prints each run's CPU seconds by process and thread (a runtime's spinning pool shows there).
"""

import argparse
import compileall
import ctypes
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from serve_threads import thread_cpu  # tools/: this script's folder

HERE = Path(__file__).resolve().parents[1] / "src"
THREAD_POLL = 0.05  # seconds between reads of the threads' CPU (--by-thread)
MIN_THREAD_CPU = 0.02  # seconds: threads that used less are left out of --by-thread's line


def as_photo(digit: np.ndarray, rng, side: int = 160, scale: int = 4) -> Image.Image:
    """Dark ink on grey noisy paper, small and off-centre (tests/test_predict.py's as_photo at 160x160)."""
    ink = Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.BILINEAR)
    paper = np.full((side, side), 215.0) + rng.normal(0, 6, (side, side))
    x0, y0 = rng.integers(0, side - 28 * scale, 2)
    patch = paper[y0:y0 + 28 * scale, x0:x0 + 28 * scale]
    paper[y0:y0 + 28 * scale, x0:x0 + 28 * scale] = patch * (1 - np.asarray(ink) / 255 * 0.85)
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))


def make_folder(folder: Path, count: int) -> np.ndarray:
    """count PNGs in folder; returns their true digits."""
    sys.path.insert(0, str(HERE))
    from mnist_cnn.data import load_mnist

    (_, _), (x, y) = load_mnist()
    rng = np.random.default_rng(0)
    for i in range(count):
        as_photo(x[i % len(x)], rng).save(folder / f"{i:05d}.png")
    return y[np.arange(count) % len(y)]


def reap_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux), so that their CPU counts in RUSAGE_CHILDREN: a
    forkserver and its workers outlive `predict`'s exit by a moment and are nobody's children to wait for."""
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def wait_all() -> None:
    """Wait for every remaining child (orphans reparented here by reap_orphans)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def run_once(src: str, folder: Path, model: str, by_thread: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as pip installs it: from bytecode (main() compiles it first)
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    path, *options = shlex.split(model)
    # Run in `src`: from a checkout's root, `python -m mnist_cnn` would run its mnist_cnn.py, which puts that
    # checkout's src/ first, so --old-src would time this checkout's code twice.
    command = [sys.executable, "-m", "mnist_cnn", "predict", str(folder), "--model", str(Path(path).resolve()),
               *options, "--json"]
    threads = {}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True, cwd=src)
        while by_thread and proc.poll() is None:  # each thread's CPU as last seen: workers exit before the parent
            threads.update(thread_cpu(proc.pid))
            time.sleep(THREAD_POLL)
        code = proc.wait()
        wall = time.perf_counter() - started
        wait_all()
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        sys.exit(f"predict_speed: {src}: exit {code}: {stderr.strip()[-400:]}")
    rates = re.findall(r"\((\d+) images/s\)", stderr)
    return {"wall": wall, "rate": float(rates[-1]) if rates else float("nan"),
            "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "digits": [r["digit"] for r in json.loads(stdout)], "threads": _by_thread(proc.pid, threads)}


def _by_thread(parent: int, threads: dict) -> str:
    """One line: CPU seconds of each thread that used over MIN_THREAD_CPU, as main or worker N / main or thread."""
    workers = {pid: i for i, pid in enumerate(sorted({p for p, _ in threads} - {parent}), 1)}
    parts = [f"{'main' if pid == parent else f'worker {workers[pid]}'}/{'main' if tid == pid else 'thread'} "
             f"{seconds:.2f} s" for (pid, tid), seconds in sorted(threads.items(), key=lambda kv: -kv[1])
             if seconds >= MIN_THREAD_CPU]
    return ", ".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True,
                   help="a --model value, optionally with more options: 'runs/NAME --runtime keras'; repeatable")
    p.add_argument("--old-src", help="another checkout's src/ folder to time side by side (default: none)")
    p.add_argument("--count", type=int, default=2000, help="images (default: 2000)")
    p.add_argument("--rounds", type=int, default=3, help="runs per model and source tree (default: 3)")
    p.add_argument("--by-thread", action="store_true", help="also print each run's CPU seconds by process and "
                                                            "thread (read from /proc: Linux)")
    args = p.parse_args()
    reap_orphans()
    sources = {"this checkout": str(HERE), **({"old": str(Path(args.old_src).resolve())} if args.old_src else {})}
    for src in sources.values():  # pip compiles an installed package's bytecode; compiling at each start took ~80 ms
        compileall.compile_dir(src, quiet=1)
    with tempfile.TemporaryDirectory(prefix="mnist-cnn-predict-speed-") as tmp:
        truth = make_folder(Path(tmp), args.count)
        runs = {(m, s): [] for m in args.model for s in sources}
        for _ in range(args.rounds):
            for (model, source), done in runs.items():
                done.append(run_once(sources[source], Path(tmp), model, args.by_thread))
                print(f"{source} {model}: {done[-1]['wall']:.2f} s, {done[-1]['rate']:.0f} images/s"
                      + (f"; CPU by thread: {done[-1]['threads']}" if args.by_thread else ""),
                      file=sys.stderr, flush=True)
    print(f"| model | code | wall s (median of {args.rounds}) | progress line images/s | end to end images/s | "
          f"CPU s | correct | same digits as the first |")
    print("|---|---|---|---|---|---|---|---|")
    first = next(iter(runs.values()))[0]["digits"]
    for (model, source), done in runs.items():
        wall = statistics.median(r["wall"] for r in done)
        correct = np.mean(np.array([-1 if d is None else d for d in done[0]["digits"]]) == truth)
        print(f"| {model} | {source} | {wall:.2f} | {statistics.median(r['rate'] for r in done):,.0f} | "
              f"{args.count / wall:,.0f} | {statistics.median(r['cpu'] for r in done):.1f} | {correct:.1%} | "
              f"{'yes' if done[0]['digits'] == first else 'NO'} |")


if __name__ == "__main__":
    main()
