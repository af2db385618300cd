"""A kept statement outlives its source: ingested from a web server through the real pipeline,
then deleted there, it still plays, is found and has its page, from the same running server
(nothing restarted, nothing fetched again)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Status
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request
from tests.api.served import serve
from tests.conftest import Served

pytestmark = pytest.mark.slow  # the real Whisper model


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web server of this test's own, on a folder it may empty: (base URL, folder)."""
    folder = tmp_path / "published"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()


def check_kept(base: str, statement_id: str) -> None:
    """The statement plays (a range of its media), is found, and its page has the player."""
    played = httpx.get(f"{base}/media/{statement_id}", headers={"range": "bytes=100-1099"})
    assert played.status_code == 206
    assert played.headers["content-range"].startswith("bytes 100-1099/")
    assert len(played.content) == 1000
    found = httpx.get(f"{base}/api/search", params={"q": "Maskenpflicht"}).json()
    assert [hit["id"] for hit in found["statements"]] == [statement_id]
    assert found["statements"][0]["passages"], found
    page = httpx.get(f"{base}/statements/{statement_id}")
    assert page.status_code == 200
    assert '<video id="player" class="player" controls preload="metadata"' in page.text
    assert f'src="/media/{statement_id}#t=0"' in page.text
    assert httpx.get(f"{base}/media/{statement_id}/poster.jpg").status_code == 200
    feed = feedparser.parse(f"{base}/feeds/statements.atom")
    assert [entry.link for entry in feed.entries] == [f"{base}/statements/{statement_id}"]


def test_a_kept_statement_outlives_its_source(
    settings: Settings, server: Served, whisper_model: Any, source: tuple[str, Path]
) -> None:
    base, folder = source
    shutil.copy(server.root / "a.mp4", folder / "rede.mp4")
    url = f"{base}/rede.mp4"
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=whisper_model)
        statement = pipeline.ingest(Request(url, municipality="Köln")).statement
    assert statement.status == Status.INDEXED
    assert statement.media_kind == "video"

    with serve(settings) as archive:
        check_kept(archive, statement.id)
        (folder / "rede.mp4").unlink()
        assert httpx.get(url).status_code == 404  # the source has lost it
        check_kept(archive, statement.id)
