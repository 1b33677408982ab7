"""`mnist-cnn serve`'s start and stop: load the model (or start --workers processes), announce, serve until Ctrl+C.

    from mnist_cnn.serve_run import run
    run("runs/NAME", port=8000, workers=2)      # what `mnist-cnn serve --model runs/NAME --workers 2` does

serve.py builds the app and holds every setting; this module only runs it (split off to keep serve.py small).
"""

from __future__ import annotations

import os

from . import http_guard, serve
from .errors import UserError


def run(model=None, host: str = serve.HOST, port: int = serve.PORT, out: str | os.PathLike = "runs",
        allow_hosts=(), cors_origins=(), feedback_dir=None, no_feedback: bool = False, workers: int = 1,
        runtime: str | None = None) -> int:
    """Load the model once (per worker) and serve the page and API until Ctrl+C (the `mnist-cnn serve` command).

    feedback_dir: where the page's corrections go (default: the model's run folder's feedback/)."""
    from .feedback import FeedbackStore, default_folder
    from .predict import Predictor as Loaded, resolve_model

    if workers < 1:
        raise UserError(f"--workers: expected a whole number >= 1, found {workers}")
    sock = serve.listen(host, port)  # fail on a taken port before spending seconds loading the model
    hosts = http_guard.host_names(host, allow_hosts)
    if workers > 1:
        from . import serve_workers

        path = str(resolve_model(model, out))  # named once here, not by each worker
        store = None if no_feedback else FeedbackStore(feedback_dir or default_folder(path)).prepare()
        running = serve_workers.start(sock, path, runtime, workers, dict(hosts=hosts, cors_origins=cors_origins),
                                      store and store.folder)
        _serving(path, sock, host, hosts, store, f", {workers} worker processes")
        code = serve_workers.wait(running)
    else:
        predictor = Loaded(model, out, runtime=runtime, threads=serve.MODEL_THREADS)
        store = None if no_feedback else FeedbackStore(feedback_dir or default_folder(predictor.path)).prepare()
        app = serve.create_app(predictor, hosts=hosts, cors_origins=cors_origins, feedback=store)
        _serving(predictor.path, sock, host, hosts, store, "")
        try:
            serve.server(app).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl+C
            pass
        code = 0
    print("Stopped.", flush=True)
    return code


def _serving(path, sock, host: str, hosts, store, workers: str) -> None:
    print(f"Serving {path} at {serve.url(sock)}/ (API docs: {serve.url(sock)}/docs{workers}; Ctrl+C stops)", flush=True)
    print(f"Corrections from the page go to {store.folder}/" if store else "Corrections are off (--no-feedback).",
          flush=True)
    if host not in http_guard.LOOPBACK:
        print(f"Listening on {host}: other machines on the network can use this server; it answers requests "
              f"naming {', '.join(sorted(hosts))} (add more with --allow-host NAME).", flush=True)
