"""What an operator does to the archive (issue 10), for the admin API and the CLI alike: edit a
statement's metadata, hide and unhide it, delete it (leaving a tombstone), re-admit a deleted
origin, queue a URL, re-transcribe a statement.

Values are checked here, where they enter, into real types (InvalidInput names the field).
Every change to what the public sees follows the projection protocol (archive.indexing): the
catalog first, the index inside the same catalog transaction, so search, pages, API and feeds
(which all read the catalog's status) change at the same commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.catalog import Catalog, now
from archive.config import language_option
from archive.dates import date_option
from archive.errors import InvalidInput, NotFound
from archive.indexing import index_statement, is_transcribed, take_down
from archive.jobs import Job, JobKind, enqueue, ingest_options
from archive.models import Statement, Status
from archive.search import Engine
from archive.text import clean_text

log = logging.getLogger(__name__)

EDITABLE = ("title", "municipality", "speaker", "published", "language")
MAX_FIELD = 500  # characters of an edited field
MAX_REASON = 1000


def _text(value: str, field: str, *, required: bool = False) -> str | None:
    cleaned = clean_text(value)
    if len(cleaned) > MAX_FIELD:
        raise InvalidInput(f"{field}: at most {MAX_FIELD} characters, not {len(cleaned)}")
    if not cleaned:
        if required:
            raise InvalidInput(f"{field}: must not be empty")
        return None
    return cleaned


def _language(value: str, field: str = "language") -> str:
    code = language_option(value, field)
    if code == "auto" or code is None:
        raise InvalidInput(f"{field}: name the language, e.g. de or en ('auto' is for ingest)")
    return code


def edit_changes(values: dict[str, str | None], prefix: str = "") -> dict[str, Any]:
    """An operator's edit as catalog values: title required if given; other texts cleared by
    an empty string; published a calendar date (YYYY, YYYY-MM or YYYY-MM-DD); language a code
    Whisper knows. Fields not given (None) are left as they are. Errors name the field with
    `prefix` ("--" for the command line's options)."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"cannot edit {', '.join(sorted(unknown))}: editable are {EDITABLE}")
    changes: dict[str, Any] = {}
    for field, value in values.items():
        if value is None:
            continue
        if field == "published":
            changes[field] = date_option(value.strip() or None, prefix + field)
        elif field == "language":
            changes[field] = _language(value, prefix + field) if value.strip() else None
        else:
            changes[field] = _text(value, prefix + field, required=field == "title")
    if not changes:
        raise InvalidInput(f"nothing to edit: give one of {', '.join(EDITABLE)}")
    return changes


def edit(
    catalog: Catalog,
    engine: Engine,
    statement_id: str,
    values: dict[str, str | None],
    prefix: str = "",
) -> Statement:
    """Change a statement's metadata, record the fields in `edited` (a source's update does not
    overwrite them), and re-index it at once so that search shows the change."""
    changes = edit_changes(values, prefix)
    with catalog.transaction():
        statement = catalog.get(statement_id)
        edited = set(filter(None, (statement.edited or "").split(","))) | set(changes)
        catalog.update(statement_id, **changes, edited=",".join(sorted(edited)))
        index_statement(catalog, engine, statement_id)  # leaves a hidden or failed one alone
    return catalog.get(statement_id)


def hide(catalog: Catalog, engine: Engine, statement_id: str) -> Statement:
    """Take a statement down (status hidden): gone from search, pages, API and feeds at the
    catalog's commit, then from the index. Its transcript and media stay, for `unhide`."""
    statement = catalog.get(statement_id)
    if statement.status == Status.HIDDEN:
        return statement
    if statement.status not in (Status.TRANSCRIBED, Status.INDEXED):
        raise InvalidInput(
            f"statement {statement_id} is {statement.status}, not archived: delete it instead"
        )
    take_down(catalog, engine, statement_id)
    return catalog.get(statement_id)


def unhide(catalog: Catalog, engine: Engine, statement_id: str) -> Statement:
    """Show a hidden statement again: indexed and marked indexed in one transaction."""
    with catalog.transaction():
        statement = catalog.get(statement_id)
        if statement.status != Status.HIDDEN:
            raise InvalidInput(f"statement {statement_id} is {statement.status}, not hidden")
        catalog.set_status(statement_id, Status.TRANSCRIBED)
        index_statement(catalog, engine, statement_id)
    return catalog.get(statement_id)


@dataclass(frozen=True)
class Tombstone:
    origin: str
    statement_id: str
    title: str
    reason: str | None
    deleted_at: str


def _tombstone(row: Any) -> Tombstone:
    return Tombstone(
        row["origin"], row["statement_id"], row["title"], row["reason"], row["deleted_at"]
    )


def delete(
    catalog: Catalog, engine: Engine, media_dir: Path, statement_id: str, reason: str | None
) -> Tombstone:
    """Delete a statement: its row, segments, passages and corrections (the catalog cascades),
    its index entries and its queued jobs go in one transaction, which writes the tombstone of
    its origin, so that neither `update` nor `ingest` brings it back; then its media and poster
    files are removed. A crash before the files go leaves them unreferenced, never served."""
    why = _text(reason, "reason") if reason is not None else None
    if why is not None and len(why) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters")
    with catalog.transaction() as db:
        statement = catalog.get(statement_id)
        stamp = now()
        db.execute(
            "INSERT INTO tombstones (origin, statement_id, title, reason, deleted_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "statement_id = excluded.statement_id, title = excluded.title, "
            "reason = excluded.reason, deleted_at = excluded.deleted_at",
            (statement.origin, statement.id, statement.title, why, stamp),
        )
        db.execute(
            "DELETE FROM jobs WHERE kind = ? AND target = ? AND status = 'queued'",
            (str(JobKind.RETRANSCRIBE), statement.id),
        )
        db.execute("DELETE FROM statements WHERE id = ?", (statement.id,))
        if statement.seq is not None:
            engine.remove([statement.seq])
    for name in (statement.media_file, statement.poster_file):
        if name:
            (media_dir / name).unlink(missing_ok=True)
    return Tombstone(statement.origin, statement.id, statement.title, why, stamp)


def tombstones(catalog: Catalog) -> list[Tombstone]:
    rows = catalog.db.execute("SELECT * FROM tombstones ORDER BY deleted_at DESC").fetchall()
    return [_tombstone(row) for row in rows]


def readmit(catalog: Catalog, origin_or_id: str) -> Tombstone:
    """Remove the tombstone of a deleted statement (by its origin or its former id): ingest and
    update may then bring it back. NotFound when there is none."""
    with catalog.transaction() as db:
        row = db.execute(
            "DELETE FROM tombstones WHERE origin = ? OR statement_id = ? RETURNING *",
            (origin_or_id, origin_or_id),
        ).fetchone()
    if row is None:
        raise NotFound(f"no deleted statement with origin or id {origin_or_id!r}")
    return _tombstone(row)


def queue_url(catalog: Catalog, url: str, values: dict[str, str | None]) -> tuple[Job, bool]:
    """Queue a URL to be ingested by a worker, with the options of `stadtstimme ingest`
    (title, municipality, speaker, published, language, prompt), checked here. Returns the job
    and whether it was queued now (the same URL queued or running already is that job)."""
    target = clean_text(url)
    if not target.startswith(("http://", "https://")) or len(target) > 2000:
        raise InvalidInput(f"url {url!r}: an http:// or https:// address")
    given = {field: value.strip() for field, value in values.items() if value and value.strip()}
    unknown = set(given) - {"title", "municipality", "speaker", "published", "language", "prompt"}
    if unknown:
        raise InvalidInput(f"unknown option {sorted(unknown)[0]!r}")
    text = {f: _text(v, f) for f, v in given.items() if f not in ("published", "language")}
    # checked as `stadtstimme queue` checks them, into the keys the worker reads
    options = ingest_options(
        language=given.get("language"),
        published=given.get("published"),
        title=text.get("title"),
        municipality=text.get("municipality"),
        speaker=text.get("speaker"),
        prompt=text.get("prompt"),
    )
    return enqueue(catalog, target, kind=JobKind.INGEST, options=options)


def retranscribe(
    catalog: Catalog,
    statement_id: str,
    *,
    model: str | None = None,
    language: str | None = None,
    discard_corrections: bool = False,
    prefix: str = "",
) -> tuple[Job, bool]:
    """Queue a statement to be transcribed again (a worker runs it), with another model or
    language if given; its corrections are applied again afterwards unless discarded. Options:
    {"model", "language", "discard_corrections"}."""
    statement = catalog.get(statement_id)
    if not is_transcribed(statement):
        raise InvalidInput(
            f"statement {statement_id} is {statement.status}: only a transcribed statement is "
            "transcribed again"
        )
    options: dict[str, Any] = {"discard_corrections": discard_corrections}
    if model is not None:
        name = clean_text(model)
        if not name or len(name) > MAX_FIELD:
            raise InvalidInput(f"{prefix}model {model!r}: a Whisper model's name or folder")
        options["model"] = name
    if language is not None:
        options["language"] = language_option(language, prefix + "language")
    return enqueue(catalog, statement.id, kind=JobKind.RETRANSCRIBE, options=options)
