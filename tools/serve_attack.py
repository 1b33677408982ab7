"""How much can heavy uploads slow down everyone else? A normal client's latency under two attacks.

    python tools/serve_attack.py [RUN_DIR|MODEL.keras] [--runs runs] [--seconds 15]

Starts `mnist-cnn serve` in its own process on a free loopback port, then measures a normal client
(one keep-alive connection posting the page's 280x280 drawing PNGs back to back) and a health probe
(GET /api/health every 0.1 s on its own connection), in windows that alternate between no attack and
one of these (so that a changing load on the machine affects both alike):

    big-png     3 clients looping a ~60 KB PNG of 39.9 megapixels (7300x5466, one stroke on white)
    10mp-queue  44 clients each looping a 10 MP PNG (3651x2739), all at once, waiting as a 503's
                Retry-After says
    10mp-flood  the same 44 sending again at once after a 503 (a flood: more than any queue can absorb)

The attackers run in a separate process, so their own work does not slow the measuring one (it does
compete with the server for the same cores). Prints a Markdown table per attack: the normal client's
p50 in the idle windows and its p50/p90 under attack, health p50/max under attack, and what the
attackers got back. The server holds when the normal client's p50 stays within 2x of idle. Run it
with the project's Python (.venv/bin/python, or PYTHONPATH=src).
"""

import argparse
import collections
import http.client
import io
import multiprocessing
import sys
import threading
import time

import numpy as np
from PIL import Image, ImageDraw

from mnist_cnn.errors import UserError, run_tool
from mnist_cnn.loadtest import start_server
from mnist_cnn.runtime import resolve_model

SCENARIOS = {  # name: (attacking clients, image size, whether they honour Retry-After)
    "big-png": (3, (7300, 5466), False),
    "10mp-queue": (44, (3651, 2739), True),
    "10mp-flood": (44, (3651, 2739), False),
}
WARMUP = 2.0  # seconds the attack runs before measuring starts


def png(width: int, height: int) -> bytes:
    img = Image.new("L", (width, height), 255)
    ImageDraw.Draw(img).line([(width * 0.3, height * 0.2), (width * 0.7, height * 0.2), (width * 0.45, height * 0.8)],
                             fill=0, width=max(3, width // 60))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def multipart(data: bytes) -> tuple[bytes, dict]:
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="d.png"\r\nContent-Type: image/png\r\n\r\n'
            + data + b"\r\n--b--\r\n")
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


def post(conn: http.client.HTTPConnection, body: bytes, headers: dict) -> int:
    conn.request("POST", "/api/predict", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def attack(port: int, clients: int, size, polite: bool, stop, counts) -> None:
    """In its own process: `clients` threads post the image of `size` until `stop` is set; `polite` ones
    wait as a 503's Retry-After says, the others send again at once."""
    body, headers = multipart(png(*size))
    got, lock = collections.Counter(), threading.Lock()

    def loop():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not stop.is_set():
            try:
                conn.request("POST", "/api/predict", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status, wait = response.status, float(response.getheader("retry-after") or 0)
            except (OSError, http.client.HTTPException):
                status, wait, conn = "error", 0, http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                got[str(status)] += 1
            if polite and wait:
                stop.wait(wait)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts.update(got)


def measure(port: int, seconds: float) -> tuple[list[float], list[float], int]:
    """(normal client latencies, health latencies) in seconds over `seconds`, and the normal client's non-200s."""
    drawing = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(drawing).line([(84, 70), (196, 70), (126, 224)], fill=255, width=20)
    buf = io.BytesIO()
    drawing.save(buf, "PNG")
    body, headers = multipart(buf.getvalue())
    stop = time.perf_counter() + seconds
    normal, health, failed = [], [], 0

    def probe():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn.request("GET", "/api/health")
            conn.getresponse().read()
            health.append(time.perf_counter() - started)
            time.sleep(0.1)

    prober = threading.Thread(target=probe)
    prober.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while time.perf_counter() < stop:
        started = time.perf_counter()
        status = post(conn, body, headers)
        normal.append(time.perf_counter() - started)
        failed += status != 200
    prober.join()
    return normal, health, failed


def ms(values, q) -> str:
    return f"{1000 * float(np.percentile(values, q)):.0f} ms" if values else "-"


def window(port: int, seconds: float, manager, clients: int = 0, size=None, polite: bool = True):
    """One measuring window, with `clients` attackers running (started WARMUP s before) or none."""
    stop, counts = manager.Event(), manager.dict()
    attacker = multiprocessing.Process(target=attack, args=(port, clients, size, polite, stop, counts))
    if clients:
        attacker.start()
        time.sleep(WARMUP)
    normal, health, failed = measure(port, seconds)
    stop.set()
    if clients:
        attacker.join()
    return normal, health, failed, collections.Counter(dict(counts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", help="run folder or .keras file (default: the best run in --runs)")
    ap.add_argument("--runs", default="runs", help="folder of run folders (default: runs)")
    ap.add_argument("--seconds", type=float, default=8, help="length of one measuring window (default: 8)")
    ap.add_argument("--rounds", type=int, default=3, help="idle/attack window pairs per attack (default: 3)")
    args = ap.parse_args()
    try:
        server, port = start_server(str(resolve_model(args.model, args.runs)))
    except UserError as e:
        sys.exit(f"serve_attack: {e}")
    rows = []
    try:
        with multiprocessing.Manager() as manager:
            for name, (clients, size, polite) in SCENARIOS.items():
                idle, under, health, failed, got = [], [], [], 0, collections.Counter()
                for _ in range(args.rounds):  # alternate, so that a drifting machine load hits both alike
                    idle += window(port, args.seconds, manager)[0]
                    n, h, f, c = window(port, args.seconds, manager, clients, size, polite)
                    under, health, failed, got = under + n, health + h, failed + f, got + c
                ratio = float(np.percentile(under, 50) / np.percentile(idle, 50))
                answers = ", ".join(f"{n} x {s}" for s, n in sorted(got.items()))
                rows.append(f"| {name} | {ms(idle, 50)} | {len(under)} ({failed} not 200) | {ms(under, 50)} | "
                            f"{ms(under, 90)} | {ratio:.2f}x | {ms(health, 50)} | {ms(health, 100)} | {answers} |")
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(30)
    print("| attack | idle p50 | normal requests | normal p50 | normal p90 | p50 vs idle | health p50 | health max "
          "| attackers got |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    run_tool(main)
