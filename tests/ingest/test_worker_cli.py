"""`stadtstimme queue`, `worker`, `jobs` and `retry` as an operator runs them: real processes,
the real model, the real catalog; workers really killed (SIGKILL) at named points."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from archive import jobs
from archive.catalog import Catalog
from archive.config import Settings
from archive.jobs import JobStatus
from archive.models import Status
from archive.stops import STOP_ENV
from tests.conftest import Served

pytestmark = pytest.mark.slow
COMMAND = [sys.executable, "-m", "ingest"]


def run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def all_jobs(settings: Settings) -> list[jobs.Job]:
    with Catalog(settings.catalog_path) as catalog:
        return jobs.list_jobs(catalog)[1]


def test_queue_prints_the_job_ids_and_checks_its_options(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    queued = run(cli_env, "queue", server.url("a.mp4"), "--municipality", "Köln", "--json")
    assert queued.returncode == 0, queued.stderr
    [job] = json.loads(queued.stdout)
    assert job["status"] == "queued" and job["new"] is True
    assert job["options"] == {"municipality": "Köln"}
    again = run(cli_env, "queue", server.url("a.mp4"))
    assert again.stdout.split() == [str(job["id"]), "already", "queued", server.url("a.mp4")]
    bad = run(cli_env, "queue", server.url("b.webm"), "--published", "2026-02-30")
    assert bad.returncode == 1
    assert (
        bad.stderr.strip().splitlines()
        == ["error: published '2026-02-30': day is out of range for month"]
        or bad.stderr.count("\n") == 1
    )
    assert "2026-02-30" in bad.stderr and "Traceback" not in bad.stderr
    bad_language = run(cli_env, "queue", server.url("b.webm"), "--language", "xx")
    assert bad_language.returncode == 1 and "'xx' is not a language" in bad_language.stderr
    assert len(all_jobs(settings)) == 1


def test_jobs_lists_failures_and_retry_queues_them_again(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    url = server.url("k1-missing.mp4")
    run(cli_env, "queue", url)
    worked = run(cli_env, "worker", "--once")
    assert worked.returncode == 0, worked.stderr
    # not a terminal: one line per job
    assert worked.stdout.splitlines() == [
        f"job 1 failed: {url}: Unable to download webpage: HTTP Error 404: File not found"
    ]
    listed = run(cli_env, "jobs", "--status", "failed", "--json")
    data = json.loads(listed.stdout)
    assert data["total"] == 1
    [job] = data["jobs"]
    assert job["status"] == "failed" and job["attempts"] == 1 and "404" in job["last_error"]
    assert job["started_at"] and job["finished_at"]
    text = run(cli_env, "jobs")
    assert text.stdout.startswith("1  failed   ingest") and "[" + url in text.stdout
    retried = run(cli_env, "retry", "1")
    assert retried.returncode == 0 and retried.stdout.split()[:3] == ["1", "queued", "again"]
    assert all_jobs(settings)[0].status is JobStatus.QUEUED
    not_failed = run(cli_env, "retry", "1")
    assert not_failed.returncode == 1
    assert "job 1 has not failed" in not_failed.stderr
    missing = run(cli_env, "retry", "99")
    assert missing.returncode == 1 and "no job 99" in missing.stderr


def test_two_workers_take_different_jobs(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    names = ["a.mp4", "b.webm", "c.m4a", "embedded.mp4"]
    run(cli_env, "queue", *[server.url(n) for n in names])
    workers = [start(cli_env, "worker", "--once"), start(cli_env, "worker", "--once")]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert sorted(line.split()[1] for line in lines) == ["1", "2", "3", "4"]  # each job once
    assert all(" done: " in line for line in lines)
    found = all_jobs(settings)
    assert {j.status for j in found} == {JobStatus.DONE}
    assert [j.attempts for j in found] == [1, 1, 1, 1]
    assert len({j.statement_id for j in found}) == 4
    with Catalog(settings.catalog_path) as catalog:
        assert catalog.status_counts() == {Status.INDEXED: 4}


@pytest.mark.parametrize(
    "point",
    ["job:claimed", "fetch:downloading", "fetch:downloaded", "transcribe:saved", "job:indexed"],
)
def test_a_worker_killed_at_any_stage_resumes_and_finishes(
    cli_env: dict[str, str], server: Served, settings: Settings, point: str
) -> None:
    run(cli_env, "queue", server.url("a.mp4"), "--municipality", "Köln")
    killed = run(cli_env | {STOP_ENV: point}, "worker", "--once")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [stale] = all_jobs(settings)
    assert stale.status is JobStatus.RUNNING  # under the dead worker's name

    again = run(cli_env, "worker", "--once")
    assert again.returncode == 0, again.stderr
    [job] = all_jobs(settings)
    assert job.status is JobStatus.DONE and job.attempts == 2 and job.statement_id
    with Catalog(settings.catalog_path) as catalog:
        assert catalog.status_counts() == {Status.INDEXED: 1}
        statement = catalog.get(job.statement_id)
        assert statement.municipality == "Köln"
    kept = sorted(p.name for p in settings.media_dir.iterdir())
    assert kept == sorted([str(statement.media_file), str(statement.poster_file)])
    assert not list(settings.work_dir.glob(f"{statement.id}*"))
    found = run(cli_env, "search", "Maskenpflicht", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert results["total"] == 1 and results["statements"][0]["id"] == statement.id
    assert len(results["statements"][0]["passages"]) == 1


def test_sigterm_finishes_the_current_job_then_stops(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    run(cli_env, "queue", server.url("a.mp4"), server.url("b.webm"))
    worker = start(cli_env | {"STADTSTIMME_CPU_THREADS": "1"}, "worker", "--no-prefetch")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(j.status is JobStatus.RUNNING for j in all_jobs(settings)):
            break
        time.sleep(0.1)
    os.kill(worker.pid, signal.SIGTERM)
    out, errors = worker.communicate(timeout=300)
    assert worker.returncode == 0, errors
    assert "stopping after the current job" in errors
    statuses = sorted(j.status for j in all_jobs(settings))
    assert statuses == [JobStatus.DONE, JobStatus.QUEUED]
    assert len(out.splitlines()) == 1 and " done: " in out


def test_on_a_terminal_the_worker_draws_progress(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    """stderr a terminal (a pty): bars for the statements done of the total, the bytes fetched
    and the audio seconds transcribed, besides the line per job."""
    import pty

    run(cli_env, "queue", server.url("a.mp4"), server.url("c.m4a"))
    leader, follower = pty.openpty()
    worker = subprocess.Popen(
        [*COMMAND, "worker", "--once"],
        env=cli_env | {"TERM": "xterm", "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the worker closed its end
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = worker.communicate(timeout=300)
    os.close(leader)
    assert worker.returncode == 0
    screen = drawn.decode(errors="replace")
    assert "statements" in screen and "/2" in screen  # done of the total
    assert "s audio" in screen  # seconds transcribed
    assert "MB" in screen  # bytes downloaded
    assert "2 jobs done, 0 failed, 0 postponed" in screen
    assert len(out.splitlines()) == 0 or all(" done: " in line for line in out.splitlines())


def test_serve_with_a_worker_runs_queued_jobs(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    run(cli_env, "queue", server.url("c.m4a"))
    served = start(cli_env, "serve", "--worker", "--port", "0")
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if all_jobs(settings)[0].status is JobStatus.DONE:
                break
            time.sleep(0.5)
        assert all_jobs(settings)[0].status is JobStatus.DONE
    finally:
        served.send_signal(signal.SIGINT)
        served.communicate(timeout=60)
    with Catalog(settings.catalog_path) as catalog:
        assert catalog.status_counts() == {Status.INDEXED: 1}


@pytest.mark.parametrize("prefetch", ["--prefetch", "--no-prefetch"])
def test_jobs_n_takes_that_many_jobs_and_no_more(
    cli_env: dict[str, str], server: Served, settings: Settings, prefetch: str
) -> None:
    run(cli_env, "queue", *[server.url(f"k1-missing-{n}.mp4") for n in range(3)])
    worked = run(cli_env, "worker", "--jobs", "2", prefetch)  # without --once: the limit stops it
    assert worked.returncode == 0, worked.stderr
    assert len(worked.stdout.splitlines()) == 2
    found = {j.id: (j.status, j.attempts) for j in all_jobs(settings)}
    assert found == {
        1: (JobStatus.FAILED, 1),
        2: (JobStatus.FAILED, 1),
        3: (JobStatus.QUEUED, 0),
    }
