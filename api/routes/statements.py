"""GET /api/statements and /api/statements/{id}: what the archive holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CatalogDep, SettingsDep, visible_statement
from api.schemas import StatementPage, errors, links_to_statement
from archive.export import (
    DOUBTFUL_BELOW,
    MEDIA_TYPES,
    StatementDetail,
    TranscriptFormat,
    transcript_text,
)
from archive.search import StatementView

router = APIRouter(tags=["statements"])


@router.get(
    "/statements",
    operation_id="list_statements",
    response_model=StatementPage,
    responses=errors(422) | {200: {"links": links_to_statement("/statements/0/id")}},
)
def list_statements(
    catalog: CatalogDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> StatementPage:
    """The archive's statements, newest first."""
    total, statements = catalog.list_statements(limit=per_page, offset=(page - 1) * per_page)
    return StatementPage(
        total=total,
        page=page,
        per_page=per_page,
        statements=[StatementView.of(s, settings.public_url) for s in statements],
    )


@router.get(
    "/statements/{statement_id}",
    operation_id="get_statement",
    response_model=StatementDetail,
    responses=errors(404, 422),
    description=(
        "One statement: its metadata and its transcript, segment by segment, word by word, with "
        "times and Whisper's confidence in each word; words with a probability below "
        f"{DOUBTFUL_BELOW} are marked `doubtful`, for a page to show as unsure."
    ),
)
def get_statement(statement_id: str, catalog: CatalogDep, settings: SettingsDep) -> StatementDetail:
    """One statement: its metadata and its transcript, word by word, with confidence."""
    statement = visible_statement(catalog, statement_id)
    segments = catalog.segments(statement.id)
    return StatementDetail.with_transcript(statement, segments, settings.public_url)


@router.get(
    "/statements/{statement_id}/transcript.{kind}",
    operation_id="get_transcript",
    response_class=Response,
    responses=errors(404, 422) | {200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def get_transcript(statement_id: str, kind: TranscriptFormat, catalog: CatalogDep) -> Response:
    """The transcript as WebVTT or SRT subtitles cut to subtitle norms (at most 2 lines of 42
    characters, 1 to 7 s, about 17 characters a second), or as plain text in paragraphs."""
    statement = visible_statement(catalog, statement_id)
    body = transcript_text(catalog.segments(statement.id), kind, statement.duration)
    filename = f"{statement.id}.{kind}"
    return Response(
        body,
        media_type=MEDIA_TYPES[kind],
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )
