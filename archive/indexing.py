"""The one way statements become searchable and stop being so: the pipeline, `reindex`, the
worker, the tests' seed data and the benchmarks all go through here, so that the projection
protocol of archive.search.Engine (catalog first, index writes inside a catalog transaction,
reconciliation at start-up, rebuilds swapped in) is carried out in one place.

Each stage of a statement also has a pure check whether its output exists, which the pipeline
uses to skip what a crashed run already did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from archive.catalog import Catalog, now
from archive.models import Statement, Status
from archive.search import Built, Engine, Progress
from archive.stops import stop_point

log = logging.getLogger(__name__)

# Statuses whose passages an index holds (TRANSCRIBED only until the catalog marks them).
INDEXABLE = (Status.TRANSCRIBED, Status.INDEXED)
# A reconciliation that finds more statements than this to index rebuilds the index instead.
REBUILD_ABOVE = 500


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
    """Index a transcribed statement's passages and mark it indexed: the index commits inside
    the catalog transaction that marks it, so that a statement never reads as indexed without
    being searchable (a crash between the two leaves it transcribed, see `reconcile`). A
    statement that is no longer transcribed or indexed (taken down meanwhile) is left alone."""
    with catalog.transaction():
        statement = catalog.get(statement_id)
        if statement.status not in INDEXABLE:
            return statement
        engine.index(statement, catalog.passages(statement_id))
        stop_point("index:committed")
        catalog.set_status(statement_id, Status.INDEXED)
    return catalog.get(statement_id)


def take_down(catalog: Catalog, engine: Engine, statement_id: str) -> None:
    """Hide a statement: gone from search when the catalog commits (searches show only indexed
    statements), then gone from the index."""
    statement = catalog.get(statement_id)
    catalog.set_status(statement_id, Status.HIDDEN)
    stop_point("takedown:catalog")
    if statement.seq is not None:
        with catalog.transaction():
            engine.remove([statement.seq])


@dataclass(frozen=True)
class Reconciled:
    removed: int  # statements whose passages the index held but should not
    indexed: int  # statements indexed (anew)


def reconcile(catalog: Catalog, engine: Engine) -> Reconciled | None:
    """Bring the index in step with the catalog after a crash: in one catalog transaction,
    compare and remove the passages of statements that are not indexable (taken down, deleted);
    then index, each in a transaction of its own (so that other writers wait seconds, not
    minutes), the transcribed statements and the indexed ones whose passage count differs.
    None, having changed nothing, when more than REBUILD_ABOVE statements want indexing: a
    rebuild is then faster."""
    with catalog.transaction():
        state = catalog.index_state()
        counts = catalog.passage_counts()
        held = engine.held()
        stray = [seq for seq in held if seq not in state or state[seq][1] not in INDEXABLE]
        wanted = [
            statement_id
            for seq, (statement_id, status, _) in state.items()
            if status == Status.TRANSCRIBED
            or (status == Status.INDEXED and held.get(seq, 0) != counts.get(seq, 0))
        ]
        if len(wanted) > REBUILD_ABOVE:
            return None
        engine.remove(stray)
    for statement_id in wanted:
        index_statement(catalog, engine, statement_id)
    if stray or wanted:
        log.warning(
            "search index reconciled with the catalog: %d statements removed, %d indexed",
            len(stray),
            len(wanted),
        )
    return Reconciled(removed=len(stray), indexed=len(wanted))


def rebuild(catalog: Catalog, engine: Engine, progress: Progress | None = None) -> Built:
    """Build a new index of every transcribed and indexed statement while the current one goes
    on answering, then, in one catalog transaction: catch up with what changed meanwhile
    (statements changed since the build began are indexed into it anew, those no longer
    indexable removed from it), mark everything it holds indexed, swap it in."""
    started = now()
    built = engine.build(catalog.statements_with(INDEXABLE), progress)
    stop_point("rebuild:built")
    swapped = False
    try:
        with catalog.transaction():
            state = catalog.index_state()
            holds = set(built.statements)
            wanted = {seq for seq, (_, status, _) in state.items() if status in INDEXABLE}
            engine.remove(holds - wanted, into=built)
            for seq in sorted(wanted):
                statement_id, _, updated = state[seq]
                if seq not in holds or updated >= started:
                    engine.index(catalog.get(statement_id), catalog.passages(statement_id), built)
            catalog.mark_indexed(wanted)
            engine.swap(built)
            swapped = True
            stop_point("rebuild:swapped")
    except BaseException:
        if not swapped:
            engine.discard(built)
        raise
    _drop_fts(catalog)  # a catalog from before tantivy: its index is replaced now
    return built


def prepare_index(catalog: Catalog, engine: Engine, progress: Progress | None = None) -> str:
    """What a writing command does first: build the index when there is none (a new archive,
    or a catalog from before tantivy, whose FTS5 tables go once the new index answers), else
    reconcile it with the catalog. Says what it did: "built", "reconciled" or "in step"."""
    if not engine.ready():
        rebuild(catalog, engine, progress)
        return "built"
    done = reconcile(catalog, engine)
    if done is None:
        rebuild(catalog, engine, progress)
        return "built"
    _drop_fts(catalog)  # an upgrade killed after its swap left them
    return "reconciled" if done.removed or done.indexed else "in step"


def _drop_fts(catalog: Catalog) -> None:
    """Drop the FTS5 index of a catalog from before tantivy, once another index answers."""
    if catalog.has_fts_index():
        catalog.drop_fts_index()
        log.info("the catalog's FTS5 search tables were dropped: the new index answers")
