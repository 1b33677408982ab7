"""A prediction API and a draw-a-digit page for a trained model (FastAPI + uvicorn).

    mnist-cnn serve [--model runs/NAME] [--host 127.0.0.1] [--port 8000] [--out runs] [--no-feedback]
                    [--workers 1] [--runtime R] [--allow-host NAME ...] [--cors-origin ORIGIN ...]
    python -m mnist_cnn.serve [RUN_DIR|MODEL.keras]        # the same, without the CLI

Then open http://127.0.0.1:8000/ and draw, or call the API:

    curl -F file=@digit.png http://127.0.0.1:8000/api/predict
    curl -H 'Content-Type: application/json' -d '{"pixels": [[0, 0.5, ...], ...28 rows]}' \\
         http://127.0.0.1:8000/api/predict

POST /api/predict takes either a multipart upload (field `file`, any image Pillow reads) or JSON
{"pixels": 28 rows of 28 numbers in [0, 1]} in the MNIST convention (0 = black paper, 1 = white
ink); each media type has its own typed handler (a FastAPI UploadFile, the pydantic model
`serve_schema.Pixels`), and /openapi.json documents both bodies on the one route. Both go
through `mnist-cnn predict`'s preprocessing (`images.candidates`, readings.py); an upload is read reduced
to at most 1024 px on its longer side (a JPEG decoded at 1/2 to 1/8 scale, others box-averaged
right after decoding): a digit needs far fewer pixels than a photo has. The answer:

    {"digit": 7, "confidence": 0.98, "probabilities": [10 floats], "model": "seed",
     "input": [28 rows of 28 floats: the image the model saw], "rejected": false, "message": null}

Probabilities are calibrated (the run's temperature, refusal.py). Ink that is not a digit is an answer too:
"digit": null, "rejected": true, "message": "not a digit" (confidence, probabilities and input as usual). An
image without ink is not an error: 200 with digit, confidence, probabilities and input null, "rejected": false
and "message": "no digit found". Every client mistake gets {"detail": "<one line>"} and:

    400  the body does not parse as its Content-Type says (bad JSON, broken multipart); a Host
         header that does not name this server (see below)
    403  a POST from another site's page (an Origin that is not this server's nor a --cors-origin)
    408  a body not complete 60 s after the request head (the connection closes)
    413  an upload over 5 MB or JSON over 1 MB (Content-Length checked first, bytes counted while reading;
         the rest of the body, up to 3x the limit, is read and dropped before the answer so that any
         client sees it; a client sending `Expect: 100-continue` gets it at once)
    415  Content-Type neither multipart/form-data nor application/json, or the file is not an image that
         decodes (not an image, empty, truncated, corrupt, over 4096x3072 = 12.6 megapixels as decoded:
         the message names the file; refused from its header, before decoding)
    422  the right media type with the wrong contents: no `file` field or two, pixels not 28x28 numbers in
         [0, 1], a JSON key other than `pixels`; the detail names the first bad field, e.g. "pixels[3][5]: expected
         a number in [0, 1], found 300"
    503  too many images being read at once (Retry-After: 2). An upload's header is read in a light lane
         (2 threads, 32 places), which goes on to decode images up to 1 MP (the page sends 0.08 MP); larger
         ones move to a heavy lane (1 thread, 4 places), so a client drawing on the page never waits behind
         photos; the heavy lane's thread runs at a lower CPU priority (nice 10, Linux). A full lane answers
         503 instead of queueing.

A refused upload (415, 503) is answered after 0.25 s, so a client looping one sends 4 a second, not hundreds;
`python tools/serve_attack.py` measures what such clients do to the others.

POST /api/feedback saves a correction (`input` and the right label), GET /api/feedback counts them
(serve_feedback.py); POST /api/read reads a number written on one line, by the same rules (serve_read.py).
Also GET /api/health and GET /api/model (the run folder or file name, recipe, parameters, test accuracy;
never where the model lives on disk); every GET also answers HEAD. The OpenAPI schema is at /openapi.json
and Swagger UI at /docs, both served from the installed packages: nothing comes from the internet.

Who may ask: the Host header must name the address served (--host; 127.0.0.1, localhost and [::1]
too when that is loopback or every interface; any --allow-host NAME; port optional), else 400.
A request other than GET/HEAD carrying an Origin header must come from this server's own origin,
else 403, unless --cors-origin ORIGIN names it: that origin gets CORS headers and preflights.

Time and connections (uvicorn with httptools and uvloop; h11 and asyncio if those are missing): a request
head (line + headers, at most 16 KB, else 400) must arrive within 10 s of the connection opening or of the
previous answer, else the connection closes; an idle keep-alive connection closes after 5 s; a body must be
complete within 60 s; at most 100 connections at once (more get uvicorn's 503). Each worker process
(--workers N, serve_workers.py) has all of these; the model answers concurrent requests in one forward
pass (serve_batch.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from . import http_guard, images, serve_feedback, serve_pages, serve_read
from .errors import UserError
from .readings import SECOND_GATE, SECOND_SURE, choose
from .refusal import NOT_A_DIGIT
from .serve_batch import Batcher, row_independent
from .serve_limits import BodyLimit, Lane, media_type
from .serve_schema import (ERRORS, UPLOAD_SCHEMA, NumpyJSON, Pixels, Prediction, add_error_handlers,
                           for_media_type, one_file)

HOST, PORT = "127.0.0.1", 8000  # loopback: the page and API are for this machine unless --host says otherwise
MAX_UPLOAD = 5 * 1024 * 1024  # 5 MB: a phone photo fits, an accidental video does not
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file
MAX_JSON = 1024 * 1024  # 28x28 numbers are ~20 KB of JSON; 1 MB leaves room for any formatting
# As decoded (after a JPEG's draft): 4096x3072, so a 12 MP phone photo as HEIC, PNG or WebP fits (an iPhone's
# 4032x3024 is 12.19 MP, a Pixel's 4080x3072 12.53), and an A4 scan at 300 dpi (8.7 MP). Decoding one at the limit
# costs at most ~0.35 s and ~55 MB (PNG, TIFF), ~90 MB (HEIC) or ~200 MB (WebP) here, one at a time in the heavy
# lane; 16 MP would take WebP to ~260 MB. The 40 MP of `mnist-cnn predict` would cost ~4 s and 1.2 GB.
MAX_PIXELS = 4096 * 3072
LIGHT_PIXELS = 1_000_000  # up to this (the page sends 280x280) an image takes the light lane; larger, the heavy one
LIGHT = dict(workers=2, places=32)  # drawings and JSON: a few ms each
HEAVY = dict(workers=1, places=4)  # photos and scans: ~0.05-0.5 s, up to ~200 MB each (MAX_PIXELS); one at a time
# Forward passes (serve_batch.py): up to 16 images within 1 ms, padded to 16 unless the model gives the same rows at
# every batch size (checked at start-up); 16 is twice what 8 clients keep in flight, 1 ms noise beside a request.
BATCH = dict(max_batch=16, wait=0.001)
# One thread per pass, concurrency across requests: a runtime's own pool spins after each small pass and takes the
# preprocessing's CPU (8 clients, 2 cores: ONNX Runtime's default pool cost 4.6 against 3.5 ms CPU a request).
MODEL_THREADS = 1
HEAVY_NICE = 10  # the heavy lane's thread runs at a lower CPU priority (Linux): drawings go first
RETRY_AFTER = 2  # seconds, in the 503 of a full lane
REFUSAL_DELAY = 0.25  # seconds before a refused upload's 415/503: a client looping one sends 4 a second, not 400
HEADER_TIMEOUT = 10.0  # seconds for a request line and headers
BODY_TIMEOUT = 60.0  # seconds for a body: 5 MB at under 1 Mbit/s
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_CONNECTIONS = 100  # uvicorn answers 503 past this many open connections
MAX_HEAD = 16 * 1024  # bytes of request line + headers (h11's default, set explicitly)
INPUT_DECIMALS = 3  # the image the model saw goes back rounded: 1/1000 is finer than 8-bit grey
NAME_CHARS = 80  # an upload's file name is echoed in error messages, cut to this length
TOO_LARGE = f"upload too large (limit {MAX_UPLOAD // 2**20} MB)"
JSON_TOO_LARGE = f"JSON body too large (limit {MAX_JSON // 2**20} MB; 28x28 pixels take ~20 KB)"
OTHER_TOO_LARGE = (f"body too large (limit {MAX_JSON // 2**20} MB); send an image as multipart/form-data in field "
                   f"`file` (up to {MAX_UPLOAD // 2**20} MB), or pixels as application/json")
def create_app(predictor, *, hosts=None, cors_origins=(), body_timeout: float = BODY_TIMEOUT,
               refusal_delay: float = REFUSAL_DELAY, feedback=None, worker: int | None = None) -> FastAPI:
    """The FastAPI app around a loaded `predict.Predictor` (anything with .probabilities, .info and .path).

    `hosts`: the Host names to answer (default: the loopback names); `cors_origins`: other sites' origins
    allowed to POST (default: none); `feedback`: a feedback.FeedbackStore for POST /api/feedback (default:
    none, corrections are refused); the timeouts and delays default to this module's constants; `worker`:
    this process's number under --workers, told by /api/health."""
    app = FastAPI(title="mnist-cnn", version=_version(), docs_url=None, redoc_url=None,  # /docs: see serve_pages
                  description="Predict the digit in an image with a trained MNIST model. "
                              "The draw-a-digit page is at /.")
    app.state.service = Service(predictor, refusal_delay)  # its lanes, for tests and tools
    serve_pages.add_pages(app, serve_pages.model_info(predictor), {} if worker is None else {"worker": worker})
    _add_predict(app, app.state.service)
    serve_feedback.add_routes(app, feedback, app.state.service.light)
    serve_read.add_read(app, app.state.service)
    add_error_handlers(app)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"])
    app.add_middleware(http_guard.BareSlash, paths={r.path for r in app.routes if getattr(r, "methods", None)})
    app.add_middleware(http_guard.HeadAsGet)
    app.add_middleware(http_guard.Guard, hosts=http_guard.host_names(HOST) if hosts is None else hosts,
                       cors_origins=cors_origins)
    app.add_middleware(BodyLimit, timeout=body_timeout, default=(MAX_JSON, OTHER_TOO_LARGE), limits={  # outermost
        "multipart/form-data": (MAX_UPLOAD + MULTIPART_SLACK, TOO_LARGE),
        "application/json": (MAX_JSON, JSON_TOO_LARGE)})
    return app


class Service:
    """Uploads and pixels -> the answer: an upload's header is read in the `light` lane, and the image decoded and
    preprocessed there when it has at most LIGHT_PIXELS, else in the `heavy` lane; the lane's thread hands the
    image to the model thread, which answers the images of concurrent requests in one forward pass
    (serve_batch.Batcher). The event loop hands a request off once and wakes once, for the model's row."""

    def __init__(self, predictor, refusal_delay: float = REFUSAL_DELAY):
        self.predictor, self.refusal_delay = predictor, refusal_delay
        pad = not row_independent(predictor.decide, BATCH["max_batch"])
        self.batcher = Batcher(predictor.decide, **BATCH, pad=pad)  # the one thread that calls the model
        info = predictor.info()
        self.name = info.get("recipe") or info.get("name") or "model"
        self.light = Lane("light", **LIGHT, retry_after=RETRY_AFTER)
        self.heavy = Lane("heavy", **HEAVY, retry_after=RETRY_AFTER, nice=HEAVY_NICE)
        self.batcher.call(np.zeros((28, 28), np.float32))  # trace the tf.function now, not on request 1

    async def upload(self, data: bytes, name: str, then=None):
        """The answer for an upload (`answer`), or then(decoded image, name) run in its lane (POST /api/read's)."""
        try:
            done = await self._in_lane(self.light, data, name, then)
            if done is _HEAVY:
                done = await self._in_lane(self.heavy, data, name, then)
        except StarletteHTTPException:  # 415 or 503 (the lanes' are Starlette's): answered a little later, so a
            # client looping one cannot flood the server
            await asyncio.sleep(self.refusal_delay)
            raise
        return done if then is not None else self.response(*done)

    async def pixels(self, source: np.ndarray):
        """The answer for a 28x28 array (POST /api/predict's JSON), prepared in the light lane."""
        return self.response(*await self._in_lane(self.light, source, "pixels", None))

    async def _in_lane(self, lane, source, name: str, then):
        """Run `_job` in `lane` and wait for what it settles: _HEAVY, then's result or (input shown, decision)."""
        done: Future = Future()
        lane.submit(self._job, done, lane is self.light, source, name, then).add_done_callback(
            lambda job: job.exception() is not None and done.set_exception(job.exception()))
        return await asyncio.wrap_future(done)

    def _job(self, done: Future, light: bool, source, name: str, then) -> None:
        """In a lane's thread: the upload's header (415 if unreadable or over MAX_PIXELS), then _HEAVY for an image
        over LIGHT_PIXELS in the light lane, else then(image, name) or the image the model sees (x), handed straight
        to the model thread: `done` gets (x as the answer shows it, its decision) from there, (None, None) when there is
        no ink."""
        if isinstance(source, bytes):
            with _decoding(name):
                pixels = images.image_pixels(source, name=name, max_pixels=MAX_PIXELS, max_side=images.MAX_SIDE)
            if light and pixels > LIGHT_PIXELS:
                return done.set_result(_HEAVY)
        if then is not None:
            return done.set_result(then(self.decode(source, name), name))
        grey, xs = self.prepare(source, name)
        if (x := xs[0]) is None:
            return done.set_result((None, None))
        if len(xs) > 1:  # a shade's readings too (~1 photo in 5 of evalset's): their rows, waited for, readings.choose
            decisions = [None if x is None else f.result() for x, f in
                         zip(xs, [None if x is None else self.batcher.submit(x) for x in xs])]
            k = choose(xs, decisions)
            shown = np.round(xs[k].astype(np.float64), INPUT_DECIMALS)
            if decisions[k].rejected:  # the second look `predict` gives it too (readings.decide_candidates)
                return self._again(done, grey, shown, decisions[k])
            return done.set_result((shown, decisions[k]))
        # The answer's copy of the input, made here: NumPy lets go of the GIL to convert 784 numbers, and on the event
        # loop that costs a wait for the lane threads to hand it back.
        shown, lane = np.round(x.astype(np.float64), INPUT_DECIMALS), self.light if light else self.heavy
        self.batcher.submit(x).add_done_callback(lambda row: self._answered(row, done, lane, grey, shown))

    def _answered(self, row: Future, done: Future, lane, grey, shown) -> None:
        """In the model thread, when the row is there: `done` gets it, or, refused, a second look in `lane` (as
        `predict`: readings.decide_candidates); with every place there taken, the refusal stands."""
        if (e := row.exception()) is not None:
            return done.set_exception(e)
        if row.result().rejected:
            try:
                return lane.submit(self._again, done, grey, shown, row.result())
            except Exception:  # a full lane's 503 (or a pool shutting down): the refusal stands
                pass
        done.set_result((shown, row.result()))

    def _again(self, done: Future, grey, shown, refused) -> None:
        """In a lane thread: the readings of images.more_readings, their rows waited for, and readings.choose; the
        refusal stands if any of that fails (an answer, not a 500)."""
        try:
            xs = [None, *images.more_readings(grey)]
            rows = [refused, *[None if f is None else f.result() for f in
                               [None if x is None else self.batcher.submit(x) for x in xs[1:]]]]
            k = choose([shown, *xs[1:]], rows, SECOND_SURE, SECOND_GATE)
        except Exception:
            k, xs, rows = 0, [None], [refused]
        done.set_result((shown if k == 0 else np.round(xs[k].astype(np.float64), INPUT_DECIMALS), rows[k]))

    def decode(self, data: bytes, name: str):
        """An upload's image, read reduced to images.MAX_SIDE; 415 if it does not decode."""
        with _decoding(name):
            return images.load_image(data, name=name, max_pixels=MAX_PIXELS, max_side=images.MAX_SIDE)

    def prepare(self, source, name: str = "pixels") -> tuple:
        """Bytes (an upload named `name`) or a 28x28 array -> (the picture, the images the model may see:
        images.candidates; None: no ink)."""
        if isinstance(source, bytes):
            with _decoding(name):  # as an array: no Pillow image in between
                source = images.load_grey(source, name=name, max_pixels=MAX_PIXELS, max_side=images.MAX_SIDE)
        return source, images.candidates(source)

    def decide(self, x: np.ndarray) -> list:
        """predictor.decide for (N, 28, 28) images from a worker thread, through the model thread's batches."""
        return [f.result() for f in [self.batcher.submit(one) for one in x]]

    def response(self, shown: np.ndarray | None, d) -> JSONResponse:
        """The response for the image the model saw (as float64 rounded to INPUT_DECIMALS) and its decision (None, None:
        no ink)."""
        if shown is None:
            return JSONResponse({"digit": None, "confidence": None, "probabilities": None, "model": self.name,
                                 "input": None, "rejected": False, "message": images.NO_DIGIT})
        # A response, not a dict: FastAPI's jsonable_encoder would walk the 812 numbers one by one (~1 ms). float64
        # arrays: the probabilities' numbers as float(value) gives them; the input's rounded to 1/1000 exactly.
        return NumpyJSON({"digit": d.digit, "confidence": d.confidence,
                          "probabilities": d.probabilities.astype(np.float64), "model": self.name,
                          "input": shown, "rejected": d.rejected,
                          "message": NOT_A_DIGIT if d.rejected else None})


