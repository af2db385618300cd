"""A small archive seeded in code (no model, no ffmpeg) and the app served on it by a real uvicorn
server on 127.0.0.1, in a thread: fast enough for the quick test run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api.app import create_app
from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Status
from archive.search.engines import open_engine
from tests.archive.seed import spoken, store

MEDIA_BYTES = 4096


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    ids: dict[str, str]  # key: statement id


def seed_archive(data_dir: Path) -> Seeded:
    """Four statements: three the public sees (one without archived media, one dated only to
    the year) and one that failed."""
    settings = Settings(data_dir=data_dir)
    settings.prepare()
    statements = {
        "koeln": ("Die Maskenpflicht gilt ab Montag in der Innenstadt.", "Köln", "2021-03-05"),
        "muenster": ("Der Wochenmarkt in der Innenstadt öffnet wieder.", "Münster", "2022-01"),
        "leipzig": ("Die Gastronomie in der Innenstadt bekommt Hilfe.", "Leipzig", "2020"),
        "failed": ("Die Innenstadt bleibt gesperrt.", "Kiel", "2023-05-01"),
    }
    media = {"koeln": "koeln.m4a", "muenster": "muenster.webm"}
    ids: dict[str, str] = {}
    with Catalog(settings.catalog_path) as catalog:
        engine = open_engine(settings, catalog)
        for key, (text, municipality, published) in statements.items():
            stored = store(
                catalog,
                engine,
                f"https://example.org/{key}",
                [spoken(0.0, text), spoken(30.0, "Vielen Dank.")],
                status=Status.FAILED if key == "failed" else Status.INDEXED,
                municipality=municipality,
                published=published,
                speaker=f"Bürgermeisterin von {municipality}",
                media_file=media.get(key),
            )
            ids[key] = stored.id
    for name in media.values():
        (settings.media_dir / name).write_bytes(bytes(range(256)) * (MEDIA_BYTES // 256))
    return Seeded(settings, ids)


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serve the app on a free port of 127.0.0.1; yield its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
