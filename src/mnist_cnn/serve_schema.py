"""The API's contract: the request and answer bodies, its documented errors, and one-line error details.

    Pixels, Prediction, UPLOAD_SCHEMA, ERRORS    the bodies and errors of POST /api/predict (OpenAPI)
    NumpyJSON                                    a JSON answer that may hold NumPy arrays (orjson)
    Feedback, FeedbackSaved, FeedbackCounts      the bodies of POST and GET /api/feedback
    for_media_type(kind)                         a route class matching one request media type only
    add_error_handlers(app)                      every error as {"detail": "<one line>"}
    one_file(request)                            a multipart body's `file` is one part

pydantic validates the JSON body against `Pixels`; its error list becomes one line naming the first bad
field, e.g. "pixels[3][5]: expected a number in [0, 1], found 300". serve.py documents the whole API.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import orjson

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from .refusal import NOT_A_DIGIT
from .serve_limits import media_type

EXPECTED = ('{"pixels": 28 rows of 28 numbers in [0, 1]} (0 = black paper, 1 = white ink)',  # by depth in the body
            "28 rows of 28 numbers in [0, 1]", "a list of 28 numbers", "a number in [0, 1]")
READ_EXPECTED = ('{"pixels": rows of equal length of numbers in [0, 1]} (0 = black paper, 1 = white ink)',
                 "rows of equal length of numbers in [0, 1]", "a list of numbers", "a number in [0, 1]")  # /api/read
NO_FILE = "multipart body has no field `file` (send the image as file=@digit.png)"
FILE_IS_TEXT = ("field `file` is text; send the image as a file part (a filename in its Content-Disposition), "
                "e.g. curl -F file=@digit.png")
LABEL_EXPECTED = f'a digit 0-9 or "{NOT_A_DIGIT}"'
FEEDBACK_EXPECTED = f'{{"input": 28 rows of 28 numbers in [0, 1], "label": 0-9 or "{NOT_A_DIGIT}"}}'
ERRORS = {  # status: when, for the OpenAPI schema
    400: "the body does not parse as its Content-Type says, or the Host header does not name this server",
    403: "a POST from another site's page",
    408: "the body did not arrive in time",
    413: "an upload over 5 MB or JSON over 1 MB",
    415: "not multipart/form-data or application/json, or the file is not a readable image (up to 4096x3072 = 12.6 MP)",
    422: "no `file` field or two, pixels that are not 28x28 numbers in [0, 1], or a JSON key that is not `pixels`",
    503: "too many images being read at once; see Retry-After",
}

class NumpyJSON(JSONResponse):
    """A JSON response whose content may hold NumPy arrays, encoded by orjson: an answer's 812 numbers take ~0.02
    ms, where json.dumps of their lists took ~0.2-0.4 (a tenth of a request's CPU; tools/serve_stages.py)."""

    def render(self, content) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


Unit = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]  # strict: no "0.5" strings, no booleans
Row = Annotated[list[Unit], Field(min_length=28, max_length=28)]


STRICT = ConfigDict(extra="forbid")  # a request body's unknown key is a 422, not ignored: a client's "top_k" or typo


class Pixels(BaseModel):
    """The JSON body of POST /api/predict."""

    model_config = STRICT

    pixels: Annotated[list[Row], Field(min_length=28, max_length=28, description=(
        "28 rows of 28 numbers in [0, 1], MNIST convention: 0 = black paper, 1 = white ink"))]


def _label(value):
    """0-9 or "not a digit" exactly: no booleans (True == 1), no 7.0, no "7"."""
    if isinstance(value, bool) or not (isinstance(value, int) and 0 <= value <= 9 or value == NOT_A_DIGIT):
        raise ValueError(LABEL_EXPECTED)
    return value


Label = Annotated[Literal[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "not a digit"], BeforeValidator(_label)]


class Feedback(BaseModel):
    """The JSON body of POST /api/feedback: the image the model saw and the right answer."""

    model_config = STRICT

    input: Annotated[list[Row], Field(min_length=28, max_length=28, description=(
        "the 28x28 image the model saw, as POST /api/predict gave it in `input` (0 = black, 1 = white ink)"))]
    label: Label = Field(description=f'the right answer: a digit 0-9, or "{NOT_A_DIGIT}"')


class FeedbackCounts(BaseModel):
    """The answer of GET /api/feedback (and part of POST's): what the feedback folder holds."""

    enabled: bool
    total: int
    bytes: int
    labels: dict[str, int]
    max_items: int
    max_bytes: int


