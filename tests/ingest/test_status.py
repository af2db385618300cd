"""`stadtstimme status`: what the archive holds and takes on disk, read-only, as an operator
checks it from a shell or a script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.archives import environment, files_under, run, seed

pytestmark = pytest.mark.slow  # real processes


def test_status_counts_statements_by_status_and_sizes_the_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data)  # one indexed statement, one failed
    (data / "media").mkdir()
    (data / "media" / "x.m4a").write_bytes(b"\0" * 2048)
    before = files_under(data)
    result = run(environment(data), "status", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["statements"] == {"failed": 1, "indexed": 1}
    assert figures["passages"] >= 1
    assert figures["engine"] == "tantivy"
    assert figures["index_bytes"] > 0
    assert (figures["media_files"], figures["media_bytes"]) == (1, 2048)
    # A reading command creates nothing but what SQLite's WAL mode needs to read the catalog.
    assert files_under(data) - before <= {Path("catalog.sqlite3-wal"), Path("catalog.sqlite3-shm")}

    text = run(environment(data), "status")
    assert text.returncode == 0
    assert "statements      2 (failed 1, indexed 1)" in text.stdout
    assert "media           1 file, 0.0 MiB" in text.stdout


def test_status_of_a_missing_archive_says_where_it_looked(tmp_path: Path) -> None:
    result = run(environment(tmp_path / "none"), "status")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: the archive in {tmp_path / 'none'} holds no statements yet (add some with "
        "`stadtstimme ingest`, or set STADTSTIMME_DATA_DIR to the archive's directory)"
    )
    assert not (tmp_path / "none").exists()
