"""The FastAPI application: JSON API under /api/v1, the web search page at /, one error shape."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Guard, needed
from api.edge import Edge
from api.state import State
from kb.embedding import Embedder, load_embedder
from kb.errors import KBError
from kb.querycache import RememberedQueries
from kb.settings import Settings

STATIC = Path(__file__).parent / "static"
MAX_URL = 8192
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")  # fmt: skip
DOCS_CSP = "default-src 'self' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net"


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    if status == 303 and headers:  # a page of a private deployment, without login: to the login form
        return RedirectResponse(headers["location"], status_code=303)
    body = {"error": {"status": status, "code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(KBError)
    async def kb_error(_req: Request, exc: KBError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def invalid(_req: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(x) for x in first.get("loc", []) if x not in ("query", "body", "path", "form", "header")
               and not isinstance(x, int)]  # fmt: skip
        field = ".".join(loc) or None
        msg = f"{field}: {first.get('msg', 'invalid value')}" if field else str(first.get("msg", "invalid request"))
        return error_response(422, "validation_error", msg, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 414: "uri_too_long"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def crash(_req: Request, exc: Exception) -> Response:
        logging.getLogger("kb.api").exception("unhandled error")
        return error_response(500, "internal_error", "internal error; the request was not completed")


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost first: CORS (when configured), then Edge (limits, headers, log), then the Guard (added before)."""
    app.add_middleware(Edge, error=error_response, max_url=MAX_URL, max_upload_bytes=settings.limits.max_upload_bytes,
                       csp=CSP, docs_csp=DOCS_CSP)  # fmt: skip
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])  # fmt: skip


def openapi(app: FastAPI, private: bool) -> dict[str, Any]:
    """The schema, saying which routes need a key and which scope (``x-scope``)."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (kb keys add NAME --scope …)"}
        }
        for path, ops in schema["paths"].items():
            for method, op in ops.items():
                scope = needed(method.upper(), re.sub(r"\{[^}]+\}", "x", path), private)
                if scope:
                    op["security"], op["x-scope"] = [{"bearer": []}], scope
        app.openapi_schema = schema
    return app.openapi_schema


def worker_app() -> FastAPI:
    """The app of one `kb serve --workers N` process: the settings the parent resolved, passed as JSON."""
    import os

    return create_app(Settings.from_json(os.environ[SETTINGS_ENV]))


SETTINGS_ENV = "KB_SERVE_SETTINGS"


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The app over the index in ``settings.index_dir``; raises NoIndexError if there is none."""
    from api import routes, web

    # concurrent requests each run the model on one thread: a run on two threads costs 23 ms of CPU
    # against 18 on one (bench/profile_search.py), and the server's cores are shared by the requests anyway
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    model = embedder or load_embedder(replace(settings, threads=settings.serve_threads))
    state = State.open(settings, RememberedQueries(model))  # the page's follow-up asks for the same query again
    logging.getLogger("kb.api").info("warm-up search in %.2f s", state.warm_up())
    app = FastAPI(
        title="kb — bilingual search over French biotherapy strategy documents",
        version="1.0.0",
        description="Passages with exact citations (document, page, character span) from French and English "
        'policy texts. Every error has the shape {"error": {status, code, message, field}}.',
    )
    app.state.kb = state
    _install_errors(app)
    app.add_middleware(Guard, keys=state.keys, sessions=state.sessions, private=settings.private,
                       max_searches=settings.max_searches, running=settings.search_threads,
                       error=error_response)  # fmt: skip
    _install_middleware(app, settings)
    app.openapi = lambda: openapi(app, settings.private)  # type: ignore[method-assign]
    app.include_router(routes.router)
    app.include_router(routes.files)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