class FeedbackSaved(FeedbackCounts):
    """The answer of POST /api/feedback: the file written (its name in the folder) and the new counts."""

    saved: str


class Prediction(BaseModel):
    """The answer of POST /api/predict."""

    digit: int | None = Field(description="the digit; null for a refusal or an empty page")
    confidence: float | None = Field(description="calibrated probability of the most likely digit (also when "
                                                 "refused); null for an empty page")
    probabilities: list[float] | None = Field(description="the 10 calibrated probabilities, digits 0-9")
    model: str
    input: list[list[float]] | None = Field(description="the 28x28 image the model saw")
    rejected: bool = Field(description="true when the ink is not a digit (message: \"not a digit\")")
    message: str | None = Field(description="\"not a digit\", \"no digit found\" (an empty page), else null")


UPLOAD_SCHEMA = {"type": "object", "required": ["file"], "properties": {"file": {
    "type": "string", "format": "binary", "description": "an image of one digit (PNG, JPEG, ...), at most 5 MB"}}}


class MediaTypeRoute(APIRoute):
    """An APIRoute that matches only requests whose Content-Type is `media_type`: one path gets a typed
    handler per body type, and a request of another type falls through to the next route for the path."""

    media_type = ""

    def matches(self, scope):
        match, child_scope = super().matches(scope)
        if match is Match.FULL and media_type(scope) != self.media_type:
            return Match.NONE, {}
        return match, child_scope


def for_media_type(kind: str) -> type[MediaTypeRoute]:
    return type("MediaTypeRoute", (MediaTypeRoute,), {"media_type": kind})


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_body)
    app.add_exception_handler(HTTPException, http_error)


async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
    """pydantic's error list -> one line naming the first bad field; a body that is not JSON -> 400."""
    error = exc.errors()[0]
    if error["type"] == "json_invalid":
        why = str(error["ctx"]["error"]).removesuffix(" at")  # json's "Invalid control character at: ..."
        return JSONResponse({"detail": f"body is not valid JSON ({why} at character "
                                       f"{error['loc'][-1]})"}, 400)
    if error["loc"] == ("body",) and error["type"] == "missing":
        return JSONResponse({"detail": "body is not valid JSON (empty)"}, 400)
    expected = READ_EXPECTED if request.url.path == "/api/read" else EXPECTED
    body = FEEDBACK_EXPECTED if request.url.path == "/api/feedback" else expected[0]
    return JSONResponse({"detail": one_line(error, body, expected)}, 422)


def one_line(error: dict, body: str = EXPECTED[0], expected: tuple = EXPECTED) -> str:
    """`body`: what the whole body should be; `expected`: what each depth of pixels should be."""
    where = list(error["loc"][1:])  # after "body"
    if where[:1] == ["file"]:
        return NO_FILE if error["type"] == "missing" else FILE_IS_TEXT
    value = error.get("input")
    if error["type"] == "missing":
        return f"expected {body}, found an object without `{where[-1]}`"
    if error["type"] == "extra_forbidden":
        return f"expected {body}, found an object with an unknown key `{where[-1]:.80}`"
    if where[:1] == ["label"]:
        return f"label: expected {LABEL_EXPECTED}, found {_as_json(value):.40}"
    name = "".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where) or "body"
    hint = " (scale 0..255 values by 1/255)" if _number(value) and 1 < value <= 255 else ""
    what = body if not where else expected[min(len(where), 3)]
    return f"{name}: expected {what}, found {_kind(value)}{hint}"


def _as_json(value) -> str:
    """A value as the client wrote it (true, null, "7"), not as Python prints it (True, None, '7')."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


async def one_file(request: Request) -> None:
    """Two or more parts named `file` are a 422, not the answer for whichever one FastAPI took (the last)."""
    if (n := len((await request.form()).getlist("file"))) > 1:  # the form FastAPI parsed, cached by Starlette
        raise HTTPException(422, f"field `file`: expected one image, found {n} (send one image a request)")


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """{"detail": one line}; inside the app only body parsing raises 400, so a 400 says what did not parse."""
    detail = str(exc.detail)
    if exc.status_code == 400:
        cause = exc.__cause__ or exc.__context__
        why = (str(cause).split(";")[0][:120] or type(cause).__name__) if cause else detail
        detail = (f"body is not valid JSON ({why})" if media_type(request.scope) == "application/json"
                  else f"broken multipart body ({why.rstrip('.')})")
    return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(v) -> str:
    if _number(v):
        return f"{v!r:.40}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    kinds = {type(None): "null", bool: "a boolean", str: "a string", dict: "an object"}
    return kinds.get(type(v), type(v).__name__)
