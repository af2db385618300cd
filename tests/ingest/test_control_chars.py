"""Control characters from sources and options never reach the catalog, nor a terminal.

A page title may carry terminal escapes (`ESC]0;…BEL` retitles the terminal, `ESC[2J` clears it);
so may a sidecar or an option. Every stored text field is cleaned at ingest.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import MediaError
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request
from tests.conftest import Served

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What a hostile page or sidecar sends: OSC title change ended by BEL, clear screen, colours in
# 7-bit and 8-bit (C1) form, NUL, DEL, a carriage return that would hide what precedes it.
HOSTILE = "\x1b]0;pwned\x07Rede \x1b[2Jzur\x00 Lage\x9b31m im\r\n Rathaus\x7f\x1b[0m"
CLEAN = "Rede zur Lage im Rathaus"


def stored_rows(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM statements")]


def assert_clean(row: dict[str, Any]) -> None:
    for column, value in row.items():
        if isinstance(value, str):
            assert not CONTROL.search(value), f"{column}: {value!r}"


def test_clean_text() -> None:
    from archive.text import clean_text

    assert clean_text(HOSTILE) == CLEAN
    assert clean_text("\x1bP1;2|secret\x1b\\Titel \x1b(B\x1b7x") == "Titel x"
    assert clean_text("Zeile 1\r\n\tZeile 2\x0c", one_line=False) == "Zeile 1\n\tZeile 2"
    assert clean_text("  Grüße aus   Köln \u2013 «gut»\u00a0 ") == "Grüße aus Köln \u2013 «gut»"
    assert clean_text("\x1b]0;only an escape") == ""


@pytest.fixture
def hostile_page(server: Served, tmp_path: Path) -> str:
    """A real page whose <title> carries escapes (raw, and as an HTML character reference), with a
    video that has no audio: the statement is recorded (as failed) without the model."""
    name = f"hostile-{tmp_path.name}.html"
    title = HOSTILE.replace("\x1b[0m", "&#27;[0m")
    (server.root / name).write_bytes(
        (
            f"<!doctype html><html><head><title>{title}</title></head>"
            '<body><video controls src="noaudio.mp4"></video></body></html>'
        ).encode()
    )
    return server.url(name)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"title": CLEAN}),
        (
            {"title": "\x1b[31mRot\x1b[0m", "municipality": "Köln\x07", "speaker": "\x9b2JReker"},
            {"title": "Rot", "municipality": "Köln", "speaker": "Reker"},
        ),
        ({"title": "\x1b[2J"}, {"title": CLEAN}),  # an option that cleans to nothing is not given
    ],
)
def test_page_title_and_options_are_stored_clean(
    options: dict[str, str],
    expected: dict[str, str],
    hostile_page: str,
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog))
        with pytest.raises(MediaError, match="no audio track"):
            pipeline.ingest(
                Request(
                    hostile_page,
                    title=options.get("title"),
                    municipality=options.get("municipality"),
                    speaker=options.get("speaker"),
                )
            )
    (row,) = stored_rows(settings.catalog_path)
    assert {key: row[key] for key in expected} == expected
    assert row["status"] == "failed"
    assert_clean(row)


@pytest.mark.slow
def test_sidecar_escapes_never_reach_the_catalog_or_the_terminal(
    server: Served, tmp_path: Path, cli_env: dict[str, str], settings: Settings
) -> None:
    media = tmp_path / "rede.m4a"
    shutil.copyfile(server.root / "c.m4a", media)
    media.with_suffix(".json").write_text(
        json.dumps(
            {
                "title": HOSTILE,
                "municipality": "\x1b]8;;https://evil.example\x07Leipzig\x1b]8;;\x07",
                "speaker": "Burkhard\x1b[8m Jung",
                "prompt": "Leipzig\x1b[2J",
            }
        )
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ingest", *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ingested = run("ingest", str(media))
    assert ingested.returncode == 0, ingested.stderr
    assert CLEAN in ingested.stdout
    (row,) = stored_rows(settings.catalog_path)
    names = (row["title"], row["municipality"], row["speaker"])
    assert names == (CLEAN, "Leipzig", "Burkhard Jung")
    assert_clean(row)
    for args in (("list",), ("search", "Bahnhof")):
        shown = run(*args)
        assert shown.returncode == 0, shown.stderr
        assert CLEAN in shown.stdout
        assert not CONTROL.search(shown.stdout), shown.stdout
