"""Dependencies shared by the routes: settings, a catalog connection per request, the engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request

from archive import search as searching
from archive.catalog import Catalog
from archive.config import Settings
from archive.dates import date_option
from archive.errors import NotFound
from archive.models import Statement, Status
from archive.search import Engine
from archive.search.engines import open_engine


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_catalog(settings: SettingsDep) -> Iterator[Catalog]:
    """A read-only connection: the server never writes the catalog."""
    catalog = Catalog(settings.catalog_path, readonly=True)
    try:
        yield catalog
    finally:
        catalog.close()


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def get_engine(settings: SettingsDep, catalog: CatalogDep) -> Engine:
    return open_engine(settings, catalog)


EngineDep = Annotated[Engine, Depends(get_engine)]


def visible_statement(catalog: CatalogDep, statement_id: str) -> Statement:
    """A statement the public may see: indexed, not hidden, not failed."""
    statement = catalog.find(statement_id)
    if statement is None or statement.status != Status.INDEXED:
        raise NotFound(f"no statement with id {statement_id!r}")
    return statement


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
