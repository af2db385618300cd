"""The job queue, in the catalog: what is to be ingested or re-transcribed, and how it went.

Nothing about a job lives only in a process's memory. A job is claimed by one atomic statement
(`UPDATE … RETURNING`, which a PostgreSQL catalog would write `… FOR UPDATE SKIP LOCKED`), so
that several workers on one catalog each take different jobs. A worker that dies leaves its job
`running` under its name (host:pid); `recover()` gives such jobs back to the queue, and the
pipeline resumes the statement at the stage it reached (the statement's status says which).

States: queued → running → done | failed, or back to queued (a transient failure, retried after
a backoff; a live stream still running, tried again later; a worker that died).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from archive.catalog import Catalog, now
from archive.config import language_option
from archive.dates import date_option
from archive.errors import InvalidInput
from archive.stops import alive


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(StrEnum):
    INGEST = "ingest"  # target: a URL or a file path
    RETRANSCRIBE = "retranscribe"  # target: a statement id


# Transient failures are retried after BACKOFF_S * 4**(attempts - 1) seconds, MAX_ATTEMPTS in all.
BACKOFF_S = 30.0
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    target: str
    status: JobStatus
    source_id: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    statement_id: str | None = None
    attempts: int = 0
    not_before: str | None = None
    last_error: str | None = None
    worker: str | None = None
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


def _job(row: Any) -> Job:
    values = dict(row)
    values["kind"] = JobKind(values["kind"])
    values["status"] = JobStatus(values["status"])
    values["options"] = json.loads(values["options"] or "{}")
    return Job(**values)


# The options of an ingest job: the fields of ingest.pipeline.Request, as JSON.
INGEST_OPTIONS = (
    "language",
    "title",
    "municipality",
    "speaker",
    "published",
    "prompt",
    "accept_partial",
)


def ingest_options(
    *,
    language: str | None = None,
    title: str | None = None,
    municipality: str | None = None,
    speaker: str | None = None,
    published: str | None = None,
    prompt: str | None = None,
    accept_partial: bool = False,
) -> dict[str, Any]:
    """An ingest job's options, checked where they enter (as `ingest` checks its options):
    InvalidInput naming the option otherwise. Only what is given is stored."""
    options: dict[str, Any] = {}
    spoken = language_option(language, "language")
    if spoken is not None:
        options["language"] = spoken
    date = date_option(published, "published")
    if date is not None:
        options["published"] = str(date)
    texts = {"title": title, "municipality": municipality, "speaker": speaker, "prompt": prompt}
    options |= {key: value for key, value in texts.items() if value is not None}
    if accept_partial:
        options["accept_partial"] = True
    return options


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(
    catalog: Catalog,
    target: str,
    *,
    kind: JobKind = JobKind.INGEST,
    source_id: int | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[Job, bool]:
    """Queue a job unless the same one (kind and target) is queued or running already.
    Returns the job and whether it was queued now."""
    with catalog.transaction() as db:
        row = db.execute(
            "INSERT INTO jobs (kind, target, source_id, options, status, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, target) WHERE status IN ('queued', 'running') DO NOTHING "
            "RETURNING *",
            (
                str(kind),
                target,
                source_id,
                json.dumps(options or {}, sort_keys=True),
                str(JobStatus.QUEUED),
                now(),
            ),
        ).fetchone()
        if row is not None:
            return _job(row), True
        row = db.execute(
            "SELECT * FROM jobs WHERE kind = ? AND target = ? AND status IN ('queued', 'running')",
            (str(kind), target),
        ).fetchone()
    return _job(row), False


def claim(catalog: Catalog, worker: str | None = None) -> Job | None:
    """Take the oldest queued job that is due, in one atomic statement; None when none is."""
    stamp = now()
    with catalog.transaction() as db:
        row = db.execute(
            "UPDATE jobs SET status = ?, worker = ?, started_at = ?, attempts = attempts + 1, "
            "finished_at = NULL "
            "WHERE id = (SELECT id FROM jobs WHERE status = ? "
            "AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 1) "
            "RETURNING *",
            (str(JobStatus.RUNNING), worker or worker_name(), stamp, str(JobStatus.QUEUED), stamp),
        ).fetchone()
    return _job(row) if row is not None else None


def _end(catalog: Catalog, job_id: int, status: JobStatus, **changes: Any) -> None:
    assignments = ", ".join(f"{key} = ?" for key in changes)
    with catalog.transaction() as db:
        db.execute(
            f"UPDATE jobs SET status = ?{', ' if changes else ''}{assignments} WHERE id = ?",
            (str(status), *changes.values(), job_id),
        )


def finish(catalog: Catalog, job_id: int, statement_id: str | None) -> None:
    _end(
        catalog,
        job_id,
        JobStatus.DONE,
        statement_id=statement_id,
        finished_at=now(),
        last_error=None,
        not_before=None,
    )


def fail(catalog: Catalog, job_id: int, error: str, statement_id: str | None = None) -> None:
    """A permanent failure: the job ends failed with the reason (until an operator retries)."""
    _end(
        catalog,
        job_id,
        JobStatus.FAILED,
        last_error=error,
        finished_at=now(),
        statement_id=statement_id,
        not_before=None,
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_S * 4 ** max(0, attempts - 1))


def postpone(catalog: Catalog, job: Job, error: str, delay: timedelta | None = None) -> bool:
    """A transient failure: back to the queue after a backoff (or the delay given), unless the
    job has had MAX_ATTEMPTS; then it fails. Returns whether it was queued again."""
    if delay is None and job.attempts >= MAX_ATTEMPTS:
        fail(catalog, job.id, f"{error} (gave up after {job.attempts} attempts)")
        return False
    due = datetime.now(UTC) + (delay if delay is not None else backoff(job.attempts))
    _end(
        catalog,
        job.id,
        JobStatus.QUEUED,
        last_error=error,
        not_before=due.isoformat(timespec="microseconds"),
        worker=None,
    )
    return True


def release(catalog: Catalog, job: Job) -> None:
    """Give a claimed job back untouched (a worker stopping before it began the job's work):
    queued again at once, the attempt not counted."""
    with catalog.transaction() as db:
        db.execute(
            "UPDATE jobs SET status = ?, worker = NULL, attempts = max(0, attempts - 1) "
            "WHERE id = ? AND status = ?",
            (str(JobStatus.QUEUED), job.id, str(JobStatus.RUNNING)),
        )


def recover(catalog: Catalog) -> list[Job]:
    """Give back to the queue the running jobs of workers on this host that are gone (killed,
    crashed): the pipeline resumes their statements where they stopped. Returns them."""
    host = socket.gethostname()
    rows = catalog.db.execute(
        "SELECT * FROM jobs WHERE status = ? AND worker LIKE ?",
        (str(JobStatus.RUNNING), f"{host}:%"),
    ).fetchall()
    recovered = []
    for row in rows:
        job = _job(row)
        pid = (job.worker or "").rpartition(":")[2]
        if pid.isdigit() and not alive(int(pid)):
            with catalog.transaction() as db:
                db.execute(
                    "UPDATE jobs SET status = ?, worker = NULL WHERE id = ? AND status = ? "
                    "AND worker = ?",
                    (str(JobStatus.QUEUED), job.id, str(JobStatus.RUNNING), job.worker),
                )
            recovered.append(job)
    return recovered


def retry(catalog: Catalog, job_id: int) -> Job:
    """Queue a failed job again, at once (an operator's decision)."""
    with catalog.transaction() as db:
        row = db.execute(
            "UPDATE jobs SET status = ?, not_before = NULL, worker = NULL, attempts = 0 "
            "WHERE id = ? AND status = ? RETURNING *",
            (str(JobStatus.QUEUED), job_id, str(JobStatus.FAILED)),
        ).fetchone()
    if row is None:
        from archive.errors import NotFound

        if get(catalog, job_id) is None:
            raise NotFound(f"no job {job_id}")
        raise InvalidInput(f"job {job_id} has not failed; only a failed job is retried")
    return _job(row)


def get(catalog: Catalog, job_id: int) -> Job | None:
    row = catalog.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row) if row is not None else None


def list_jobs(
    catalog: Catalog, status: JobStatus | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[Job]]:
    """Jobs, newest first, with the number there are (of that status)."""
    where, params = ("WHERE status = ?", (str(status),)) if status else ("", ())
    total = catalog.db.execute(f"SELECT count(*) FROM jobs {where}", params).fetchone()[0]
    rows = catalog.db.execute(
        f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ? OFFSET ?", (*params, limit, offset)
    ).fetchall()
    return int(total), [_job(row) for row in rows]


def counts(catalog: Catalog) -> dict[str, int]:
    """Jobs per status (every status present, 0 where none)."""
    found = dict(catalog.db.execute("SELECT status, count(*) FROM jobs GROUP BY status"))
    return {str(status): int(found.get(str(status), 0)) for status in JobStatus}
