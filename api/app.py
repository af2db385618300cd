"""create_app(settings): the JSON API under /api, the public pages, and the archived media."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from api.templating import templates
from archive.catalog import Catalog
from archive.config import Settings, get_settings
from archive.errors import StadtstimmeError
from archive.search.engines import open_engine

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.prepare()
    with Catalog(settings.catalog_path) as catalog:
        open_engine(settings, catalog)

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
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in error.errors()
        )
        return error_response(request, 422, "invalid_input", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(request, error.status_code, code, str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "internal", "internal error; it has been logged")

    from api.routes import media, pages, search, statements

    app.include_router(search.router, prefix="/api")
    app.include_router(statements.router, prefix="/api")
    app.include_router(media.router)
    app.include_router(pages.router, default_response_class=HTMLResponse)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
