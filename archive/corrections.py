"""Corrections of a transcript by the city: the words said in a time span, as an operator wrote
them, keeping the timings.

A correction names a span of the statement (start and end, in seconds) and the text said there.
The words whose middle lies in the span are replaced by the operator's words, which share the
replaced words' time (from the first one's start to the last one's end), each a share by its
length, with probability 1.0 (a person wrote it: never marked doubtful). An empty text removes
the words (a phrase Whisper made up over music). Corrections are kept in the catalog
(`corrections`: the span of the words they replaced, and the text) and applied to the segments
and passages at once; re-transcribing a statement applies them again to the new transcript
(`reapply`), by time span, so an editor's work survives a better model.

The span is the editor's handle because it is what the page and the JSON show: every passage
starts with its time code, and /api/statements/{id} gives each word's start and end.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from archive.catalog import Catalog, now
from archive.errors import InvalidInput
from archive.indexing import index_statement, is_transcribed
from archive.models import Segment, Status, Word
from archive.passages import build_passages
from archive.search import Engine
from archive.text import clean_text

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters of one correction


@dataclass(frozen=True)
class Correction:
    start: float
    end: float
    text: str
    id: int | None = None
    made_at: str | None = None


def _words(segment: Segment) -> tuple[Word, ...]:
    """A segment's timed words; a segment without word timings (captions from the source) has
    its words spread evenly over its time, as its captions are."""
    if segment.words or not segment.text.strip():
        return segment.words
    texts = segment.text.split()
    step = max(segment.end - segment.start, 0.0) / len(texts)
    return tuple(
        Word(segment.start + i * step, segment.start + (i + 1) * step, " " + text)
        for i, text in enumerate(texts)
    )


def _inside(word: Word, start: float, end: float) -> bool:
    middle = (word.start + word.end) / 2
    return start <= middle <= end


def _timed(said: Sequence[str], start: float, end: float) -> tuple[Word, ...]:
    """The operator's words over [start, end], each a share of it by its length."""
    total = sum(len(word) for word in said)
    words, clock = [], start
    for word in said:
        until = clock + (end - start) * len(word) / total
        words.append(Word(round(clock, 2), round(until, 2), " " + word, 1.0))
        clock = until
    return tuple(words)


def _shared(said: Sequence[str], spans: Sequence[tuple[float, float]]) -> list[list[str]]:
    """The operator's words shared among the segments a correction spans, in order, by their
    length against each segment's replaced time: no word is timed across the pause between
    two segments."""
    total_time = sum(end - start for start, end in spans) or 1.0
    total_chars = sum(len(word) for word in said) or 1
    shares: list[list[str]] = [[] for _ in spans]
    bounds, clock = [], 0.0
    for start, end in spans:
        clock += (end - start) / total_time
        bounds.append(clock)
    at = 0
    for word in said:
        middle = (at + len(word) / 2) / total_chars
        at += len(word)
        shares[next((k for k, b in enumerate(bounds) if middle <= b), len(spans) - 1)].append(word)
    return shares


def apply(segments: Sequence[Segment], correction: Correction) -> tuple[list[Segment], Correction]:
    """The segments with the correction applied, and the correction with the span of the words
    it replaced. Where the span covers words of several segments, the new words are shared
    among them (`_shared`). InvalidInput when no word lies in the span."""
    touched: dict[int, list[int]] = {}
    for n, segment in enumerate(segments):
        for i, word in enumerate(_words(segment)):
            if _inside(word, correction.start, correction.end):
                touched.setdefault(n, []).append(i)
    if not touched:
        raise InvalidInput(
            f"no word is said between {correction.start:g} s and {correction.end:g} s "
            "(a word belongs to the span its middle lies in)"
        )
    spans = {
        n: (_words(segments[n])[found[0]].start, max(_words(segments[n])[i].end for i in found))
        for n, found in touched.items()
    }
    shares = dict(zip(touched, _shared(correction.text.split(), list(spans.values())), strict=True))
    changed: list[Segment] = []
    for n, segment in enumerate(segments):
        if n not in touched:
            changed.append(segment)
            continue
        words, found = _words(segment), touched[n]
        inserted = _timed(shares[n], *spans[n]) if shares[n] else ()
        after = tuple(w for i, w in enumerate(words) if i > found[0] and i not in found)
        merged = words[: found[0]] + inserted + after
        changed.append(replace(segment, text="".join(w.text for w in merged), words=merged))
    start, end = min(s for s, _ in spans.values()), max(e for _, e in spans.values())
    return changed, replace(correction, start=start, end=end)


