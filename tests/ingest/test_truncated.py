"""Media cut short: the first 30 % of a file whose header still declares the whole length.

A faststart MP4 (index first) opens and plays its first part as if nothing were missing; a WebM
declares its length in its header too. Such a file is refused, saying how much of it decodes,
unless the user accepts it (`--accept-partial`); a whole file passes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import MediaError
from archive.models import Status
from archive.search.engines import open_engine
from ingest.media import probe_media
from ingest.pipeline import Pipeline, Request
from tests import media
from tests.conftest import Served

SHARE = 0.3
DECODES = re.compile(r"decodes (\d+\.\d) s of the (\d+\.\d) s it declares")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Whole and cut files of one clip of speech (about 11 s): MP4 (faststart) and WebM."""
    work = tmp_path_factory.mktemp("truncated")
    speech = media.build_speech(media.SPEECH_C, work, "speech", lead=1.0, gap=1.0)
    files: dict[str, Path] = {}
    for suffix in (".mp4", ".webm"):
        whole = media.encode(speech, work / f"whole{suffix}", video=True, faststart=True).path
        files[f"whole{suffix}"] = whole
        files[f"cut{suffix}"] = media.truncate(whole, work / f"Rede gekuerzt{suffix}", SHARE)
    files["speech"] = speech.path
    return files


@pytest.fixture
def data(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    settings.prepare()
    return settings


def rows(settings: Settings) -> list[tuple[str, str | None]]:
    with Catalog(settings.catalog_path) as catalog:
        _, statements = catalog.list_statements(statuses=list(Status))
    return [(str(s.status), s.error) for s in statements]


def speech_seconds(made: dict[str, Path]) -> float:
    with wave.open(str(made["speech"])) as handle:
        return float(handle.getnframes() / handle.getframerate())


def check_refusal(message: str, name: str, made: dict[str, Path]) -> None:
    """One line naming the file, how much of it decodes and what it declares."""
    assert "\n" not in message and message.startswith(name), message
    found = DECODES.search(message)
    assert found, message
    decoded, declared = map(float, found.groups())
    assert declared == pytest.approx(speech_seconds(made), abs=0.3)
    assert 0 < decoded < 0.5 * declared
    assert "--accept-partial" in message


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_whole_file_passes(suffix: str, made: dict[str, Path]) -> None:
    """The control: a whole file of the same kind is not taken for a cut one."""
    info = probe_media(made[f"whole{suffix}"], "whole")
    assert info.has_audio
    assert info.duration is not None and info.duration >= speech_seconds(made) - 0.5


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_cut_local_file_is_refused_and_nothing_stored(
    suffix: str, made: dict[str, Path], data: Settings
) -> None:
    cut = made[f"cut{suffix}"]
    with Catalog(data.catalog_path) as catalog, pytest.raises(MediaError) as caught:
        Pipeline(data, catalog, open_engine(data, catalog)).ingest(Request(str(cut)))
    check_refusal(caught.value.message, str(cut), made)
    assert rows(data) == []
    assert list(data.media_dir.iterdir()) == []


def test_cut_download_is_refused_and_marked_failed(
    made: dict[str, Path], data: Settings, server: Served, tmp_path: Path
) -> None:
    """Remote media is checked once downloaded, in the fetch stage."""
    served = server.root / f"cut-{tmp_path.name}.mp4"
    shutil.copyfile(made["cut.mp4"], served)
    url = server.url(served.name)
    with Catalog(data.catalog_path) as catalog, pytest.raises(MediaError) as caught:
        Pipeline(data, catalog, open_engine(data, catalog)).ingest(Request(url))
    check_refusal(caught.value.message, url, made)
    assert rows(data) == [("failed", caught.value.message)]
    assert list(data.media_dir.iterdir()) == []


@pytest.mark.slow
def test_accept_partial_archives_what_decodes(
    made: dict[str, Path], settings: Settings, whisper_model: Any
) -> None:
    cut = made["cut.mp4"]
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=whisper_model)
        outcome = pipeline.ingest(Request(str(cut), accept_partial=True))
    statement = outcome.statement
    assert statement.status == Status.INDEXED
    assert statement.duration is not None
    assert statement.duration < 0.5 * speech_seconds(made)  # what it holds, not what it declares


@pytest.mark.slow
def test_cli_refuses_then_accepts_with_the_option(
    made: dict[str, Path], cli_env: dict[str, str]
) -> None:
    cut = str(made["cut.webm"])
    command = [sys.executable, "-m", "ingest", "ingest", cut]
    refused = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    check_refusal(line.removeprefix("error: "), cut, made)
    accepted = subprocess.run(
        [*command, "--accept-partial"], env=cli_env, capture_output=True, text=True, timeout=300
    )
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip().splitlines()[-1].startswith("archived: ")
