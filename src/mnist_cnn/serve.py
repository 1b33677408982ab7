"""A prediction API and a draw-a-digit page for a trained model (FastAPI + uvicorn).

    mnist-cnn serve [--model runs/NAME] [--host 127.0.0.1] [--port 8000] [--out runs]
    python -m mnist_cnn.serve [RUN_DIR|MODEL.keras]        # the same, without the CLI

Then open http://127.0.0.1:8000/ and draw, or call the API:

    curl -F file=@digit.png http://127.0.0.1:8000/api/predict
    curl -H 'Content-Type: application/json' -d '{"pixels": [[0, 0.5, ...28 numbers], ...28 rows]}' \\
         http://127.0.0.1:8000/api/predict

POST /api/predict takes either a multipart upload (field `file`, any image Pillow reads) or JSON
{"pixels": 28 rows of 28 numbers in [0, 1]} in the MNIST convention (0 = black paper, 1 = white
ink). Both go through `images.to_mnist`, the preprocessing `mnist-cnn predict` uses. The answer:

    {"digit": 7, "confidence": 0.98, "probabilities": [10 floats], "model": "seed",
     "input": [28 rows of 28 floats: the image the model saw], "message": null}

An image without ink is not an error: 200 with digit, confidence, probabilities and input null
and "message": "no digit found". Every client mistake gets {"detail": "<one line>"} and:

    400  the body does not parse as its Content-Type says (bad JSON, broken multipart)
    413  an upload over 5 MB or JSON over 1 MB (Content-Length checked first, bytes counted
         while reading, so no body is held beyond the limit)
    415  Content-Type neither multipart/form-data nor application/json, or the file is not an
         image that decodes (not an image, empty, truncated, corrupt, over 40 megapixels;
         the message names the file)
    422  the right media type with the wrong contents: no `file` field, pixels not 28x28,
         not numbers, NaN/infinite or outside [0, 1]

Also GET /api/health, GET /api/model (the model's name, recipe, parameters, test accuracy),
and the OpenAPI schema at /openapi.json. The page at / loads nothing from the internet (its
Content-Security-Policy forbids it); FastAPI's /docs fetches Swagger UI from a CDN.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from . import images
from .errors import UserError

HOST = "127.0.0.1"  # loopback: the page and API are for this machine unless --host says otherwise
PORT = 8000
MAX_UPLOAD = 5 * 1024 * 1024  # 5 MB: a phone photo fits, an accidental video does not
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file
MAX_JSON = 1024 * 1024  # 28x28 numbers are ~20 KB of JSON; 1 MB leaves room for any formatting
PREPROCESS_SLOTS = 2  # decodes at once: a 40-megapixel upload takes ~1.3 GB to preprocess, 40 threads would not fit
INPUT_DECIMALS = 3  # the image the model saw goes back rounded: 1/1000 is finer than 8-bit grey
NAME_CHARS = 80  # an upload's file name is echoed in error messages, cut to this length
TOO_LARGE = f"upload too large (limit {MAX_UPLOAD // 2**20} MB)"
JSON_TOO_LARGE = f"JSON body too large (limit {MAX_JSON // 2**20} MB; 28x28 pixels take ~20 KB)"
STATIC = Path(__file__).with_name("static")
PAGE_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'")  # nothing from elsewhere

PIXELS_SCHEMA = {
    "type": "object", "required": ["pixels"],
    "properties": {"pixels": {
        "type": "array", "minItems": 28, "maxItems": 28,
        "description": "28 rows of 28 numbers in [0, 1], MNIST convention: 0 = black paper, 1 = white ink",
        "items": {"type": "array", "minItems": 28, "maxItems": 28,
                  "items": {"type": "number", "minimum": 0, "maximum": 1}}}},
}
UPLOAD_SCHEMA = {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "an image of one digit (PNG, JPEG, ...), at most 5 MB"}},
}
ERRORS = {
    400: "the body does not parse as its Content-Type says",
    413: "an upload over 5 MB or JSON over 1 MB",
    415: "not multipart/form-data or application/json, or the file is not a readable image",
    422: "no `file` field, or pixels that are not 28x28 numbers in [0, 1]",
}


class Prediction(BaseModel):
    """The answer of POST /api/predict, for the OpenAPI schema."""

    digit: int | None
    confidence: float | None
    probabilities: list[float] | None
    model: str
    input: list[list[float]] | None
    message: str | None


def create_app(predictor) -> FastAPI:
    """The FastAPI app around a loaded `predict.Predictor` (anything with .probabilities and .info)."""
    info = predictor.info()
    model_name = info.get("recipe") or info.get("name") or "model"
    lock = threading.Lock()  # one forward pass at a time: Keras layers are not documented thread-safe
    slots = threading.BoundedSemaphore(PREPROCESS_SLOTS)
    predictor.probabilities(np.zeros((1, 28, 28), np.float32))  # trace the tf.function now, not on request 1

    def answer(source, name: str = "upload") -> dict:
        """Bytes (an upload named `name`) or a 28x28 array -> the response body. Runs in a worker thread."""
        with slots:
            if isinstance(source, bytes):
                source = decode(source, name)
            x = images.to_mnist(source)
        if x is None:
            return {"digit": None, "confidence": None, "probabilities": None, "model": model_name,
                    "input": None, "message": images.NO_DIGIT}
        with lock:
            p = predictor.probabilities(x[None])[0]
        digit = int(np.argmax(p))
        return {"digit": digit, "confidence": float(p[digit]), "probabilities": [float(v) for v in p],
                "model": model_name, "input": np.round(x, INPUT_DECIMALS).tolist(), "message": None}

    def decode(data: bytes, name: str):
        try:
            return images.load_image(data, name=name)
        except UserError as e:
            raise HTTPException(415, str(e)) from None
        except Exception as e:  # a decoder tripping over hostile bytes is still the client's bad file
            raise HTTPException(415, f"{name}: cannot decode image ({type(e).__name__})") from None

    app = FastAPI(title="mnist-cnn", version=_version(),
                  description="Predict the digit in an image with a trained MNIST model. "
                              "The draw-a-digit page is at /.")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_CSP})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/api/model")
    def model() -> dict:
        return info

    @app.post("/api/predict", response_model=None,
              responses={200: {"model": Prediction}, **{k: {"description": v} for k, v in ERRORS.items()}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "multipart/form-data": {"schema": UPLOAD_SCHEMA},
                  "application/json": {"schema": PIXELS_SCHEMA}}}})
    async def predict(request: Request):
        """The digit in an uploaded image (multipart field `file`) or in JSON `{"pixels": 28x28 in [0, 1]}`."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if kind == "application/json":
                body = await limited(request, MAX_JSON, JSON_TOO_LARGE).body()
                source, name = pixels_array(parse_json(body)), "pixels"
            elif kind == "multipart/form-data":
                source, name = await upload(limited(request, MAX_UPLOAD + MULTIPART_SLACK, TOO_LARGE))
            else:
                raise HTTPException(415, f"expected Content-Type multipart/form-data (an image in field `file`) "
                                         f"or application/json ({{\"pixels\": ...}}), found {kind or 'none'}")
        except ClientDisconnect:
            raise HTTPException(400, "client disconnected before the body was complete") from None
        return JSONResponse(await run_in_threadpool(answer, source, name))

    return app


