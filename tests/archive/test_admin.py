"""The operator's actions on a seeded archive: edit, hide, unhide, delete with a tombstone,
re-admit, queue, re-transcribe."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive import admin
from archive.catalog import Catalog
from archive.dates import PartialDate
from archive.errors import InvalidInput, NotFound, TakenDown
from archive.jobs import JobKind, list_jobs
from archive.models import Statement, Status
from archive.search import Query, search
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import new_statement, spoken, store

ORIGIN = "https://example.org/koeln"


def found(catalog: Catalog, engine: TantivyEngine, text: str) -> list[str]:
    results = search(catalog, engine, Query(text), None)
    return [] if results.corrected else [s.id for s in results.statements]


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


@pytest.fixture
def statement(catalog: Catalog, engine: TantivyEngine, media_dir: Path) -> Statement:
    (media_dir / "koeln.mp4").write_bytes(b"video")
    (media_dir / "koeln.jpg").write_bytes(b"poster")
    stored = store(
        catalog,
        engine,
        ORIGIN,
        [spoken(0.0, "Die Maskenpflicht gilt ab Montag.")],
        media_file="koeln.mp4",
        media_kind="video",
    )
    catalog.update(stored.id, poster_file="koeln.jpg")
    return catalog.get(stored.id)


def test_edit_checks_values_records_the_fields_and_reindexes(
    catalog: Catalog, engine: TantivyEngine, statement: Statement
) -> None:
    assert found(catalog, engine, "Wochenmarkt") == []
    edited = admin.edit(
        catalog,
        engine,
        statement.id,
        {"title": " Wochenmarkt\x1b[31m öffnet ", "published": "2021-03", "language": "DE"},
    )
    assert edited.title == "Wochenmarkt öffnet"
    assert edited.published == PartialDate(2021, 3)
    assert edited.language == "de"
    assert edited.edited == "language,published,title"
    assert edited.status == Status.INDEXED
    assert found(catalog, engine, "Wochenmarkt") == [statement.id]  # the title, at once
    again = admin.edit(catalog, engine, statement.id, {"municipality": "Köln", "speaker": ""})
    assert again.municipality == "Köln" and again.speaker is None
    assert again.edited == "language,municipality,published,speaker,title"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": "  "}, "title: must not be empty"),
        ({"published": "2021-02-30"}, "published"),
        ({"language": "klingon"}, "language: 'klingon' is not a language"),
        ({"language": "auto"}, "name the language"),
        ({"title": "x" * 501}, "at most 500"),
        ({"uploader": "x"}, "cannot edit uploader"),
        ({}, "nothing to edit"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    catalog: Catalog,
    engine: TantivyEngine,
    statement: Statement,
    values: dict[str, str | None],
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        admin.edit(catalog, engine, statement.id, values)
    assert catalog.get(statement.id) == statement


def test_hide_and_unhide(catalog: Catalog, engine: TantivyEngine, statement: Statement) -> None:
    assert admin.hide(catalog, engine, statement.id).status == Status.HIDDEN
    assert found(catalog, engine, "Maskenpflicht") == []
    assert admin.hide(catalog, engine, statement.id).status == Status.HIDDEN  # idempotent
    assert admin.unhide(catalog, engine, statement.id).status == Status.INDEXED
    assert found(catalog, engine, "Maskenpflicht") == [statement.id]
    with pytest.raises(InvalidInput, match="not hidden"):
        admin.unhide(catalog, engine, statement.id)
    queued = new_statement(catalog, "https://example.org/queued")
    with pytest.raises(InvalidInput, match="is queued, not archived"):
        admin.hide(catalog, engine, queued.id)
    with pytest.raises(NotFound):
        admin.hide(catalog, engine, "nope")


def test_delete_leaves_a_tombstone_that_ingest_meets_until_readmitted(
    catalog: Catalog, engine: TantivyEngine, statement: Statement, media_dir: Path
) -> None:
    admin.retranscribe(catalog, statement.id)
    gone = admin.delete(catalog, engine, media_dir, statement.id, "Persönlichkeitsrecht")
    assert (gone.origin, gone.statement_id, gone.reason) == (
        ORIGIN,
        statement.id,
        "Persönlichkeitsrecht",
    )
    assert catalog.find(statement.id) is None
    assert catalog.segments(statement.id) == [] and catalog.passages(statement.id) == []
    assert found(catalog, engine, "Maskenpflicht") == []
    assert statement.seq not in engine.held()  # its index entries are gone
    assert list(media_dir.iterdir()) == []  # media and poster
    assert list_jobs(catalog)[0] == 0  # its queued re-transcription too
    with pytest.raises(TakenDown, match="only an operator can re-admit it"):
        new_statement(catalog, ORIGIN)
    assert [t.origin for t in admin.tombstones(catalog)] == [ORIGIN]
    assert admin.readmit(catalog, statement.id).origin == ORIGIN  # by its former id
    assert new_statement(catalog, ORIGIN).id == statement.id  # ingest may bring it back
    with pytest.raises(NotFound, match="no deleted statement"):
        admin.readmit(catalog, ORIGIN)


def test_readmit_by_origin(
    catalog: Catalog, engine: TantivyEngine, statement: Statement, media_dir: Path
) -> None:
    admin.delete(catalog, engine, media_dir, statement.id, None)
    assert admin.readmit(catalog, ORIGIN).statement_id == statement.id
    assert admin.tombstones(catalog) == []


def test_queue_a_url_with_checked_options(catalog: Catalog) -> None:
    job, new = admin.queue_url(
        catalog,
        "https://example.org/neu",
        {"title": "Neu", "published": "2024-05-01", "language": "auto", "speaker": None},
    )
    assert new and job.kind == JobKind.INGEST and job.target == "https://example.org/neu"
    assert job.options == {"title": "Neu", "published": "2024-05-01", "language": "auto"}
    again, new = admin.queue_url(catalog, "https://example.org/neu", {})
    assert not new and again.id == job.id
    with pytest.raises(InvalidInput, match="url '/etc/passwd'"):
        admin.queue_url(catalog, "/etc/passwd", {})
    with pytest.raises(InvalidInput, match="published"):
        admin.queue_url(catalog, "https://example.org/x", {"published": "gestern"})


def test_retranscribe_queues_a_job_with_its_options(
    catalog: Catalog, engine: TantivyEngine, statement: Statement
) -> None:
    job, new = admin.retranscribe(
        catalog, statement.id, model="small", language="en", discard_corrections=True
    )
    assert new and job.kind == JobKind.RETRANSCRIBE and job.target == statement.id
    assert job.options == {"model": "small", "language": "en", "discard_corrections": True}
    with pytest.raises(InvalidInput, match="language"):
        admin.retranscribe(catalog, statement.id, language="xx")
    queued = new_statement(catalog, "https://example.org/queued")
    with pytest.raises(InvalidInput, match="only a transcribed statement"):
        admin.retranscribe(catalog, queued.id)
