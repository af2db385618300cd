"""Captions cut from word timings to subtitle norms: on real model output (German speech made
with espeak-ng, transcribed by the real Whisper base model), read back by real parsers
(webvtt-py, srt), and over many generated word sequences (hypothesis)."""

from __future__ import annotations

import io
import itertools
import wave
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.captions import (
    MAX_CPS,
    MAX_LEAD_IN,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_PAUSE,
    MAX_SECONDS,
    MIN_SECONDS,
    Cue,
    cues_of,
    is_sentence_end,
    paragraphs_of,
    words_of,
)
from archive.export import transcript_text
from archive.models import Segment, Word
from ingest.transcribe import transcribe
from tests import media

EPSILON = 1e-6


def check_norms(cues: list[Cue], segments: list[Segment], duration: float | None) -> None:
    """Every norm holds for every cue, or the cue is one of the documented exceptions."""
    units = words_of(segments)
    assert [w for cue in cues for w in cue.words] == units  # every word, once, in order
    assert [line for cue in cues for line in cue.lines if not line.strip()] == []
    for index, cue in enumerate(cues):
        following = cues[index + 1] if index + 1 < len(cues) else None
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert " ".join(cue.lines) == " ".join(w.text for w in cue.words)  # nothing shortened
        for line in cue.lines:
            assert len(line) <= MAX_LINE_CHARS or len(cue.words) == 1, cue
        assert cue.start < cue.end, cue
        assert cue.seconds <= MAX_SECONDS + EPSILON, cue
        gaps = [b.start - a.end for a, b in itertools.pairwise(cue.words)]
        assert all(gap <= MAX_PAUSE for gap in gaps), cue
        if following is not None:
            assert cue.end <= following.start + EPSILON, (cue, following)
        if cue.seconds < MIN_SECONDS - EPSILON or cue.cps > MAX_CPS + EPSILON:
            # The exception: held until the next cue, for MAX_SECONDS, or to the media's end.
            assert cue.held_to_limit, cue
            limits = [cue.start + MAX_SECONDS]
            limits += [following.start] if following else [duration] if duration else []
            assert any(abs(cue.end - limit) < EPSILON for limit in limits), cue


def seconds_of(clock: str) -> float:
    hours, minutes, rest = clock.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def check_files(cues: list[Cue], segments: list[Segment], duration: float | None) -> None:
    """The WebVTT and SRT files parse with real parsers and hold the cues, to the millisecond."""
    vtt = webvtt.from_buffer(io.StringIO(transcript_text(segments, "vtt", duration)))
    subtitles = list(srt.parse(transcript_text(segments, "srt", duration), ignore_errors=False))
    assert len(vtt.captions) == len(subtitles) == len(cues)
    for cue, caption, subtitle in zip(cues, vtt.captions, subtitles, strict=True):
        for start, end in (
            (seconds_of(caption.start), seconds_of(caption.end)),
            (subtitle.start.total_seconds(), subtitle.end.total_seconds()),
        ):
            assert abs(start - cue.start) <= 0.0005 and abs(end - cue.end) <= 0.0005
            assert start < end
        assert subtitle.content.split("\n") == list(cue.lines)
        unescaped = [line.replace("&lt;", "<").replace("&amp;", "&") for line in caption.lines]
        assert unescaped == list(cue.lines)
    starts = [s.start for s in subtitles]
    ends = [s.end for s in subtitles]
    assert all(end <= start for end, start in zip(ends[:-1], starts[1:], strict=True))


# --- real speech, the real model ---------------------------------------------------------------

# Long sentences close together (one must be cut into several cues), then sentences after
# silences longer than MAX_PAUSE (no cue may span them).
DENSE = [
    ("", "Liebe Bürgerinnen und Bürger, heute spreche ich über unsere Stadt und über die Zukunft."),
    (
        "",
        "Die Maskenpflicht in der Innenstadt endet am Montag, aber in den Bussen gilt sie weiter.",
    ),
    ("", "Der Wochenmarkt am Bahnhof öffnet wieder für alle."),
]
SPARSE = [
    ("", "Die Gastronomie bekommt einen Gutschein."),
    ("", "Bleiben Sie gesund."),
    ("", "Danke."),
]


def join(parts: list[media.Clip], target: Path) -> media.Clip:
    frames = bytearray()
    for part in parts:
        with wave.open(str(part.path)) as handle:
            frames += handle.readframes(handle.getnframes())
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(media.RATE)
        out.writeframes(bytes(frames))
    return media.Clip(target, len(frames) / 2 / media.RATE)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory, whisper_model: Any) -> tuple[Any, ...]:
    work = tmp_path_factory.mktemp("captions")
    dense = media.build_speech(DENSE, work, "dense", lead=0.5, gap=0.3)
    sparse = media.build_speech(SPARSE, work, "sparse", lead=2.5, gap=2.5)
    clip = media.encode(join([dense, sparse], work / "joined.wav"), work / "joined.m4a", False)
    transcript = transcribe(whisper_model, clip.path, language="de")
    return list(transcript.segments), transcript.duration


