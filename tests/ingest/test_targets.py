"""Degenerate targets: nothing to ingest, or not a media file. A clear message naming what was
given, never a path the user did not type (`ingest ''` used to say ". : not a file"), and
nothing stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import InvalidInput
from archive.models import Status
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request


@pytest.fixture
def data(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def refused(settings: Settings, target: str) -> str:
    with Catalog(settings.catalog_path) as catalog:
        with pytest.raises(InvalidInput) as caught:
            Pipeline(settings, catalog, open_engine(settings, catalog)).ingest(Request(target))
        assert catalog.list_statements(statuses=list(Status)) == (0, [])
    message = caught.value.message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("target", ["", " ", "\t\n", "file://", "file://  "])
def test_empty_target(target: str, data: Settings) -> None:
    assert refused(data, target) == f"empty target {target!r}: give a URL or a media file"


def test_directory(data: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "statements"
    folder.mkdir()
    for target in (str(folder), f"{folder}/", f"file://{folder}"):
        message = refused(data, target)
        assert message == f"{folder}: is a directory; give a media file or a URL"


def test_fifo_is_not_read(data: Settings, tmp_path: Path) -> None:
    """A named pipe would block the ingest forever if it were opened."""
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    assert refused(data, str(fifo)) == f"{fifo}: not a regular file; give a media file or a URL"


def test_name_too_long(data: Settings, tmp_path: Path) -> None:
    """A name the OS refuses is an input error, not an unexpected OSError."""
    target = tmp_path / ("x" * 300 + ".mp4")
    assert refused(data, str(target)) == f"{target}: cannot read (File name too long)"


@pytest.mark.slow
def test_cli_empty_target(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "ingest", ""],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: empty target '': give a URL or a media file"
