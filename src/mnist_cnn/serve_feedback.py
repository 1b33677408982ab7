"""POST and GET /api/feedback: the page's "Wrong? Tell it" saved into the feedback folder (feedback.py).

    curl -H 'Content-Type: application/json' -d '{"input": [[...28 numbers], ...28 rows], "label": 7}' \\
         http://127.0.0.1:8000/api/feedback    # {"saved": "7/20261201-...png", "total": 1, ...}
    curl http://127.0.0.1:8000/api/feedback          # {"enabled": true, "total": 1, "labels": {"7": 1, ...}, ...}

`input` is the 28x28 image as POST /api/predict answered it in its `input` (the image the model
saw); `label` is 0-9 or "not a digit". Errors, each {"detail": "<one line>"}: 404 when the server
runs with --no-feedback, 409 when the folder is at its cap (count or bytes), 415 for a body that is
not JSON, 422 for a bad field (named), 507 when the disk is full, 503 when the folder cannot be
written; the Host and Origin rules and the 1 MB body limit are those of every POST (serve.py).
"""

from __future__ import annotations

import asyncio
import sys

from fastapi import FastAPI, HTTPException, Request

from .errors import UserError
from .feedback import FeedbackFull, FeedbackStore
from .files import NO_ROOM
from .serve_limits import media_type
from .serve_schema import Feedback, FeedbackCounts, FeedbackSaved, for_media_type

OFF = "feedback is off on this server (it was started with --no-feedback)"
ERRORS = {  # status: when, for the OpenAPI schema
    400: "the body is not valid JSON, or the Host header does not name this server",
    403: "a POST from another site's page",
    404: "the server runs with --no-feedback",
    409: "the feedback folder is full (its count or size cap); nothing was saved",
    413: "a body over 1 MB",
    415: "not application/json",
    422: "`input` not 28x28 numbers in [0, 1] (or all 0), `label` not 0-9 or \"not a digit\", or another key",
    503: "the feedback folder cannot be written (or the saving lane is full; see Retry-After)",
    507: "the server's disk is full",
}


def add_routes(app: FastAPI, store: FeedbackStore | None, lane) -> None:
    """The routes, saving through `lane` (a serve_limits.Lane: bounded, 503 when full); store None = off."""

    @app.get("/api/feedback", response_model=FeedbackCounts)
    async def counts() -> dict:
        """What the feedback folder holds: the total, bytes and the count per label; `enabled` false when off."""
        if store is None:
            return {"enabled": False, "total": 0, "bytes": 0, "labels": {}, "max_items": 0, "max_bytes": 0}
        return {"enabled": True, **await asyncio.to_thread(store.counts)}

    async def save(body: Feedback) -> dict:
        if max(map(max, body.input)) * 255 < 0.5:  # all 0 as the 8-bit PNG saved: nothing to learn from, any label
            raise HTTPException(422, "input: expected the 28x28 image the model saw, found a blank one (all 0)")
        path = await lane.run(_save, store, body)
        return {"enabled": True, "saved": f"{path.parent.name}/{path.name}", **await asyncio.to_thread(store.counts)}

    async def off(request: Request):  # the body unread: any POST gets the 404, a malformed one too
        raise HTTPException(404, OFF)

    app.router.add_api_route("/api/feedback", off if store is None else save, methods=["POST"],
                             include_in_schema=False, route_class_override=for_media_type("application/json"))

    @app.post("/api/feedback", response_model=FeedbackSaved,
              responses={k: {"description": v} for k, v in ERRORS.items()},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": Feedback.model_json_schema()}}}})
    async def feedback(request: Request):
        """Save a correction: the 28x28 image the model saw (`input` of /api/predict) and its right `label`."""
        raise HTTPException(415, f"expected Content-Type application/json ({{\"input\": ..., \"label\": ...}}), "
                                 f"found {media_type(request.scope) or 'none'}")


def _save(store: FeedbackStore, body: Feedback):
    try:
        return store.save(body.input, body.label)
    except FeedbackFull as e:
        raise HTTPException(409, str(e)) from None
    except UserError as e:
        cause = e.__context__
        no_room = isinstance(cause, OSError) and cause.errno in NO_ROOM
        status = 507 if no_room else 503  # the server's disk or folder: not the client's mistake
        print(f"feedback: {e}", file=sys.stderr, flush=True)  # the whole line, its path too, for the server's owner
        raise HTTPException(status, f"the feedback folder cannot be written ({_why(cause)}); "
                                    "the server's log says more") from None


def _why(cause) -> str:
    """An OSError's reason without the path in it (a server's folders are not the client's business)."""
    return (cause.strerror or type(cause).__name__) if isinstance(cause, OSError) else "an error"
