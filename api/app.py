"""create_app(settings): the JSON API under /api, the public pages, the archived media and the
OpenAPI docs, behind security headers and compression."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.admin import install as install_admin
from api.deps import InvalidParameter, Served
from api.schemas import ErrorBody, ErrorOut
from api.site import load_site
from api.templating import render
from archive.analysis import load_models
from archive.config import Settings, get_settings
from archive.errors import StadtstimmeError
from archive.longlived import settle

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    416: "range_not_satisfiable",
}
SHOWN_CHARS = 100  # of a value quoted back in an error message

# -- security headers ----------------------------------------------------------------------------

# The pages: no inline script or style; media and captions from the app; the only third party a
# page may load is the YouTube embed, after the user's click (two-click consent); no plugins, no
# <base>, forms only to the app, framed only by the app itself.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; frame-src https://www.youtube-nocookie.com; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# /docs: Swagger UI from the app (fastapi-offline's files), its start script a file too; it
# styles its own elements from script, which CSP does not govern, and draws icons as data: URLs.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
# strict-origin-when-cross-origin: another site (a source's page, the YouTube embed, which
# refuses to play without a referrer) learns at most our origin, never the path or the query,
# i.e. never what someone searched for; nothing at all over plain http.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
DOCS = "/docs"


def security_headers(path: str) -> dict[str, str]:
    csp = DOCS_CSP if path == DOCS or path.startswith(DOCS + "/") else PAGE_CSP
    return {"content-security-policy": csp, **SECURITY_HEADERS}


class SecurityHeaders:
    """Sets the security headers on every response the app sends (a pure ASGI middleware: it
    does not buffer the body, so media streams as before)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope["path"])

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_secured)


class CompressedExceptMedia:
    """gzip for pages, JSON, CSS and JS from MIN_GZIP bytes on; never for /media, whose Range
    requests must answer the file's exact bytes (a compressed 206 would not be them)."""

    MIN_GZIP = 1024

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=self.MIN_GZIP, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/media/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# -- errors --------------------------------------------------------------------------------------


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
    inputs: Sequence[tuple[str, str | None]] = (),
) -> Response:
    """The one error shape, `{"error": {"code", "message"}}` (English, for programs), or for
    browsers the error page, which says in the page's language what happened and shows the
    input concerned (`inputs`: parameters and the values given; else the path) as given."""
    if _wants_json(request):
        body = ErrorOut(error=ErrorBody(code=code, message=message))
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)
    allowed = (headers or {}).get("Allow", "") if status == 405 else ""
    context = {
        "status": status,
        "path": request.url.path,
        "method": request.method,
        "allowed": allowed,
        "inputs": list(inputs),
    }
    return render(request, "error.html", context, status_code=status, headers=headers)


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


def _shown(error: Mapping[str, Any]) -> tuple[str, object]:
    """A validation problem's parameter and the value given (None if none was), shortened."""
    name = ".".join(str(part) for part in error["loc"][1:]) or "request"
    value = error.get("input")
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        value = value[:SHOWN_CHARS] + "…"
    return name, value if isinstance(value, str | int | float) else None


def _problem(error: Mapping[str, Any]) -> str:
    """One validation problem: the parameter, the value given (if one was) and what is wrong."""
    name, value = _shown(error)
    given = f" {value!r}" if value is not None else ""
    return f"{name}{given}: {error['msg']}"


def _given(error: Mapping[str, Any]) -> tuple[str, str | None]:
    """For the error page: the parameter and the value given, as text."""
    name, value = _shown(error)
    return name, None if value is None else str(value)


# -- the OpenAPI docs ------------------------------------------------------------------------------

# Swagger UI 5 (renders FastAPI's OpenAPI 3.1), as the maintained fastapi-offline package ships it.
DOCS_ASSETS = files("fastapi_offline") / "static"
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API - Swagger UI</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""
# As FastAPI starts it, from a file rather than inline, and without the online validator badge.
DOCS_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def _add_docs(app: FastAPI) -> None:
    app.mount("/docs/assets", StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(title=app.title))

    @app.get(DOCS + "/start.js", include_in_schema=False)
    async def docs_start() -> Response:
        return Response(DOCS_START, media_type="text/javascript")


# -- the app -------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # The server only reads: it opens the catalog read-only and creates nothing, so that a
    # read-only archive is servable. NoCatalog, CatalogNeedsMigration, NoIndex and an
    # unreachable Meilisearch stop the start here, before the server listens; what is opened
    # serves every request of the process, and the lifespan closes it.
    site = load_site(settings)  # a bad intro/imprint/privacy/accessibility setting stops it too
    served = Served(settings)
    threading.Thread(target=load_models, name="load-splitters", daemon=True).start()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            served.close()

    app = FastAPI(
        title="Stadtstimme",
        summary="Searchable archive of the video statements of cities and their mayors.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.served = served
    app.state.site = site

    @app.exception_handler(StadtstimmeError)
    async def archive_error(request: Request, error: StadtstimmeError) -> Response:
        inputs = []
        if isinstance(error, InvalidParameter):
            inputs = [(error.parameter, error.value)]
        return error_response(request, error.status, error.code, error.message, inputs=inputs)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(_problem(e) for e in error.errors())
        inputs = [_given(e) for e in error.errors()]
        return error_response(request, 422, "invalid_input", problems, inputs=inputs)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        status = error.status_code
        code = HTTP_CODES.get(status, "http_error")
        message = _http_message(request, error)
        return error_response(request, status, code, message, error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        response = error_response(request, 500, "internal", "internal error; it has been logged")
        # Starlette answers this outside the app's middleware: the headers are set here.
        response.headers.update(security_headers(request.url.path))
        return response

    from api.routes import feeds, media, pages, search, statement_page, statements

    app.include_router(search.router, prefix="/api")
    app.include_router(statements.router, prefix="/api")
    app.include_router(media.router)
    app.include_router(pages.router, default_response_class=HTMLResponse)
    app.include_router(statement_page.router, default_response_class=HTMLResponse)
    install_admin(app, settings)  # /api/admin, only with an admin token (api/admin.py)
    app.include_router(feeds.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_docs(app)
    app.add_middleware(CompressedExceptMedia)
    app.add_middleware(SecurityHeaders)  # outermost: on compressed and uncompressed alike
    return app


def create_server_app(settings: Settings | None = None) -> FastAPI:
    """The app as `stadtstimme serve` runs it, for the rest of the process's life: what it holds
    once made, and the compound splitters once loaded, are exempted from garbage collection
    (archive.longlived). Not create_app's doing: tests and scripts make many apps, and a frozen
    app's reference cycles would never be freed."""
    app = create_app(settings)
    settle()
    threading.Thread(target=_settle_after_models, name="settle", daemon=True).start()
    return app


def _settle_after_models() -> None:
    load_models()  # returns once the load that create_app started has ended
    settle()
