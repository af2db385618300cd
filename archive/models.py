"""Plain dataclasses passed between the stages: no behaviour beyond small derived values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, NamedTuple

from archive.dates import PartialDate

MediaKind = Literal["video", "audio"]


class Status(StrEnum):
    QUEUED = "queued"
    FETCHED = "fetched"
    TRANSCRIBED = "transcribed"
    INDEXED = "indexed"
    FAILED = "failed"
    HIDDEN = "hidden"


class Word(NamedTuple):
    """A spoken word as Whisper timed it. A tuple: transcripts hold millions of them."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Passage:
    """Consecutive segments of one statement: the unit the search engines index."""

    statement_id: str
    position: int
    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "".join(word.text for word in self.words).strip()


@dataclass
class Statement:
    id: str
    origin: str
    title: str
    status: Status = Status.QUEUED
    published: PartialDate | None = None
    duration: float | None = None
    municipality: str | None = None
    speaker: str | None = None
    uploader: str | None = None
    source: str | None = None
    language: str | None = None
    page_url: str | None = None
    media_url: str | None = None
    thumbnail: str | None = None
    extractor: str | None = None
    media_file: str | None = None
    error: str | None = None
    note: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    seq: int | None = None
    transcript_origin: str | None = None  # who wrote the transcript (Transcript.origin)
    # What the archive keeps in media_file: "video" or "audio"; None when it keeps nothing.
    media_kind: MediaKind | None = None
    poster_file: str | None = None  # a still of the video (media_dir relative), for the pages
    source_id: int | None = None  # the source it came from (sources.id), if any
    edited: str | None = None  # the fields an operator edited, comma-separated (not overwritten)


TRANSCRIBED_BY_WHISPER = "whisper"
CAPTIONS_FROM_SOURCE = "source"  # the source's own (human-made) captions


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    origin: str = TRANSCRIBED_BY_WHISPER  # or CAPTIONS_FROM_SOURCE
    note: str | None = None  # what a reader should know of how it was made
