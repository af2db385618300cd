"""Transcripts as WebVTT, SRT and plain text."""

from __future__ import annotations

from archive.export import transcript_text
from archive.models import Segment

SEGMENTS = [
    Segment(0.59, 6.55, " Liebe Kölnerinnen und Kölner."),
    Segment(7.0, 7.5, "   "),
    Segment(3725.004, 3727.5, " Kinder <unter> 6 & Eltern -->\n frei."),
]


def test_webvtt() -> None:
    assert transcript_text(SEGMENTS, "vtt") == (
        "WEBVTT\n\n"
        "00:00:00.590 --> 00:00:06.550\nLiebe Kölnerinnen und Kölner.\n\n"
        "01:02:05.004 --> 01:02:07.500\nKinder &lt;unter> 6 &amp; Eltern → frei.\n"
    )


def test_srt_numbers_cues_and_uses_commas() -> None:
    assert transcript_text(SEGMENTS, "srt") == (
        "1\n00:00:00,590 --> 00:00:06,550\nLiebe Kölnerinnen und Kölner.\n\n"
        "2\n01:02:05,004 --> 01:02:07,500\nKinder <unter> 6 & Eltern → frei.\n"
    )


def test_plain_text_is_a_line_per_segment() -> None:
    assert transcript_text(SEGMENTS, "txt") == (
        "Liebe Kölnerinnen und Kölner.\nKinder <unter> 6 & Eltern → frei.\n"
    )


def test_an_empty_transcript_is_a_valid_file() -> None:
    assert transcript_text([], "vtt") == "WEBVTT\n\n"
    assert transcript_text([], "srt") == ""
