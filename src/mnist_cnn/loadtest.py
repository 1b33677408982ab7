"""A bounded load test of `mnist-cnn serve`: N keep-alive clients posting digit PNGs for S seconds.

    from mnist_cnn.loadtest import serve_load
    serve_load("runs/NAME", x_test)   # {"requests_per_s": ..., "latency_p50_ms": ..., "errors": 0, ...}

The server runs in its own process on a free loopback port; the loop stops by itself after
`seconds`. Used by the benchmark (`mnist-cnn bench`) and the serving tools.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from .errors import UserError

LOAD_CLIENTS = 8  # concurrent clients of the serve load check
LOAD_SECONDS = 15  # how long they send requests (a bounded loop: it stops by itself)
START_SECONDS = 300  # for the server to load its model(s): Keras in 2 worker processes on a busy 2-core machine


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


def start_server(model: str, *extra: str, cwd: str | None = None) -> tuple[subprocess.Popen, int]:
    """`mnist-cnn serve --model model` in its own process on a free loopback port, once it says "Serving" (with
    --workers N: once every worker has loaded the model) and answers /api/health. cwd: the folder it starts in
    (a checkout's src/, so that `python -m mnist_cnn` runs that code and not a mnist_cnn.py in the caller's folder)."""
    import http.client
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "mnist_cnn", "serve", "--model", model, "--port", str(port),
                               *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    timer = threading.Timer(START_SECONDS, server.kill)  # a server that never says it serves is stopped
    timer.start()
    try:
        serving = any(line.startswith("Serving ") for line in server.stdout)
    finally:
        timer.cancel()
    deadline = time.time() + 30
    while serving:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/health")
            if c.getresponse().status == 200:
                return server, port
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                break
            time.sleep(0.2)
    server.kill()
    raise UserError(f"the server did not start ({server.stderr.read().strip()[-200:]})", exit_code=1)


def post_loop(port: int, bodies: list[tuple[bytes, str]], clients: int, seconds: float) -> dict:
    """`clients` keep-alive threads POST the bodies round-robin to /api/predict for `seconds`."""
    import http.client
    import threading

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
    return {"clients": clients, "seconds": seconds, "requests": len(latencies),
            "requests_per_s": len(latencies) / elapsed,
            "latency_p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "latency_p99_ms": 1000 * float(np.percentile(latencies, 99)), "errors": errors[0]}


def serve_load(model: str, x: np.ndarray, clients: int = LOAD_CLIENTS, seconds: float = LOAD_SECONDS,
               options: tuple[str, ...] = ()) -> dict:
    """The load check: a server for `model` (with more `mnist-cnn serve` options, e.g. ("--workers", "2")),
    `clients` clients posting 280x280 PNGs of the digits x for `seconds`. Returns requests/s, latency
    p50/p99 and the error count."""
    server, port = start_server(model, *options)
    try:
        return post_loop(port, [_multipart(_digit_png(x[i])) for i in range(min(50, len(x)))], clients, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
