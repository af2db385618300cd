"""/api/admin/…: the operator's API (mounted only with an admin token: api/admin.py).

Each request that writes opens its own writable catalog (the app's shared one is read-only) and
an engine over it, and changes what the public sees through archive.admin, so search, pages,
API and feeds follow at the catalog's commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import SettingsDep
from api.schemas import ErrorOut, errors
from archive import admin, corrections, jobs, sources
from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import DataDirReadOnly, NotFound
from archive.models import Statement
from archive.search import Engine
from archive.search.engines import open_engine

router = APIRouter(tags=["admin"])
AUTH = errors(404, 422)
AUTH[401] = {
    "model": ErrorOut,
    "description": "No admin token, a wrong one, or one in the query string.",
}


@contextmanager
def writing(settings: Settings) -> Iterator[tuple[Catalog, Engine]]:
    if not settings.writable():
        raise DataDirReadOnly(f"data directory {settings.data_dir} is read-only")
    with Catalog(settings.catalog_path) as catalog:
        yield catalog, open_engine(settings, catalog)


# -- shapes --------------------------------------------------------------------------------------


class AdminStatement(BaseModel):
    """A statement as the operator sees it, whatever its status."""

    id: str
    origin: str
    title: str
    status: str
    municipality: str | None
    speaker: str | None
    published: str | None
    language: str | None
    edited: list[str] = Field(
        description="Fields an operator edited; a source does not change them."
    )
    corrected: bool = Field(description="Whether the city corrected the transcript.")

    @classmethod
    def of(cls, statement: Statement, corrected: bool) -> AdminStatement:
        return cls(
            id=statement.id,
            origin=statement.origin,
            title=statement.title,
            status=str(statement.status),
            municipality=statement.municipality,
            speaker=statement.speaker,
            published=str(statement.published) if statement.published else None,
            language=statement.language,
            edited=[f for f in (statement.edited or "").split(",") if f],
            corrected=corrected,
        )


class SourceIn(BaseModel):
    url: str = Field(
        min_length=1, max_length=2000, description="Channel, playlist, feed, page or folder."
    )
    municipality: str | None = Field(None, max_length=500)
    speaker: str | None = Field(None, max_length=500)
    language: str | None = Field(None, max_length=10)
    prompt: str | None = Field(None, max_length=2000)


class SourceOut(BaseModel):
    id: int
    url: str
    kind: str
    municipality: str | None
    speaker: str | None
    language: str | None
    prompt: str | None
    paused: bool
    added_at: str | None
    checked_at: str | None
    last_error: str | None
    added: bool | None = Field(None, description="On adding: whether it is new.")

    @classmethod
    def of(cls, source: sources.Source, added: bool | None = None) -> SourceOut:
        return cls(**asdict(source) | {"kind": str(source.kind), "added": added})


class QueueIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(None, max_length=500)
    municipality: str | None = Field(None, max_length=500)
    speaker: str | None = Field(None, max_length=500)
    published: str | None = Field(None, max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD.")
    language: str | None = Field(None, max_length=10)
    prompt: str | None = Field(None, max_length=2000)


class JobOut(BaseModel):
    id: int
    kind: str
    target: str
    status: str
    source_id: int | None
    options: dict[str, Any]
    statement_id: str | None
    attempts: int
    not_before: str | None
    last_error: str | None
    worker: str | None
    queued_at: str | None
    started_at: str | None
    finished_at: str | None
    new: bool | None = Field(None, description="On queueing: whether it was queued now.")

    @classmethod
    def of(cls, job: jobs.Job, new: bool | None = None) -> JobOut:
        values = asdict(job) | {"kind": str(job.kind), "status": str(job.status), "new": new}
        return cls(**values)


class JobPage(BaseModel):
    total: int
    jobs: list[JobOut]


class RetranscribeIn(BaseModel):
    model: str | None = Field(None, max_length=500, description="Another Whisper model.")
    language: str | None = Field(None, max_length=10, description="Spoken language or auto.")
    discard_corrections: bool = False


class EditIn(BaseModel):
    """Fields to change; an empty string clears one (not the title)."""

    title: str | None = Field(None, max_length=500)
    municipality: str | None = Field(None, max_length=500)
    speaker: str | None = Field(None, max_length=500)
    published: str | None = Field(None, max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD.")
    language: str | None = Field(None, max_length=10)


class TombstoneOut(BaseModel):
    origin: str
    statement_id: str
    title: str
    reason: str | None
    deleted_at: str


class CorrectionIn(BaseModel):
    """The words said between `start` and `end` (seconds; a word belongs to the span its middle
    lies in), as they should read. Their times are shared out among the new words."""

    start: float = Field(ge=0, le=1_000_000)
    end: float = Field(ge=0, le=1_000_000)
    text: str = Field(max_length=corrections.MAX_TEXT, description="Empty: remove the words.")


class CorrectionOut(BaseModel):
    id: int | None
    start: float
    end: float
    text: str
    made_at: str | None


# -- sources -------------------------------------------------------------------------------------


@router.get("/sources", response_model=list[SourceOut], responses=AUTH)
def list_sources(settings: SettingsDep) -> list[SourceOut]:
    with writing(settings) as (catalog, _):
        return [SourceOut.of(s) for s in sources.list_sources(catalog)]


@router.post("/sources", response_model=SourceOut, responses=AUTH)
def add_source(body: SourceIn, settings: SettingsDep) -> SourceOut:
    """Add a source; its kind (listing, feed, folder) is found by looking at it."""
    from ingest.sources import add_source as adding  # yt-dlp, feedparser: only here

    with writing(settings) as (catalog, _):
        source, added = adding(
            catalog,
            body.url,
            municipality=body.municipality,
            speaker=body.speaker,
            language=body.language,
            prompt=body.prompt,
        )
        return SourceOut.of(source, added)


@router.post("/sources/{source_id}/pause", response_model=SourceOut, responses=AUTH)
def pause_source(source_id: int, settings: SettingsDep) -> SourceOut:
    with writing(settings) as (catalog, _):
        return SourceOut.of(sources.pause_source(catalog, source_id, True))


@router.post("/sources/{source_id}/resume", response_model=SourceOut, responses=AUTH)
def resume_source(source_id: int, settings: SettingsDep) -> SourceOut:
    with writing(settings) as (catalog, _):
        return SourceOut.of(sources.pause_source(catalog, source_id, False))


@router.delete("/sources/{source_id}", response_model=SourceOut, responses=AUTH)
def remove_source(source_id: int, settings: SettingsDep) -> SourceOut:
    """Forget a source; its statements stay, its queued jobs go."""
    with writing(settings) as (catalog, _):
        return SourceOut.of(sources.remove_source(catalog, source_id))


# -- jobs ----------------------------------------------------------------------------------------


@router.post("/jobs", response_model=JobOut, responses=AUTH)
def queue(body: QueueIn, settings: SettingsDep) -> JobOut:
    """Queue a URL to be ingested by a worker (`stadtstimme worker`)."""
    values = body.model_dump(exclude={"url"})
    with writing(settings) as (catalog, _):
        job, new = admin.queue_url(catalog, body.url, values)
        return JobOut.of(job, new)


@router.get("/jobs", response_model=JobPage, responses=AUTH)
def list_jobs(
    settings: SettingsDep,
    status: Annotated[jobs.JobStatus | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobPage:
    """Jobs, newest first, with their status, attempts and last error."""
    with writing(settings) as (catalog, _):
        total, found = jobs.list_jobs(catalog, status, per_page, (page - 1) * per_page)
        return JobPage(total=total, jobs=[JobOut.of(j) for j in found])


@router.post("/jobs/{job_id}/retry", response_model=JobOut, responses=AUTH)
def retry_job(job_id: int, settings: SettingsDep) -> JobOut:
    """Queue a failed job again, at once."""
    with writing(settings) as (catalog, _):
        return JobOut.of(jobs.retry(catalog, job_id))


# -- statements ----------------------------------------------------------------------------------


def _view(catalog: Catalog, statement: Statement) -> AdminStatement:
    return AdminStatement.of(statement, corrections.has_corrections(catalog, statement.id))


@router.get("/statements/{statement_id}", response_model=AdminStatement, responses=AUTH)
def get_statement(statement_id: str, settings: SettingsDep) -> AdminStatement:
    """A statement whatever its status (hidden ones too)."""
    with writing(settings) as (catalog, _):
        return _view(catalog, catalog.get(statement_id))


@router.patch("/statements/{statement_id}", response_model=AdminStatement, responses=AUTH)
def edit_statement(statement_id: str, body: EditIn, settings: SettingsDep) -> AdminStatement:
    """Edit metadata; re-indexed at once. Edited fields are not overwritten by the source."""
    with writing(settings) as (catalog, engine):
        values = body.model_dump(exclude_unset=True)
        return _view(catalog, admin.edit(catalog, engine, statement_id, values))


@router.post("/statements/{statement_id}/hide", response_model=AdminStatement, responses=AUTH)
def hide(statement_id: str, settings: SettingsDep) -> AdminStatement:
    """Take down: gone from search, pages, API and feeds at once; kept for unhide."""
    with writing(settings) as (catalog, engine):
        return _view(catalog, admin.hide(catalog, engine, statement_id))


@router.post("/statements/{statement_id}/unhide", response_model=AdminStatement, responses=AUTH)
def unhide(statement_id: str, settings: SettingsDep) -> AdminStatement:
    with writing(settings) as (catalog, engine):
        return _view(catalog, admin.unhide(catalog, engine, statement_id))


@router.delete("/statements/{statement_id}", response_model=TombstoneOut, responses=AUTH)
def delete(
    statement_id: str,
    settings: SettingsDep,
    reason: Annotated[str | None, Query(max_length=admin.MAX_REASON)] = None,
) -> TombstoneOut:
    """Delete a statement with its media and index entries; its origin's tombstone keeps
    ingest and update from bringing it back (re-admit: DELETE /api/admin/tombstones/{id})."""
    with writing(settings) as (catalog, engine):
        gone = admin.delete(catalog, engine, settings.media_dir, statement_id, reason)
        return TombstoneOut(**asdict(gone))


@router.post("/statements/{statement_id}/retranscribe", response_model=JobOut, responses=AUTH)
def retranscribe(statement_id: str, body: RetranscribeIn, settings: SettingsDep) -> JobOut:
    """Queue a new transcription (another model or language); corrections are applied again
    unless `discard_corrections`."""
    with writing(settings) as (catalog, _):
        job, new = admin.retranscribe(
            catalog,
            statement_id,
            model=body.model,
            language=body.language,
            discard_corrections=body.discard_corrections,
        )
        return JobOut.of(job, new)


@router.get(
    "/statements/{statement_id}/corrections", response_model=list[CorrectionOut], responses=AUTH
)
def list_corrections(statement_id: str, settings: SettingsDep) -> list[CorrectionOut]:
    with writing(settings) as (catalog, _):
        catalog.get(statement_id)
        return [CorrectionOut(**asdict(c)) for c in corrections.corrections(catalog, statement_id)]


@router.post("/statements/{statement_id}/corrections", response_model=CorrectionOut, responses=AUTH)
def correct(statement_id: str, body: CorrectionIn, settings: SettingsDep) -> CorrectionOut:
    """Correct the words said between `start` and `end`; searchable at once, and the page says
    the transcript was corrected by the city. The answer gives the span of the words replaced."""
    correction = corrections.checked(body.start, body.end, body.text)
    with writing(settings) as (catalog, engine):
        done = corrections.correct(catalog, engine, statement_id, correction)
        return CorrectionOut(**asdict(done))


# -- tombstones ----------------------------------------------------------------------------------


@router.get("/tombstones", response_model=list[TombstoneOut], responses=AUTH)
def list_tombstones(settings: SettingsDep) -> list[TombstoneOut]:
    """Deleted statements, whose origins ingest and update refuse."""
    with writing(settings) as (catalog, _):
        return [TombstoneOut(**asdict(t)) for t in admin.tombstones(catalog)]


@router.delete("/tombstones/{statement_id}", response_model=TombstoneOut, responses=AUTH)
def readmit(statement_id: str, settings: SettingsDep) -> TombstoneOut:
    """Re-admit a deleted statement's origin (by its former id): ingest may bring it back."""
    with writing(settings) as (catalog, _):
        try:
            return TombstoneOut(**asdict(admin.readmit(catalog, statement_id)))
        except NotFound:
            raise NotFound(f"no deleted statement with id {statement_id!r}") from None