_HEAVY = object()  # a light lane's job found the image over LIGHT_PIXELS: the heavy lane reads it


@contextmanager
def _decoding(name: str):
    try:
        yield
    except UserError as e:
        raise HTTPException(415, str(e)) from None
    except Exception as e:  # a decoder tripping over hostile bytes is still the client's bad file
        raise HTTPException(415, f"{name}: cannot decode image ({type(e).__name__})") from None


def _add_predict(app: FastAPI, service: Service) -> None:
    """POST /api/predict: a typed handler per media type, and the documented route answering 415 for the rest."""

    async def predict_upload(request: Request, file: Annotated[UploadFile, File()]) -> JSONResponse:
        await one_file(request)
        if file.size is not None and file.size > MAX_UPLOAD:
            raise HTTPException(413, TOO_LARGE)
        return await service.upload(await file.read(), (file.filename or "upload")[:NAME_CHARS])

    async def predict_pixels(body: Pixels) -> JSONResponse:
        return await service.pixels(np.asarray(body.pixels, np.float32))

    for kind, handler in (("multipart/form-data", predict_upload), ("application/json", predict_pixels)):
        app.router.add_api_route("/api/predict", handler, methods=["POST"], include_in_schema=False,
                                 route_class_override=for_media_type(kind))

    @app.post("/api/predict", response_model=Prediction,
              responses={k: {"description": v} for k, v in ERRORS.items()},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "multipart/form-data": {"schema": UPLOAD_SCHEMA},
                  "application/json": {"schema": Pixels.model_json_schema()}}}})
    async def predict(request: Request):
        """The digit in an uploaded image (multipart field `file`) or in JSON `{"pixels": 28x28 in [0, 1]}`."""
        raise HTTPException(415, f"expected Content-Type multipart/form-data (an image in field `file`) or "
                                 f"application/json ({{\"pixels\": ...}}), found {media_type(request.scope) or 'none'}")


def _version() -> str:
    from . import __version__

    return __version__


def run(model=None, **options) -> int:
    """Load the model once (per worker) and serve the page and API until Ctrl+C (the `mnist-cnn serve` command);
    the options are serve_run.run's."""
    from .serve_run import run as serve_until_stopped

    return serve_until_stopped(model, **options)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else None))
    except UserError as e:
        sys.exit(f"mnist-cnn: {e}")
