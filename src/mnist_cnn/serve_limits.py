"""The server's bounds on what one client can cost: body size and time, header time, preprocessing places.

    BodyLimit(app, limits, timeout)      ASGI middleware: 413 over a media type's byte limit, 408 when slow
    Lane(name, workers, places)          a thread pool with a fixed number of places; full -> 503 + Retry-After
    with_header_timeout(seconds)         uvicorn's protocol (httptools, else h11), closing connections whose request
                                         head stalls or grows over a limit, answering a client that half-closes

serve.py sets the numbers and documents them; these are the mechanisms.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import h11
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # uvicorn's C parser (httptools, of uvicorn[standard]); h11 when it is missing
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:
    HttpToolsProtocol = None

HEAD_DRAIN = (1.0, 2**20)  # after a 400 for a head over its limit: seconds and bytes more read and dropped, half-closed
DRAIN = 3  # a body over its limit is read and dropped up to 3x the limit before the 413, so the client sees it


def media_type(scope) -> str:
    """The request's Content-Type without parameters, lower case ("" if none)."""
    return Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()


class BodyLimit:
    """ASGI middleware: request bodies within the byte limit of their media type, complete within `timeout` s.

    `limits` maps a media type to (bytes, message); `default` covers every other type. Over the limit the
    app's receive() raises a 413 with the message (the app answers it as any HTTPException); a Content-Length
    over the limit gets the 413 without calling the app. Before any answer goes out, the rest of the body is
    read and dropped, up to DRAIN x the limit: clients that send their whole body before reading the answer
    (Python's urllib, most scripts) then see the 413, not a connection reset. Beyond that bound, or when the
    client waits on `Expect: 100-continue`, the answer goes out at once with `Connection: close`.
    A body not complete `timeout` s after the request head gets 408 and the connection closes; a Content-Encoding
    other than identity gets 415 (the body is not decoded).
    """

    def __init__(self, app, limits: dict[str, tuple[int, str]], default: tuple[int, str], timeout: float):
        self.app, self.limits, self.default, self.timeout = app, limits, default, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, message = self.limits.get(media_type(scope), self.default)
        headers = Headers(scope=scope)
        body = _Body(receive, limit, message, asyncio.get_running_loop().time() + self.timeout, headers)
        # a compressed body would be read as the bytes it is (gzipped JSON: "not valid JSON"); RFC 7694: 415
        encoding = headers.get("content-encoding", "identity").strip().lower() or "identity"
        if encoding != "identity" and body.more:
            await JSONResponse({"detail": f"Content-Encoding {encoding[:40]} is not supported: send the body "
                                          f"uncompressed"}, 415)(scope, body.receive, body.send_after_drain(send))
        elif body.declared > limit:
            await JSONResponse({"detail": message}, 413)(scope, body.receive, body.send_after_drain(send))
        else:
            await self.app(scope, body.receive, body.send_after_drain(send))


