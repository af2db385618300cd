"""The catalog: SQLite in WAL mode, migrations, claiming, transactions, transcripts, listing."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import archive.catalog as catalog_module
from archive.catalog import MIGRATIONS, Catalog, statement_id_for
from archive.errors import NotFound
from archive.models import Segment, Statement, Status, Transcript, Word
from archive.passages import build_passages
from tests.archive.seed import new_statement, spoken


def test_journal_mode_is_wal_and_foreign_keys_are_on(catalog: Catalog) -> None:
    assert catalog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL mode is a property of the file: a fresh connection sees it too.
    with Catalog(catalog.path) as other:
        assert other.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_schema_version_is_the_number_of_migrations(catalog: Catalog) -> None:
    assert catalog.schema_version == len(MIGRATIONS)
    tables = {
        row[0] for row in catalog.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"statements", "segments", "passages"} <= tables


def test_reopening_keeps_data_and_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as first:
        new_statement(first, "https://example.org/a")
    # Running the first migration again would fail with "table statements already exists".
    with Catalog(path) as again:
        assert again.schema_version == len(MIGRATIONS)
        assert again.find_by_origin("https://example.org/a") is not None


def test_only_new_migrations_run_and_each_runs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as first:
        new_statement(first, "https://example.org/a")
    extra = "CREATE TABLE marks (n INTEGER); INSERT INTO marks VALUES (1)"
    monkeypatch.setattr(catalog_module, "MIGRATIONS", (*MIGRATIONS, extra))
    for _ in range(2):
        with Catalog(path) as upgraded:
            assert upgraded.schema_version == len(MIGRATIONS) + 1
            assert upgraded.db.execute("SELECT count(*) FROM marks").fetchone()[0] == 1
            assert upgraded.find_by_origin("https://example.org/a") is not None


def test_claim_twice_keeps_one_row_and_returns_the_first(catalog: Catalog) -> None:
    origin = "https://example.org/video/1"
    first = catalog.claim(
        Statement(statement_id_for(origin), origin, "Erster Titel", municipality="Köln")
    )
    second = catalog.claim(
        Statement(statement_id_for(origin), origin, "Zweiter Titel", municipality="Bonn")
    )
    count = catalog.db.execute(
        "SELECT count(*) FROM statements WHERE origin = ?", (origin,)
    ).fetchone()[0]
    assert count == 1
    assert second.title == first.title == "Erster Titel"
    assert second.municipality == "Köln"
    assert second.status == Status.QUEUED
    assert second.created_at == first.created_at and first.created_at is not None


def test_get_of_an_unknown_id_raises_not_found(catalog: Catalog) -> None:
    assert catalog.find("nothere") is None
    with pytest.raises(NotFound):
        catalog.get("nothere")


def test_a_transaction_that_raises_rolls_back(catalog: Catalog) -> None:
    origin = "https://example.org/rolled-back"
    with pytest.raises(RuntimeError, match="boom"), catalog.transaction():
        new_statement(catalog, origin)  # claim joins the outer transaction
        assert catalog.find_by_origin(origin) is not None
        raise RuntimeError("boom")
    assert catalog.find_by_origin(origin) is None
    assert not catalog.db.in_transaction
    # The catalog is usable afterwards.
    assert new_statement(catalog, origin).origin == origin


def test_a_transaction_commits_what_it_did(catalog: Catalog) -> None:
    with catalog.transaction():
        new_statement(catalog, "https://example.org/one")
        new_statement(catalog, "https://example.org/two")
    with Catalog(catalog.path) as other:
        assert other.list_statements(statuses=[Status.QUEUED])[0] == 2


def test_save_transcript_stores_segments_passages_and_metadata(catalog: Catalog) -> None:
    statement = new_statement(catalog, "https://example.org/t")
    catalog.set_status(statement.id, Status.FAILED, "earlier failure")
    segments = (
        Segment(
            0.0,
            1.5,
            "  Guten Tag.  ",
            (Word(0.0, 0.6, " Guten", 0.912), Word(0.7, 1.5, " Tag.", 0.5)),
        ),
        spoken(2.0, "Die Straße wird gesperrt."),
        Segment(5.0, 6.0, "Ohne Wortzeiten."),
    )
    passages = build_passages(statement.id, segments)
    transcript = Transcript(language="de", duration=6.25, segments=segments)

    catalog.save_transcript(statement.id, transcript, passages, "a note")

    stored = catalog.segments(statement.id)
    assert [s.text for s in stored] == [
        "Guten Tag.",
        "Die Straße wird gesperrt.",
        "Ohne Wortzeiten.",
    ]
    assert [(s.start, s.end) for s in stored] == [(s.start, s.end) for s in segments]
    assert [s.words for s in stored] == [s.words for s in segments]  # timestamps round-trip
    assert stored[0].words[0] == Word(0.0, 0.6, " Guten", 0.912)
    assert [p for _, p in catalog.passages(statement.id)] == passages
    after = catalog.get(statement.id)
    assert after.status == Status.TRANSCRIBED
    assert after.language == "de"
    assert after.duration == 6.25
    assert after.note == "a note"
    assert after.error is None


def test_word_times_are_stored_to_10_ms_and_probabilities_to_thousandths(
    catalog: Catalog,
) -> None:
    """Whisper times words to 20 ms (faster-whisper rounds them to 10 ms): nothing is lost."""
    statement = new_statement(catalog, "https://example.org/ms")
    segment = Segment(1.0, 2.0, "Hallo", (Word(1.23456, 1.98765, " Hallo", 0.87654),))
    catalog.save_transcript(statement.id, Transcript("de", 2.0, (segment,)), [], None)
    assert catalog.segments(statement.id)[0].words == (Word(1.23, 1.99, " Hallo", 0.877),)


def test_save_transcript_again_replaces_segments_and_passages(catalog: Catalog) -> None:
    statement = new_statement(catalog, "https://example.org/again")
    first = (spoken(0.0, "Erste Fassung."), spoken(3.0, "Noch ein Satz."))
    catalog.save_transcript(
        statement.id,
        Transcript("de", 5.0, first),
        build_passages(statement.id, first),
        None,
    )
    second = (spoken(0.0, "Zweite Fassung."),)
    catalog.save_transcript(
        statement.id, Transcript("en", 2.0, second), build_passages(statement.id, second), None
    )
    assert [s.text for s in catalog.segments(statement.id)] == ["Zweite Fassung."]
    assert [p.text for _, p in catalog.passages(statement.id)] == ["Zweite Fassung."]
    assert catalog.get(statement.id).language == "en"


def test_statement_id_is_stable_url_safe_and_12_chars() -> None:
    origins = [
        "https://www.youtube.com/watch?v=abc&t=1",
        "https://example.org/Straße/Öffnung?x=1#frag",
        "file:///home/user/Video mit Leerzeichen.mp4",
        "",
    ]
    ids = [statement_id_for(origin) for origin in origins]
    assert ids == [statement_id_for(origin) for origin in origins]
    assert len(set(ids)) == len(ids)
    for sid in ids:
        assert len(sid) == 12
        assert re.fullmatch(r"[a-z2-7]{12}", sid)
        assert quote(sid, safe="") == sid


def test_list_statements_lists_indexed_newest_first_by_default(catalog: Catalog) -> None:
    def add(origin: str, published: str | None, status: Status) -> str:
        statement = new_statement(catalog, origin, published=published)
        catalog.set_status(statement.id, status)
        return statement.id

    mid = add("o/mid", "2026-04-17", Status.INDEXED)
    undated = add("o/undated", None, Status.INDEXED)
    new = add("o/new", "2026-06-09", Status.INDEXED)
    old = add("o/old", "2026-02-03", Status.INDEXED)
    hidden = add("o/hidden", "2026-07-01", Status.HIDDEN)
    failed = add("o/failed", "2026-08-01", Status.FAILED)
    queued = add("o/queued", "2026-09-01", Status.QUEUED)

    total, listed = catalog.list_statements()
    assert total == 4
    assert [s.id for s in listed] == [new, mid, old, undated]

    total, listed = catalog.list_statements(limit=2, offset=1)
    assert total == 4
    assert [s.id for s in listed] == [mid, old]

    total, listed = catalog.list_statements(statuses=[Status.HIDDEN, Status.FAILED])
    assert total == 2
    assert [s.id for s in listed] == [failed, hidden]

    assert catalog.list_statements(statuses=[Status.QUEUED]) == (1, [catalog.get(queued)])
    assert catalog.list_statements(statuses=[Status.TRANSCRIBED]) == (0, [])


def test_update_rejects_unknown_fields(catalog: Catalog) -> None:
    statement = new_statement(catalog, "o/update")
    with pytest.raises(ValueError, match="nonsense"):
        catalog.update(statement.id, nonsense=1)
    catalog.update(statement.id, title="Neu", speaker="Oberbürgermeisterin")
    changed = catalog.get(statement.id)
    assert (changed.title, changed.speaker) == ("Neu", "Oberbürgermeisterin")


def test_deleting_a_statement_cascades_to_segments_and_passages(catalog: Catalog) -> None:
    statement = new_statement(catalog, "o/cascade")
    segments = (spoken(0.0, "Ein Satz."),)
    catalog.save_transcript(
        statement.id, Transcript("de", 1.0, segments), build_passages(statement.id, segments), None
    )
    with catalog.transaction() as db:
        db.execute("DELETE FROM statements WHERE id = ?", (statement.id,))
    assert catalog.segments(statement.id) == []
    assert catalog.passages(statement.id) == []


def test_a_migration_sets_invalid_dates_to_unknown_and_logs_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Catalogs written before dates were checked may hold anything a sidecar or an option
    said; the migration keeps the dates and makes the rest unknown."""
    path = tmp_path / "catalog.sqlite"
    monkeypatch.setattr(catalog_module, "MIGRATIONS", MIGRATIONS[:2])  # as version 2 left it
    stored = {"a": "2021-13-01", "b": "gestern", "c": "2021", "d": "2026-02-03", "e": ""}
    with Catalog(path) as old:
        for seq, (key, published) in enumerate(stored.items(), start=1):
            old.db.execute(  # as that version's claim wrote them
                "INSERT INTO statements (id, seq, origin, title, status, published, created_at, "
                "updated_at) VALUES (?, ?, ?, 'Video-Botschaft', 'queued', ?, '', '')",
                (key, seq, f"https://example.org/{key}", published),
            )
        old.db.execute("INSERT INTO vocabulary VALUES ('stadt', 'Stadt', 3)")
    monkeypatch.setattr(catalog_module, "MIGRATIONS", MIGRATIONS)
    with caplog.at_level("WARNING", logger="archive.catalog"), Catalog(path) as catalog:
        rows = dict(catalog.db.execute("SELECT origin, published FROM statements").fetchall())
        assert rows == {
            "https://example.org/a": None,
            "https://example.org/b": None,
            "https://example.org/c": "2021",
            "https://example.org/d": "2026-02-03",
            "https://example.org/e": None,
        }
        kept = catalog.db.execute("SELECT * FROM search_vocabulary").fetchall()
        assert [tuple(row) for row in kept] == [("stadt", "Stadt", 3)]
    logged = [r.getMessage() for r in caplog.records]
    assert any("'2021-13-01' is not a date" in line for line in logged)
    assert any("'gestern' is not a date" in line for line in logged)
    assert len([line for line in logged if "is not a date" in line]) == 3


