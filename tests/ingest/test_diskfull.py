"""A full disk while media is copied or downloaded, on a real (small) tmpfs as the data directory.

Wanted: one line naming the stage, the file and the space needed; the partial file removed (its
space given back); the statement marked failed with that reason; a rerun after freeing space
completes it. Without a mount (not root) these tests skip, or fail under CI=true.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import StadtstimmeError
from archive.models import Status
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request
from tests import media
from tests.conftest import Served
from tests.ingest.mounts import fill, free, tmpfs

SIZE = "8m"  # the data directory: the catalog, and room for a little less than the media


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Speech under a noise video at 2 Mbit/s: about 3.5 MB, 13 s."""
    work = tmp_path_factory.mktemp("big")
    speech = media.build_speech(media.SPEECH_A, work, "speech")
    return media.encode(speech, work / "Rede zur Lage.mp4", video=True, video_bitrate="2M").path


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Settings]:
    """A data directory on its own 8 MB tmpfs, with a catalog in it (the model lives elsewhere:
    the failures happen before transcription, the rerun is given the session's model)."""
    with tmpfs(tmp_path / "data", SIZE) as mounted:
        settings = Settings(data_dir=mounted)
        settings.prepare()
        Catalog(settings.catalog_path).close()
        yield settings


def target_for(kind: str, big: Path, server: Served, tmp_path: Path) -> tuple[str, int]:
    """The target to ingest (a local file, or the same file served over HTTP) and its size."""
    if kind == "file":
        return str(big), big.stat().st_size
    served = server.root / f"big-{tmp_path.name}.mp4"
    shutil.copyfile(big, served)
    return server.url(served.name), big.stat().st_size


def leftovers(settings: Settings) -> list[Path]:
    """What a failed fetch might leave: files in work/ but the lock files, and in media/."""
    work = [p for p in settings.work_dir.rglob("*") if p.is_file() and p.parent.name != "locks"]
    return work + list(settings.media_dir.iterdir())


def check_failed(settings: Settings, message: str, target: str, size: int) -> None:
    """One line naming the stage, the file and the space needed; the statement failed with it;
    no partial file left."""
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("fetch: no space left to ")
    assert target in message
    assert f"needs {size / 1e6:.1f} MB" in message, message
    with Catalog(settings.catalog_path) as catalog:
        _, statements = catalog.list_statements(statuses=list(Status))
    assert [(s.status, s.error) for s in statements] == [(Status.FAILED, message)]
    assert leftovers(settings) == []


@pytest.mark.parametrize("kind", ["file", "download"])
def test_disk_full_fails_in_one_line_and_leaves_no_partial_file(
    kind: str, data: Settings, big: Path, server: Served, tmp_path: Path
) -> None:
    target, size = target_for(kind, big, server, tmp_path)
    fill(data.data_dir, leave=size // 2)
    before = free(data.data_dir)
    with Catalog(data.catalog_path) as catalog:
        pipeline = Pipeline(data, catalog, open_engine(data, catalog))
        with pytest.raises(StadtstimmeError) as caught:
            pipeline.ingest(Request(target))
    assert caught.value.code == "disk_full"
    check_failed(data, caught.value.message, target, size)
    # the space the partial file took is free again (the catalog took at most a few pages)
    assert free(data.data_dir) >= before - 256 * 1024


def test_a_catalog_that_cannot_be_written_says_so(
    data: Settings, big: Path, server: Served, tmp_path: Path
) -> None:
    """With no byte left, not even the failure can be recorded: the one line says that too."""
    with Catalog(data.catalog_path) as catalog:
        pipeline = Pipeline(data, catalog, open_engine(data, catalog))
        fill(data.data_dir, leave=0)
        with pytest.raises(StadtstimmeError) as caught:
            pipeline.ingest(Request(str(big)))
    message = caught.value.message
    assert caught.value.code == "disk_full" and "\n" not in message
    assert message.startswith(f"catalog {data.catalog_path}: cannot record {big}: ")
    assert "the disk is full" in message
    assert leftovers(data) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["file", "download"])
def test_rerun_after_freeing_space_completes(
    kind: str,
    data: Settings,
    big: Path,
    server: Served,
    tmp_path: Path,
    cli_env: dict[str, str],
    whisper_model: Any,
) -> None:
    target, size = target_for(kind, big, server, tmp_path)
    filler = fill(data.data_dir, leave=size // 2)
    env = cli_env | {"STADTSTIMME_DATA_DIR": str(data.data_dir)}
    failed = subprocess.run(
        [sys.executable, "-m", "ingest", "ingest", target],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith("error: fetch: no space left to ")
    check_failed(data, line.removeprefix("error: "), target, size)

    filler.unlink()
    with Catalog(data.catalog_path) as catalog:
        pipeline = Pipeline(data, catalog, open_engine(data, catalog), model=whisper_model)
        outcome = pipeline.ingest(Request(target))
        statement = catalog.get(outcome.statement.id)
        assert statement.status == Status.INDEXED and statement.error is None
        assert catalog.passages(statement.id)
    archived = data.media_dir / str(statement.media_file)
    assert archived.read_bytes() == big.read_bytes()
    assert statement.media_kind == "video" and statement.poster_file  # a still of the video
    kept = {archived, data.media_dir / statement.poster_file}
    assert [p for p in leftovers(data) if p not in kept] == []
