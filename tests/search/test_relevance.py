"""The German relevance set, scored on the embedded engine."""

from __future__ import annotations

from pathlib import Path

from archive.catalog import Catalog
from archive.search.fts import FtsEngine
from tests.search.relevance import evaluate, format_report, seed


def test_relevance_set(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = FtsEngine(catalog)
        report = evaluate(catalog, engine, seed(catalog, engine))
    print(format_report(report))
    assert [r.query for r in report.rows if r.violations] == []
