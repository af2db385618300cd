"""The catalog and the engine are opened once per app, not per request, and the app still sees
every index commit and takedown of a writer in another connection, concurrent requests each read
through their own connection, a catalog that needs migrating stops the start, and a catalog from
before tantivy switches to the tantivy index once a writer has built it."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import api.deps
from api.app import create_app
from api.deps import SharedCatalog
from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import CatalogNeedsMigration, NoCatalog
from archive.indexing import rebuild
from archive.models import Status
from archive.search.engines import open_engine
from archive.search.fts import LegacyFtsEngine
from archive.search.tantivy import TantivyEngine
from tests.api.served import seed_archive, serve
from tests.archive.seed import spoken, store


def found(client: TestClient | httpx.Client, query: str) -> set[str]:
    response = client.get("/api/search", params={"q": query, "per_page": 100})
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["statements"]}


def test_one_catalog_and_one_engine_serve_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed_archive(tmp_path)
    app = create_app(seeded.settings)
    engine = app.state.served.engine()
    opened: Counter[str] = Counter()
    real_open_engine, real_catalog = api.deps.open_engine, api.deps.Catalog

    def counting_engine(*args: Any) -> Any:
        opened["engine"] += 1
        return real_open_engine(*args)

    def counting_catalog(*args: Any, **kwargs: Any) -> Catalog:
        opened["catalog"] += 1
        return real_catalog(*args, **kwargs)

    monkeypatch.setattr(api.deps, "open_engine", counting_engine)
    monkeypatch.setattr(api.deps, "Catalog", counting_catalog)
    koeln = seeded.ids["koeln"]
    with TestClient(app) as client:
        for _ in range(30):
            assert found(client, "Innenstadt") == {
                koeln,
                seeded.ids["muenster"],
                seeded.ids["leipzig"],
            }
            assert client.get(f"/statements/{koeln}").status_code == 200
            assert client.get(f"/api/statements/{koeln}").status_code == 200
        assert app.state.served.engine() is engine
        connections = app.state.served.catalog.connections
        assert 1 <= connections.open_connections() <= 4
    assert opened["engine"] == 0  # 90 requests, no engine opened
    assert opened["catalog"] <= 3  # a connection per worker thread (the first is create_app's)
    assert connections.open_connections() == 0  # the lifespan closed them
    with TestClient(app) as client:  # a second lifespan opens them again
        assert koeln in found(client, "Maskenpflicht")


def test_the_app_sees_a_writers_commits_and_takedowns_at_once(tmp_path: Path) -> None:
    seeded = seed_archive(tmp_path)
    with TestClient(create_app(seeded.settings)) as client:
        assert found(client, "Leuchtturm") == set()
        with Catalog(seeded.settings.catalog_path) as writer:  # as `stadtstimme ingest` would
            statement = store(
                writer,
                open_engine(seeded.settings, writer),
                "https://example.org/kiel",
                [spoken(0.0, "Der Leuchtturm an der Förde wird saniert.")],
                municipality="Kiel",
            )
        assert found(client, "Leuchtturm") == {statement.id}
        assert client.get(f"/statements/{statement.id}").status_code == 200
        with Catalog(seeded.settings.catalog_path) as writer:  # a takedown: hidden in the catalog
            writer.set_status(statement.id, Status.HIDDEN)
        assert found(client, "Leuchtturm") == set()
        assert client.get(f"/statements/{statement.id}").status_code == 404
        assert client.get(f"/api/statements/{statement.id}").status_code == 404


def test_concurrent_requests_each_read_through_their_own_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed_archive(tmp_path)
    users: dict[int, set[int]] = {}  # connection -> threads that executed on it
    lock = threading.Lock()
    mine = api.deps._ThreadConnections.mine

    def recording(self: api.deps._ThreadConnections) -> sqlite3.Connection:
        connection = mine(self)
        with lock:
            users.setdefault(id(connection), set()).add(threading.get_ident())
        return connection

    monkeypatch.setattr(api.deps._ThreadConnections, "mine", recording)
    koeln, muenster = seeded.ids["koeln"], seeded.ids["muenster"]
    with serve(seeded.settings) as base, httpx.Client(base_url=base, timeout=30) as http:

        def ask(n: int) -> bool:
            if n % 2:
                return found(http, "Maskenpflicht") == {koeln}
            page = http.get(f"/statements/{muenster}")
            return page.status_code == 200 and "Wochenmarkt" in page.text

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, range(200)))
    assert all(answers)
    assert len(users) >= 2  # the requests ran in several threads at once
    assert all(len(threads) == 1 for threads in users.values()), users


def test_a_catalog_that_needs_migrating_stops_the_start(tmp_path: Path) -> None:
    seeded = seed_archive(tmp_path)
    with sqlite3.connect(seeded.settings.catalog_path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.execute(f"PRAGMA user_version = {version - 1}")
    with pytest.raises(CatalogNeedsMigration, match="reindex"):
        create_app(seeded.settings)
    with pytest.raises(NoCatalog):
        create_app(Settings(data_dir=tmp_path / "empty"))
    with pytest.raises(NoCatalog):
        SharedCatalog(tmp_path / "none.sqlite3")


def test_a_catalog_from_before_tantivy_switches_once_the_index_is_built(tmp_path: Path) -> None:
    from tests.ingest.test_upgrade import legacy_archive

    legacy = legacy_archive(tmp_path / "data")
    settings = Settings(data_dir=legacy.data)
    app = create_app(settings)
    with TestClient(app) as client:
        assert isinstance(app.state.served.engine(), LegacyFtsEngine)
        before = found(client, "Wochenmarkt")
        assert before
        with Catalog(settings.catalog_path) as writer:  # the first writing command
            rebuild(writer, open_engine(settings, writer))
        assert found(client, "Wochenmarkt") == before
        assert isinstance(app.state.served.engine(), TantivyEngine)
        corrected = client.get("/api/search", params={"q": "Maskenpflict"}).json()
        assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
