"""Choosing the search engine from the settings."""

from __future__ import annotations

from archive.catalog import Catalog
from archive.config import Settings
from archive.search import Engine

MEILI_INDEX = "passages"


def open_engine(settings: Settings, catalog: Catalog) -> Engine:
    """Meilisearch when STADTSTIMME_MEILI_URL is set, else the embedded tantivy index in the
    data directory; for a catalog from before tantivy whose index is not built yet, its FTS5
    index, read-only, until a writing command builds the tantivy index
    (archive.indexing.prepare_index).

    The Meilisearch module is imported only when chosen, so that the default path never loads
    its client."""
    if settings.meili_url:
        from archive.search.meili import MeiliEngine

        return MeiliEngine(catalog, settings.meili_url, settings.meili_key, index=MEILI_INDEX)
    from archive.search.tantivy import TantivyEngine, layout

    # A stat of current.json first: the catalog is asked only while no index exists.
    unbuilt = catalog.readonly and layout(settings.index_dir).current() is None
    if unbuilt and catalog.has_fts_index():
        from archive.search.fts import LegacyFtsEngine

        return LegacyFtsEngine(catalog, lambda: TantivyEngine(catalog, settings.index_dir))
    return TantivyEngine(catalog, settings.index_dir)
