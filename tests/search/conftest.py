"""The search engines under one contract: the embedded tantivy engine always, Meilisearch when a
server is given (MEILI_URL, MEILI_MASTER_KEY); no Meilisearch server can be installed here, so
without one those tests are skipped, saying why."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.search import Engine
from archive.search.tantivy import TantivyEngine
from tests.search.relevance import seed

MEILI_URL = os.environ.get("MEILI_URL")
NO_MEILI = "MEILI_URL is not set: no Meilisearch server on this machine (none can be installed)"


@dataclass
class Seeded:
    catalog: Catalog
    engine: Engine
    ids: dict[str, str]


def make_engine(kind: str, catalog: Catalog) -> Engine:
    if kind == "tantivy":
        return TantivyEngine(catalog, catalog.path.parent / "index")
    if not MEILI_URL:
        pytest.skip(NO_MEILI)
    from archive.search.meili import MeiliEngine

    return MeiliEngine(
        catalog, MEILI_URL, os.environ.get("MEILI_MASTER_KEY"), index=f"test_{uuid.uuid4().hex}"
    )


@pytest.fixture(params=["tantivy", "meili"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def seeded(engine_kind: str, tmp_path: Path) -> Iterator[Seeded]:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = make_engine(engine_kind, catalog)
        try:
            yield Seeded(catalog, engine, seed(catalog, engine))
        finally:
            drop = getattr(engine, "drop", None)
            if drop is not None:
                drop()