class _Body:
    """One request's body as the app reads it: counted, timed, and drained before the answer."""

    def __init__(self, receive, limit: int, message: str, deadline: float, headers: Headers):
        self._receive, self.limit, self.message, self.deadline = receive, limit, message, deadline
        length = headers.get("content-length", "")
        self.declared = int(length) if length.isdigit() else -1
        self.expects_continue = headers.get("expect", "").lower() == "100-continue"
        self.seen, self.started, self.timed_out = 0, False, False
        # HTTP/1.1: a request has a body only with a Content-Length or Transfer-Encoding. Without one there is
        # nothing to drain, and a receive() here would wait for the disconnect (as Starlette's FileResponse does).
        self.more = self.declared > 0 or "transfer-encoding" in headers

    async def _next(self):
        if not self.more:  # the body is in: what remains is waiting for the disconnect, which may take any time
            return await self._receive()
        try:  # timeout_at, not wait_for: no task made for each receive
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.timed_out, self.more = True, False
            raise HTTPException(408, "request body not complete in time; send it at once") from None
        if message["type"] == "http.request":
            self.started = True
            self.seen += len(message.get("body", b""))
            self.more = message.get("more_body", False)
        else:  # http.disconnect
            self.more = False
        return message

    async def receive(self):
        message = await self._next()
        if self.seen > self.limit:
            raise HTTPException(413, self.message)
        return message

    async def drain(self) -> bool:
        """Read and drop the rest of the body within DRAIN x the limit; True if it is all read."""
        if self.more and self.expects_continue and not self.started:
            return False  # the client waits for a 100 Continue before sending: answering now saves it the upload
        if self.declared > DRAIN * self.limit:
            return False
        try:
            while self.more and self.seen <= DRAIN * self.limit:
                await self._next()
        except HTTPException:  # the body timed out
            return False
        return not self.more and not self.timed_out

    def send_after_drain(self, send):
        async def wrapped(message):
            if message["type"] == "http.response.start" and not await self.drain():
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers["connection"] = "close"  # the unread rest of the body cannot be told from a next request
                message = {**message, "headers": headers.raw}
            await send(message)

        return wrapped


class Lane:
    """A fixed pool of worker threads with a fixed number of places (running + waiting).

    `await lane.run(fn, *args)` runs fn in one of the lane's threads; with every place taken it raises 503
    with Retry-After instead of queueing without end (`lane.submit` does the same from any thread and returns the
    concurrent future). A place is freed when fn returns, in the lane's thread (no hop back to the event loop for
    it), not when its caller gives up, so the count is always the work actually queued or running.
    """

    def __init__(self, name: str, workers: int, places: int, retry_after: int, nice: int = 0):
        self.name, self.places, self.retry_after, self.taken = name, places, retry_after, 0
        self.lock = threading.Lock()  # `taken` is counted up on the event loop and down in the lane's threads
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=f"mnist-cnn-{name}", initializer=_nice,
                                       initargs=(nice,))

    async def run(self, fn, *args):
        return await asyncio.wrap_future(self.submit(fn, *args))

    def submit(self, fn, *args) -> Future:
        """fn(*args) in a lane thread, as a concurrent future; 503 at once when every place is taken."""
        with self.lock:
            if self.taken >= self.places:
                raise HTTPException(503, f"server busy: {self.places} {self.name} requests are queued or running; "
                                         f"retry in {self.retry_after} s",
                                    headers={"Retry-After": str(self.retry_after)})
            self.taken += 1
        return self.pool.submit(self._job, fn, args)

    def _job(self, fn, args):
        try:
            return fn(*args)
        finally:
            with self.lock:
                self.taken -= 1


def _nice(increment: int) -> None:
    """Lower this worker thread's CPU priority by `increment` (Linux schedules threads, so nice is per thread)."""
    if increment and sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + increment)
        except OSError:
            pass  # not allowed here: the lane still works, only without the lower priority


class _Deadline:
    """A request head (line + headers) must be complete within `seconds` of the connection opening or of the last
    response, else the connection closes (mixed into uvicorn's h11 and httptools protocols).

    uvicorn (0.29 to 0.54 at least) has no header read timeout: its `timeout_keep_alive` is armed only after
    a response, and cancelled by the first byte of the next request. A client that sends half a request head
    and stalls (slow loris) would hold its connection, and one of `limit_concurrency` places, for ever. The
    deadline is not extended by bytes arriving: trickling a header a byte at a time does not help.
    A client that half-closes once its requests are out still gets their answers (eof_received).
    """

    seconds = 10.0
    max_head = 16 * 1024
    _deadline: asyncio.TimerHandle | None = None
    _sent_all = False  # the client shut its side down (a TCP half-close) after its request

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def eof_received(self):
        """A client may close its sending side once its request is out (`shutdown(SHUT_WR)`, `nc -N`; RFC 9112, 9.6).
        uvicorn returns None here, so asyncio closed the connection and the answer was lost (uvicorn issue 1264):
        with whole requests in, the connection stays open for their answers, then closes. Before or within a request
        (its body cut short) it closes at once, as before: nothing can be answered."""
        if self._waiting_for_head() or self._body_pending():
            return None
        self._sent_all = True
        return True

    def on_response_complete(self):
        super().on_response_complete()  # may start a pipelined request
        if self._sent_all and self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()  # after the answers' bytes: asyncio flushes its buffer first
        self._arm()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def _arm(self):
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.seconds, self._expire)

    def _disarm(self):
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self):
        self._deadline = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()


