"""Requests the app only sees when they name this server and come from its own pages; HEAD as GET; a trailing slash.

    Guard(app, hosts, cors_origins)      ASGI middleware: 400 for a foreign Host, 403 for a cross-origin POST
    HeadAsGet(app)                       ASGI middleware: HEAD answered as GET, without the body
    BareSlash(app, paths)                ASGI middleware: /api/predict/ answered as /api/predict
    host_names(host, extra)              the Host names a server bound to `host` answers to

Why: a web page anywhere can make the browser of someone running `mnist-cnn serve` send requests to
127.0.0.1. A POST from its script arrives with that page's Origin (refused here: 403); with DNS
rebinding the page's own name points at 127.0.0.1 and its requests carry that name as Host (refused
here: 400), so the page cannot read the answers either.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD")  # read-only: a cross-origin page cannot read their answers without CORS headers


def host_names(host: str, extra=()) -> frozenset[str]:
    """`host` itself, the loopback names when it is loopback or every interface, and the `extra` names."""
    names = {bare(host)} | {bare(n) for n in extra}
    if bare(host) in LOOPBACK + WILDCARD:
        names |= set(LOOPBACK)
    return frozenset(names - {""})


def bare(name: str) -> str:
    """A Host header or name -> the lower-case host without port or IPv6 brackets."""
    name = name.strip().lower()
    if name.startswith("["):
        return name[1 : name.find("]")] if "]" in name else name
    return name.rsplit(":", 1)[0] if name.count(":") == 1 else name


def _origin(scheme: str, host: str) -> str:
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    host = host.strip().lower()
    return f"{scheme}://{host[: -len(default)] if default and host.endswith(default) else host}"


class Guard:
    """ASGI middleware: the Host header must name this server, and a request that is not GET or HEAD
    with an Origin header must come from this server's own origin or one of `cors_origins`."""

    def __init__(self, app, hosts, cors_origins=()):
        self.app, self.hosts = app, frozenset(hosts)
        self.cors = {o.strip().lower().rstrip("/") for o in cors_origins}
        self.expected = ", ".join(f"[{h}]" if ":" in h else h for h in sorted(self.hosts))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (refusal := self.refusal(scope)):
            status, detail = refusal
            await JSONResponse({"detail": detail}, status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        if (n := len(headers.getlist("host"))) > 1:  # RFC 9112: a request with more than one is a 400
            return 400, f"request has {n} Host headers (expected one)"
        host = headers.get("host", "")
        if bare(host) not in self.hosts:
            found = f"Host {host[:80]!r}" if host else "no Host header"
            return 400, (f"request names {found}, not this server (expected {self.expected}; "
                         f"start the server with --allow-host NAME to accept another name)")
        origin = headers.get("origin")
        if origin is None or scope["method"] in SAFE_METHODS:
            return None
        origin = origin.strip().lower().rstrip("/")
        if origin == _origin(scope.get("scheme", "http"), host) or origin in self.cors:
            return None
        return 403, (f"cross-origin {scope['method']} from {origin[:80]!r} refused (only this server's own pages "
                     f"may post; start it with --cors-origin ORIGIN to allow another site)")


class HeadAsGet:
    """ASGI middleware: HEAD runs the GET route and sends its status and headers (Content-Length included)
    without the body, so every GET route answers HEAD (FastAPI's routes answer it with 405)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def no_body(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, no_body)


class BareSlash:
    """ASGI middleware: a request for one of `paths` (the app's routes) with a slash after it is answered as that
    route, not redirected: Starlette's 307 has an empty body, and Python's urllib (and curl without -L) does not
    follow a redirect of a POST, so a client posting to /api/predict/ saw an error with nothing to read."""

    def __init__(self, app, paths):
        self.app, self.paths = app, frozenset(paths)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and path.endswith("/") and (bare := path.rstrip("/")) in self.paths:
            scope = {**scope, "path": bare, "raw_path": (scope.get("raw_path") or path.encode()).rstrip(b"/")}
        await self.app(scope, receive, send)