def limited(request: Request, limit: int, message: str) -> Request:
    """The request with a body capped at `limit` bytes: 413 from Content-Length, or once the count passes it."""
    too_large = HTTPException(413, message)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    seen = 0

    async def receive():
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise too_large
        return message

    return Request(request.scope, receive)


async def upload(request: Request) -> tuple[bytes, str]:
    """(bytes, file name) of multipart field `file`; 400 for broken multipart, 413 over MAX_UPLOAD, 422 if missing."""
    try:
        form = await request.form(max_files=1, max_fields=16)
    except StarletteHTTPException as e:  # starlette's own 400 for broken framing or too many parts
        if e.status_code != 400:
            raise
        raise HTTPException(400, f"broken multipart body ({e.detail.rstrip('.')})") from None
    try:
        f = form.get("file")
        if f is None:
            raise HTTPException(422, "multipart body has no field `file` (send the image as file=@digit.png)")
        if not isinstance(f, UploadFile):
            raise HTTPException(422, "field `file` is text; send the image as a file part (a filename in its "
                                     "Content-Disposition), e.g. curl -F file=@digit.png")
        data = await f.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise HTTPException(413, TOO_LARGE)
        return data, (f.filename or "upload")[:NAME_CHARS]
    finally:
        await form.close()


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        reason = str(e).split(";")[0][:120] or type(e).__name__
        raise HTTPException(400, f"body is not valid JSON ({reason})") from None


def pixels_array(doc) -> np.ndarray:
    """{"pixels": 28 rows of 28 numbers in [0, 1]} -> (28, 28) float32; 422 naming the first bad value."""
    if not isinstance(doc, dict) or "pixels" not in doc:
        found = "an object without `pixels`" if isinstance(doc, dict) else _kind(doc)
        raise HTTPException(422, f'expected {{"pixels": 28 rows of 28 numbers in [0, 1]}} (0 = black paper, '
                                 f'1 = white ink), found {found}')
    rows = doc["pixels"]
    if not isinstance(rows, list) or len(rows) != 28:
        raise HTTPException(422, f"pixels: expected 28 rows of 28 numbers in [0, 1], found {_kind(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 28:
            raise HTTPException(422, f"pixels row {i}: expected a list of 28 numbers, found {_kind(row)}")
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise HTTPException(422, f"pixels[{i}][{j}]: expected a number in [0, 1], found {_kind(v)}")
            if not (0 <= v <= 1):
                hint = " (scale 0..255 values by 1/255)" if 1 < v <= 255 else ""
                raise HTTPException(422, f"pixels[{i}][{j}]: expected a number in [0, 1], found {v!r:.40}{hint}")
    return np.asarray(rows, dtype=np.float32)


def _kind(v) -> str:
    if isinstance(v, list):
        return f"a list of {len(v)}"
    kinds = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string", dict: "an object"}
    return kinds.get(type(v), type(v).__name__)


def _version() -> str:
    from . import __version__

    return __version__


def listen(host: str = HOST, port: int = PORT) -> socket.socket:
    """A bound TCP socket (port 0 = any free one); UserError if the address is taken or unknown."""
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


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app, log_level: str):
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=2))


@contextmanager
def serving(app, host: str = HOST, port: int = 0, log_level: str = "warning"):
    """Run the app with uvicorn in a background thread; yields its base URL (for tests and tools)."""
    sock = listen(host, port)
    server = _server(app, log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped during start-up")
            time.sleep(0.01)
        yield url(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def run(model=None, host: str = HOST, port: int = PORT, out: str | os.PathLike = "runs") -> int:
    """Load the model once and serve the page and API until Ctrl+C (the `mnist-cnn serve` command)."""
    from .predict import Predictor

    sock = listen(host, port)  # fail on a taken port before spending seconds loading the model
    predictor = Predictor(model, out)
    app = create_app(predictor)
    print(f"Serving {predictor.path} at {url(sock)}/ (API docs: {url(sock)}/docs; Ctrl+C stops)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Listening on {host}: other machines on the network can use this server.", flush=True)
    try:
        _server(app, "warning").run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl+C
        pass
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else None))
    except UserError as e:
        sys.exit(f"mnist-cnn: {e}")
