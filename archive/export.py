"""Statements as JSON (the API and `--json` share one model for each shape) and transcripts as
WebVTT, SRT and plain text, for subtitles, for reading, and for whoever archives the archive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from archive.models import Segment, Statement
from archive.search import StatementView


class WordView(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    text: str


class SegmentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    text: str
    words: tuple[WordView, ...]

    @classmethod
    def of(cls, segment: Segment) -> SegmentView:
        words = tuple(
            WordView(start=w.start, end=w.end, text=w.text.strip()) for w in segment.words
        )
        return cls(start=segment.start, end=segment.end, text=segment.text, words=words)


class StatementDetail(StatementView):
    """A statement with its transcript, segment by segment, word by word, with times."""

    segments: tuple[SegmentView, ...]

    @classmethod
    def with_transcript(
        cls, statement: Statement, segments: Sequence[Segment], public_url: str | None
    ) -> StatementDetail:
        return cls.of(statement, public_url, segments=tuple(SegmentView.of(s) for s in segments))


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


def transcript_text(segments: list[Segment], kind: TranscriptFormat) -> str:
    """The transcript as WebVTT, SRT or plain text (one segment a line)."""
    if kind == "txt":
        return "".join(_cue_text(s.text) + "\n" for s in segments if s.text.strip())
    cues: list[str] = []
    for number, segment in enumerate((s for s in segments if s.text.strip()), start=1):
        if kind == "vtt":
            timing = f"{_clock(segment.start, '.')} --> {_clock(segment.end, '.')}"
            text = _cue_text(segment.text).replace("&", "&amp;").replace("<", "&lt;")
            cues.append(f"{timing}\n{text}\n")
        else:
            timing = f"{_clock(segment.start, ',')} --> {_clock(segment.end, ',')}"
            cues.append(f"{number}\n{timing}\n{_cue_text(segment.text)}\n")
    body = "\n".join(cues)
    return f"WEBVTT\n\n{body}" if kind == "vtt" else body