def test_a_published_date_reads_back_with_its_precision(catalog: Catalog) -> None:
    for origin, published in (("y", "2021"), ("m", "2021-03"), ("d", "2021-03-05")):
        statement = new_statement(catalog, f"https://example.org/{origin}", published=published)
        assert str(catalog.get(statement.id).published) == published


def _open_after(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        with Catalog(Path(path)) as catalog:
            results.put(catalog.schema_version)
    except sqlite3.OperationalError as error:  # reported to the test, which fails on it
        results.put(repr(error))


@pytest.mark.slow
def test_processes_that_open_a_new_catalog_together_all_get_it(tmp_path: Path) -> None:
    """Several ingests started at once on a fresh archive: SQLite answers "database is locked"
    at once to a process that sets WAL mode while another creates or migrates the catalog.
    Seen in 8 of 160 openings (20 rounds of 8 processes) before the retry."""
    context = multiprocessing.get_context("fork")
    for round_ in range(20):
        processes, barrier, results = 8, context.Barrier(8), context.Queue()
        path = str(tmp_path / f"round{round_}" / "catalog.sqlite3")
        started = [
            context.Process(target=_open_after, args=(path, barrier, results))
            for _ in range(processes)
        ]
        for process in started:
            process.start()
        for process in started:
            process.join(60)
        assert [results.get(timeout=5) for _ in range(processes)] == [len(MIGRATIONS)] * processes
