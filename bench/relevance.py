"""Relevance of the search on the German relevance set: recall@5, precision@5 and MRR per kind.

    python bench/relevance.py

Precision@5 is the share of relevant statements among those returned in the top five (not among
five slots), so a query with one relevant statement can reach 1.0. Queries that expect nothing
count as ok when they find nothing. Runs on the embedded tantivy engine, in a temporary catalog
and index directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.catalog import Catalog
from archive.search.tantivy import TantivyEngine
from tests.search.relevance import evaluate, format_report, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Catalog(Path(tmp) / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, Path(tmp) / "index")
        ids = seed(catalog, engine)
        print(format_report(evaluate(catalog, engine, ids)))


if __name__ == "__main__":
    main()
