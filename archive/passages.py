"""Segments -> passages: windows of roughly 20-45 seconds, cut at sentence ends.

Long enough that a two-word query spoken in one breath falls into one passage, short enough that
a hit is a moment and far below any engine's limit of word positions per document.

A passage is a run of consecutive segments and never splits one, so the catalog keeps a passage
as a reference to the segments it covers (first position and count) and reads its words from
them (`covered_segments` finds the runs; `spoken_words` is the one rule that turns a run into the
passage's words, used both here and when reading): each word's timing is stored once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

from archive.models import Passage, Segment, Word

MIN_SECONDS = 20.0
MAX_SECONDS = 45.0
_SENTENCE_END = (".", "!", "?", "…")


def _words_of(segment: Segment) -> tuple[Word, ...]:
    if segment.words:
        return segment.words
    return (Word(segment.start, segment.end, " " + segment.text.strip()),)


def spoken_words(segments: Sequence[Segment]) -> tuple[Word, ...]:
    """The words of a run of segments as a passage holds them: segments without text left out,
    a segment without word timings one word of its whole text."""
    return tuple(word for s in segments if s.text.strip() for word in _words_of(s))


def covered_segments(
    segments: Sequence[Segment],
    passages: Sequence[Passage],
    same: Callable[[Word, Word], bool] = operator.eq,
) -> list[range]:
    """Which segments each passage is made of: consecutive runs, in order, each starting at the
    first segment with text after the previous run. ValueError when a passage's words are not
    those of such a run (`same` compares two words): it was not built from these segments."""
    runs: list[range] = []
    at = 0
    for passage in passages:
        while at < len(segments) and not segments[at].text.strip():
            at += 1
        first, words = at, 0
        while words < len(passage.words) and at < len(segments):
            if segments[at].text.strip():
                words += len(_words_of(segments[at]))
            at += 1
        covered = spoken_words(segments[first:at])
        if len(covered) != len(passage.words) or not all(map(same, covered, passage.words)):
            raise ValueError(
                f"passage {passage.position} of statement {passage.statement_id} is not made of "
                "the transcript's segments (build passages with archive.passages.build_passages)"
            )
        runs.append(range(first, at))
    return runs


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
            words=spoken_words(group),
        )
        for position, group in enumerate(groups)
    ]
