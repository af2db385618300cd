"""The JSON shapes of the API, built from the archive's dataclasses."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StatementOut(BaseModel):
    id: str
    title: str
    published: str | None
    duration: float | None
    municipality: str | None
    speaker: str | None
    uploader: str | None
    language: str | None
    page_url: str | None
    thumbnail: str | None
    note: str | None
    link: str
    media: str


class WordOut(BaseModel):
    start: float
    end: float
    text: str


class SegmentOut(BaseModel):
    start: float
    end: float
    text: str
    words: list[WordOut]


class StatementDetail(StatementOut):
    segments: list[SegmentOut]


class PassageHitOut(BaseModel):
    start: float
    end: float
    second: int
    snippet: str
    snippet_html: str
    link: str
    source_link: str | None


class StatementHitOut(StatementOut):
    passages: list[PassageHitOut]


class ResultsOut(BaseModel):
    query: str
    total: int = Field(description="Statements that match (not passages).")
    page: int
    per_page: int
    pages: int
    took_ms: float
    suggestion: str | None = Field(description="The query with unknown words spelled as said.")
    corrected: bool = Field(description="True when the results are the suggestion's.")
    facets: dict[str, dict[str, int]] = Field(
        description="Matching statements per municipality, speaker and year."
    )
    trend: dict[str, int] = Field(description="Matching passages per month (YYYY-MM).")
    statements: list[StatementHitOut]


class StatementPage(BaseModel):
    total: int
    page: int
    per_page: int
    statements: list[StatementOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
