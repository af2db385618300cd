"""The worker: takes jobs from the queue (archive.jobs) and runs them through the same Pipeline
as `stadtstimme ingest`, which indexes through the same `index_statement()` as everything else.

The model is loaded once, by whoever makes the worker. The next job's fetch runs while the
current one is transcribed: a prefetch thread, with its own catalog connection, claims one job
ahead and runs its stages up to the fetch; the transcription stays in the main thread (Whisper
already uses the cores; the fetch mostly waits on the network). Nothing about a job lives only
in memory: a job given to the main thread is `running` in the catalog under this worker's name,
and a worker killed at any point leaves jobs that `jobs.recover` gives back to the queue, whose
statements the pipeline resumes at the stage they reached.

A failure is settled in one place (`settle`), by `fetch.classify`: transient ones are postponed
with backoff, a live stream still running is tried again after an hour, permanent ones fail at
once with a one-line reason naming the input.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive import jobs
from archive.catalog import Catalog
from archive.config import Settings
from archive.dates import PartialDate
from archive.errors import InvalidInput, StadtstimmeError
from archive.indexing import index_statement
from archive.jobs import Job, JobKind
from archive.models import Status
from archive.passages import build_passages
from archive.search import Engine
from archive.sources import get_source
from archive.stops import stop_point
from ingest import fetch
from ingest.pipeline import Pipeline, Reporter, Request, SilentReporter
from ingest.transcribe import load_model, transcribe

log = logging.getLogger(__name__)

POLL_S = 2.0
# What a finished job came to, for the one line a log gets per job.
DONE, FAILED, POSTPONED = "done", "failed", "postponed"
Notify = Callable[[Job, str, str], None]


@dataclass(frozen=True)
class Event:
    """A stage of a job as it ran (time.time() stamps): how the overlap is seen and measured."""

    job_id: int
    stage: str  # "fetch" or "work" (transcribe and index)
    began: float
    ended: float


@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    postponed: int = 0
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class _Ready:
    """A claimed job handed from the prefetch thread to the main thread, fetched as far as the
    fetch stage (for an ingest job), with what its probe found."""

    job: Job
    candidate: fetch.Candidate | None


_EMPTY = object()  # the prefetch thread found the queue empty (with once=True)


def _text(job: Job, key: str) -> str | None:
    value = job.options.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"job {job.id}: option {key!r} must be a string, not {value!r}")
    return value


def request_for(catalog: Catalog, job: Job) -> Request:
    """The pipeline's request for an ingest job: the job's options, then its source's settings
    (municipality, speaker, prompt; its language as the source's language)."""
    source = get_source(catalog, job.source_id) if job.source_id is not None else None
    published = _text(job, "published")
    try:
        date = PartialDate.parse(published) if published else None
    except ValueError as error:
        raise InvalidInput(f"job {job.id}: published {published!r}: {error}") from None
    return Request(
        job.target,
        language=_text(job, "language"),
        title=_text(job, "title"),
        municipality=_text(job, "municipality") or (source.municipality if source else None),
        speaker=_text(job, "speaker") or (source.speaker if source else None),
        published=date,
        prompt=_text(job, "prompt") or (source.prompt if source else None),
        source_language=source.language if source else None,
        accept_partial=job.options.get("accept_partial") is True,
        source_id=job.source_id,
    )


def reason_for(job: Job, error: BaseException) -> str:
    """One line naming the input."""
    text = (
        error.message if isinstance(error, StadtstimmeError) else f"{type(error).__name__}: {error}"
    )
    text = " ".join(text.split())
    return text if job.target in text else f"{job.target}: {text}"


def settle(catalog: Catalog, job: Job, error: BaseException) -> str:
    """Record a job's failure as `fetch.classify` judges it; returns DONE, FAILED or POSTPONED."""
    kind = fetch.classify(error)
    reason = reason_for(job, error)
    if not isinstance(error, StadtstimmeError):
        log.error("job %d (%s) failed unexpectedly", job.id, job.target, exc_info=error)
    if kind is fetch.Failure.LATER:
        jobs.postpone(catalog, job, reason, delay=fetch.LIVE_RETRY)
        return POSTPONED
    if kind is fetch.Failure.TRANSIENT:
        return POSTPONED if jobs.postpone(catalog, job, reason) else FAILED
    jobs.fail(catalog, job.id, reason)
    return FAILED


class Worker:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        engine: Engine,
        model: Any,
        *,
        prefetch: bool = True,
        reporter: Reporter | None = None,
        fetch_reporter: Reporter | None = None,
        notify: Notify | None = None,
        poll: float = POLL_S,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.model = model
        self.prefetch = prefetch
        self.reporter = reporter or SilentReporter()
        self.fetch_reporter = fetch_reporter or self.reporter
        self.notify = notify or (lambda job, outcome, text: None)
        self.poll = poll
        self.name = jobs.worker_name()
        self.stop = threading.Event()
        self.pipeline = Pipeline(settings, catalog, engine, self.reporter, model=model)
        self.tally = Tally()
        self._models: dict[str, Any] = {}
        self._handoff: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._claimed = 0

    # the loop

    def run(self, once: bool = False, limit: int | None = None) -> Tally:
        """Work until the queue is empty (once), `limit` jobs are taken, or `stop` is set."""
        self._limit = limit
        for job in jobs.recover(self.catalog):
            log.info(
                "job %d (%s): its worker %s is gone; queued again", job.id, job.target, job.worker
            )
        feeder = None
        if self.prefetch:
            feeder = threading.Thread(target=self._feed, args=(once,), daemon=True)
            feeder.start()
        try:
            while not self.stop.is_set():
                ready = self._next(once)
                if ready is _EMPTY:
                    break
                if ready is None:
                    continue
                self._work(ready)
        finally:
            self.stop.set()
            self._give_back()
        return self.tally

    def _next(self, once: bool) -> Any:
        """The next job to work on: _Ready, _EMPTY when the queue is empty and once is set, or
        None to look again (after a poll, a failed fetch, or because stop was set). Without
        prefetch, its fetch runs here, before it is transcribed."""
        if self.prefetch:
            try:
                ready = self._handoff.get(timeout=0.5)
            except queue.Empty:
                return None
            self._handoff.task_done()
            if isinstance(ready, BaseException):
                raise ready
            return ready
        if self._limit_reached():
            return _EMPTY
        job = self._claim(self.catalog)
        if job is None:
            if once:
                return _EMPTY
            self.stop.wait(self.poll)
            return None
        stop_point("job:claimed")
        return self._fetch_ahead(self.catalog, self.pipeline, job)  # the same stages, in turn

    def _feed(self, once: bool) -> None:
        """The prefetch thread: claim a job, fetch it, hand it over, and wait until the main
        thread takes it before claiming the next (one job ahead, no more)."""
        try:
            with Catalog(self.settings.catalog_path) as catalog:
                pipeline = Pipeline(self.settings, catalog, self.engine, self.fetch_reporter)
                while not self.stop.is_set():
                    if self._limit_reached():
                        self._handoff.put(_EMPTY)
                        return
                    job = self._claim(catalog)
                    if job is None:
                        if once:
                            self._handoff.put(_EMPTY)
                            return
                        self.stop.wait(self.poll)
                        continue
                    stop_point("job:claimed")
                    ready = self._fetch_ahead(catalog, pipeline, job)
                    if ready is None:
                        continue
                    self._handoff.put(ready)
                    self._handoff.join()  # taken by the main thread (or given back at a stop)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which raises it
            self._handoff.put(error)

    def _limit_reached(self) -> bool:
        return self._limit is not None and self._claimed >= self._limit

    def _claim(self, catalog: Catalog) -> Job | None:
        """One thread claims at a time (the prefetch thread, or else the main thread)."""
        job = jobs.claim(catalog, self.name)
        if job is not None:
            self._claimed += 1
        return job

    def _fetch_ahead(self, catalog: Catalog, pipeline: Pipeline, job: Job) -> _Ready | None:
        if job.kind is not JobKind.INGEST:
            return _Ready(job, None)
        began = time.time()
        try:
            outcome = pipeline.ingest(request_for(catalog, job), until="fetch")
        except Exception as error:  # noqa: BLE001 - every failure is settled (fetch.classify)
            self._settled(job, settle(catalog, job, error), reason_for(job, error))
            return None
        finally:
            self._event(job.id, "fetch", began)
        return _Ready(job, outcome.candidate)

    def _give_back(self) -> None:
        """At a stop: jobs fetched ahead but not begun go back to the queue (their statements
        keep what was fetched)."""
        while True:
            try:
                ready = self._handoff.get_nowait()
            except queue.Empty:
                return
            self._handoff.task_done()
            if isinstance(ready, _Ready):
                jobs.release(self.catalog, ready.job)

    def _event(self, job_id: int, stage: str, began: float) -> None:
        with self._lock:
            self.tally.events.append(Event(job_id, stage, began, time.time()))

    def _settled(self, job: Job, outcome: str, text: str) -> None:
        with self._lock:
            if outcome == DONE:
                self.tally.done += 1
            elif outcome == FAILED:
                self.tally.failed += 1
            else:
                self.tally.postponed += 1
        self.notify(job, outcome, text)

    # one job

    def _work(self, ready: _Ready) -> None:
        job = ready.job
        began = time.time()
        try:
            if job.kind is JobKind.INGEST:
                request = request_for(self.catalog, job)
                outcome = self.pipeline.ingest(request, candidate=ready.candidate)
                statement = outcome.statement
            else:
                statement = self.catalog.get(self.retranscribe(job))
        except Exception as error:  # noqa: BLE001 - every failure is settled (fetch.classify)
            self._settled(job, settle(self.catalog, job, error), reason_for(job, error))
            return
        finally:
            self._event(job.id, "work", began)
        stop_point("job:indexed")
        jobs.finish(self.catalog, job.id, statement.id)
        self._settled(job, DONE, f"{statement.id}  {statement.title}")

    def _model_for(self, name: str | None) -> Any:
        if name is None or name == self.settings.model:
            if self.model is None:
                self.model = load_model(self.settings)
            return self.model
        if name not in self._models:
            self._models[name] = load_model(self.settings.model_copy(update={"model": name}))
        return self._models[name]

    def retranscribe(self, job: Job) -> str:
        """Transcribe a statement again (another model or language, if the job says) from its
        kept media, or from its original fetched again where none is kept; the operator's
        corrections are applied again unless the job discards them; then re-indexed."""
        from archive import corrections

        statement = self.catalog.get(job.target)
        if statement.status not in (Status.TRANSCRIBED, Status.INDEXED, Status.HIDDEN):
            raise InvalidInput(
                f"statement {statement.id} is {statement.status}: only a transcribed statement "
                "is transcribed again"
            )
        work = self.settings.work_dir / f"retranscribe-{statement.id}"
        try:
            media = self._media_for(statement.id, work)
            language = _text(job, "language") or statement.language
            source = get_source(self.catalog, statement.source_id) if statement.source_id else None
            self.reporter.stage("transcribe", statement.duration)
            transcript = transcribe(
                self._model_for(_text(job, "model")),
                media,
                language=None if language in (None, "auto") else language,
                prompt=source.prompt if source else None,
                progress=self.reporter.advance,
                fallback=self.settings.language,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with self.catalog.transaction():
            hidden = self.catalog.get(statement.id).status is Status.HIDDEN
            passages = build_passages(statement.id, transcript.segments)
            self.catalog.save_transcript(statement.id, transcript, passages, transcript.note)
            if job.options.get("discard_corrections") is True:
                corrections.discard(self.catalog, statement.id)
            else:
                corrections.reapply(self.catalog, statement.id)
            if hidden:
                self.catalog.set_status(statement.id, Status.HIDDEN)
        stop_point("retranscribe:saved")
        if not hidden:
            index_statement(self.catalog, self.engine, statement.id)
        return statement.id

    def _media_for(self, statement_id: str, work: Path) -> Path:
        """The statement's kept media, or its original fetched again (audio, into `work`);
        a permanent failure naming the statement where neither is there."""
        statement = self.catalog.get(statement_id)
        if statement.media_file and (self.settings.media_dir / statement.media_file).is_file():
            return self.settings.media_dir / statement.media_file
        original = statement.page_url or statement.media_url
        if not original or not fetch.is_url(original) or original.startswith("file://"):
            raise InvalidInput(
                f"statement {statement_id}: no media kept and no original to fetch again"
            )
        try:
            candidate = fetch.probe_url(original)
            kept = fetch.download(
                candidate, work / "download", work, "media", keep="audio", max_height=144
            )
        except StadtstimmeError as error:
            raise type(error)(
                f"statement {statement_id}: no media kept, and its original {original} cannot "
                f"be fetched again ({error.message})"
            ) from error
        return kept.path
