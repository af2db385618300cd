"""The `stadtstimme` commands of the job queue (issue 10): queue, worker, jobs, retry. They add
themselves to ingest.cli.app.

On a terminal, `worker` draws Rich progress: per statement the bytes downloaded and the seconds
transcribed, overall the statements done of the total and the time left. Elsewhere (a cron log)
it writes one line per finished or failed job, and nothing else.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from types import FrameType
from typing import Annotated, Any, Literal

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from archive import jobs
from archive.catalog import Catalog
from archive.errors import InvalidInput
from archive.jobs import Job, JobStatus
from ingest.cli import (
    ConsoleReporter,
    LanguageOption,
    MunicipalityOption,
    PromptOption,
    PublishedOption,
    SpeakerOption,
    TitleOption,
    _open_reading,
    _plural,
    _run,
    _settings,
    _shown,
    _writing_engine,
    app,
    err,
    out,
)

JobFilter = Literal["queued", "running", "done", "failed", "all"]


def _line(text: str) -> None:
    """A line whose text from outside (targets, errors) has been through `_shown`."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def queue(
    targets: Annotated[list[str], typer.Argument(help="URLs yt-dlp understands, or local files.")],
    language: LanguageOption = None,
    title: TitleOption = None,
    municipality: MunicipalityOption = None,
    speaker: SpeakerOption = None,
    published: PublishedOption = None,
    prompt: PromptOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the jobs as JSON.")] = False,
) -> None:
    """Queue statements for a worker to ingest (`stadtstimme worker`); prints the job ids."""

    def work() -> list[tuple[Job, bool]]:
        options = jobs.ingest_options(
            language=language,
            title=title,
            municipality=municipality,
            speaker=speaker,
            published=published,
            prompt=prompt,
        )
        for target in targets:
            if not target.strip():
                raise InvalidInput(f"empty target {target!r}: give a URL or a media file")
        settings = _settings(write=True)
        queued = []
        with Catalog(settings.catalog_path) as catalog:
            for target in targets:
                queued.append(jobs.enqueue(catalog, target, options=options))
        return queued

    queued = _run(work)
    if as_json:
        out.print_json(data=[asdict(job) | {"new": new} for job, new in queued])
        return
    for job, new in queued:
        _line(f"{job.id}  {'queued' if new else 'already ' + job.status}  {_shown(job.target)}")


class BatchProgress:
    """Rich progress for a batch: the statements done of the total (with the time left), the
    bytes of the statement being fetched, the seconds of the one being transcribed. Disabled
    where stderr is no terminal."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[amount]}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=quiet or not err.is_terminal,
        )
        self.overall = self.progress.add_task("statements", total=total or None, amount="")
        self.bars: dict[str, TaskID] = {}
        self.lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return not self.progress.disable

    def finished(self, count_total: int | None = None) -> None:
        with self.lock:
            self.progress.advance(self.overall)
            if count_total is not None:
                self.progress.update(self.overall, total=count_total)

    def bar(self, stage: str, total: float | None) -> TaskID:
        with self.lock:
            if stage in self.bars:
                self.progress.remove_task(self.bars[stage])
            task = self.progress.add_task(stage, total=total, amount="")
            self.bars[stage] = task
            return task

    def reporter(self) -> _StageReporter:
        return _StageReporter(self)


class _StageReporter:
    """One pipeline's reporter (the prefetch thread's, or the main thread's) on the shared bars."""

    def __init__(self, batch: BatchProgress) -> None:
        self.batch = batch
        self.kind = ""
        self.task: TaskID | None = None

    def stage(self, name: str, total: float | None) -> None:
        if name in ("fetch", "transcribe"):
            self.kind, self.task = name, self.batch.bar(name, total)
        else:
            self.kind, self.task = name, None

    def advance(self, done: float, total: float | None) -> None:
        if self.task is None:
            return
        if self.kind == "fetch":
            amount = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        else:
            amount = f"{done:.0f}/{total:.0f} s audio" if total else f"{done:.0f} s audio"
        self.batch.progress.update(self.task, completed=done, total=total, amount=amount)

    def message(self, text: str) -> None:
        if self.batch.enabled:
            self.batch.progress.console.print(text, markup=False, highlight=False)


