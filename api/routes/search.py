"""GET /api/search: the moments in which words were said."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import CatalogDep, EngineDep, SettingsDep
from api.schemas import ErrorOut, ResultsOut
from archive import search as searching
from archive.export import results_json

router = APIRouter(tags=["search"])
DATE = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"  # empty: no bound (a form left blank)


def build_query(
    q: Annotated[
        str, Query(max_length=1000, description='Words; "a phrase"; -excluded; prefix*')
    ] = "",
    municipality: Annotated[str | None, Query(max_length=200)] = None,
    speaker: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    date_from: Annotated[str | None, Query(alias="from", pattern=DATE)] = None,
    date_to: Annotated[str | None, Query(alias="to", pattern=DATE)] = None,
    sort: Annotated[searching.Sort, Query()] = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 10,
) -> searching.Query:
    return searching.Query(
        text=q,
        municipality=municipality or None,
        speaker=speaker or None,
        source=source or None,
        language=language or None,
        date_from=date_from or None,
        date_to=date_to or None,
        sort=sort,
        page=page,
        per_page=per_page,
    )


SearchQueryDep = Annotated[searching.Query, Depends(build_query)]


@router.get("/search", response_model=ResultsOut, responses={422: {"model": ErrorOut}})
def search(
    query: SearchQueryDep,
    catalog: CatalogDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Statements that say the query, each with its best moments and a link to each."""
    results = searching.search(catalog, engine, query, settings.public_url)
    return results_json(results, settings.public_url)
