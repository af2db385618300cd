"""The index is a projection of the catalog, kept in step through crashes: a real writer
(`stadtstimme ingest`, `stadtstimme reindex`, a takedown) is killed with SIGKILL at each named
step of the protocol (archive.stops), and then nothing is lost, nothing is found twice, nothing
taken down is found, and the next writing command brings catalog and index back in step."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.indexing import prepare_index
from archive.models import Status
from archive.search import Query, search
from archive.search.tantivy import TantivyEngine
from archive.stops import STOP_ENV
from tests.conftest import Served
from tests.ingest.test_cli import run

pytestmark = pytest.mark.slow
KILLED = -signal.SIGKILL


def _state(settings: Settings) -> tuple[dict[int, tuple[Status, int]], dict[int, int]]:
    """(seq -> (status, passages in the catalog)) and (seq -> passages in the index)."""
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        counts = catalog.passage_counts()
        statements = {
            seq: (status, counts.get(seq, 0))
            for seq, (_, status, _) in catalog.index_state().items()
        }
        held = TantivyEngine(catalog, settings.index_dir).held()
    return statements, held


def _found(settings: Settings, text: str) -> int:
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        return search(catalog, TantivyEngine(catalog, settings.index_dir), Query(text), None).total


def _in_step(settings: Settings) -> None:
    statements, held = _state(settings)
    expected = {
        seq: passages
        for seq, (status, passages) in statements.items()
        if status == Status.INDEXED and passages
    }
    assert held == expected


def _current(settings: Settings) -> str:
    return str(json.loads((settings.index_dir / "current.json").read_text())["generation"])


@pytest.mark.parametrize("point", ["index:added", "index:committed"])
def test_ingest_killed_while_indexing_then_rerun_finds_it_once(
    point: str, cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    killed = run(cli_env | {STOP_ENV: point}, "ingest", server.url("a.mp4"))
    assert killed.returncode == KILLED, killed.stderr

    statements, held = _state(settings)
    ((seq, (status, passages)),) = statements.items()
    assert status == Status.TRANSCRIBED and passages > 0
    # Committed to the index or not, a statement the catalog has not marked is not found.
    assert held == ({seq: passages} if point == "index:committed" else {})
    assert _found(settings, "Maskenpflicht") == 0

    rerun = run(cli_env, "ingest", server.url("a.mp4"))
    assert rerun.returncode == 0, rerun.stderr
    _in_step(settings)
    assert _found(settings, "Maskenpflicht") == 1
    found = run(cli_env, "search", "Maskenpflicht", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] == 1


@pytest.mark.parametrize("point", ["rebuild:built", "rebuild:swapped"])
def test_reindex_killed_then_searches_answer_and_next_reindex_completes(
    point: str, cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    first = run(cli_env, "ingest", server.url("a.mp4"))
    assert first.returncode == 0, first.stderr
    before = _current(settings)

    killed = run(cli_env | {STOP_ENV: point}, "reindex")
    assert killed.returncode == KILLED, killed.stderr
    generations = sorted(p.name for p in settings.index_dir.glob("g*"))
    if point == "rebuild:built":  # the new generation is written but does not answer
        assert _current(settings) == before and len(generations) == 2
    else:  # the new one answers, the old is gone; the catalog's commit was lost
        assert _current(settings) != before and generations == [_current(settings)]
    assert _found(settings, "Maskenpflicht") == 1

    again = run(cli_env, "reindex")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("reindexed 1 statement, ")
    assert [p.name for p in settings.index_dir.glob("g*")] == [_current(settings)]
    _in_step(settings)
    assert _found(settings, "Maskenpflicht") == 1


TAKE_DOWN = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from archive.catalog import Catalog
    from archive.indexing import take_down
    from archive.search.tantivy import TantivyEngine

    data = Path(sys.argv[1])
    with Catalog(data / "catalog.sqlite3") as catalog:
        take_down(catalog, TantivyEngine(catalog, data / "index"), sys.argv[2])
    """
)


def test_takedown_killed_between_catalog_and_index_is_gone_and_then_removed(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    first = run(cli_env, "ingest", server.url("a.mp4"))
    assert first.returncode == 0, first.stderr
    statement_id = first.stdout.strip().splitlines()[-1].split()[1]
    assert _found(settings, "Maskenpflicht") == 1

    killed = subprocess.run(
        [sys.executable, "-c", TAKE_DOWN, str(settings.data_dir), statement_id],
        env=cli_env | {STOP_ENV: "takedown:catalog"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == KILLED, killed.stderr
    statements, held = _state(settings)
    ((seq, (status, passages)),) = statements.items()
    assert status == Status.HIDDEN and held == {seq: passages}  # still in the index, but
    assert _found(settings, "Maskenpflicht") == 0  # gone from search at once
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        vocabulary = TantivyEngine(catalog, settings.index_dir).vocabulary
        assert vocabulary.passages_with("maskenpflicht") > 0

    with Catalog(settings.catalog_path) as catalog:  # the next writing command reconciles
        engine = TantivyEngine(catalog, settings.index_dir)
        assert prepare_index(catalog, engine) == "reconciled"
        assert engine.held() == {}
        assert engine.vocabulary.passages_with("maskenpflicht") == 0
    assert _found(settings, "Maskenpflicht") == 0


def test_prepare_index_is_in_step_without_a_crash(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    assert run(cli_env, "ingest", server.url("a.mp4")).returncode == 0
    with Catalog(settings.catalog_path) as catalog:
        assert prepare_index(catalog, TantivyEngine(catalog, settings.index_dir)) == "in step"
    assert Path(settings.index_dir / "current.json").is_file()