def checked(start: float, end: float, text: str, prefix: str = "") -> Correction:
    """A correction from an operator's input, checked once where it enters (errors name the
    fields with `prefix`: "--" for the command line's options)."""
    words = clean_text(text)
    if not (0 <= start < end):
        raise InvalidInput(
            f"{prefix}start {start:g} and {prefix}end {end:g}: need 0 <= start < end (seconds)"
        )
    if len(words) > MAX_TEXT:
        raise InvalidInput(f"{prefix}text: at most {MAX_TEXT} characters, not {len(words)}")
    return Correction(start, end, words)


def _save(
    catalog: Catalog, engine: Engine | None, statement_id: str, segments: list[Segment]
) -> None:
    """Save corrected segments and their passages; inside the caller's transaction. A hidden
    statement stays hidden; an indexed one is re-indexed at once when an engine is given."""
    statement = catalog.get(statement_id)
    transcript = catalog.transcript(statement_id)
    assert transcript is not None
    passages = build_passages(statement_id, segments)
    catalog.save_transcript(
        statement_id, replace(transcript, segments=tuple(segments)), passages, transcript.note
    )
    if statement.status == Status.HIDDEN:
        catalog.set_status(statement_id, Status.HIDDEN)
    elif engine is not None:
        index_statement(catalog, engine, statement_id)


def correct(
    catalog: Catalog, engine: Engine, statement_id: str, correction: Correction
) -> Correction:
    """Apply a correction, keep it, and re-index the statement: all in one transaction, so a
    search finds the corrected words the moment it commits."""
    with catalog.transaction() as db:
        statement = catalog.get(statement_id)
        if not is_transcribed(statement):
            raise InvalidInput(
                f"statement {statement_id} has no transcript to correct: it is {statement.status}"
            )
        segments, done = apply(catalog.segments(statement_id), correction)
        row = db.execute(
            "INSERT INTO corrections (statement_id, start, end, text, made_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id, made_at",
            (statement_id, done.start, done.end, done.text, now()),
        ).fetchone()
        _save(catalog, engine, statement_id, segments)
    return replace(done, id=int(row[0]), made_at=str(row[1]))


def corrections(catalog: Catalog, statement_id: str) -> list[Correction]:
    """The statement's corrections in the order they were made."""
    rows = catalog.db.execute(
        "SELECT id, start, end, text, made_at FROM corrections WHERE statement_id = ? ORDER BY id",
        (statement_id,),
    ).fetchall()
    return [Correction(row[1], row[2], row[3], int(row[0]), row[4]) for row in rows]


def has_corrections(catalog: Catalog, statement_id: str) -> bool:
    found = catalog.db.execute(
        "SELECT 1 FROM corrections WHERE statement_id = ? LIMIT 1", (statement_id,)
    ).fetchone()
    return found is not None


def reapply(catalog: Catalog, statement_id: str, engine: Engine | None = None) -> int:
    """Apply the statement's stored corrections again, in order, to its current transcript
    (after re-transcribing), by time span; returns how many applied. A correction over which
    the new transcript has no word is kept but skipped (logged). The statement is saved as
    transcribed (a hidden one stays hidden), and indexed at once when an engine is given, else
    by the caller (archive.indexing.index_statement)."""
    with catalog.transaction():
        kept = corrections(catalog, statement_id)
        if not kept:
            return 0
        segments = catalog.segments(statement_id)
        applied = 0
        for correction in kept:
            try:
                segments, _ = apply(segments, correction)
            except InvalidInput:
                log.warning(
                    "statement %s: correction %s (%g-%g s) finds no word in the new transcript",
                    statement_id,
                    correction.id,
                    correction.start,
                    correction.end,
                )
                continue
            applied += 1
        if applied:
            _save(catalog, engine, statement_id, segments)
    return applied


def discard(catalog: Catalog, statement_id: str) -> int:
    """Forget the statement's corrections (a re-transcription told to discard them)."""
    with catalog.transaction() as db:
        gone = db.execute("DELETE FROM corrections WHERE statement_id = ?", (statement_id,))
        return int(gone.rowcount)