@pytest.mark.slow
def test_captions_of_real_speech_follow_the_norms(spoken: tuple[Any, ...]) -> None:
    segments, duration = spoken
    cues = cues_of(segments, duration)
    assert sum(len(s.words) for s in segments) > 40  # the model heard the speech
    assert len(cues) >= 6
    check_norms(cues, segments, duration)
    check_files(cues, segments, duration)
    # The first sentence (84 characters) ends its cue, or breaks at its comma when it is too
    # long to read in the time the model gives it.
    assert cues[0].text.endswith(("Bürger,", ".")), cues[0]
    # Whisper's segments broke these norms; the cues do not.
    assert max(len(s.text.strip()) for s in segments) > MAX_LINE_CHARS


@pytest.mark.slow
def test_real_captions_break_at_sentences_and_not_across_pauses(spoken: tuple[Any, ...]) -> None:
    segments, duration = spoken
    cues = cues_of(segments, duration)
    units = words_of(segments)
    pauses = [b.start for a, b in itertools.pairwise(units) if b.start - a.end > MAX_PAUSE]
    assert len(pauses) >= 2  # the silences of SPARSE were heard as pauses
    starts = {cue.start for cue in cues}
    assert all(start in starts for start in pauses)  # a new cue after each pause
    for cue in cues:
        # each cue ends where a sentence or a clause does
        assert is_sentence_end(cue.words[-1].text) or cue.words[-1].text.endswith(","), cue
    assert sum(is_sentence_end(cue.words[-1].text) for cue in cues) >= 4


@pytest.mark.slow
def test_real_plain_text_keeps_paragraphs(spoken: tuple[Any, ...]) -> None:
    segments, _ = spoken
    paragraphs = paragraphs_of(segments)
    assert len(paragraphs) >= 2  # the long silences start new paragraphs
    assert all(is_sentence_end(p.split()[-1]) for p in paragraphs[:-1])
    text = transcript_text(segments, "txt")
    assert text == "\n\n".join(paragraphs) + "\n"
    assert " ".join(text.split()) == " ".join(w.text for w in words_of(segments))


# --- cut rules on chosen words -----------------------------------------------------------------


def timed(
    text: str, start: float = 0.0, step: float = 0.4, gaps: dict[int, float] | None = None
) -> Segment:
    """A segment of the words of `text`, each `step` long, with pauses after the given words."""
    words: list[Word] = []
    moment = start
    for index, word in enumerate(text.split()):
        words.append(Word(moment, moment + step, " " + word, 0.9))
        moment += step + (gaps or {}).get(index, 0.0)
    return Segment(words[0].start, words[-1].end, text, tuple(words))


def test_a_sentence_that_fits_is_one_cue_and_lines_break_at_the_comma() -> None:
    segment = timed(
        "Liebe Bürgerinnen und Bürger, heute spreche ich über unsere Stadt. Danke für alles."
    )
    cues = cues_of([segment])
    assert [c.lines for c in cues] == [
        ("Liebe Bürgerinnen und Bürger,", "heute spreche ich über unsere Stadt."),
        ("Danke für alles.",),
    ]
    check_norms(cues, [segment], None)


def test_no_line_or_cue_ends_on_an_article_or_preposition_when_avoidable() -> None:
    segment = timed(
        "Am Bahnhof beginnen im Juli die Bauarbeiten an der neuen Brücke über den Fluss"
    )
    cues = cues_of([segment])
    for cue in cues:
        for line in cue.lines:
            assert line.split()[-1] not in {"im", "die", "an", "der", "über", "den", "Am"}, cues
    check_norms(cues, [segment], None)


def test_a_pause_always_ends_a_cue() -> None:
    segment = timed("Ja das gilt ab Montag", gaps={1: MAX_PAUSE + 0.1})
    cues = cues_of([segment], duration=10.0)
    assert [c.text for c in cues] == ["Ja das", "gilt ab Montag"]
    check_norms(cues, [segment], 10.0)


def test_short_cues_are_held_for_a_second_and_until_the_next() -> None:
    segment = timed("Danke.", step=0.2)
    (cue,) = cues_of([segment], duration=5.0)
    assert cue.seconds == pytest.approx(MIN_SECONDS)
    (cut,) = cues_of([segment], duration=0.6)  # the media ends: held to its end, no longer
    assert cut.end == pytest.approx(0.6) and cut.held_to_limit


