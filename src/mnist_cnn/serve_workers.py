"""`mnist-cnn serve --workers N`: N server processes answering on one listening socket.

    from mnist_cnn.serve_workers import start, wait
    workers = start(sock, "runs/NAME/exports/model.onnx", None, 2, dict(hosts={...}, cors_origins=()))
    wait(workers)                           # until Ctrl+C, SIGTERM or a worker's exit

The parent binds the socket and starts N workers with `spawn` (fresh interpreters: each loads its
own model and runs its own event loop, lanes and model thread, on CPUs of its own on Linux: cpu_sets);
the kernel hands each new connection to whichever worker accepts it first. Each worker is the whole one-process server
(serve.create_app: the same Host and Origin checks, body limits, timeouts and lanes), so every
bound in serve.py holds per worker. The parent prints "Serving ..." once every worker has loaded
its model, forwards Ctrl+C and SIGTERM to them, and stops them all when one of them fails; a
worker whose parent was killed outright stops by itself within a second.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time

from .errors import UserError

START_TIMEOUT = 300  # seconds for every worker to load its model (Keras: ~5-15 s each on a busy 2-core machine)
STOP_TIMEOUT = 10  # seconds a worker gets to finish its requests after SIGTERM before it is killed
ORPHAN_CHECK = 1.0  # seconds between a worker's checks that its parent still runs


def _worker(sock, model: str, runtime: str | None, index: int, options: dict, feedback, ready, cpus) -> None:
    """One server process: load the model, tell the parent, serve until SIGINT/SIGTERM. cpus: the CPUs it runs on
    (cpu_sets), or None to leave it to the kernel."""
    if cpus:  # before any thread starts: the lanes' and the model's threads inherit it
        os.sched_setaffinity(0, cpus)
    from . import serve, serve_run
    from .feedback import FeedbackStore
    from .predict import Predictor

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        predictor = Predictor(model, runtime=runtime, threads=serve.MODEL_THREADS)
        store = FeedbackStore(feedback) if feedback else None
        app = serve.create_app(predictor, worker=index, feedback=store, **options)
    except UserError as e:
        ready.put((index, str(e)))
        return
    ready.put((index, None))
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    serve_run.server(app).run(sockets=[sock])


def cpu_sets(cpus: list[int], count: int) -> list[set[int]]:
    """The CPUs each of `count` workers runs on: the usable CPUs split into `count` runs of neighbours, or one CPU each,
    round-robin, when there are more workers than CPUs; [] (no pinning) with a single CPU.

    A request crosses three threads of its worker (event loop, lane, model thread); kept on its own CPUs, a worker's
    hand-offs stay on one core's caches instead of waking another core (a halted vCPU on a VM), and with fewer workers
    than CPUs each keeps its share of them for its threads. On the 2-core class-A machine the 8-client load check
    costs less server CPU a request pinned (README, "Throughput")."""
    if len(cpus) < 2:
        return []
    if count >= len(cpus):
        return [{cpus[k % len(cpus)]} for k in range(count)]
    return [set(cpus[k * len(cpus) // count:(k + 1) * len(cpus) // count]) for k in range(count)]


def _orphan_watch(parent: int) -> None:
    """SIGTERM to this worker once its parent is gone (killed without a chance to stop its workers)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os.kill(os.getpid(), signal.SIGTERM)


def start(sock, model: str, runtime: str | None, count: int, options: dict,
          feedback=None) -> list[multiprocessing.Process]:
    """Start `count` workers on `sock` and wait until each has loaded the model; UserError if one cannot.

    options: create_app's keywords; feedback: the corrections folder (a FeedbackStore per worker), or None."""
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    pinned = cpu_sets(sorted(os.sched_getaffinity(0)), count) if hasattr(os, "sched_setaffinity") else []
    workers = [context.Process(target=_worker, args=(sock, model, runtime, i + 1, options, feedback, ready,
                                                     pinned[i] if pinned else None),
                                  name=f"mnist-cnn-serve-{i + 1}") for i in range(count)]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            try:
                _, error = ready.get(timeout=START_TIMEOUT)
            except Exception:  # queue.Empty
                raise UserError(f"the server workers did not load the model within {START_TIMEOUT} s") from None
            if error:
                raise UserError(error)
    except BaseException:
        stop(workers)
        raise
    return workers


def stop(workers: list[multiprocessing.Process]) -> None:
    """SIGTERM to every worker still running (uvicorn finishes its requests), then wait; kill what remains."""
    for w in workers:
        if w.is_alive():
            w.terminate()
    for w in workers:
        w.join(STOP_TIMEOUT)
        if w.is_alive():
            w.kill()
            w.join()


def wait(workers: list[multiprocessing.Process]) -> int:
    """Until Ctrl+C or SIGTERM (passed on to the workers) or a worker's exit (the rest are stopped): 0, else 1."""
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        stop(workers)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        multiprocessing.connection.wait([w.sentinel for w in workers])
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stopping:
        return 0
    failed = [w for w in workers if w.exitcode is not None]
    stop(workers)
    print(f"mnist-cnn: server worker {failed[0].name} stopped (exit code {failed[0].exitcode}); stopped the others",
          file=sys.stderr, flush=True)
    return 1
