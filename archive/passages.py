"""Segments -> passages: windows of roughly 20-45 seconds, cut at sentence ends.

Long enough that a two-word query spoken in one breath falls into one passage, short enough that
a hit is a moment and far below any engine's limit of word positions per document.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.models import Passage, Segment, Word

MIN_SECONDS = 20.0
MAX_SECONDS = 45.0
_SENTENCE_END = (".", "!", "?", "…")


def _words_of(segment: Segment) -> tuple[Word, ...]:
    if segment.words:
        return segment.words
    return (Word(segment.start, segment.end, " " + segment.text.strip()),)


def build_passages(
    statement_id: str,
    segments: Sequence[Segment],
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
) -> list[Passage]:
    """Join consecutive segments into passages; a segment is never split."""
    groups: list[list[Segment]] = []
    current: list[Segment] = []
    for segment in segments:
        if not segment.text.strip():
            continue
        if current and segment.end - current[0].start > max_seconds:
            groups.append(current)
            current = []
        current.append(segment)
        length = current[-1].end - current[0].start
        if length >= min_seconds and segment.text.strip().endswith(_SENTENCE_END):
            groups.append(current)
            current = []
    if current:
        short_tail = current[-1].end - current[0].start < min_seconds / 2
        if groups and short_tail and current[-1].end - groups[-1][0].start <= max_seconds:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return [
        Passage(
            statement_id=statement_id,
            position=position,
            start=group[0].start,
            end=group[-1].end,
            words=tuple(word for segment in group for word in _words_of(segment)),
        )
        for position, group in enumerate(groups)
    ]
