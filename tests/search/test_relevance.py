"""The German relevance set, scored on the embedded engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.catalog import Catalog
from tests.search.conftest import make_engine
from tests.search.relevance import evaluate, format_report, seed


@pytest.mark.parametrize("kind", ["fts", "tantivy"])
def test_relevance_set(tmp_path: Path, kind: str) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = make_engine(kind, catalog)
        report = evaluate(catalog, engine, seed(catalog, engine))
    print(format_report(report))
    assert [r.query for r in report.rows if r.violations] == []
