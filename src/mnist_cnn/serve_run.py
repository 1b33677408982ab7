"""`mnist-cnn serve`'s start and stop: load the model (or start --workers processes), announce, serve until Ctrl+C.

    from mnist_cnn.serve_run import run
    run("runs/NAME", port=8000, workers=2)      # what `mnist-cnn serve --model runs/NAME --workers 2` does

serve.py builds the app and holds every setting; this module binds the socket and runs it under uvicorn (split off
to keep serve.py small).
"""

from __future__ import annotations

import os

from . import http_guard, serve
from .console import warn
from .errors import ConfigError, UserError
from .refusal import Rule, run_folder_of
from .serve_limits import with_header_timeout

WORKERS_PER_CPU = 2  # --workers at most: each worker holds its own model, and more than two to a CPU only wait for it


def run(model=None, host: str = serve.HOST, port: int = serve.PORT, out: str | os.PathLike = "runs",
        allow_hosts=(), cors_origins=(), feedback_dir=None, no_feedback: bool = False, workers: int = 1,
        runtime: str | None = None) -> int:
    """Load the model once (per worker) and serve the page and API until Ctrl+C (the `mnist-cnn serve` command).

    feedback_dir: where the page's corrections go (default: the model's run folder's feedback/)."""
    from .feedback import FeedbackStore, default_folder
    from .predict import Predictor as Loaded
    from .runtime import resolve_model

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not 1 <= workers <= WORKERS_PER_CPU * cpus:
        raise ConfigError("workers", f"expected a whole number from 1 to {WORKERS_PER_CPU * cpus} ({WORKERS_PER_CPU} "
                        f"for each of the {cpus} CPUs this process may use), found {workers}")
    sock = listen(host, port)  # fail on a taken port before spending seconds loading the model
    hosts = http_guard.host_names(host, allow_hosts)
    path = str(resolve_model(model, out, warn, runtime))  # named once here, not by each worker
    store = None if no_feedback else FeedbackStore(feedback_dir or default_folder(path)).prepare()  # before the load
    try:
        if workers > 1:
            from . import serve_workers

            running = serve_workers.start(sock, path, runtime, workers, dict(hosts=hosts, cors_origins=cors_origins),
                                          store and store.folder)
        else:
            predictor = Loaded(path, out, runtime=runtime, threads=serve.MODEL_THREADS)
    except BaseException:  # a model that cannot load, or Ctrl+C while it loads
        if store:
            store.abandon()
        raise
    if workers > 1:
        _serving(path, sock, host, hosts, store, f", {workers} worker processes")
        code = serve_workers.wait(running)
    else:
        app = serve.create_app(predictor, hosts=hosts, cors_origins=cors_origins, feedback=store)
        _serving(predictor.path, sock, host, hosts, store, "")
        try:
            server(app).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl+C
            pass
        code = 0
    print("Stopped.", flush=True)
    return code


def _serving(path, sock, host: str, hosts, store, workers: str) -> None:
    print(f"Serving {path} at {url(sock)}/ (API docs: {url(sock)}/docs{workers}; Ctrl+C stops)", flush=True)
    print(f"Corrections from the page go to {store.folder}/" if store else "Corrections are off (--no-feedback).",
          flush=True)
    if Rule.for_model(path) == Rule():
        run = run_folder_of(path)
        print(f"{run} has no refusal rule: every drawing with ink gets a digit, never \"not a digit\"; fit one with: "
              f"mnist-cnn calibrate {run}", flush=True)
    if host not in http_guard.LOOPBACK:
        print(f"Listening on {host}: other machines on the network can use this server; it answers requests "
              f"naming {', '.join(sorted(hosts))} (add more with --allow-host NAME).", flush=True)


def listen(host: str = serve.HOST, port: int = serve.PORT):
    """A bound TCP socket (port 0 = any free one); UserError if the address is taken or unknown."""
    import socket

    if not 0 <= port <= 65535:
        raise ConfigError("port", f"expected a whole number from 0 (any free port) to 65535, found {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except BaseException:
            sock.close()
            raise
    except (OSError, OverflowError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise UserError(f"cannot listen on {host}:{port} ({reason}); choose another --port or --host") from None
    return sock


def url(sock) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server(app, *, header_timeout: float = serve.HEADER_TIMEOUT, log_level: str = "warning"):
    """The uvicorn server for `app` with serve.py's timeouts and connection limit."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(  # no access log: a line per request nobody reads
        app, log_level=log_level, timeout_graceful_shutdown=2, access_log=False, ws="none", proxy_headers=False,
        http=with_header_timeout(header_timeout, serve.MAX_HEAD), h11_max_incomplete_event_size=serve.MAX_HEAD,
        limit_concurrency=serve.MAX_CONNECTIONS, timeout_keep_alive=serve.KEEP_ALIVE))
