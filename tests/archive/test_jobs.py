"""The job queue in the catalog (archive.jobs): claimed once each, backoff, recovery, options
checked where they enter."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive import jobs
from archive.catalog import Catalog
from archive.errors import InvalidInput, NotFound
from archive.jobs import JobStatus


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path / "catalog.sqlite3")


def test_the_same_target_is_queued_once_while_pending(catalog: Catalog) -> None:
    first, new = jobs.enqueue(catalog, "https://example.org/a")
    again, new_again = jobs.enqueue(catalog, "https://example.org/a")
    assert new and not new_again and again.id == first.id
    claimed = jobs.claim(catalog, "here:1")
    assert claimed is not None and claimed.id == first.id
    jobs.finish(catalog, first.id, "abc")
    later, new_later = jobs.enqueue(catalog, "https://example.org/a")
    assert new_later and later.id != first.id  # done jobs do not block a new one


def test_concurrent_claims_take_each_job_once(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as catalog:
        for n in range(40):
            jobs.enqueue(catalog, f"https://example.org/{n}")
    taken: list[list[int]] = [[], [], [], []]

    def take(mine: list[int]) -> None:
        with Catalog(path) as own:
            while (job := jobs.claim(own, f"here:{id(mine)}")) is not None:
                mine.append(job.id)

    threads = [threading.Thread(target=take, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = sorted(n for mine in taken for n in mine)
    assert claimed == list(range(1, 41))


def test_postpone_backs_off_then_gives_up(catalog: Catalog) -> None:
    jobs.enqueue(catalog, "https://example.org/flaky")
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        catalog.db.execute("UPDATE jobs SET not_before = NULL")  # the backoff has passed
        job = jobs.claim(catalog, "here:1")
        assert job is not None and job.attempts == attempt
        again = jobs.postpone(catalog, job, "HTTP Error 503")
        assert again is (attempt < jobs.MAX_ATTEMPTS)
        if again:
            waiting = jobs.get(catalog, job.id)
            assert waiting is not None and waiting.not_before is not None
            due = datetime.fromisoformat(waiting.not_before) - datetime.now(UTC)
            expected = jobs.backoff(attempt)
            assert expected - timedelta(seconds=5) < due <= expected
            assert jobs.claim(catalog, "here:1") is None  # not due yet
    failed = jobs.get(catalog, 1)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.last_error == f"HTTP Error 503 (gave up after {jobs.MAX_ATTEMPTS} attempts)"


def test_recover_gives_back_only_the_jobs_of_dead_workers(catalog: Catalog) -> None:
    for n in range(3):
        jobs.enqueue(catalog, f"https://example.org/{n}")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = socket.gethostname()
    gone = jobs.claim(catalog, f"{host}:{int(dead.stdout)}")
    alive = jobs.claim(catalog, jobs.worker_name())
    elsewhere = jobs.claim(catalog, "another-host:1")
    assert gone and alive and elsewhere
    recovered = jobs.recover(catalog)
    assert [j.id for j in recovered] == [gone.id]
    statuses = {j.id: j.status for j in jobs.list_jobs(catalog)[1]}
    assert statuses == {
        gone.id: JobStatus.QUEUED,
        alive.id: JobStatus.RUNNING,
        elsewhere.id: JobStatus.RUNNING,
    }


def test_release_gives_a_job_back_without_counting_the_attempt(catalog: Catalog) -> None:
    jobs.enqueue(catalog, "https://example.org/a")
    job = jobs.claim(catalog, "here:1")
    assert job is not None and job.attempts == 1
    jobs.release(catalog, job)
    back = jobs.get(catalog, job.id)
    assert back is not None and back.status is JobStatus.QUEUED and back.attempts == 0
    assert back.worker is None


def test_retry_only_a_failed_job(catalog: Catalog) -> None:
    job, _ = jobs.enqueue(catalog, "https://example.org/a")
    with pytest.raises(InvalidInput, match="has not failed"):
        jobs.retry(catalog, job.id)
    with pytest.raises(NotFound, match="no job 7"):
        jobs.retry(catalog, 7)
    jobs.claim(catalog, "here:1")
    jobs.fail(catalog, job.id, "https://example.org/a: HTTP Error 404")
    again = jobs.retry(catalog, job.id)
    assert again.status is JobStatus.QUEUED and again.attempts == 0


def test_ingest_options_are_checked_where_they_enter() -> None:
    assert jobs.ingest_options() == {}
    assert jobs.ingest_options(language="DE", published="2026-02", municipality="Köln") == {
        "language": "de",
        "published": "2026-02",
        "municipality": "Köln",
    }
    with pytest.raises(InvalidInput, match="language: 'xx' is not a language"):
        jobs.ingest_options(language="xx")
    with pytest.raises(InvalidInput, match="published '2026-13'"):
        jobs.ingest_options(published="2026-13")
