"""GET /api/statements and /api/statements/{id}: what the archive holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CatalogDep, SettingsDep
from api.schemas import ErrorOut, StatementDetail, StatementPage
from archive.errors import NotFound
from archive.export import (
    MEDIA_TYPES,
    TranscriptFormat,
    segments_json,
    statement_json,
    transcript_text,
)
from archive.models import Statement, Status

router = APIRouter(tags=["statements"])


def visible_statement(catalog: CatalogDep, statement_id: str) -> Statement:
    """A statement the public may see: indexed, not hidden, not failed."""
    statement = catalog.find(statement_id)
    if statement is None or statement.status != Status.INDEXED:
        raise NotFound(f"no statement with id {statement_id!r}")
    return statement


@router.get("/statements", response_model=StatementPage)
def list_statements(
    catalog: CatalogDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """The archive's statements, newest first."""
    total, statements = catalog.list_statements(limit=per_page, offset=(page - 1) * per_page)
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "statements": [statement_json(s, settings.public_url) for s in statements],
    }


@router.get(
    "/statements/{statement_id}",
    response_model=StatementDetail,
    responses={404: {"model": ErrorOut}},
)
def get_statement(statement_id: str, catalog: CatalogDep, settings: SettingsDep) -> dict[str, Any]:
    """One statement: its metadata and its transcript, segment by segment, with times."""
    statement = visible_statement(catalog, statement_id)
    return statement_json(statement, settings.public_url) | {
        "segments": segments_json(catalog.segments(statement.id))
    }


@router.get(
    "/statements/{statement_id}/transcript.{kind}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}, 404: {"model": ErrorOut}},
)
def get_transcript(statement_id: str, kind: TranscriptFormat, catalog: CatalogDep) -> Response:
    """The transcript as WebVTT or SRT subtitles, or as plain text."""
    statement = visible_statement(catalog, statement_id)
    body = transcript_text(catalog.segments(statement.id), kind)
    filename = f"{statement.id}.{kind}"
    return Response(
        body,
        media_type=MEDIA_TYPES[kind],
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )
