"""The statement page: the player starting at t, captions, and the interactive transcript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CatalogDep, visible_statement
from api.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/statements/{statement_id}")
def statement_page(
    request: Request,
    statement_id: str,
    catalog: CatalogDep,
    t: Annotated[float, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    statement = visible_statement(catalog, statement_id)
    return render(
        request,
        "statement.html",
        {"statement": statement, "segments": catalog.segments(statement.id), "t": int(t)},
    )
