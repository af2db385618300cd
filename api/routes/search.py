"""GET /api/search: the moments in which words were said."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CatalogDep, EngineDep, SearchQueryDep, SettingsDep
from api.schemas import errors, links_to_statement
from archive import search as searching

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    operation_id="search",
    response_model=searching.Results,
    responses=errors(422) | {200: {"links": links_to_statement("/statements/0/id")}},
)
def search(
    query: SearchQueryDep,
    catalog: CatalogDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> searching.Results:
    """Statements that say the query, each with its best moments and a link to each."""
    return searching.search(catalog, engine, query, settings.public_url)