def test_continued_words_are_never_broken_and_segments_without_words_are_spread() -> None:
    words = (
        Word(0.0, 0.5, " Weide", 0.9),
        Word(0.5, 0.9, "-Zone", 0.4),
        Word(1.0, 1.4, " hier", 1),
    )
    units = words_of([Segment(0.0, 1.4, " Weide-Zone hier", words), Segment(2.0, 3.0, "a b")])
    assert [(u.text, u.start, u.end, u.probability) for u in units] == [
        ("Weide-Zone", 0.0, 0.9, 0.4),
        ("hier", 1.0, 1.4, 1),
        ("a", 2.0, 2.5, 1.0),
        ("b", 2.5, 3.0, 1.0),
    ]


def test_ordinals_and_abbreviations_do_not_end_sentences() -> None:
    assert is_sentence_end("Stadt.") and is_sentence_end("gesund!") and is_sentence_end("so?«")
    assert not is_sentence_end("3.") and not is_sentence_end("Dr.") and not is_sentence_end("z.B.")


# --- properties over generated words ----------------------------------------------------------

TEXTS = st.one_of(
    st.sampled_from(["und", "die", "Stadt", "wir", "im", "Bahnhof,", "Montag.", "gesund!", "Ja."]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=1, max_size=60),  # long words
    st.text(alphabet="abcdeäß", min_size=1, max_size=12).map(lambda t: t + "."),
)
WORDS = st.lists(
    st.tuples(
        TEXTS,
        st.floats(0.0, 1.2),  # seconds of the word: 0 is what Whisper sometimes gives
        st.one_of(st.just(0.0), st.floats(0.0, 0.6), st.floats(0.0, 4.0)),  # gap before
        st.booleans(),  # continues the previous word (no leading space)
        st.booleans(),  # starts a new segment
    ),
    min_size=1,
    max_size=80,
)


def build(spec: list[tuple[str, float, float, bool, bool]]) -> list[Segment]:
    segments: list[list[Word]] = []
    moment = 0.0
    for text, seconds, gap, joined, new_segment in spec:
        moment += gap
        word = Word(moment, moment + seconds, ("" if joined else " ") + text, 0.7)
        moment += seconds
        if new_segment or not segments:
            segments.append([word])
        else:
            segments[-1].append(word)
    return [
        Segment(ws[0].start, ws[-1].end, "".join(w.text for w in ws), tuple(ws)) for ws in segments
    ]


@settings(max_examples=300, deadline=None)
@given(WORDS, st.booleans())
def test_every_norm_holds_or_a_documented_exception_applies(
    spec: list[tuple[str, float, float, bool, bool]], bounded: bool
) -> None:
    segments = build(spec)
    duration = segments[-1].end + 0.2 if bounded else None
    cues = cues_of(segments, duration)
    check_norms(cues, segments, duration)
    check_files(cues, segments, duration)


@settings(max_examples=100, deadline=None)
@given(st.integers(20, 400), st.floats(0.02, 0.1))
def test_fast_speech_is_cut_not_shortened(count: int, seconds: float) -> None:
    """Words far faster than MAX_CPS allows: every cue is full or held as long as it can be."""
    segment = timed(" ".join(["Verwaltungsgericht"] * count), step=seconds)
    cues = cues_of([segment])
    check_norms(cues, [segment], None)
    assert all(c.cps <= MAX_CPS + EPSILON or c.held_to_limit for c in cues)


def test_a_single_word_longer_than_a_line_stands_alone() -> None:
    long = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz"
    segment = timed(f"Das {long} gilt.", step=2.0)
    cues = cues_of([segment])
    assert (long,) in [c.lines for c in cues]
    check_norms(cues, [segment], None)


def test_a_cue_at_the_very_end_of_the_media_starts_earlier_to_be_readable() -> None:
    """Whisper may time the last words in the media's last instant: the cue then appears up to
    MAX_LEAD_IN before them (never over the previous cue) instead of flashing for 10 ms."""
    segments = [
        Segment(
            0.5, 1.5, " Guten Tag.", (Word(0.5, 1.0, " Guten", 0.9), Word(1.0, 1.5, " Tag.", 0.9))
        ),
        Segment(4.0, 4.01, " Danke.", (Word(4.0, 4.01, " Danke.", 0.9),)),
    ]
    first, last = cues_of(segments, duration=4.01)
    assert last.text == "Danke."
    assert last.end == pytest.approx(4.01)
    assert last.start == pytest.approx(4.01 - MIN_SECONDS)
    assert last.start >= 4.0 - MAX_LEAD_IN
    assert last.start >= first.end and not last.held_to_limit
    # Where the previous cue is held up to the last word's run, the lead-in stops at its end.
    said = " Guten Tag, liebe Bürgerinnen und Bürger."  # 41 characters: held 2.4 s for 17 cps
    close = [
        Segment(0.5, 1.0, said, (Word(0.5, 1.0, said, 0.9),)),
        Segment(2.6, 2.61, " Danke.", (Word(2.6, 2.61, " Danke.", 0.9),)),
    ]
    first, last = cues_of(close, duration=2.61)
    assert first.end == pytest.approx(2.6)
    assert last.start == pytest.approx(first.end)
