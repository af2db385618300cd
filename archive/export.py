"""Statements as JSON (the API and `--json` share one model for each shape) and transcripts as
WebVTT, SRT and plain text, for subtitles, for reading, and for whoever archives the archive.

Subtitles are cut from the word timings by `archive.captions` (Whisper's own segments ran up to
17 s and 231 characters); the plain text is paragraphs, not a line per segment.

Each word keeps Whisper's probability, and words below `DOUBTFUL_BELOW` are marked doubtful so
that a page can show them. faster-whisper's word probability is the mean probability of the
word's tokens; 0.5 is where the model itself gives even odds, a threshold that needs no tuning
to explain. On the real German clips (`bench/captions.py`) words below it were wrong far more
often than words above it; the figures are in that script's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from archive.captions import cues_of, paragraphs_of
from archive.models import (
    CAPTIONS_FROM_SOURCE,
    TRANSCRIBED_BY_WHISPER,
    Segment,
    Statement,
    Word,
)
from archive.search import StatementView

DOUBTFUL_BELOW = 0.5


class WordView(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float = Field(description="Seconds from the start of the media.")
    end: float = Field(description="Seconds from the start of the media.")
    text: str
    probability: float = Field(
        ge=0, le=1, description="Whisper's confidence in the word: its tokens' mean probability."
    )
    doubtful: bool = Field(
        description=f"True when the probability is below {DOUBTFUL_BELOW}: worth showing as unsure."
    )

    @classmethod
    def of(cls, word: Word) -> WordView:
        probability = min(1.0, max(0.0, word.probability))
        return cls(
            start=word.start,
            end=word.end,
            text=word.text.strip(),
            probability=probability,
            doubtful=probability < DOUBTFUL_BELOW,
        )


class SegmentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    text: str
    words: tuple[WordView, ...]

    @classmethod
    def of(cls, segment: Segment) -> SegmentView:
        words = tuple(WordView.of(w) for w in segment.words)
        return cls(start=segment.start, end=segment.end, text=segment.text, words=words)


class StatementDetail(StatementView):
    """A statement with its transcript, segment by segment, word by word, with times."""

    transcript_origin: Literal["whisper", "source"] | None = Field(
        description="Who wrote the transcript: Whisper, or the source's own captions (made by "
        "people, kept in place of a machine transcript); null before it is transcribed."
    )
    segments: tuple[SegmentView, ...]

    @classmethod
    def with_transcript(
        cls, statement: Statement, segments: Sequence[Segment], public_url: str | None
    ) -> StatementDetail:
        origin = statement.transcript_origin
        known = origin in (TRANSCRIBED_BY_WHISPER, CAPTIONS_FROM_SOURCE)
        return cls.of(
            statement,
            public_url,
            transcript_origin=origin if known else None,
            segments=tuple(SegmentView.of(s) for s in segments),
        )


def timecode(seconds: float | None) -> str:
    """'1:05' or '1:02:05', as people write a moment in a video."""
    whole = int(seconds or 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


TranscriptFormat = Literal["vtt", "srt", "txt"]
MEDIA_TYPES: dict[str, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    whole, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    """One line of cue text; WebVTT and SRT end a cue at a blank line and treat '-->' specially."""
    return " ".join(text.split()).replace("-->", "→")


def _vtt_line(text: str) -> str:
    return _cue_text(text).replace("&", "&amp;").replace("<", "&lt;")


def transcript_text(
    segments: Sequence[Segment], kind: TranscriptFormat, duration: float | None = None
) -> str:
    """The transcript as WebVTT or SRT cues that follow subtitle norms, or as plain text in
    paragraphs. `duration`, the media's length if known, bounds the last cue."""
    if kind == "txt":
        paragraphs = [" ".join(p.split()) for p in paragraphs_of(segments)]
        return "\n\n".join(paragraphs) + "\n" if paragraphs else ""
    blocks: list[str] = []
    for number, cue in enumerate(cues_of(segments, duration), start=1):
        if kind == "vtt":
            timing = f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}"
            lines = "\n".join(_vtt_line(line) for line in cue.lines)
            blocks.append(f"{timing}\n{lines}\n")
        else:
            timing = f"{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}"
            lines = "\n".join(_cue_text(line) for line in cue.lines)
            blocks.append(f"{number}\n{timing}\n{lines}\n")
    body = "\n".join(blocks)
    return f"WEBVTT\n\n{body}" if kind == "vtt" else body
