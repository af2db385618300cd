"""The stages from a target (URL or file) to an indexed statement, run by one loop.

Each stage is skipped when its output exists, so a rerun after a crash resumes where the crash
left off. A statement is marked `indexed` only once its passages are searchable. One process at a
time works on an origin: others wait for it (an advisory file lock, released by the kernel even
when the holder is killed).

Text from outside (the source's metadata, the request's options) is cleaned of control characters
in one place, `_new_statement`, before it is stored. A stage that fails marks the statement
failed with its reason; a full disk is reported as such, in one line, also when the catalog
itself can no longer be written. A statement longer than settings.max_duration is refused
(fetch.TooLong): before anything is downloaded where the probe knows its length, else once the
media is there (then removed). A worker runs the stages up to the fetch ahead (`until`), in
another thread, and the rest later with the probe's result (`candidate`).
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from archive.catalog import Catalog, statement_id_for
from archive.config import Settings
from archive.dates import PartialDate
from archive.errors import DiskFull, InvalidInput, MediaError, StadtstimmeError, disk_full
from archive.indexing import index_statement, is_fetched, is_indexed, is_transcribed
from archive.models import Statement, Status, Transcript
from archive.passages import build_passages
from archive.search import Engine
from archive.stops import stop_point
from archive.text import clean_text
from ingest import fetch
from ingest.media import make_poster, probe_media
from ingest.source_captions import (
    BadCaptions,
    choose_track,
    load_captions,
    transcript_text,
    word_error_rate,
)
from ingest.transcribe import load_model, transcribe

log = logging.getLogger(__name__)

NO_SPEECH = "no speech detected"
POSTER_SUFFIX = "-poster.jpg"  # beside the media file: "<id>-poster.jpg"


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
    # The language set for the source this statement comes from (after the sidecar's).
    source_language: str | None = None
    # Archive media that holds less than 95 % of the audio it declares (what there is of it).
    accept_partial: bool = False
    # The source (archive.sources) this statement comes from, recorded with it.
    source_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    statement: Statement
    existed: bool
    # What the probe found: a worker that fetched ahead hands it on, so the rest of the
    # stages run without asking the source again.
    candidate: fetch.Candidate | None = None


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
            ("drop media", self._dropped, self._drop),
            ("index", self._indexed, self._index),
        ]

    # the loop

    def ingest(
        self,
        request: Request,
        *,
        until: str | None = None,
        candidate: fetch.Candidate | None = None,
    ) -> Outcome:
        """Archive one statement; return the existing one when its origin is already indexed.

        `until` names the last stage to run (a worker fetches the next statement ahead with
        until="fetch"); `candidate` is the probe's result from such an earlier call."""
        self.settings.prepare()
        if candidate is None:
            self.reporter.stage("probe", None)
            candidate = self._probe(request)
            self._check_duration(candidate.duration, request.target)
        draft = self._new_statement(candidate, request)
        try:
            return self._ingest(request, candidate, draft, until)
        except (sqlite3.OperationalError, OSError) as error:
            if not disk_full(error):
                raise
            where = (
                f"catalog {self.catalog.path}"
                if isinstance(error, sqlite3.Error)
                else f"data directory {self.settings.data_dir}"
            )
            raise DiskFull(
                f"{where}: cannot record {request.target}: the disk is full; free some space "
                "and ingest it again"
            ) from error

    def _ingest(
        self, request: Request, candidate: fetch.Candidate, draft: Statement, until: str | None
    ) -> Outcome:
        known = self.catalog.find_by_origin(draft.origin)
        if known and known.status in (Status.INDEXED, Status.HIDDEN):
            return Outcome(known, existed=True, candidate=candidate)
        statement_id = draft.id
        with self._exclusive(statement_id, request.target):
            statement = self.catalog.claim(draft)
            if statement.status in (Status.INDEXED, Status.HIDDEN):
                return Outcome(statement, existed=True, candidate=candidate)
            context = Context(request, candidate, statement)
            for name, done, run in self.stages:
                if done(context):
                    if name == until:
                        break
                    continue
                self.reporter.stage(name, None)
                try:
                    run(context)
                except StadtstimmeError as error:
                    self._record_failure(statement_id, error)
                    raise
                except Exception as error:
                    if disk_full(error):
                        full = DiskFull(
                            f"{name}: no space left in {self.settings.data_dir} ({error}); "
                            "free some space and ingest it again"
                        )
                        self._record_failure(statement_id, full)
                        raise full from error
                    log.exception("stage %s failed for %s", name, request.target)
                    internal = StadtstimmeError(f"internal error in {name}: {error!r}")
                    self._record_failure(statement_id, internal)
                    raise
                context.statement = self.catalog.get(statement_id)
                if name == until:
                    break
            return Outcome(context.statement, existed=False, candidate=candidate)

    def _record_failure(self, statement_id: str, error: StadtstimmeError) -> None:
        """Mark the statement failed with the error's reason. Where the catalog cannot take the
        write (a full disk, a lock held too long), the error's message says so too."""
        try:
            self.catalog.set_status(statement_id, Status.FAILED, clean_text(error.message))
        except sqlite3.Error as db_error:
            log.error("cannot record the failure of %s: %s", statement_id, db_error)
            why = "the disk is full" if disk_full(db_error) else str(db_error)
            error.message += (
                f"; the catalog {self.catalog.path} could not record this failure ({why})"
            )
            error.args = (error.message,)

    def _probe(self, request: Request) -> fetch.Candidate:
        target = request.target
        if not target.strip():
            raise InvalidInput(f"empty target {target!r}: give a URL or a media file")
        if fetch.is_url(target) and not target.startswith("file://"):
            return fetch.probe_url(target)
        name = target.removeprefix("file://")
        if not name.strip():
            raise InvalidInput(f"empty target {target!r}: give a URL or a media file")
        path = Path(name).expanduser()
        candidate = fetch.probe_file(path)
        info = probe_media(path, str(path), accept_partial=request.accept_partial)
        candidate.duration = info.duration
        return candidate

    def _check_duration(self, duration: float | None, target: str) -> None:
        """Refuse a statement longer than settings.max_duration (known from the probe before
        anything is downloaded, or from the media once it is)."""
        limit = self.settings.max_duration
        if duration is not None and duration > limit:
            raise fetch.TooLong(
                f"{target}: {_hours(duration)} long, longer than the maximum of {_hours(limit)} "
                "(STADTSTIMME_MAX_DURATION)"
            )

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

    def _new_statement(self, candidate: fetch.Candidate, request: Request) -> Statement:
        """The statement as the catalog will hold it: the request's values before the source's,
        and every text field cleaned of control characters and escape sequences (the one place
        where text from outside is cleaned before it is stored). A value that cleans to nothing
        counts as not given."""
        origin = clean_text(candidate.origin)
        statement = Statement(
            id=statement_id_for(origin),
            origin=origin,
            title=_first(request.title, candidate.title) or origin,
            published=request.published or candidate.published,
            duration=candidate.duration,
            municipality=_first(request.municipality, candidate.municipality),
            speaker=_first(request.speaker, candidate.speaker),
            uploader=candidate.uploader,
            page_url=candidate.page_url,
            media_url=candidate.media_url,
            thumbnail=candidate.thumbnail,
            extractor=candidate.extractor,
            source_id=request.source_id,
        )
        for column in fields(statement):
            value = getattr(statement, column.name)
            if type(value) is str and column.name != "id":  # not the Status, a str enum
                setattr(statement, column.name, clean_text(value) or None)
        return statement

    # stages: each a test whether its output exists, and the step that makes it

    def _media_path(self, context: Context) -> Path | None:
        name = context.statement.media_file
        path = self.settings.media_dir / name if name else None
        return path if path and path.is_file() else None

    def _fetched(self, context: Context) -> bool:
        context.media = self._media_path(context)
        statement = context.statement
        # keep=none: once transcribed, the media it was fetched for is not wanted (again)
        unwanted = is_transcribed(statement) and statement.media_kind is None
        return unwanted or is_fetched(statement, self.settings.media_dir)

    def _fetch(self, context: Context) -> None:
        """Land the media the archive keeps (settings.keep) and, for video, its poster; only
        then record them, so that a crash before leaves nothing recorded that is not whole."""
        statement = context.statement
        work = self.settings.work_dir / statement.id
        keep, height = self.settings.keep, self.settings.max_height
        self._remove_media(statement)  # what an earlier, failed attempt may have left
        try:
            if context.candidate.local_path is not None:
                kept = fetch.copy_file(
                    context.candidate,
                    work,
                    self.settings.media_dir,
                    statement.id,
                    keep=keep,
                    max_height=height,
                )
            else:
                kept = fetch.download(
                    context.candidate,
                    work,
                    self.settings.media_dir,
                    statement.id,
                    progress=self._download_progress,
                    keep=keep,
                    max_height=height,
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        media = kept.path
        stop_point("fetch:downloaded")  # landed whole, not yet recorded
        try:
            info = probe_media(
                media, context.request.target, accept_partial=context.request.accept_partial
            )
            self._check_duration(info.duration, context.request.target)
        except MediaError:
            media.unlink(missing_ok=True)
            raise
        if info.partial:
            self.reporter.message(
                f"{context.request.target}: archiving the {info.decoded:.1f} s that decode of "
                f"the {info.declared:.1f} s it declares (--accept-partial)"
            )
        poster = self._poster(media, statement.id, info.duration) if kept.kind == "video" else None
        context.media = media
        self.catalog.update(
            statement.id,
            status=Status.FETCHED,
            media_file=media.name,
            # None: fetched only to be transcribed, then dropped (keep=none)
            media_kind=None if keep == "none" else kept.kind,
            poster_file=poster,
            duration=info.duration or statement.duration,
            error=None,
        )

    def _download_progress(self, done: int, total: int | None) -> None:
        self.reporter.advance(done, total)
        if total and done >= total / 2:
            stop_point("fetch:downloading")  # half of it in the work folder

    def _poster(self, video: Path, statement_id: str, duration: float | None) -> str | None:
        """The poster's file name, or None where FFmpeg made none: a statement without a poster
        is still whole (logged, not failed)."""
        target = self.settings.media_dir / f"{statement_id}{POSTER_SUFFIX}"
        try:
            make_poster(video, target, duration)
        except (MediaError, OSError) as error:
            log.warning("no poster for %s: %s", statement_id, error)
            return None
        return target.name

    def _remove_media(self, statement: Statement) -> None:
        """Remove the statement's media and poster files: those recorded, and those an
        interrupted attempt landed before recording them (they bear the statement's id)."""
        folder, stem = self.settings.media_dir, statement.id
        names = {statement.media_file, statement.poster_file, f"{stem}{POSTER_SUFFIX}"}
        strays = [*folder.glob(f"{stem}.*"), *folder.glob(f".{stem}{POSTER_SUFFIX}.*")]
        for path in [*(folder / name for name in names if name), *strays]:
            path.unlink(missing_ok=True)

    def _dropped(self, context: Context) -> bool:
        statement = context.statement
        return statement.media_kind is not None or statement.media_file is None

    def _drop(self, context: Context) -> None:
        """keep=none: the media served its transcription; the files go first, then the record
        (a crash between leaves a record of a missing file, which this stage finishes)."""
        self._remove_media(context.statement)
        context.media = None
        self.catalog.update(context.statement.id, media_file=None, poster_file=None)

    def _transcribed(self, context: Context) -> bool:
        return is_transcribed(context.statement)

    def _languages(self, context: Context) -> list[str]:
        """The language hints in the order they apply (ARCHITECTURE.md): the command's
        --language, the sidecar, the source's setting, yt-dlp's `language` (often the
        channel's, not the speech's), the setting."""
        request, candidate = context.request, context.candidate
        hints = (
            request.language,
            candidate.sidecar_language,
            request.source_language,
            candidate.language,
            self.settings.language,
        )
        return [hint for hint in hints if hint]

    def _language(self, context: Context) -> str | None:
        """The spoken language to transcribe in; None to let Whisper detect it ('auto')."""
        wanted = self._languages(context)[0]
        return None if wanted == "auto" else wanted

    def _fallback_language(self, context: Context) -> str | None:
        """Where the first hint is 'auto': the next one that names a language, taken where
        Whisper's detection is below p 0.5."""
        return next((hint for hint in self._languages(context)[1:] if hint != "auto"), None)

    def _transcribe(self, context: Context) -> None:
        assert context.media is not None
        captions, rejected = self._source_captions(context)
        if captions is not None and not self.settings.whisper_with_captions:
            self._save_captions(context, captions, None)
            return
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
            fallback=self._fallback_language(context),
        )
        if captions is not None:
            self._save_captions(context, captions, transcript)
            return
        passages = build_passages(context.statement.id, transcript.segments)
        note = _notes(transcript.note, None if transcript.segments else NO_SPEECH)
        self.catalog.save_transcript(
            context.statement.id, transcript, passages, _notes(note, rejected)
        )
        stop_point("transcribe:saved")

    def _source_captions(self, context: Context) -> tuple[Transcript | None, str | None]:
        """The source's own captions in the statement's language as its transcript, or None;
        and, where the source's captions could not serve, the note saying why (Whisper then
        transcribes instead, and the person ingesting is told)."""
        tracks = context.candidate.captions
        language = self._language(context)
        track = choose_track(tracks, language)
        if track is None:
            if tracks:
                log.info(
                    "%s: captions in %s, none in the statement's language %s",
                    context.request.target,
                    ", ".join(t.label or t.name for t in tracks),
                    language or "(unknown)",
                )
            return None, None
        try:
            code = track.language or language
            if code is None:
                raise BadCaptions(f"{track.name}: in a language neither the source nor you name")
            transcript = load_captions(track, code, context.statement.duration)
        except BadCaptions as error:
            log.warning("%s; transcribing with Whisper instead", error.message)
            self.reporter.message(f"{error.message}; transcribing with Whisper instead")
            return None, f"the source's captions were not used: {error.message}"
        self.reporter.message(f"transcript: the source's captions {track.name}")
        return transcript, None

    def _save_captions(
        self, context: Context, captions: Transcript, whisper: Transcript | None
    ) -> None:
        """Keep the source's captions as the transcript; where Whisper ran as well, the note and
        the log give the WER of Whisper's transcript against them."""
        note = None
        if whisper is not None:
            rate = word_error_rate(transcript_text(captions), transcript_text(whisper))
            note = f"Whisper's transcript differs from the source's captions by {rate:.1%} WER"
            log.info("%s: %s", context.request.target, note)
        passages = build_passages(context.statement.id, captions.segments)
        self.catalog.save_transcript(context.statement.id, captions, passages, note)

    def _indexed(self, context: Context) -> bool:
        return is_indexed(context.statement)

    def _index(self, context: Context) -> None:
        index_statement(self.catalog, self.engine, context.statement.id)


def _notes(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


def _hours(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _first(*values: str | None) -> str | None:
    """The first value that is text once cleaned (the request's option before the source's)."""
    for value in values:
        if value is not None and (cleaned := clean_text(value)):
            return cleaned
    return None
