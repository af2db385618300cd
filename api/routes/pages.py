"""The public pages: a search form with results, and a statement page whose player starts at t.

They call the same functions as the JSON API and are templates over their results.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CatalogDep, EngineDep, SettingsDep
from api.routes.statements import visible_statement
from api.templating import templates
from archive import search as searching
from archive.models import Statement

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(
    request: Request,
    catalog: CatalogDep,
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    results = None
    recent: list[Statement] = []
    if q.strip():
        query = searching.Query(text=q, page=page)
        results = searching.search(catalog, engine, query, None)
    else:
        _, recent = catalog.list_statements(limit=20)
    return templates.TemplateResponse(
        request, "search.html", {"q": q, "results": results, "recent": recent}
    )


@router.get("/statements/{statement_id}")
def statement_page(
    request: Request,
    statement_id: str,
    catalog: CatalogDep,
    t: Annotated[float, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    statement = visible_statement(catalog, statement_id)
    return templates.TemplateResponse(
        request,
        "statement.html",
        {"statement": statement, "segments": catalog.segments(statement.id), "t": int(t)},
    )
