"""Choosing the search engine from the settings."""

from __future__ import annotations

from archive.catalog import Catalog
from archive.config import Settings
from archive.search import Engine
from archive.search.fts import FtsEngine


def open_engine(settings: Settings, catalog: Catalog) -> Engine:
    """The embedded FTS5 engine; Meilisearch joins here when STADTSTIMME_MEILI_URL is set."""
    return FtsEngine(catalog)
