"""GET /api/search: the moments in which words were said."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import CatalogDep, EngineDep, SettingsDep
from api.schemas import errors, links_to_statement
from archive import search as searching
from archive.dates import date_option

router = APIRouter(tags=["search"])
_YEAR = r"[1-9]\d{3}"
_LEAP_YEAR = r"(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:1[26]|[2468][048]|[3579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
)
# Exactly the calendar dates archive.dates accepts, so that the OpenAPI description says what is
# valid; empty means no bound (a form left blank). Checked by date_option, which names the value.
DATE = rf"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2]))?|{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)?$"
DATE_HELP = "YYYY, YYYY-MM or YYYY-MM-DD, a calendar date; inclusive"


def build_query(
    q: Annotated[
        str, Query(max_length=1000, description='Words; "a phrase"; -excluded; prefix*')
    ] = "",
    municipality: Annotated[str | None, Query(max_length=200)] = None,
    speaker: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    date_from: Annotated[
        str | None,
        Query(
            alias="from", max_length=10, description=DATE_HELP, json_schema_extra={"pattern": DATE}
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(
            alias="to", max_length=10, description=DATE_HELP, json_schema_extra={"pattern": DATE}
        ),
    ] = None,
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
        date_from=date_option(date_from or None, "from"),  # blank: a form field left empty
        date_to=date_option(date_to or None, "to"),
        sort=sort,
        page=page,
        per_page=per_page,
    )


SearchQueryDep = Annotated[searching.Query, Depends(build_query)]


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
