"""Sources: where statements come from without someone typing URLs (issue 10). A source is a
channel, playlist or page yt-dlp lists ("listing"), an RSS/Atom feed ("feed"), or a local folder
("folder"); its settings (municipality, speaker, language, prompt) apply to every statement that
comes from it. What a source has listed is remembered (source_items), so that an update queues
only what is new and downloads nothing the archive already has.

This module is the catalog's side (plain rows); finding what a source lists is ingest/sources.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from archive.catalog import Catalog, now
from archive.errors import NotFound


class SourceKind(StrEnum):
    LISTING = "listing"  # what yt-dlp lists: a channel, a playlist, a page
    FEED = "feed"  # RSS or Atom, podcast-style enclosures included
    FOLDER = "folder"  # a local folder (a network share), polled


@dataclass(frozen=True)
class Source:
    id: int
    url: str
    kind: SourceKind
    municipality: str | None = None
    speaker: str | None = None
    language: str | None = None
    prompt: str | None = None
    paused: bool = False
    added_at: str | None = None
    checked_at: str | None = None
    last_error: str | None = None


def _source(row: Any) -> Source:
    values = dict(row)
    values["kind"] = SourceKind(values["kind"])
    values["paused"] = bool(values["paused"])
    return Source(**values)


def insert_source(
    catalog: Catalog,
    url: str,
    kind: SourceKind,
    *,
    municipality: str | None = None,
    speaker: str | None = None,
    language: str | None = None,
    prompt: str | None = None,
) -> tuple[Source, bool]:
    """Add a source unless its URL is known; the source and whether it was added now."""
    with catalog.transaction() as db:
        row = db.execute(
            "INSERT INTO sources (url, kind, municipality, speaker, language, prompt, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING RETURNING *",
            (url, str(kind), municipality, speaker, language, prompt, now()),
        ).fetchone()
        if row is not None:
            return _source(row), True
        row = db.execute("SELECT * FROM sources WHERE url = ?", (url,)).fetchone()
    return _source(row), False


def find_source(catalog: Catalog, url: str) -> Source | None:
    """The source with this (normalised) URL or folder path, if there is one."""
    row = catalog.db.execute("SELECT * FROM sources WHERE url = ?", (url,)).fetchone()
    return _source(row) if row is not None else None


def get_source(catalog: Catalog, source_id: int) -> Source:
    row = catalog.db.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
    if row is None:
        raise NotFound(f"no source {source_id}")
    return _source(row)


def list_sources(catalog: Catalog, *, active_only: bool = False) -> list[Source]:
    where = "WHERE paused = 0" if active_only else ""
    rows = catalog.db.execute(f"SELECT * FROM sources {where} ORDER BY id").fetchall()
    return [_source(row) for row in rows]


def pause_source(catalog: Catalog, source_id: int, paused: bool = True) -> Source:
    """Pause (or resume) a source: update and watch skip a paused one."""
    with catalog.transaction() as db:
        row = db.execute(
            "UPDATE sources SET paused = ? WHERE id = ? RETURNING *", (int(paused), source_id)
        ).fetchone()
    if row is None:
        raise NotFound(f"no source {source_id}")
    return _source(row)


def remove_source(catalog: Catalog, source_id: int) -> Source:
    """Forget a source and what it listed; its statements stay in the archive, and queued jobs
    from it are dropped (running ones finish)."""
    source = get_source(catalog, source_id)
    with catalog.transaction() as db:
        db.execute("DELETE FROM jobs WHERE source_id = ? AND status = 'queued'", (source_id,))
        db.execute("DELETE FROM sources WHERE id = ?", (source_id,))
    return source


def checked(catalog: Catalog, source_id: int, error: str | None) -> None:
    """Record that a source was checked now, and what went wrong if anything did."""
    with catalog.transaction() as db:
        db.execute(
            "UPDATE sources SET checked_at = ?, last_error = ? WHERE id = ?",
            (now(), error, source_id),
        )


@dataclass(frozen=True)
class SourceItem:
    """One thing a source listed, as remembered: its key, its title then, the job it queued."""

    item: str
    title: str | None
    job_id: int | None
    seen_at: str


def source_items(catalog: Catalog, source_id: int) -> dict[str, SourceItem]:
    rows = catalog.db.execute(
        "SELECT item, title, job_id, seen_at FROM source_items WHERE source_id = ?", (source_id,)
    )
    return {row["item"]: SourceItem(**dict(row)) for row in rows}


def record_item(
    catalog: Catalog, source_id: int, item: str, title: str | None, job_id: int | None
) -> None:
    """Remember that the source listed this item (joins the caller's transaction, so that an
    item and the job it queued are written together)."""
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO source_items (source_id, item, title, job_id, seen_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_id, item) DO UPDATE SET "
            "title = excluded.title, job_id = coalesce(excluded.job_id, job_id), "
            "seen_at = excluded.seen_at",
            (source_id, item, title, job_id, now()),
        )


def is_tombstoned(catalog: Catalog, origin: str) -> bool:
    """Whether a statement of this origin was deleted: update does not queue it again."""
    row = catalog.db.execute("SELECT 1 FROM tombstones WHERE origin = ?", (origin,)).fetchone()
    return row is not None
