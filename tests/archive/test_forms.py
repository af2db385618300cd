"""The table of analysed word forms (archive.forms) and bulk analysis in worker processes
(archive.search.bulk), on real SQLite files and the real analyser."""

from __future__ import annotations

import json
import multiprocessing
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from archive import analysis
from archive.analysis import index_fields
from archive.forms import FormsStore, analyser_stamp
from archive.search.bulk import analysed_rows

ROOT = Path(__file__).resolve().parents[2]
COMPOUNDS = ["Oberbürgermeisterin", "Krankenhäusern", "Schatzkarte", "Innenstadt"]
WORDS = [*COMPOUNDS, "Haus", "und", "Verwaltung", "gesperrt", "Kitas"]


@pytest.fixture
def cold() -> Iterator[None]:
    """An analyser that holds no forms, and no forms waiting to be saved."""
    analysis.clear_caches()
    analysis.new_forms()
    yield
    analysis.new_forms()


def computed(words: list[str]) -> dict[str, analysis.Form]:
    """What the analyser computes for these words, bypassing its memo."""
    return {word: analysis._analysis(word) for word in words}


def stored_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM forms").fetchone()[0])


def test_the_table_gives_back_what_the_analyser_computes(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "index" / "forms.sqlite3"
    for word in WORDS:
        analysis.analyse(word)
    with FormsStore(path) as store:
        assert store.save_new() == len(WORDS)
        assert store.save_new() == 0  # taken once
    analysis.clear_caches()
    with FormsStore(path, readonly=True) as store:
        assert store.load() == len(WORDS)
    assert analysis.analysed_forms_snapshot() == computed(WORDS)
    assert analysis.analysed_forms_snapshot()["Oberbürgermeisterin"][1]  # a compound: heads
    assert analysis.new_forms() == {}  # remembered forms are not new


def test_saving_again_adds_only_new_forms(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "forms.sqlite3"
    with FormsStore(path) as store:
        assert store.save(computed(WORDS[:3])) == 3
        assert store.save(computed(WORDS)) == len(WORDS) - 3
    assert stored_rows(path) == len(WORDS)


def test_a_table_of_another_analyser_version_is_emptied(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "forms.sqlite3"
    with FormsStore(path) as store:
        store.save(computed(WORDS))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'analyser 0' WHERE key = 'analyser'")
    with FormsStore(path, readonly=True) as store:
        assert store.load() == 0  # not trusted, and not changed by a reader
    assert stored_rows(path) == len(WORDS)
    with FormsStore(path) as store:
        assert stored_rows(path) == 0
        assert store.load() == 0
        assert store.save(computed(WORDS)) == len(WORDS)
    with sqlite3.connect(path) as db:
        stamp = db.execute("SELECT value FROM meta WHERE key = 'analyser'").fetchone()[0]
    assert stamp == analyser_stamp()


def test_a_table_taken_over_by_another_version_gets_no_forms(tmp_path: Path, cold: None) -> None:
    """A process of the old version still running after a new one emptied the table."""
    path = tmp_path / "forms.sqlite3"
    with FormsStore(path) as store:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = 'analyser 99' WHERE key = 'analyser'")
        assert store.save(computed(WORDS)) == 0
    assert stored_rows(path) == 0


def test_a_reader_of_nothing_loads_nothing(tmp_path: Path, cold: None) -> None:
    missing = tmp_path / "index" / "forms.sqlite3"
    with FormsStore(missing, readonly=True) as store:
        assert store.load() == 0
    assert not missing.parent.exists()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    with FormsStore(garbage, readonly=True) as store:
        assert store.load() == 0
    with FormsStore(missing, readonly=True) as store, pytest.raises(ValueError, match="read-only"):
        store.save(computed(WORDS))


def test_loading_leaves_room_in_the_memo(monkeypatch: pytest.MonkeyPatch, cold: None) -> None:
    """A table larger than the memo fills it only to REMEMBERED_SIZE, and is read no further."""
    monkeypatch.setattr(analysis, "REMEMBERED_SIZE", 2)
    forms = iter(computed(WORDS).items())
    assert analysis.remember_forms(forms) == 2
    assert analysis.analysed_forms() == 2
    assert len(list(forms)) == len(WORDS) - 2
    assert analysis.remember_forms(iter(computed(WORDS).items())) == 0


def _save_after(
    path: str,
    forms: dict[str, analysis.Form],
    barrier: Barrier,
    results: multiprocessing.Queue[int | str],
) -> None:
    barrier.wait()
    try:
        with FormsStore(Path(path)) as store:
            results.put(store.save(forms))
    except sqlite3.Error as error:  # reported to the test, which fails on it
        results.put(repr(error))


@pytest.mark.slow
def test_processes_that_create_the_table_together_all_save(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    forms = computed(WORDS)  # here: not HanTa loaded in every process
    for round_ in range(5):
        processes, barrier, results = 4, context.Barrier(4), context.Queue()
        path = tmp_path / f"round{round_}" / "forms.sqlite3"
        started = [
            context.Process(target=_save_after, args=(str(path), forms, barrier, results))
            for _ in range(processes)
        ]
        for process in started:
            process.start()
        for process in started:
            process.join(60)
        saved = [results.get(timeout=5) for _ in range(processes)]
        assert sorted(saved, key=str) == [0, 0, 0, len(WORDS)]
        assert stored_rows(path) == len(WORDS)


@pytest.mark.slow
def test_a_new_process_analyses_from_the_table_without_hanta(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "forms.sqlite3"
    with FormsStore(path) as store:
        store.save(computed(COMPOUNDS))
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from archive import analysis\n"
        "from archive.forms import FormsStore\n"
        "with FormsStore(Path(sys.argv[1]), readonly=True) as store:\n"
        "    loaded = store.load()\n"
        "found = analysis.analyse('Oberbürgermeisterin')\n"
        "print(json.dumps([loaded, found, analysis._splitters.tagger is None]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded, found, untouched = json.loads(done.stdout)
    assert loaded == len(COMPOUNDS)
    term, heads, modifiers = computed(["Oberbürgermeisterin"])["Oberbürgermeisterin"]
    assert found == [term, list(heads), list(modifiers)]
    assert untouched


def passages(count: int, seed: int = 7) -> list[tuple[int, str]]:
    """Passage texts drawn from a small vocabulary with compounds, punctuation and numbers."""
    vocabulary = [
        *WORDS,
        "Bürgerinnen",
        "Baustelle",
        "Straßenbahn",
        "Müllabfuhr",
        "Feuerwehrhaus",
        "die",
        "wir",
        "Stadt",
        "B 51",
        "morgen!",
        "Kita-Öffnung,",
        "Schulen",
    ]
    generator = random.Random(seed)
    return [
        (n << 16, " ".join(generator.choices(vocabulary, k=generator.randint(5, 40))))
        for n in range(count)
    ]


@pytest.mark.slow
def test_workers_give_the_same_fields_in_order(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "forms.sqlite3"
    rows = passages(3_000)
    batches = list(analysed_rows(rows, forms=path, workers=2, chunk=400))
    assert [len(b) for b in batches] == [400] * 7 + [200]
    assert analysis.analysed_forms() == 0  # the workers analysed, not this process
    expected = [(rowid, index_fields(text)) for rowid, text in rows]
    assert [pair for batch in batches for pair in batch] == expected
    # The workers' forms reached the table, and are what this process computes.
    analysis.clear_caches()
    with FormsStore(path, readonly=True) as store:
        assert store.load() > 0
    loaded = analysis.analysed_forms_snapshot()
    assert set(loaded) == {w for _, text in rows for w in analysis.words(text)}
    assert loaded == computed(list(loaded))


def test_little_work_is_done_in_process(tmp_path: Path, cold: None) -> None:
    path = tmp_path / "forms.sqlite3"
    rows = passages(30)
    batches = list(analysed_rows(rows, forms=path, workers=2, chunk=20))
    assert [pair for batch in batches for pair in batch] == [
        (rowid, index_fields(text)) for rowid, text in rows
    ]
    assert analysis.analysed_forms() > 0  # analysed here
    assert stored_rows(path) == analysis.analysed_forms()  # and saved
    assert analysis.new_forms() == {}


@pytest.mark.slow
def test_an_error_in_a_worker_is_raised_in_the_parent() -> None:
    rows: list[tuple[int, str]] = [(n, "die wir und morgen sind") for n in range(1_000)]
    rows[650] = (650, 12345)  # type: ignore[assignment]  # not a text
    started = time.monotonic()
    with pytest.raises(TypeError):
        for _ in analysed_rows(rows, forms=None, workers=2, chunk=100):
            pass
    assert time.monotonic() - started < 10
