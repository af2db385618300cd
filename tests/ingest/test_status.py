"""`stadtstimme status`: what the archive holds and takes on disk, read-only, as an operator
checks it from a shell or a script."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive import jobs
from archive.catalog import Catalog
from archive.models import Status
from archive.sources import SourceKind, checked, insert_source, pause_source
from tests.archive.seed import new_statement
from tests.ingest.archives import FAILURE, environment, files_under, run, seed

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


def seed_queue(data: Path) -> None:
    """Jobs in every state (one postponed), 22 failed jobs and 22 failed statements in all, and
    sources active, paused and failing; a video's media with its poster."""
    with Catalog(data / "catalog.sqlite3") as catalog:
        for n in range(22):
            job, _ = jobs.enqueue(catalog, f"https://stadt.example/kaputt/{n}")
            jobs.claim(catalog, "elsewhere:1")
            jobs.fail(catalog, job.id, f"HTTP Error 404: Not Found ({n})\x1b[2J")
        done, _ = jobs.enqueue(catalog, "https://stadt.example/gut")
        jobs.claim(catalog, "elsewhere:1")
        jobs.finish(catalog, done.id, None)
        jobs.enqueue(catalog, "https://stadt.example/laeuft")
        jobs.claim(catalog, "elsewhere:1")  # running, on another host
        live, _ = jobs.enqueue(catalog, "https://stadt.example/live")
        claimed = jobs.claim(catalog, "elsewhere:1")
        assert claimed is not None and claimed.id == live.id
        jobs.postpone(catalog, claimed, "a live stream, still running", timedelta(hours=2))
        jobs.enqueue(catalog, "https://stadt.example/neu")
        for n in range(21):
            failed = new_statement(
                catalog, f"https://stadt.example/defekt/{n}", title=f"Defekt {n}"
            )
            catalog.set_status(failed.id, Status.FAILED, f"not media ({n})")
        insert_source(catalog, "https://stadt.example/feed.xml", SourceKind.FEED)
        paused, _ = insert_source(catalog, "https://stadt.example/kanal", SourceKind.LISTING)
        pause_source(catalog, paused.id)
        erring, _ = insert_source(catalog, str(data / "weg"), SourceKind.FOLDER)
        checked(catalog, erring.id, "the folder is gone")
    media = data / "media"
    media.mkdir()
    (media / "abc.mp4").write_bytes(b"\0" * 4096)
    (media / "abc-poster.jpg").write_bytes(b"\0" * 1024)


def test_status_shows_the_queue_the_sources_and_the_failures_with_reasons(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data)
    seed_queue(data)
    result = run(environment(data), "status", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["jobs"] == {"queued": 2, "running": 1, "done": 1, "failed": 22}
    assert figures["postponed"] == 1  # the live stream, due again in two hours
    due_in = datetime.fromisoformat(figures["next_due"]) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=58) < due_in <= timedelta(hours=2)
    assert figures["sources"] == {"active": 2, "paused": 1, "with_errors": 1}
    assert (figures["media_files"], figures["media_bytes"]) == (1, 4096)
    assert (figures["posters"], figures["poster_bytes"]) == (1, 1024)

    failed_jobs = figures["failed_jobs"]
    assert len(failed_jobs) == 20 and figures["failed_jobs_more"] == 2
    assert failed_jobs[0]["target"] == "https://stadt.example/kaputt/21"  # newest first
    assert failed_jobs[0]["error"].startswith("HTTP Error 404: Not Found (21)")
    failed = figures["failed_statements"]
    assert len(failed) == 20 and figures["failed_statements_more"] == 2
    assert failed[0] == {"id": failed[0]["id"], "title": "Defekt 20", "error": "not media (20)"}
    assert FAILURE not in [f["error"] for f in failed]  # the oldest failure is among the more
    assert figures["source_errors"] == [
        {"id": 3, "url": str(data / "weg"), "error": "the folder is gone"}
    ]

    text = run(environment(data), "status")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    due = figures["next_due"][:19].replace("T", " ")
    assert (
        f"jobs            2 queued (1 postponed, next due {due} UTC), 1 running, 1 done, 22 failed"
        in lines
    )
    assert "sources         2 active, 1 paused, 1 with errors" in lines
    assert "media           1 file, 0.0 MiB" in lines
    assert "posters         1 file, 0.0 MiB" in lines
    start = lines.index("failed jobs:")
    assert (
        lines[start + 1]
        == "  job 22  https://stadt.example/kaputt/21: HTTP Error 404: Not Found (21)"
    )
    assert lines[start + 21] == "  and 2 more"
    assert lines[start + 22] == "failed statements:"
    assert lines[start + 23].endswith("  Defekt 20: not media (20)")
    assert lines[start + 43] == "  and 2 more"
    assert lines[start + 44 :] == [
        "sources with errors:",
        f"  source 3  {data / 'weg'}: the folder is gone",
    ]
    assert "\x1b" not in text.stdout


def test_status_of_an_archive_without_jobs_or_sources(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data)
    figures = json.loads(run(environment(data), "status", "--json").stdout)
    assert figures["jobs"] == {"queued": 0, "running": 0, "done": 0, "failed": 0}
    assert (figures["postponed"], figures["next_due"]) == (0, None)
    assert figures["failed_jobs"] == [] and figures["failed_jobs_more"] == 0
    assert [f["error"] for f in figures["failed_statements"]] == [FAILURE]
    text = run(environment(data), "status").stdout.splitlines()
    assert "jobs            0 queued, 0 running, 0 done, 0 failed" in text
    assert "sources         0 active, 0 paused, 0 with errors" in text
    assert "failed jobs:" not in text and "failed statements:" in text
