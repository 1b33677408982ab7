"""The server's pages: the draw-a-digit page and its files, the offline API docs, /api/health and /api/model.

    add_pages(app, model_info(predictor), {"worker": 1})    # what serve.create_app does

Split off serve.py (which holds the prediction API and every limit) to keep both small.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from .refusal import run_folder_of

STATIC = Path(__file__).with_name("static")
PAGE_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'")  # nothing from elsewhere


def model_info(predictor) -> dict:
    """predictor.info() with the model's name (its run folder's, else its file's) in place of its path."""
    info = {k: v for k, v in predictor.info().items() if k != "path"}
    path = Path(predictor.path)
    run = run_folder_of(path)  # an export's run is two folders up
    info["run"] = run.name if (run / "config.json").is_file() else path.name
    return info


def add_pages(app: FastAPI, info: dict, status: dict) -> None:
    """/, /static, /docs and its assets, /api/health, /api/model: all async, so no upload load delays them."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/static/index.html", include_in_schema=False)  # before the mount: the page with its policy either way
    async def index_file():
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/", include_in_schema=False)
    async def index():
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="mnist-cnn API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None})  # no badge from the online validator

    @app.get("/api/health")
    async def health() -> dict:
        return {"status": "ok", **status}

    @app.get("/api/model")
    async def model() -> dict:
        return info
