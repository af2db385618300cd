"""Word timings stored once: passages refer to the segments they cover (migration 5).

The migration is tested on a catalog file written by the code before it: `stadtstimme ingest` at
commit 8087234 (schema version 4) of the four demo samples, the four joined by 3 s silences
into one 85 s statement (several passages), and 8 s of silence (no speech). Beside it, the JSON
of what that code's `Catalog.segments` and `Catalog.passages` read back from it. Both are made
from the project's own synthetic samples (samples/, EUPL-1.2).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import MIGRATIONS, Catalog
from archive.models import CAPTIONS_FROM_SOURCE, Passage, Segment, Transcript, Word
from archive.passages import build_passages, covered_segments
from tests.archive.seed import new_statement, spoken

DATA = Path(__file__).parent / "data"
OLD_CATALOG = DATA / "catalog-schema-4.sqlite3"
OLD_READ = DATA / "catalog-schema-4.json"


def _words(raw: list[list[Any]]) -> tuple[Word, ...]:
    return tuple(Word(*w) for w in raw)


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    """A copy of the old catalog; opened once, which migrates it."""
    path = tmp_path / "catalog.sqlite3"
    shutil.copyfile(OLD_CATALOG, path)
    with Catalog(path) as catalog:
        assert catalog.schema_version == len(MIGRATIONS)
    return path


def test_the_old_catalog_is_what_the_code_before_wrote() -> None:
    with sqlite3.connect(OLD_CATALOG) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        columns = [row[1] for row in db.execute("PRAGMA table_info(passages)")]
        copies = db.execute("SELECT count(*) FROM passages WHERE words != '[]'").fetchone()[0]
    assert "words" in columns and copies >= 6


def test_migration_keeps_every_word_of_every_segment_and_passage(migrated: Path) -> None:
    before = json.loads(OLD_READ.read_text(encoding="utf-8"))
    passages = 0
    with Catalog(migrated) as catalog:
        for statement_id, old in before.items():
            segments = catalog.segments(statement_id)
            assert [(s.start, s.end, s.text) for s in segments] == [
                (start, end, text) for start, end, text, _ in old["segments"]
            ]
            # Whisper's word times are in 10 ms already: stored to 10 ms, they are unchanged.
            assert [s.words for s in segments] == [_words(w) for *_, w in old["segments"]]
            stored = catalog.passages(statement_id)
            expected = [
                (rowid, Passage(statement_id, position, start, end, _words(words)))
                for rowid, position, start, end, _, words in old["passages"]
            ]
            assert stored == expected
            assert [p.text for _, p in stored] == [text for *_, text, _ in old["passages"]]
            assert catalog.passages_by_rowid([rowid for rowid, _ in expected]) == dict(expected)
            passages += len(stored)
    assert passages >= 6


def test_migration_clears_the_copies_and_records_who_transcribed(migrated: Path) -> None:
    with Catalog(migrated) as catalog:
        columns = [row[1] for row in catalog.db.execute("PRAGMA table_info(passages)")]
        assert "words" not in columns
        origins = catalog.db.execute("SELECT status, transcript_origin FROM statements").fetchall()
        transcripts = [
            catalog.transcript(row[0]) for row in catalog.db.execute("SELECT id FROM statements")
        ]
    assert {tuple(row) for row in origins} == {("indexed", "whisper")}
    assert all(t is not None and t.origin == "whisper" for t in transcripts)


STORED_WORDS = "SELECT sum(pgsize) FROM dbstat WHERE name IN ('segments', 'passages')"


def test_vacuum_after_the_migration_gives_the_space_back(migrated: Path, tmp_path: Path) -> None:
    """The documented step (README): the dropped copies are free pages until VACUUM."""
    old_size = OLD_CATALOG.stat().st_size
    with Catalog(migrated) as catalog:
        catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        catalog.db.execute("VACUUM")
        catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        free = catalog.db.execute("PRAGMA freelist_count").fetchone()[0]
        words = catalog.db.execute("SELECT sum(length(words)) FROM segments").fetchone()[0]
        kept = catalog.db.execute(STORED_WORDS).fetchone()[0]
    with sqlite3.connect(OLD_CATALOG) as old:
        old_words = old.execute(
            "SELECT (SELECT sum(length(words)) FROM segments) + "
            "(SELECT sum(length(words)) FROM passages)"
        ).fetchone()[0]
    with sqlite3.connect(OLD_CATALOG) as old:
        old_kept = old.execute(STORED_WORDS).fetchone()[0]
    assert free == 0
    assert words < old_words / 4  # stored once, and compactly
    # the tables that held the words shrank (the file as a whole also holds the tables later
    # migrations add: a page or two each)
    assert kept < old_kept
    assert migrated.stat().st_size < old_size + 16 * 4096


def test_a_new_catalog_stores_words_in_segments_only(catalog: Catalog) -> None:
    statement = new_statement(catalog, "o/once")
    segments = tuple(spoken(8.0 * n, f"Satz Nummer {n} über den Wochenmarkt.") for n in range(9))
    passages = build_passages(statement.id, segments)
    catalog.save_transcript(statement.id, Transcript("de", 80.0, segments), passages, None)
    columns = [row[1] for row in catalog.db.execute("PRAGMA table_info(passages)")]
    runs = catalog.db.execute(
        "SELECT first_segment, segment_count FROM passages ORDER BY position"
    ).fetchall()
    assert "words" not in columns
    assert [tuple(r) for r in runs] == [
        (r.start, len(r)) for r in covered_segments(segments, passages)
    ]
    assert len(runs) >= 2 and sum(count for _, count in runs) == len(segments)
    assert [p for _, p in catalog.passages(statement.id)] == passages


def test_words_round_trip_whatever_they_spell(catalog: Catalog) -> None:
    """Words that spell their segment's text are stored as lengths; others keep their text;
    overlapping times, a segment without words and one without text survive too."""
    statement = new_statement(catalog, "o/edges")
    segments = (
        Segment(
            0.0,
            2.0,
            " Straße, Ölmühle \u2013 🙂 ok.",
            (
                Word(0.0, 0.62, " Straße,", 0.912),
                Word(0.6, 1.1, " Ölmühle", 0.05),
                Word(1.1, 1.5, " \u2013", 1.0),
                Word(1.5, 1.8, " 🙂", 0.0),
                Word(1.8, 2.0, " ok.", 0.5),
            ),
        ),
        Segment(2.0, 3.0, "Anders geschrieben.", (Word(2.0, 3.0, " Andres", 0.7),)),
        Segment(3.0, 3.5, "   ", ()),
        Segment(3.5, 5.0, "Ohne Wortzeiten."),
        Segment(123456.78, 123457.9, " Spät.", (Word(123456.78, 123457.9, " Spät.", 0.99),)),
    )
    passages = build_passages(statement.id, segments)
    catalog.save_transcript(statement.id, Transcript("de", 123458.0, segments), passages, None)
    stored = catalog.segments(statement.id)
    assert [s.words for s in stored] == [s.words for s in segments]
    assert [s.text for s in stored] == [s.text.strip() for s in segments]
    assert [p for _, p in catalog.passages(statement.id)] == passages


def test_passages_not_built_from_the_segments_are_refused(catalog: Catalog) -> None:
    statement = new_statement(catalog, "o/refused")
    segments = (spoken(0.0, "Der Wochenmarkt öffnet."),)
    stray = Passage(statement.id, 0, 0.0, 1.0, (Word(0.0, 1.0, " Bahnhof"),))
    with pytest.raises(ValueError, match=r"passage 0 of statement \w+ is not made of"):
        catalog.save_transcript(statement.id, Transcript("de", 2.0, segments), [stray], None)
    assert catalog.segments(statement.id) == []


def test_the_transcript_remembers_who_wrote_it(catalog: Catalog) -> None:
    statement = new_statement(catalog, "o/captions")
    assert catalog.transcript(statement.id) is None
    segments = (spoken(0.0, "Untertitel der Stadt."),)
    transcript = Transcript("de", 2.0, segments, origin=CAPTIONS_FROM_SOURCE)
    passages = build_passages(statement.id, segments)
    catalog.save_transcript(statement.id, transcript, passages, "a note")
    stored = catalog.transcript(statement.id)
    assert stored is not None
    assert (stored.origin, stored.language, stored.duration, stored.note) == (
        CAPTIONS_FROM_SOURCE,
        "de",
        2.0,
        "a note",
    )
    assert [s.words for s in stored.segments] == [s.words for s in segments]
    with pytest.raises(ValueError, match="unknown transcript origin 'human'"):
        catalog.save_transcript(statement.id, Transcript("de", 2.0, origin="human"), [], None)
