"""Transcripts as WebVTT, SRT and plain text, and words with Whisper's confidence."""

from __future__ import annotations

import io

import srt
import webvtt

from archive.export import DOUBTFUL_BELOW, SegmentView, transcript_text
from archive.models import Segment, Word


def words(*spec: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(start, end, text, 0.9) for start, end, text in spec)


SEGMENTS = [
    Segment(
        0.59,
        2.0,
        " Liebe Kölnerinnen und Kölner.",
        words(
            (0.59, 1.0, " Liebe"),
            (1.0, 1.6, " Kölnerinnen"),
            (1.6, 1.7, " und"),
            (1.7, 2.0, " Kölner."),
        ),
    ),
    Segment(7.0, 7.5, "   "),
    Segment(3725.004, 3727.5, " Kinder <unter> 6 & Eltern -->\n frei."),
]


def test_webvtt_cues_escape_and_are_held_for_reading_at_17_characters_a_second() -> None:
    assert transcript_text(SEGMENTS, "vtt") == (
        "WEBVTT\n\n"
        "00:00:00.590 --> 00:00:02.296\nLiebe Kölnerinnen und Kölner.\n\n"
        "01:02:05.004 --> 01:02:07.500\nKinder &lt;unter> 6 &amp; Eltern → frei.\n"
    )


def test_srt_numbers_cues_and_uses_commas() -> None:
    assert transcript_text(SEGMENTS, "srt") == (
        "1\n00:00:00,590 --> 00:00:02,296\nLiebe Kölnerinnen und Kölner.\n\n"
        "2\n01:02:05,004 --> 01:02:07,500\nKinder <unter> 6 & Eltern → frei.\n"
    )


def test_long_segments_become_several_cues_of_two_lines() -> None:
    text = (
        "Die Zahl der Neuinfektionen steigt wieder, deshalb gilt ab Montag eine Maskenpflicht in "
        "der Innenstadt und am Bahnhof. Bitte halten Sie Abstand und bleiben Sie gesund."
    )
    segment = Segment(0.0, 17.0, text)  # Whisper's kind: 17 s, 160 characters, no word times
    cues = list(srt.parse(transcript_text([segment], "srt")))
    vtt = webvtt.from_buffer(io.StringIO(transcript_text([segment], "vtt")))
    assert len(cues) == len(vtt.captions) >= 3
    assert " ".join(" ".join(c.content.split("\n")) for c in cues) == text
    for cue in cues:
        assert len(cue.content.split("\n")) <= 2
        assert all(len(line) <= 42 for line in cue.content.split("\n"))
        assert 1.0 <= (cue.end - cue.start).total_seconds() <= 7.0
    assert cues[-1].content.replace("\n", " ") == "Bitte halten Sie Abstand und bleiben Sie gesund."


def test_plain_text_is_paragraphs() -> None:
    segments = [
        Segment(0.0, 1.0, " Erster Satz. Noch einer."),
        Segment(1.2, 2.0, " Dazu mehr."),
        Segment(5.0, 6.0, " Nach der Pause."),
    ]
    assert transcript_text(segments, "txt") == (
        "Erster Satz. Noch einer. Dazu mehr.\n\nNach der Pause.\n"
    )


def test_the_media_end_bounds_the_last_cue() -> None:
    segment = Segment(0.0, 0.3, " Danke.", words((0.0, 0.3, " Danke.")))
    assert "00:00:00.000 --> 00:00:01.000" in transcript_text([segment], "vtt")
    assert "00:00:00.000 --> 00:00:00.500" in transcript_text([segment], "vtt", duration=0.5)


def test_an_empty_transcript_is_a_valid_file() -> None:
    assert transcript_text([], "vtt") == "WEBVTT\n\n"
    assert transcript_text([], "srt") == ""
    assert transcript_text([], "txt") == ""
    assert webvtt.from_buffer(io.StringIO(transcript_text([], "vtt"))).captions == []


def test_words_keep_their_probability_and_doubtful_ones_are_marked() -> None:
    segment = Segment(
        0.0,
        1.0,
        " Liebergewinnen und",
        (Word(0.0, 0.6, " Liebergewinnen", 0.021), Word(0.6, 1.0, " und", 0.93)),
    )
    view = SegmentView.of(segment)
    assert [(w.text, w.probability, w.doubtful) for w in view.words] == [
        ("Liebergewinnen", 0.021, True),
        ("und", 0.93, False),
    ]
    edge = SegmentView.of(Segment(0, 1, " x", (Word(0, 1, " x", DOUBTFUL_BELOW),)))
    assert not edge.words[0].doubtful  # below the threshold, not at it
