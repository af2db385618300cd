"""The one way a statement becomes searchable: the pipeline, `reindex`, the worker, the tests'
seed data and the benchmarks all call `index_statement()`, so that indexing changes in one place.

Each stage of a statement also has a pure check whether its output exists, which the pipeline
uses to skip what a crashed run already did.
"""

from __future__ import annotations

from pathlib import Path

from archive.catalog import Catalog
from archive.models import Statement, Status
from archive.search import Engine


def is_fetched(statement: Statement, media_dir: Path) -> bool:
    """The statement's media is archived whole (a file lands under its final name only whole)."""
    return (
        statement.status != Status.QUEUED
        and bool(statement.media_file)
        and (media_dir / str(statement.media_file)).is_file()
    )


def is_transcribed(statement: Statement) -> bool:
    return statement.status in (Status.TRANSCRIBED, Status.INDEXED, Status.HIDDEN)


def is_indexed(statement: Statement) -> bool:
    return statement.status in (Status.INDEXED, Status.HIDDEN)


def index_statement(catalog: Catalog, engine: Engine, statement_id: str) -> Statement:
    """Index a transcribed statement's passages and mark it indexed, in one catalog transaction,
    so that a statement never reads as indexed without being searchable."""
    statement = catalog.get(statement_id)
    with catalog.transaction():
        engine.index(statement, catalog.passages(statement_id))
        catalog.set_status(statement_id, Status.INDEXED)
    return catalog.get(statement_id)
