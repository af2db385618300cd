"""create_app(settings): the JSON API under /api, the public pages, and the archived media."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from api.schemas import ErrorBody, ErrorOut
from api.templating import render
from archive.analysis import load_models
from archive.catalog import Catalog
from archive.config import Settings, get_settings
from archive.errors import StadtstimmeError
from archive.search.engines import open_engine

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    416: "range_not_satisfiable",
}
SHOWN_CHARS = 100  # of a value quoted back in an error message


def _wants_json(request: Request) -> bool:
    """The API and the media answer errors in JSON; a page answers a browser in HTML."""
    if request.url.path.startswith(("/api", "/media")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The one error shape, `{"error": {"code", "message"}}`, or the error page for browsers."""
    if _wants_json(request):
        body = ErrorOut(error=ErrorBody(code=code, message=message))
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)
    return render(
        request,
        "error.html",
        {"status": status, "message": message},
        status_code=status,
        headers=headers,
    )


def _http_message(request: Request, error: HTTPException) -> str:
    """The exception's detail, or for the router's bare 404 and 405 one naming the request."""
    if error.detail != HTTPStatus(error.status_code).phrase:
        return str(error.detail)
    if error.status_code == 404:
        return f"nothing at {request.url.path}"
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    return str(error.detail)


def _problem(error: Mapping[str, Any]) -> str:
    """One validation problem: the parameter, the value given (if one was) and what is wrong."""
    name = ".".join(str(part) for part in error["loc"][1:]) or "request"
    value = error.get("input")
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        value = value[:SHOWN_CHARS] + "…"
    given = f" {value!r}" if isinstance(value, str | int | float) else ""
    return f"{name}{given}: {error['msg']}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # The server only reads: it opens the catalog read-only and creates nothing, so that a
    # read-only archive is servable. NoCatalog, CatalogNeedsMigration here stop the start.
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        open_engine(settings, catalog)
    threading.Thread(target=load_models, name="load-splitters", daemon=True).start()

    app = FastAPI(
        title="Stadtstimme",
        summary="Searchable archive of the video statements of cities and their mayors.",
        version="0.1.0",
    )
    app.state.settings = settings

    @app.exception_handler(StadtstimmeError)
    async def archive_error(request: Request, error: StadtstimmeError) -> Response:
        return error_response(request, error.status, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(_problem(e) for e in error.errors())
        return error_response(request, 422, "invalid_input", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        status = error.status_code
        code = HTTP_CODES.get(status, "http_error")
        message = _http_message(request, error)
        return error_response(request, status, code, message, error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "internal", "internal error; it has been logged")

    from api.routes import media, pages, search, statement_page, statements

    app.include_router(search.router, prefix="/api")
    app.include_router(statements.router, prefix="/api")
    app.include_router(media.router)
    app.include_router(pages.router, default_response_class=HTMLResponse)
    app.include_router(statement_page.router, default_response_class=HTMLResponse)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
