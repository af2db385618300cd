from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.search.tantivy import TantivyEngine


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        yield catalog


@pytest.fixture
def engine(catalog: Catalog) -> TantivyEngine:
    """The embedded engine, its index beside the catalog (as `<data_dir>/index` is)."""
    return TantivyEngine(catalog, catalog.path.parent / "index")
