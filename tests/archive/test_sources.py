"""Sources in the catalog (archive.sources): one row per URL, pause, remove, what they listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive import jobs
from archive import sources as s
from archive.catalog import Catalog
from archive.errors import NotFound
from archive.sources import SourceKind


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path / "catalog.db")


def test_a_url_is_one_source_whatever_its_settings(catalog: Catalog) -> None:
    first, added = s.insert_source(catalog, "http://x/feed.xml", SourceKind.FEED, municipality="A")
    again, added_again = s.insert_source(catalog, "http://x/feed.xml", SourceKind.LISTING)
    assert added and not added_again
    assert again == first and again.kind is SourceKind.FEED and again.municipality == "A"
    assert s.find_source(catalog, "http://x/feed.xml") == first
    assert s.find_source(catalog, "http://x/other.xml") is None
    assert [x.id for x in s.list_sources(catalog)] == [first.id]


def test_pause_and_resume_take_a_source_out_of_and_back_into_the_active_ones(
    catalog: Catalog,
) -> None:
    one, _ = s.insert_source(catalog, "/srv/share", SourceKind.FOLDER)
    two, _ = s.insert_source(catalog, "http://x/page", SourceKind.LISTING)
    assert s.pause_source(catalog, one.id).paused
    assert [x.id for x in s.list_sources(catalog, active_only=True)] == [two.id]
    assert [x.id for x in s.list_sources(catalog)] == [one.id, two.id]
    assert not s.pause_source(catalog, one.id, False).paused
    assert len(s.list_sources(catalog, active_only=True)) == 2
    with pytest.raises(NotFound, match="no source 99"):
        s.pause_source(catalog, 99)


def test_remove_forgets_what_the_source_listed_and_drops_its_queued_jobs(
    catalog: Catalog,
) -> None:
    source, _ = s.insert_source(catalog, "http://x/feed.xml", SourceKind.FEED)
    queued, _ = jobs.enqueue(catalog, "http://x/a.m4a", source_id=source.id)
    s.record_item(catalog, source.id, "guid-a", "A", queued.id)
    assert set(s.source_items(catalog, source.id)) == {"guid-a"}
    assert s.remove_source(catalog, source.id) == source
    assert s.source_items(catalog, source.id) == {}
    assert jobs.get(catalog, queued.id) is None
    with pytest.raises(NotFound):
        s.get_source(catalog, source.id)


def test_an_item_recorded_again_keeps_its_job_and_takes_the_new_title(catalog: Catalog) -> None:
    source, _ = s.insert_source(catalog, "http://x/feed.xml", SourceKind.FEED)
    job, _ = jobs.enqueue(catalog, "http://x/a.m4a", source_id=source.id)
    s.record_item(catalog, source.id, "guid-a", "Alt", job.id)
    s.record_item(catalog, source.id, "guid-a", "Neu", None)
    item = s.source_items(catalog, source.id)["guid-a"]
    assert (item.title, item.job_id) == ("Neu", job.id)


def test_a_deleted_origin_is_tombstoned(catalog: Catalog) -> None:
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO tombstones (origin, statement_id, title, deleted_at) "
            "VALUES ('url:abc', 'x1', 'Weg', '2026-01-01')"
        )
    assert s.is_tombstoned(catalog, "url:abc")
    assert not s.is_tombstoned(catalog, "url:def")
