"""The stages from a target (URL or file) to an indexed statement, run by one loop.

Each stage is skipped when its output exists, so a rerun after a crash resumes where the crash
left off. A statement is marked `indexed` only once its passages are searchable. One process at a
time works on an origin: others wait for it (an advisory file lock, released by the kernel even
when the holder is killed).
"""

from __future__ import annotations

import fcntl
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from archive.catalog import Catalog, statement_id_for
from archive.config import Settings
from archive.dates import PartialDate
from archive.errors import MediaError, StadtstimmeError
from archive.indexing import index_statement, is_fetched, is_indexed, is_transcribed
from archive.models import Statement, Status
from archive.passages import build_passages
from archive.search import Engine
from ingest import fetch
from ingest.media import probe_media
from ingest.transcribe import load_model, transcribe

log = logging.getLogger(__name__)

NO_SPEECH = "no speech detected"


class Reporter(Protocol):
    """How the pipeline tells a person what it does (the CLI draws progress bars)."""

    def stage(self, name: str, total: float | None) -> None: ...

    def advance(self, done: float, total: float | None) -> None: ...

    def message(self, text: str) -> None: ...


class SilentReporter:
    def stage(self, name: str, total: float | None) -> None:
        log.debug("stage %s", name)

    def advance(self, done: float, total: float | None) -> None:
        pass

    def message(self, text: str) -> None:
        log.info(text)


@dataclass(frozen=True)
class Request:
    target: str
    language: str | None = None
    title: str | None = None
    municipality: str | None = None
    speaker: str | None = None
    published: PartialDate | None = None
    prompt: str | None = None


@dataclass(frozen=True)
class Outcome:
    statement: Statement
    existed: bool


@dataclass
class Context:
    request: Request
    candidate: fetch.Candidate
    statement: Statement
    media: Path | None = None


Stage = tuple[str, Callable[["Context"], bool], Callable[["Context"], None]]


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        engine: Engine,
        reporter: Reporter | None = None,
        model: Any = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.reporter: Reporter = reporter or SilentReporter()
        self._model = model
        self.stages: list[Stage] = [
            ("fetch", self._fetched, self._fetch),
            ("transcribe", self._transcribed, self._transcribe),
            ("index", self._indexed, self._index),
        ]

    # the loop

    def ingest(self, request: Request) -> Outcome:
        """Archive one statement; return the existing one when its origin is already indexed."""
        self.settings.prepare()
        self.reporter.stage("probe", None)
        candidate = self._probe(request.target)
        known = self.catalog.find_by_origin(candidate.origin)
        if known and known.status in (Status.INDEXED, Status.HIDDEN):
            return Outcome(known, existed=True)
        statement_id = statement_id_for(candidate.origin)
        with self._exclusive(statement_id, request.target):
            statement = self.catalog.claim(self._new_statement(statement_id, candidate, request))
            if statement.status in (Status.INDEXED, Status.HIDDEN):
                return Outcome(statement, existed=True)
            context = Context(request, candidate, statement)
            for name, done, run in self.stages:
                if done(context):
                    continue
                self.reporter.stage(name, None)
                try:
                    run(context)
                except StadtstimmeError as error:
                    self.catalog.set_status(statement_id, Status.FAILED, error.message)
                    raise
                except Exception as error:
                    log.exception("stage %s failed for %s", name, request.target)
                    self.catalog.set_status(
                        statement_id, Status.FAILED, f"internal error in {name}: {error!r}"
                    )
                    raise
                context.statement = self.catalog.get(statement_id)
            return Outcome(context.statement, existed=False)

    def _probe(self, target: str) -> fetch.Candidate:
        if fetch.is_url(target) and not target.startswith("file://"):
            return fetch.probe_url(target)
        path = Path(target.removeprefix("file://")).expanduser()
        candidate = fetch.probe_file(path)
        probe_media(path, str(path))
        return candidate

    @contextmanager
    def _exclusive(self, statement_id: str, target: str) -> Iterator[None]:
        locks = self.settings.work_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{statement_id}.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.reporter.message(f"{target} is already being ingested; waiting for it")
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _new_statement(
        self, statement_id: str, candidate: fetch.Candidate, request: Request
    ) -> Statement:
        return Statement(
            id=statement_id,
            origin=candidate.origin,
            title=request.title or candidate.title,
            published=request.published or candidate.published,
            duration=candidate.duration,
            municipality=request.municipality or candidate.municipality,
            speaker=request.speaker or candidate.speaker,
            uploader=candidate.uploader,
            page_url=candidate.page_url,
            media_url=candidate.media_url,
            thumbnail=candidate.thumbnail,
            extractor=candidate.extractor,
        )

    # stages: each a test whether its output exists, and the step that makes it

    def _media_path(self, context: Context) -> Path | None:
        name = context.statement.media_file
        path = self.settings.media_dir / name if name else None
        return path if path and path.is_file() else None

    def _fetched(self, context: Context) -> bool:
        context.media = self._media_path(context)
        return is_fetched(context.statement, self.settings.media_dir)

    def _fetch(self, context: Context) -> None:
        statement = context.statement
        work = self.settings.work_dir / statement.id
        if context.candidate.local_path is not None:
            media = fetch.copy_file(context.candidate, work, self.settings.media_dir, statement.id)
        else:
            media = fetch.download(
                context.candidate,
                work,
                self.settings.media_dir,
                statement.id,
                progress=lambda done, total: self.reporter.advance(done, total),
            )
        shutil.rmtree(work, ignore_errors=True)
        try:
            info = probe_media(media, context.request.target)
        except MediaError:
            media.unlink(missing_ok=True)
            raise
        context.media = media
        self.catalog.update(
            statement.id,
            status=Status.FETCHED,
            media_file=media.name,
            duration=info.duration or statement.duration,
            error=None,
        )

    def _transcribed(self, context: Context) -> bool:
        return is_transcribed(context.statement)

    def _language(self, context: Context) -> str | None:
        wanted = context.request.language or self.settings.language
        return None if wanted == "auto" else wanted

    def _transcribe(self, context: Context) -> None:
        assert context.media is not None
        if self._model is None:
            self.reporter.message("loading the Whisper model")
            self._model = load_model(self.settings)
        self.reporter.stage("transcribe", context.statement.duration)
        transcript = transcribe(
            self._model,
            context.media,
            language=self._language(context),
            prompt=context.request.prompt or context.candidate.prompt,
            progress=lambda done, total: self.reporter.advance(done, total),
        )
        passages = build_passages(context.statement.id, transcript.segments)
        note = None if transcript.segments else NO_SPEECH
        self.catalog.save_transcript(context.statement.id, transcript, passages, note)

    def _indexed(self, context: Context) -> bool:
        return is_indexed(context.statement)

    def _index(self, context: Context) -> None:
        index_statement(self.catalog, self.engine, context.statement.id)
