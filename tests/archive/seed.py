"""Seed data for the archive unit tests: word-timed segments built in code, stored the way the
pipeline stores them (claim, save_transcript, index_statement). No model, no media."""

from __future__ import annotations

from collections.abc import Sequence

from archive.catalog import Catalog, statement_id_for
from archive.dates import PartialDate
from archive.indexing import index_statement
from archive.models import Segment, Statement, Status, Transcript, Word
from archive.passages import build_passages
from archive.search import Engine

STEP = 0.5
WORD_SECONDS = 0.4


def spoken(start: float, text: str, step: float = STEP) -> Segment:
    """A segment whose words start every `step` seconds from `start`, as Whisper writes them."""
    words = tuple(
        Word(round(start + i * step, 3), round(start + i * step + WORD_SECONDS, 3), " " + word)
        for i, word in enumerate(text.split())
    )
    return Segment(start, words[-1].end, " " + text, words)


def new_statement(
    catalog: Catalog,
    origin: str,
    *,
    title: str = "Video-Botschaft",
    municipality: str | None = None,
    published: str | None = None,
    **extra: str | None,
) -> Statement:
    statement = Statement(
        id=statement_id_for(origin),
        origin=origin,
        title=title,
        municipality=municipality,
        published=PartialDate.parse(published) if published else None,
        **extra,
    )
    return catalog.claim(statement)


def store(
    catalog: Catalog,
    engine: Engine,
    origin: str,
    segments: Sequence[Segment],
    *,
    status: Status = Status.INDEXED,
    language: str = "de",
    **metadata: str | None,
) -> Statement:
    """Claim, transcribe, index and mark a statement as the pipeline does; return it. A
    statement given a media_file keeps audio unless media_kind says otherwise."""
    kind = metadata.pop("media_kind", None) or ("audio" if metadata.get("media_file") else None)
    statement = new_statement(catalog, origin, **metadata)
    if kind is not None:
        catalog.update(statement.id, media_kind=kind)
    passages = build_passages(statement.id, segments)
    duration = max((s.end for s in segments), default=0.0)
    catalog.save_transcript(
        statement.id, Transcript(language, duration, tuple(segments)), passages, None
    )
    index_statement(catalog, engine, statement.id)
    if status != Status.INDEXED:
        catalog.set_status(statement.id, status)
    return catalog.get(statement.id)
