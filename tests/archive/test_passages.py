"""Segments -> passages: 20-45 second windows cut at sentence ends, segments never split."""

from __future__ import annotations

import random

import pytest

from archive.models import Passage, Segment, Word
from archive.passages import MAX_SECONDS, MIN_SECONDS, build_passages
from tests.archive.seed import spoken

SENTENCE_END = (".", "!", "?", "…")


def segment(start: float, end: float, text: str) -> Segment:
    """A segment with one word per whitespace-separated token, spread over its time."""
    tokens = text.split()
    step = (end - start) / max(1, len(tokens))
    words = tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " " + token)
        for i, token in enumerate(tokens)
    )
    return Segment(start, end, " " + text, words)


def groups_of(passages: list[Passage], segments: list[Segment]) -> list[list[Segment]]:
    """Which segments each passage is made of, recovered from the (unique) word timestamps."""
    by_first_word = {s.words[0]: s for s in segments if s.words}
    result = []
    for passage in passages:
        result.append([by_first_word[w] for w in passage.words if w in by_first_word])
    return result


def test_windows_are_cut_at_the_first_sentence_end_after_min_seconds() -> None:
    segments = [
        segment(0, 8, "Liebe Bürgerinnen und Bürger."),  # a sentence end, but only 8 s
        segment(8, 16, "Heute geht es um"),
        segment(16, 22, "den Wochenmarkt."),  # 22 s and a sentence end: cut here
        segment(22, 30, "Er bleibt offen"),
        segment(30, 38, "auch im Winter"),
        segment(38, 44, "und im Frühling!"),  # 22 s: cut
        segment(44, 50, "Danke?"),  # 6 s tail, merged? 50 - 22 = 28 <= 45: yes
    ]
    passages = build_passages("s1", segments)
    assert [(p.start, p.end) for p in passages] == [(0, 22), (22, 50)]
    assert [len(g) for g in groups_of(passages, segments)] == [3, 4]
    assert passages[0].text == "Liebe Bürgerinnen und Bürger. Heute geht es um den Wochenmarkt."


def test_no_cut_without_a_sentence_end_until_the_window_is_full() -> None:
    segments = [segment(i * 10, i * 10 + 10, f"ohne Punkt {i}") for i in range(9)]
    passages = build_passages("s1", segments)
    for passage in passages:
        assert passage.end - passage.start <= MAX_SECONDS
    # 40 s fit, the fifth segment would make 50 s: each window holds four segments.
    assert [(p.start, p.end) for p in passages] == [(0, 40), (40, 80), (80, 90)]


def test_a_segment_is_never_split_even_when_longer_than_the_maximum() -> None:
    segments = [
        segment(0, 5, "Kurz."),
        segment(5, 65, "Ein sehr langer Satz ohne Pause der eine ganze Minute dauert."),
        segment(65, 70, "Ende."),
    ]
    passages = build_passages("s1", segments)
    groups = groups_of(passages, segments)
    assert segments[1] in [g[0] for g in groups if len(g) == 1]
    long = next(p for p in passages if p.end - p.start > MAX_SECONDS)
    assert (long.start, long.end) == (5, 65)
    assert long.words == segments[1].words


def test_empty_segments_are_skipped() -> None:
    segments = [
        segment(0, 10, "Erster Satz"),
        Segment(10, 12, "   ", (Word(10, 12, " "),)),
        Segment(12, 13, ""),
        segment(13, 24, "zweiter Satz."),
    ]
    passages = build_passages("s1", segments)
    assert len(passages) == 1
    assert passages[0].text == "Erster Satz zweiter Satz."
    assert Word(10, 12, " ") not in passages[0].words
    assert build_passages("s1", [Segment(0, 1, ""), Segment(1, 2, "  ")]) == []
    assert build_passages("s1", []) == []


def test_a_short_tail_is_merged_into_the_previous_passage() -> None:
    segments = [segment(0, 25, "Ein ganzer Absatz."), segment(25, 30, "Danke.")]
    passages = build_passages("s1", segments)
    assert [(p.start, p.end) for p in passages] == [(0, 30)]


