"""`stadtstimme reindex` on enough passages to analyse them in worker processes
(archive.search.bulk), through both ways the command is started: the installed script and
`python -m ingest` (whose main module a forkserver imports: it must not run the command again)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.models import Status, Transcript
from archive.passages import build_passages
from archive.search import Query, search
from archive.search.bulk import analysed_rows
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import new_statement, spoken

pytestmark = pytest.mark.slow
STATEMENTS = 30
SENTENCES = 300  # passages are cut from them: more than two chunks of passages in all
PLACES = ("Köln", "Bonn", "Kiel")


def _seed(data: Path) -> int:
    """Statements with many short passages, transcribed and not yet indexed; their passages."""
    with Catalog(data / "catalog.sqlite3") as catalog:
        for number in range(STATEMENTS):
            statement = new_statement(
                catalog, f"file:///statement-{number}", municipality=PLACES[number % 3]
            )
            segments = [
                spoken(
                    float(position * 30),
                    f"Satz {position} der Rede {number}: der Wochenmarkt in {PLACES[number % 3]}.",
                )
                for position in range(SENTENCES)
            ]
            passages = build_passages(statement.id, segments)
            transcript = Transcript("de", segments[-1].end, tuple(segments))
            catalog.save_transcript(statement.id, transcript, passages, None)
        return catalog.passage_count()


@pytest.mark.parametrize("started", ["script", "module"])
def test_reindex_in_worker_processes_indexes_every_passage(started: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    passages = _seed(data)
    assert passages > 2 * 2_000  # analysed_rows' default chunk: workers are used
    command = (
        [str(Path(sysconfig.get_path("scripts")) / "stadtstimme")]
        if started == "script"
        else [sys.executable, "-m", "ingest"]
    )
    done = subprocess.run(
        [*command, "reindex"],
        env=os.environ | {"STADTSTIMME_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"reindexed {STATEMENTS} statements, {passages} passages"
    assert f"building the search index: {passages} passages" in done.stderr

    with Catalog(data / "catalog.sqlite3", readonly=True) as catalog:
        engine = TantivyEngine(catalog, data / "index")
        assert catalog.status_counts() == {Status.INDEXED: STATEMENTS}
        assert sum(engine.held().values()) == passages
        found = search(catalog, engine, Query("Wochenmarkt", municipality="Kiel"), None)
        assert found.total == STATEMENTS // 3
        assert engine.vocabulary.starting_with("wochenmarkt")[0][1] == "Wochenmarkt"
    assert (data / "index" / "forms.sqlite3").is_file()


def test_worker_analysis_equals_analysis_in_process(tmp_path: Path) -> None:
    rows = [(n, f"Die Oberbürgermeisterin eröffnet Kitas Nummer {n}.") for n in range(4_500)]
    pooled = [pair for batch in analysed_rows(rows, forms=tmp_path / "f.sqlite3") for pair in batch]
    alone = [pair for batch in analysed_rows(rows, forms=None, workers=0) for pair in batch]
    assert pooled == alone and len(pooled) == len(rows)
