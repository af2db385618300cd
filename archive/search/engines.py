"""Choosing the search engine from the settings."""

from __future__ import annotations

from archive.catalog import Catalog
from archive.config import Settings
from archive.search import Engine
from archive.search.fts import FtsEngine

MEILI_INDEX = "passages"


def open_engine(settings: Settings, catalog: Catalog) -> Engine:
    """Meilisearch when STADTSTIMME_MEILI_URL is set, else the embedded engine that
    STADTSTIMME_ENGINE names: `fts` (SQLite FTS5, the default) or `tantivy`.

    The Meilisearch and tantivy modules are imported only when chosen, so that the default path
    never loads their libraries."""
    if settings.meili_url:
        from archive.search.meili import MeiliEngine

        return MeiliEngine(catalog, settings.meili_url, settings.meili_key, index=MEILI_INDEX)
    if settings.engine == "tantivy":
        from archive.search.tantivy import TantivyEngine

        return TantivyEngine(catalog, settings.index_dir)
    return FtsEngine(catalog)