def test_a_tail_of_half_the_minimum_or_more_stands_alone() -> None:
    segments = [segment(0, 25, "Ein ganzer Absatz."), segment(25, 25 + MIN_SECONDS / 2, "Tschüss")]
    passages = build_passages("s1", segments)
    assert [(p.start, p.end) for p in passages] == [(0, 25), (25, 25 + MIN_SECONDS / 2)]


def test_a_short_tail_is_not_merged_when_that_would_exceed_the_maximum() -> None:
    segments = [segment(0, 42, "Ein langer Absatz."), segment(42, 47, "Danke.")]
    passages = build_passages("s1", segments)
    assert [(p.start, p.end) for p in passages] == [(0, 42), (42, 47)]


def test_segments_without_word_timestamps_become_one_word() -> None:
    passages = build_passages("s1", [Segment(3.0, 7.5, "  Ohne Wortzeiten.  ")])
    assert passages[0].words == (Word(3.0, 7.5, " Ohne Wortzeiten."),)
    assert passages[0].text == "Ohne Wortzeiten."


def test_positions_are_consecutive_and_words_kept_in_order() -> None:
    segments = [spoken(i * 6.0, f"Satz Nummer {i} ist hier zu Ende.") for i in range(30)]
    passages = build_passages("stmt", segments)
    assert len(passages) > 3
    assert [p.position for p in passages] == list(range(len(passages)))
    assert all(p.statement_id == "stmt" for p in passages)
    assert [w for p in passages for w in p.words] == [w for s in segments for w in s.words]


def random_segments(rng: random.Random) -> list[Segment]:
    segments = []
    t = rng.uniform(0, 3)
    for i in range(rng.randint(0, 40)):
        length = rng.choice([rng.uniform(0.5, 12), rng.uniform(0.5, 12), rng.uniform(30, 80)])
        gap = rng.choice([0.0, 0.0, rng.uniform(0, 4)])
        if rng.random() < 0.1:
            text = rng.choice(["", "   "])
            segments.append(Segment(t, t + length, text))
        else:
            end = rng.choice(["", "", ".", "!", "?", "…", ","])
            segments.append(segment(round(t, 3), round(t + length, 3), f"wort{i} nummer{i}{end}"))
        t += length + gap
    return segments


@pytest.mark.parametrize("seed", range(60))
def test_invariants_on_random_transcripts(seed: int) -> None:
    segments = random_segments(random.Random(seed))
    spoken_segments = [s for s in segments if s.text.strip()]
    passages = build_passages("s", segments)
    groups = groups_of(passages, spoken_segments)

    # every non-empty segment exactly once, whole, in order; nothing else
    assert [s for g in groups for s in g] == spoken_segments
    assert [w for p in passages for w in p.words] == [w for s in spoken_segments for w in s.words]
    assert [p.position for p in passages] == list(range(len(passages)))
    for passage, group in zip(passages, groups, strict=True):
        assert (passage.start, passage.end) == (group[0].start, group[-1].end)
        # no passage is longer than the maximum unless it is one segment that alone is
        if passage.end - passage.start > MAX_SECONDS:
            assert len(group) == 1
    for index, (passage, group) in enumerate(zip(passages, groups, strict=True)):
        is_last = index == len(passages) - 1
        for j, seg in enumerate(group[:-1]):
            # no cut was skipped: a sentence end after the minimum ends the passage...
            reached = seg.end - group[0].start >= MIN_SECONDS
            ends_sentence = seg.text.strip().endswith(SENTENCE_END)
            if reached and ends_sentence:
                # ...unless the rest is the short tail merged at the very end
                assert is_last
                tail = group[j + 1 :]
                assert tail[-1].end - tail[0].start < MIN_SECONDS / 2
        if not is_last:
            length = passage.end - passage.start
            cut_at_sentence = length >= MIN_SECONDS and group[-1].text.strip().endswith(
                SENTENCE_END
            )
            window_full = groups[index + 1][0].end - passage.start > MAX_SECONDS
            assert cut_at_sentence or window_full
