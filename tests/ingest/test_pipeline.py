"""The pipeline end to end, in process: real yt-dlp, real model, real catalog and FTS5."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.dates import PartialDate
from archive.errors import FetchError, InvalidInput, MediaError
from archive.models import Status
from archive.search import Query, search
from archive.search.engines import open_engine
from ingest.pipeline import NO_SPEECH, Pipeline, Request
from tests.conftest import Archive, Served

pytestmark = pytest.mark.slow
# The file each served target archives (a page archives the media it embeds).
SERVED_MEDIA = {"statement.html": "embedded.mp4"}


def pipeline_for(settings: Settings, catalog: Catalog, model: Any) -> Pipeline:
    return Pipeline(settings, catalog, open_engine(settings, catalog), model=model)


def test_every_served_kind_is_archived_and_searchable(archive: Archive) -> None:
    with Catalog(archive.settings.catalog_path) as catalog:
        engine = open_engine(archive.settings, catalog)
        for name, outcome in archive.outcomes.items():
            statement = catalog.get(outcome.statement.id)
            assert statement.status == Status.INDEXED, name
            assert statement.media_file, name
            archived = archive.settings.media_dir / statement.media_file
            served = archive.server.root / SERVED_MEDIA.get(name, name)
            assert archived.is_file() and archived.read_bytes() == served.read_bytes(), name
            assert catalog.passages(statement.id)
            assert statement.duration and statement.duration > 10
        results = search(catalog, engine, Query("Maskenpflicht"), None)
        found = {hit.statement.id for hit in results.statements}
        expected = {archive.outcomes[n].statement.id for n in ("a.mp4", "statement.html")}
        assert expected <= found
        assert archive.outcomes["b.webm"].statement.id not in found
        page = catalog.get(archive.outcomes["statement.html"].statement.id)
        assert page.title == "Wochenmarkt und Maskenpflicht"
        assert page.page_url == archive.server.url("statement.html")
        assert page.municipality == "Köln" and page.published == PartialDate(2026, 9, 22)


def test_ingesting_again_returns_the_existing_statement(
    archive: Archive, whisper_model: Any
) -> None:
    with Catalog(archive.settings.catalog_path) as catalog:
        again = pipeline_for(archive.settings, catalog, whisper_model).ingest(
            Request(archive.server.url("a.mp4"))
        )
        count = catalog.db.execute("SELECT count(*) FROM statements").fetchone()[0]
    assert again.existed
    assert again.statement.id == archive.outcomes["a.mp4"].statement.id
    assert count == len(archive.outcomes)


def test_local_file(settings: Settings, server: Served, whisper_model: Any, tmp_path: Path) -> None:
    source = tmp_path / "Rede zum Wochenmarkt.m4a"
    shutil.copyfile(server.root / "c.m4a", source)
    with Catalog(settings.catalog_path) as catalog:
        outcome = pipeline_for(settings, catalog, whisper_model).ingest(
            Request(str(source), municipality="Leipzig")
        )
        assert outcome.statement.title == "Rede zum Wochenmarkt"
        assert outcome.statement.origin.startswith("sha256:")
        assert outcome.statement.status == Status.INDEXED
        archived = settings.media_dir / str(outcome.statement.media_file)
        assert archived.read_bytes() == source.read_bytes()
        again = pipeline_for(settings, catalog, whisper_model).ingest(Request(str(source)))
        assert again.existed and again.statement.id == outcome.statement.id


def test_sidecar_language_is_the_transcription_hint(
    settings: Settings, server: Served, whisper_model: Any, tmp_path: Path
) -> None:
    """The sidecar's language, checked against Whisper's list where it is read, is used."""
    source = tmp_path / "speech.m4a"
    shutil.copyfile(server.root / "c.m4a", source)
    source.with_suffix(".json").write_text('{"language": "EN"}')
    with Catalog(settings.catalog_path) as catalog:
        outcome = pipeline_for(settings, catalog, whisper_model).ingest(Request(str(source)))
    assert outcome.statement.status == Status.INDEXED
    assert outcome.statement.language == "en"  # the default hint would make it "de"


def test_silent_video_is_stored_with_a_note(
    settings: Settings, server: Served, whisper_model: Any
) -> None:
    with Catalog(settings.catalog_path) as catalog:
        outcome = pipeline_for(settings, catalog, whisper_model).ingest(
            Request(server.url("silent.mp4"))
        )
        assert outcome.statement.status == Status.INDEXED
        assert outcome.statement.note == NO_SPEECH
        assert catalog.segments(outcome.statement.id) == []
        assert catalog.passages(outcome.statement.id) == []


def catalog_snapshot(catalog: Catalog) -> list[tuple[Any, ...]]:
    rows = catalog.db.execute("SELECT id, status, error FROM statements ORDER BY id")
    return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ("{base}/gone.mp4", FetchError, "gone.mp4: .*404"),
        ("{base}/novideo.html", FetchError, "novideo.html: .*[Uu]nsupported"),
        ("gopher://127.0.0.1/x", FetchError, "gopher://127.0.0.1/x: .*scheme"),
        ("{root}/notmedia.mp4", MediaError, "notmedia.mp4 is not a media file"),
        ("{root}/noaudio.mp4", MediaError, "noaudio.mp4 has no audio track"),
        ("{root}/does-not-exist.mp4", InvalidInput, "does-not-exist.mp4: no such file"),
    ],
)
def test_bad_input_leaves_the_catalog_as_it_was(
    target: str,
    error: type[Exception],
    message: str,
    settings: Settings,
    server: Served,
    whisper_model: Any,
) -> None:
    target = target.format(base=server.base, root=server.root)
    with Catalog(settings.catalog_path) as catalog:
        before = catalog_snapshot(catalog)
        with pytest.raises(error, match=message):
            pipeline_for(settings, catalog, whisper_model).ingest(Request(target))
        assert catalog_snapshot(catalog) == before
    assert not list(settings.media_dir.iterdir())


def test_remote_file_without_audio_is_marked_failed(
    settings: Settings, server: Served, whisper_model: Any
) -> None:
    url = server.url("noaudio.mp4")
    with Catalog(settings.catalog_path) as catalog:
        with pytest.raises(MediaError, match="has no audio track"):
            pipeline_for(settings, catalog, whisper_model).ingest(Request(url))
        rows = catalog_snapshot(catalog)
    assert len(rows) == 1 and rows[0][1] == "failed" and url in rows[0][2]
    assert not list(settings.media_dir.iterdir())
