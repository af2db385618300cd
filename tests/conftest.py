"""Shared fixtures: test media made with espeak-ng and ffmpeg, a local HTTP server for yt-dlp,
and the real Whisper base model, assembled and loaded once per test session.

Nothing here reaches outside this machine: HF_HUB_OFFLINE is set before anything loads.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
for _name in [n for n in os.environ if n.startswith("STADTSTIMME_")]:
    del os.environ[_name]

from archive.catalog import Catalog  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.dates import PartialDate  # noqa: E402
from archive.search.engines import open_engine  # noqa: E402
from ingest.model import assemble_offline_model  # noqa: E402
from ingest.pipeline import Outcome, Pipeline, Request  # noqa: E402
from ingest.transcribe import load_model  # noqa: E402
from tests import media  # noqa: E402


@dataclass
class Served:
    """The local web server and the media it serves."""

    base: str
    root: Path
    clips: dict[str, media.Clip]

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """yt-dlp hangs up once it has read what it wanted; that is not an error."""


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, media.Clip]]:
    root = tmp_path_factory.mktemp("served")
    work = tmp_path_factory.mktemp("speech")
    speech = {
        "a": media.build_speech(media.SPEECH_A, work, "a"),
        "b": media.build_speech(media.SPEECH_B, work, "b"),
        "c": media.build_speech(media.SPEECH_C, work, "c"),
        "long": media.build_speech(media.SPEECH_LONG, work, "long", lead=1.0, gap=1.0),
    }
    clips = {
        "a.mp4": media.encode(speech["a"], root / "a.mp4", video=True),
        "b.webm": media.encode(speech["b"], root / "b.webm", video=True),
        "c.m4a": media.encode(speech["c"], root / "c.m4a", video=False),
        "embedded.mp4": media.encode(speech["a"], root / "embedded.mp4", video=True),
        "long.m4a": media.encode(speech["long"], root / "long.m4a", video=False),
    }
    media.silent_video(root / "silent.mp4")
    media.video_without_audio(root / "noaudio.mp4")
    (root / "notmedia.mp4").write_text("this is a text file, not a video\n")
    (root / "statement.html").write_text(
        "<!doctype html><html><head><title>Wochenmarkt und Maskenpflicht</title></head>"
        '<body><h1>Video-Botschaft</h1><video controls src="embedded.mp4"></video></body></html>'
    )
    (root / "novideo.html").write_text(
        "<!doctype html><html><head><title>Pressemitteilung</title></head>"
        "<body><p>Hier gibt es nur Text.</p></body></html>"
    )
    return root, clips


@pytest.fixture(scope="session")
def server(media_root: tuple[Path, dict[str, media.Clip]]) -> Iterator[Served]:
    root, clips = media_root
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{httpd.server_address[1]}", root, clips)
    httpd.shutdown()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_offline_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def whisper_model(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings(data_dir=tmp_path_factory.mktemp("model-data"), model=str(model_dir))
    return load_model(settings)


@pytest.fixture
def settings(tmp_path: Path, model_dir: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", model=str(model_dir))
    settings.prepare()
    return settings


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """The environment for a real `stadtstimme` process on the test's data directory."""
    return os.environ | {
        "STADTSTIMME_DATA_DIR": str(settings.data_dir),
        "STADTSTIMME_MODEL": settings.model,
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "200",
    }


@dataclass
class Archive:
    settings: Settings
    outcomes: dict[str, Outcome]
    server: Served


@pytest.fixture(scope="session")
def archive(
    tmp_path_factory: pytest.TempPathFactory, model_dir: Path, whisper_model: Any, server: Served
) -> Archive:
    """An archive with the served statements ingested through the real pipeline, by URL."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("archive"), model=str(model_dir))
    metadata = {
        "a.mp4": ("Köln", "2026-02-03"),
        "b.webm": ("Münster", "2026-04-17"),
        "c.m4a": ("Leipzig", "2026-06-09"),
        "statement.html": ("Köln", "2026-09-22"),
    }
    outcomes: dict[str, Outcome] = {}
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=whisper_model)
        for name, (municipality, published) in metadata.items():
            request = Request(
                server.url(name), municipality=municipality, published=PartialDate.parse(published)
            )
            outcomes[name] = pipeline.ingest(request)
    return Archive(settings, outcomes, server)
