"""The admin API's gate: a bearer token from the settings (STADTSTIMME_ADMIN_TOKEN).

Without a configured token the admin routes do not exist (404, and not in the OpenAPI
description): the public API stays read-only. With one, every admin route wants
`Authorization: Bearer <token>`, compared in constant time; a token in the query string is
refused even when right (URLs end up in logs, histories and Referer headers), with a message
saying to use the header. A refusal is 401 with `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from archive.config import Settings
from archive.errors import Unauthorized

QUERY_TOKENS = ("token", "access_token", "admin_token")
CHALLENGE = {"WWW-Authenticate": "Bearer"}
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The archive's admin token (STADTSTIMME_ADMIN_TOKEN), in the Authorization header.",
)


class AdminRefused(Unauthorized):
    """No token, a wrong one, or one in the query string."""


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    expected: str | None = request.app.state.settings.admin_token
    if not expected:  # the router is not mounted then; kept as a second lock
        raise AdminRefused("the admin API is off: no admin token is configured")
    if any(name in request.query_params for name in QUERY_TOKENS):
        raise AdminRefused(
            "a token in the query string is refused: send it in the header "
            "`Authorization: Bearer <token>`"
        )
    if credentials is None:
        raise AdminRefused("the admin API wants the header `Authorization: Bearer <token>`")
    # Starlette decodes header bytes as Latin-1: encoded back, they are the bytes sent, which
    # for a token beyond ASCII are its UTF-8.
    given = credentials.credentials.encode("latin-1", errors="replace")
    if not hmac.compare_digest(given, expected.encode()):
        raise AdminRefused("wrong admin token")


AdminDep = Depends(require_admin)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the admin routes under /api/admin when a token is configured."""
    if not settings.admin_token:
        return
    from api.app import error_response
    from api.routes import admin

    @app.exception_handler(AdminRefused)
    async def refused(request: Request, error: AdminRefused) -> Response:
        return error_response(request, error.status, error.code, error.message, CHALLENGE)

    app.include_router(admin.router, prefix="/api/admin", dependencies=[AdminDep])
