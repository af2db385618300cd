"""Choosing the search engine from the settings."""

from __future__ import annotations

from archive.catalog import Catalog
from archive.config import Settings
from archive.search import Engine
from archive.search.fts import FtsEngine

MEILI_INDEX = "passages"


def open_engine(settings: Settings, catalog: Catalog) -> Engine:
    """Meilisearch when STADTSTIMME_MEILI_URL is set, else the embedded FTS5 engine.

    The Meilisearch module is imported only then, so that the default path never loads its
    client."""
    if settings.meili_url:
        from archive.search.meili import MeiliEngine

        return MeiliEngine(catalog, settings.meili_url, settings.meili_key, index=MEILI_INDEX)
    return FtsEngine(catalog)
