"""The German relevance set, scored on the embedded tantivy engine."""

from __future__ import annotations

from pathlib import Path

from archive.catalog import Catalog
from tests.search.conftest import make_engine
from tests.search.relevance import evaluate, format_report, seed


def test_relevance_set(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = make_engine("tantivy", catalog)
        report = evaluate(catalog, engine, seed(catalog, engine))
    print(format_report(report))
    assert [r.query for r in report.rows if r.violations] == []
    assert [r.query for r in report.rows if not r.ok] == []
    assert report.mean("recall") == 1.0
