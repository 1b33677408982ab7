"""A served request's CPU by thread: which of the server's threads spends what during the load check (Linux).

    cd /tmp && python OTHER/tools/serve_threads.py --model runs/NAME/exports/model.onnx [--seconds 8] [--workers 2]

Starts `mnist-cnn serve` with the code beside this script (in its src/, see serve_speed.py), runs the
8-client load check (loadtest.post_loop) for --seconds after a 2 s warm-up, and prints each thread's CPU
milliseconds per request, read from /proc/PID/task/TID/stat before and after. Thread names come from
`py-spy dump` when py-spy is on PATH (a measuring tool, not a dependency: `pip install py-spy`); without
it, threads are shown by id. A thread without a Python name (a runtime's own pool) shows its id only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(HERE))

from mnist_cnn.data import load_mnist, normalise  # noqa: E402
from mnist_cnn.loadtest import LOAD_CLIENTS, _digit_png, _multipart, post_loop, start_server  # noqa: E402

WARM_UP = 2  # seconds of load before measuring: the first requests trace, allocate and fill caches


def thread_cpu(pid: int) -> dict[tuple[int, int], float]:
    """{(process id, thread id): CPU seconds} for `pid` and its descendants."""
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out[(p, int(task.name))] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def thread_names(pid: int) -> dict[int, str]:
    """{thread id: Python thread name} from py-spy, or {} without it."""
    if shutil.which("py-spy") is None:
        return {}
    dump = subprocess.run(["py-spy", "dump", "--pid", str(pid), "--nonblocking", "--subprocesses"],
                          capture_output=True, text=True).stdout
    return {int(tid, 0): name for tid, name in re.findall(r'Thread (\S+) \(\w+\): "([^"]+)"', dump)
            if tid.isdigit() or tid.startswith("0x")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a --model value (an .onnx file, a run folder, a .keras file)")
    p.add_argument("--workers", type=int, default=1, help="server worker processes (default: 1)")
    p.add_argument("--seconds", type=float, default=8, help="measured load (default: 8)")
    args = p.parse_args()
    bodies = [_multipart(_digit_png(d)) for d in normalise(load_mnist()[1][0][:50])]
    model = str(Path(args.model).resolve())
    os.environ["PYTHONPATH"] = str(HERE)
    os.chdir(HERE)  # the server starts here: `python -m mnist_cnn` is then this src/'s (serve_speed.py says why)
    server, port = start_server(model, *(["--workers", str(args.workers)] if args.workers > 1 else []))
    try:
        post_loop(port, bodies, LOAD_CLIENTS, WARM_UP)
        before = thread_cpu(server.pid)
        result = post_loop(port, bodies, LOAD_CLIENTS, args.seconds)
        after = thread_cpu(server.pid)
        names = thread_names(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    n = max(1, result["requests"])
    used = {k: after[k] - before.get(k, 0.0) for k in after}
    print(f"{result['requests_per_s']:.0f} requests/s, p50 {result['latency_p50_ms']:.1f} ms; server CPU "
          f"{1000 * sum(used.values()) / n:.2f} ms/request")
    print("| process | thread | CPU ms/request |")
    print("|---|---|---|")
    for (pid, tid), seconds in sorted(used.items(), key=lambda kv: -kv[1]):
        if seconds > 0:
            print(f"| {pid} | {names.get(tid, tid)} | {1000 * seconds / n:.3f} |")


if __name__ == "__main__":
    main()