@contextmanager
def _stopping(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT end the worker after its current job; a second one stops it at once
    (its job stays `running`, and the next worker recovers and resumes it)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping after the current job (again to stop now)", markup=False)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pending(catalog: Catalog) -> int:
    counts = jobs.counts(catalog)
    return counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when the queue is empty (else wait for jobs).")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--jobs", min=1, help="Stop after taking this many jobs.")
    ] = None,
    prefetch: Annotated[
        bool,
        typer.Option(help="Fetch the next statement while the current one is transcribed."),
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Run queued jobs: fetch, transcribe and index, with the model loaded once. Several
    workers on one archive each take different jobs."""

    def work() -> tuple[int, int, int]:
        settings = _settings(write=True)
        from ingest.transcribe import load_model
        from ingest.worker import Worker

        with Catalog(settings.catalog_path) as catalog:
            engine = _writing_engine(settings, catalog, ConsoleReporter(quiet))
            model = load_model(settings)
            pending = _pending(catalog)
            batch = BatchProgress(min(pending, limit) if limit else pending, quiet)

            def notify(job: Job, outcome: str, text: str) -> None:
                batch.finished()
                line = f"job {job.id} {outcome}: {_shown(text)}"
                if batch.enabled:
                    batch.progress.console.print(line, markup=False, highlight=False)
                else:
                    _line(line)

            runner = Worker(
                settings,
                catalog,
                engine,
                model,
                prefetch=prefetch,
                reporter=batch.reporter(),
                fetch_reporter=batch.reporter(),
                notify=notify,
            )
            with _stopping(runner.stop), batch.progress:
                tally = runner.run(once=once, limit=limit)
        return tally.done, tally.failed, tally.postponed

    done, failed, postponed = _run(work)
    if not quiet:
        err.print(
            f"{_plural(done, 'job')} done, {failed} failed, {postponed} postponed",
            markup=False,
            highlight=False,
        )


def _job_record(job: Job) -> dict[str, Any]:
    return asdict(job)


@app.command("jobs")
def jobs_command(
    status: Annotated[JobFilter, typer.Option(help="Only jobs with this status.")] = "all",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the jobs as JSON.")] = False,
) -> None:
    """List the jobs, newest first: status, attempts, last error and timings."""

    def work() -> tuple[int, list[Job]]:
        settings = _settings(write=False)
        with _open_reading(settings) as catalog:
            wanted = None if status == "all" else JobStatus(status)
            return jobs.list_jobs(catalog, wanted, limit=limit)

    total, found = _run(work)
    if as_json:
        out.print_json(data={"total": total, "jobs": [_job_record(j) for j in found]})
        return
    for job in found:
        when = job.finished_at or job.started_at or job.queued_at or ""
        line = f"{job.id}  {job.status:<8} {job.kind:<12} {job.attempts}x  {when[:19]}"
        line += f"  {_shown(job.target)}"
        if job.statement_id:
            line += f"  -> {job.statement_id}"
        if job.last_error:
            line += f"  [{_shown(job.last_error)}]"
        _line(line)


@app.command()
def retry(
    job_id: Annotated[int, typer.Argument(help="The failed job's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Queue a failed job again."""

    def work() -> Job:
        settings = _settings(write=True)
        with Catalog(settings.catalog_path) as catalog:
            return jobs.retry(catalog, job_id)

    job = _run(work)
    if as_json:
        out.print_json(data=_job_record(job))
        return
    _line(f"{job.id}  queued again  {_shown(job.target)}")


def start_worker_thread() -> threading.Event:
    """`serve --worker`: one worker in a thread of the server process, with its own writable
    catalog; set the event returned to stop it after its current job."""
    settings = _settings(write=True)
    from ingest.transcribe import load_model
    from ingest.worker import Worker

    model = load_model(settings)
    with Catalog(settings.catalog_path) as catalog:  # made, migrated, indexed before it serves
        _writing_engine(settings, catalog, ConsoleReporter(quiet=True))
    stop = threading.Event()

    def notify(job: Job, outcome: str, text: str) -> None:
        logging.getLogger("stadtstimme.worker").info("job %d %s: %s", job.id, outcome, text)

    def work() -> None:
        with Catalog(settings.catalog_path) as catalog:
            from archive.search.engines import open_engine

            runner = Worker(settings, catalog, open_engine(settings, catalog), model, notify=notify)
            runner.stop = stop
            try:
                runner.run()
            except Exception:
                logging.getLogger("stadtstimme.worker").exception("the worker thread stopped")

    threading.Thread(target=work, name="stadtstimme-worker", daemon=True).start()
    return stop
