"""uvicorn in a background thread on a free loopback port, for the tests and tools/screenshot.py; a free port."""

import socket
import threading
import time
from contextlib import contextmanager

from mnist_cnn import serve_run


@contextmanager
def serving(app, host: str = "127.0.0.1", port: int = 0, **server_options):
    """Run the app with serve_run.server(app, **server_options) in a thread; yields its base URL."""
    sock = serve_run.listen(host, port)
    server = serve_run.server(app, **server_options)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped during start-up")
            time.sleep(0.01)
        yield serve_run.url(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def free_port() -> int:
    """A loopback port free a moment ago (for a server in another process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