class HeaderDeadline(_Deadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline (h11 itself caps the head at h11_max_incomplete_event_size)."""

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _body_pending(self) -> bool:
        return self.conn.their_state is h11.SEND_BODY


if HttpToolsProtocol is not None:
    class FastHeaderDeadline(_Deadline, HttpToolsProtocol):
        """uvicorn's httptools protocol (llhttp, in C: ~0.3 ms less CPU a request than h11's pure Python) with the
        header deadline, and a request head over `max_head` bytes answered 400 and closed, as h11 does."""

        _fed = 0  # bytes received while a request head is awaited
        _head = 0  # bytes of the head parsed so far: a head over max_head that arrives whole in one read counts too
        _drained = None  # bytes read and dropped since a 400 (None: none sent)

        def on_message_begin(self) -> None:
            self._head = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)  # ": " and CRLF
            super().on_header(name, value)

        def _count(self, size: int) -> None:
            self._head += size
            if self._head > self.max_head:  # raised in llhttp's callback: uvicorn answers 400 and closes
                raise ValueError(f"request head over {self.max_head} bytes")

        def _waiting_for_head(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _body_pending(self) -> bool:
            return self.cycle is not None and self.cycle.more_body

        def data_received(self, data: bytes) -> None:
            if self._drained is not None:
                self._drained += len(data)
                if self._drained > HEAD_DRAIN[1]:
                    self.transport.close()
                return
            waiting = self._waiting_for_head()
            self._fed = self._fed + len(data) if waiting else 0
            super().data_received(data)
            # llhttp buffers a header without limit; h11 refuses a head over its limit (400), so this does too
            if waiting and self._waiting_for_head() and self._fed > self.max_head and self._drained is None \
                    and not self.transport.is_closing():
                self.send_400_response("Invalid HTTP request received.")

        def send_400_response(self, msg: str) -> None:
            """uvicorn's 400, then the sending side closed and what the client still sends read and dropped, up to
            HEAD_DRAIN: closed with the rest of a long head unread, the kernel reset the connection, and the client
            could lose the 400 to the reset (a CI run: ConnectionResetError reading the 400 for a 70 KB head)."""
            transport = self.transport
            self.transport = _KeptOpen(transport)
            try:
                super().send_400_response(msg)
            finally:
                self.transport = transport
            if transport.is_closing():
                return
            self._drained = 0
            if transport.can_write_eof():
                transport.write_eof()
            self.loop.call_later(HEAD_DRAIN[0], transport.close)

        def on_headers_complete(self) -> None:
            self._fed = 0
            super().on_headers_complete()


class _KeptOpen:
    """A transport whose close() does nothing: uvicorn's 400 written without closing (FastHeaderDeadline drains)."""

    def __init__(self, transport):
        self._transport = transport

    def __getattr__(self, name):
        return getattr(self._transport, name)

    def close(self) -> None:
        pass


def with_header_timeout(seconds: float, max_head: int = _Deadline.max_head) -> type[_Deadline]:
    """The protocol class to give uvicorn.Config(http=...): httptools' when installed, else h11's, with a header
    deadline of `seconds` and request heads of at most `max_head` bytes (give h11 the same limit)."""
    base = HeaderDeadline if HttpToolsProtocol is None else FastHeaderDeadline
    return type(base.__name__, (base,), {"seconds": seconds, "max_head": max_head})
