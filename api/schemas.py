"""The API's own JSON shapes. What it says about statements and searches is the archive's models
(archive.search.Results, StatementView; archive.export.StatementDetail), which the pages and the
CLI's `--json` use too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from archive.search import StatementView


class StatementPage(BaseModel):
    total: int = Field(description="Statements in the archive.")
    page: int
    per_page: int
    statements: list[StatementView]


class ErrorBody(BaseModel):
    code: str = Field(description="What went wrong, for programs: not_found, invalid_input, …")
    message: str = Field(description="What went wrong, for people; names the input.")


class ErrorOut(BaseModel):
    error: ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each with the one error shape."""
    return {status: {"model": ErrorOut} for status in statuses}
