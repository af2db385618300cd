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


ERRORS = {
    400: "A malformed request, such as a Range header that is not `bytes=…`.",
    404: "No such statement, or none the public may see.",
    416: "A Range that starts beyond the end of the file.",
    422: "A parameter with an invalid value; the message names it.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each with the one error shape."""
    return {status: {"model": ErrorOut, "description": ERRORS[status]} for status in statuses}


def links_to_statement(pointer: str) -> dict[str, Any]:
    """OpenAPI links from a response naming a statement's id at the JSON `pointer` to the
    statement, its transcript and its media (clients and schemathesis follow them)."""
    statement = {"statement_id": f"$response.body#{pointer}"}
    return {
        name: {"operationId": operation, "parameters": statement}
        for name, operation in (
            ("statement", "get_statement"),
            ("transcript", "get_transcript"),
            ("media", "get_media"),
        )
    }
