"""POST /api/read: the number written in an image, for `mnist-cnn serve` (its page and programs).

    curl -F file=@meter.jpg http://127.0.0.1:8000/api/read
    curl -H 'Content-Type: application/json' -d '{"pixels": [[0, 0.5, ...any width], ...any height]}' \\
         http://127.0.0.1:8000/api/read

The answer is `mnist-cnn read --json`'s object for one image, each digit also carrying `input` (the 28x28
the model saw), plus `size`, the [width, height] the boxes refer to (an upload or pixels, read reduced to 1024 px;
an upload in which no ink was found so, read again at 2048 px, as `mnist-cnn read` reads a file: read_io.closer):

    {"path": "meter.jpg", "text": "2024", "confidence": 0.97, "rejected": false, "message": null,
     "digits": [{"digit": 2, "confidence": 0.99, "box": [x0, y0, x1, y1], "input": [[...28], ...]}, ...],
     "error": null, "size": [width, height]}

Uploads take the same way as POST /api/predict (size limits, header check, lanes, 4xx rules: serve.py);
JSON pixels are rows of equal length of numbers in [0, 1] (0 = black paper, 1 = white ink), any size
within the 1 MB JSON limit, reduced as an upload is (box-averaged to 1024 px on the longer side: a 1x300000 strip
read whole cost ~30 s and 2.8 GB). read.py does the reading.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from . import read, read_io
from .imagefile import MAX_SIDE, shrink
from .serve_limits import media_type
from .serve_schema import ERRORS, STRICT, Unit, for_media_type, one_file

INPUT_DECIMALS = 3  # as /api/predict's "input"
READ_ERRORS = {**ERRORS, 422: "no `file` field or two, pixels that are not equal rows of numbers in [0, 1], or a "
                              "JSON key that is not `pixels`"}
UPLOAD_SCHEMA = {"type": "object", "required": ["file"], "properties": {"file": {
    "type": "string", "format": "binary", "description": "an image of a number on one line, at most 5 MB"}}}


class AnyPixels(BaseModel):
    """The JSON body of POST /api/read."""

    model_config = STRICT

    pixels: Annotated[list[Annotated[list[Unit], Field(min_length=1)]], Field(min_length=1, description=(
        "rows of equal length of numbers in [0, 1], any size within 1 MB of JSON (read reduced to 1024 px on the "
        "longer side, as an upload); 0 = black paper, 1 = white ink"))]


class ReadDigit(BaseModel):
    digit: int | None
    confidence: float
    box: list[int]
    input: list[list[float]]


class ReadAnswer(BaseModel):
    """The answer of POST /api/read."""

    path: str
    text: str
    confidence: float | None
    rejected: bool
    message: str | None  # why it was rejected (as `mnist-cnn read` says it); null when not
    digits: list[ReadDigit]
    error: str | None
    size: list[int]  # [width, height] of the image the boxes are in (as read: reduced to 1024 px, or 2048 closer up)


class Models:
    """What read.read_image asks of a predictor, from the lanes' threads: the digit model and its gate through the
    model thread's batches (Service.decide; the gate's P(not a digit) is in each decision), the line reader and the
    piece gate directly (Keras and ONNX Runtime answer several threads at once; runtime.LiteRTModel locks itself)."""

    def __init__(self, service):
        self.service = service
        self.line_reader = service.predictor.line_reader  # opened now, not on a request
        if self.line_reader is not None:  # the piece gate too: a missing export is named at start-up, not in a 500
            service.predictor.piece_not_digit(np.zeros((1, 28, 28), np.float32))

    def decide(self, x: np.ndarray) -> list:
        return self.service.decide(x)

    def not_digit(self, x: np.ndarray) -> np.ndarray | None:  # via the model thread too: the gate is its object
        found = [d.not_digit for d in self.service.decide(x)]
        return None if None in found else np.asarray(found, np.float32)

    def piece_not_digit(self, x: np.ndarray) -> np.ndarray | None:
        return self.service.predictor.piece_not_digit(x)


def answer(models: Models, source, name: str, upload: bytes | None = None) -> dict:
    """A decoded image or a 2-D array -> the response body; an upload reduced to MAX_SIDE in which no ink was found
    is read again closer from its bytes, as `mnist-cnn read` reads a file (read_io.closer)."""
    r = read.read_image(models, source, name)
    if upload is not None:
        from .serve import MAX_PIXELS

        source, r = read_io.closer(models, upload, source, r, name=name, max_pixels=MAX_PIXELS)
    body = r.to_dict()
    for d, out in zip(r.digits, body["digits"]):
        out["input"] = np.round(d.input, INPUT_DECIMALS).tolist()
    body["size"] = list(source.size) if hasattr(source, "getbbox") else [source.shape[1], source.shape[0]]
    return body


def add_read(app: FastAPI, service) -> None:
    """POST /api/read: a typed handler per media type, and the documented route answering 415 for the rest."""
    from .serve import LIGHT_PIXELS, MAX_UPLOAD, NAME_CHARS, TOO_LARGE

    models = Models(service)

    async def read_upload(request: Request, file: Annotated[UploadFile, File()]) -> dict:
        await one_file(request)
        if file.size is not None and file.size > MAX_UPLOAD:
            raise HTTPException(413, TOO_LARGE)
        name = (file.filename or "upload")[:NAME_CHARS]
        data = await file.read()
        return await service.upload(data, name, lambda image, n: answer(models, image, n, data))

    async def read_pixels(body: AnyPixels) -> dict:
        width = len(body.pixels[0])
        for i, row in enumerate(body.pixels):
            if len(row) != width:
                raise HTTPException(422, f"pixels[{i}]: expected a list of {width} numbers (as row 0), "
                                         f"found a list of {len(row)}")
        pixels = shrink(np.asarray(body.pixels, np.float32), MAX_SIDE)  # as uploads are read
        lane = service.light if pixels.size <= LIGHT_PIXELS else service.heavy
        return await lane.run(answer, models, pixels, "pixels")

    for kind, handler in (("multipart/form-data", read_upload), ("application/json", read_pixels)):
        app.router.add_api_route("/api/read", handler, methods=["POST"], include_in_schema=False,
                                 route_class_override=for_media_type(kind))

    @app.post("/api/read", response_model=ReadAnswer,
              responses={k: {"description": v} for k, v in READ_ERRORS.items()},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "multipart/form-data": {"schema": UPLOAD_SCHEMA},
                  "application/json": {"schema": AnyPixels.model_json_schema()}}}})
    async def read_number(request: Request):
        """The number written on one line in an uploaded image (multipart field `file`) or in JSON
        `{"pixels": rows of numbers in [0, 1]}`: the digits left to right, each with its box and confidence."""
        raise HTTPException(415, f"expected Content-Type multipart/form-data (an image in field `file`) or "
                                 f"application/json ({{\"pixels\": ...}}), found {media_type(request.scope) or 'none'}")
