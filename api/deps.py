"""Dependencies shared by the routes: settings, a catalog connection per request, the engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from archive.catalog import Catalog
from archive.config import Settings
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
