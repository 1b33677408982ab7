"""The serve load check for several models, worker counts and source trees, side by side (Markdown table).

    .venv/bin/python tools/serve_speed.py --model runs/NAME/model.keras --model runs/NAME/exports/model.onnx \\
        --workers 1,2 [--old-src /tmp/old/src] [--seconds 15] [--rounds 2]

Each row: `mnist-cnn serve --model M --workers N` in its own process on a free loopback port, then
8 (--clients) keep-alive clients posting 280x280 PNG digits for --seconds (loadtest.post_loop, as `mnist-cnn
bench` does); requests/s, latency p50/p99 and errors, the median of --rounds, interleaved so that a
busy machine slows all alike, and the server's CPU milliseconds per request and the load
generator's own (its 8 threads, in this process): what a busy machine changes least; and the resident memory of
all the server's processes after the load. --old-src
runs the same load against another checkout's server (--old-workers: 1 unless told). A run
folder with exports serves its fastest export: give model.keras in a folder without exports/
for Keras. The README's serve figures come from this script.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(HERE))

from mnist_cnn.data import load_mnist, normalise  # noqa: E402
from mnist_cnn.loadtest import LOAD_CLIENTS, _digit_png, _multipart, post_loop, start_server  # noqa: E402


def tree(pid: int) -> list[int]:
    """Process `pid` and its descendants that still run (Linux)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its descendants that still run (Linux)."""
    ticks = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_rss_mib(pid: int) -> float:
    """Resident memory of process `pid` and its descendants, MiB (VmRSS, Linux)."""
    kib = 0
    for p in tree(pid):
        try:
            kib += next(int(line.split()[1]) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                        if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return kib / 1024


def measure(src: str, model: str, workers: int, bodies, seconds: float, clients: int = LOAD_CLIENTS) -> dict:
    os.environ["PYTHONPATH"] = src
    # Started in `src`: from a checkout's root, `python -m mnist_cnn` would run its mnist_cnn.py, which puts that
    # checkout's src/ first, so --old-src would time this checkout's code twice.
    server, port = start_server(str(Path(model).resolve()), *(["--workers", str(workers)] if workers > 1 else []),
                                cwd=src)
    try:
        before, client = tree_cpu(server.pid), time.process_time()
        result = post_loop(port, bodies, clients, seconds)
        n = max(1, result["requests"])
        result["server_cpu_ms"] = 1000 * (tree_cpu(server.pid) - before) / n
        result["client_cpu_ms"] = 1000 * (time.process_time() - client) / n  # this process: the 8 client threads
        result["rss_mib"] = tree_rss_mib(server.pid)  # every server process, after the load
        return result
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True, help="a --model value; repeatable")
    p.add_argument("--workers", default="1", help="comma-separated worker counts (default: 1)")
    p.add_argument("--old-src", help="another checkout's src/ folder to serve the same way (default: none)")
    p.add_argument("--old-workers", default="1", help="worker counts for --old-src (default: 1; code older than "
                                                      "--workers takes only 1)")
    p.add_argument("--clients", type=int, default=LOAD_CLIENTS, help=f"keep-alive clients (default: {LOAD_CLIENTS})")
    p.add_argument("--seconds", type=float, default=15, help="load per row and round (default: 15)")
    p.add_argument("--rounds", type=int, default=1, help="rounds, interleaved; the median is shown (default: 1)")
    args = p.parse_args()
    args.old_src = args.old_src and str(Path(args.old_src).resolve())  # the servers start in it (measure)
    x = normalise(load_mnist()[1][0][:50])
    bodies = [_multipart(_digit_png(d)) for d in x]
    rows = [(m, "this checkout", int(w), str(HERE)) for m in args.model for w in args.workers.split(",")]
    rows += [(m, "old", int(w), args.old_src) for m in args.model for w in args.old_workers.split(",")] \
        if args.old_src else []
    results = {r: [] for r in rows}
    for _ in range(args.rounds):
        for model, code, workers, src in rows:
            v = measure(src, model, workers, bodies, args.seconds, args.clients)
            results[(model, code, workers, src)].append(v)
            print(f"{code} {model} x{workers}: {v['requests_per_s']:.0f} requests/s, p50 {v['latency_p50_ms']:.1f} ms, "
                  f"p99 {v['latency_p99_ms']:.1f} ms, {v['errors']} errors, CPU ms/request: server "
                  f"{v['server_cpu_ms']:.2f}, client {v['client_cpu_ms']:.2f}; server RSS {v['rss_mib']:.0f} MiB",
                  file=sys.stderr, flush=True)
    print("| model | code | workers | requests/s | p50 ms | p99 ms | server CPU ms/request | client CPU ms/request "
          "| server RSS MiB | errors / requests |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (model, code, workers, _), done in results.items():
        med = {k: statistics.median(v[k] for v in done) for k in ("requests_per_s", "latency_p50_ms", "latency_p99_ms",
                                                                "server_cpu_ms", "client_cpu_ms", "rss_mib")}
        print(f"| {model} | {code} | {workers} | {med['requests_per_s']:,.0f} | {med['latency_p50_ms']:.1f} | "
              f"{med['latency_p99_ms']:.1f} | {med['server_cpu_ms']:.2f} | {med['client_cpu_ms']:.2f} | "
              f"{med['rss_mib']:.0f} | "
              f"{sum(v['errors'] for v in done)} / {sum(v['requests'] for v in done)} |")


if __name__ == "__main__":
    main()
