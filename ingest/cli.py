"""The `stadtstimme` command: ingest, search, list, serve, reindex.

Expected errors are one line on stderr and a non-zero exit; unexpected ones add where the
details were logged. Never a traceback.

Exit codes: 0 done; 1 an expected error, including an archive with no statements for search,
list and export, and no catalog at all for serve (an empty catalog it serves: ingests fill it
while it runs). Saying so and failing, rather than answering "no statement says …", is for the
usual cause, a wrong STADTSTIMME_DATA_DIR, which a script or a cron job should notice. 2 an
unexpected error; 2 also for a usage error (an unknown option, a value not among an option's
choices); 130 interrupted.

Commands that only read (search, list, export, serve) open the catalog read-only and create
nothing, so that a read-only archive is searchable and servable; a catalog that needs a
migration they refuse, in one line. Only ingest and reindex write: they create the data
directory, migrate the catalog, and say in one line when the data directory is read-only.
Heavy modules (the compound splitters, faster-whisper, yt-dlp, PyAV, uvicorn) load only in the
commands that use them.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from archive.catalog import Catalog
from archive.config import Settings, language_option
from archive.dates import date_option
from archive.errors import NoCatalog, StadtstimmeError
from archive.export import StatementDetail, timecode, transcript_text
from archive.indexing import is_transcribed, prepare_index, rebuild
from archive.models import Statement, Status
from archive.search import Engine, Query, Results, Sort, search
from archive.search.engines import open_engine
from archive.text import clean_text

app = typer.Typer(
    name="stadtstimme",
    help="Archive, transcribe and search the video statements of cities and their mayors.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
T = TypeVar("T")
# Choices are checked and listed in --help by the option's type.
ExportFormat = Literal["vtt", "srt", "txt", "json"]
ListedStatus = Literal["queued", "fetched", "transcribed", "indexed", "failed", "hidden", "all"]
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
# Where unexpected errors are logged: the data directory's log file, or None when it cannot be
# written (a read-only or missing data directory), and then warnings go to stderr.
_log_file: Path | None = None


def _console(stderr: bool = False) -> Console:
    """A console that wraps lines only on a terminal: output to a pipe or a file (cron logs,
    grep) keeps each line whole, at any length, with no padding."""
    console = Console(stderr=stderr)
    console.soft_wrap = not console.is_terminal
    return console


out = _console()
err = _console(stderr=True)


def _shown(value: object) -> str:
    """A stored value as printed: never a control character, whatever an older catalog holds."""
    return clean_text(str(value))


def _record(statement: Statement) -> dict[str, Any]:
    """A statement's catalog fields as JSON-ready values (`--json` of ingest and list)."""
    values = {f.name: getattr(statement, f.name) for f in fields(statement)}
    return values | {"published": statement.published and str(statement.published)}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _OneLine(logging.Formatter):
    """A log record as one line on stderr: no traceback is shown to a person."""

    def format(self, record: logging.LogRecord) -> str:
        return f"stadtstimme: {record.levelname.lower()}: {record.getMessage()}"


class _LogFile(logging.FileHandler):
    """The data directory's log file. Where it cannot be written (a full disk), records are
    dropped instead of logging's own traceback on stderr; the command's one line of error says
    what happened, and `failed` tells it that the details could not be logged."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        _LogFile.failed = True


def _log_to(settings: Settings) -> None:
    """Log to the data directory's stadtstimme.log (made only when something is logged), or,
    where it cannot be written, warnings and errors to stderr."""
    global _log_file
    path = settings.log_path
    handler: logging.Handler
    if settings.writable() and (not path.exists() or os.access(path, os.W_OK)):
        handler = _LogFile(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        level, _log_file = logging.INFO, path
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLine())
        level, _log_file = logging.WARNING, None
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _settings(*, write: bool) -> Settings:
    """The settings; for a command that writes, the data directory made and checked writable
    (DataDirReadOnly otherwise); for one that reads, nothing made."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"STADTSTIMME_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise StadtstimmeError(f"bad setting: {problems}") from None
    if write:
        settings.prepare()
    _log_to(settings)
    return settings


def _no_statements(settings: Settings) -> StadtstimmeError:
    return StadtstimmeError(
        f"the archive in {settings.data_dir} holds no statements yet (add some with "
        "`stadtstimme ingest`, or set STADTSTIMME_DATA_DIR to the archive's directory)"
    )


def _open_reading(settings: Settings) -> Catalog:
    """The catalog opened read-only, creating nothing; an error saying where it looked when
    there is none."""
    try:
        return Catalog(settings.catalog_path, readonly=True)
    except NoCatalog:
        raise _no_statements(settings) from None


@contextmanager
def _reading(settings: Settings) -> Iterator[Catalog]:
    """The catalog opened read-only (`_open_reading`); an error also when it holds no
    statement."""
    with _open_reading(settings) as catalog:
        total, _ = catalog.list_statements(statuses=list(Status), limit=1)
        if not total:
            raise _no_statements(settings)
        yield catalog


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except StadtstimmeError as error:
        err.print(f"error: {error.message}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as error:
        if _log_file is not None:
            logging.getLogger("stadtstimme").exception("unexpected error")
        if _log_file is not None and not _LogFile.failed:
            where = f"details in {_log_file}"
        elif _log_file is not None:
            where = f"not logged: {_log_file} cannot be written"
        else:
            where = "not logged: the data directory cannot be written"
        err.print(
            f"error: unexpected {type(error).__name__}: {error} ({where})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None


class ConsoleReporter:
    """Progress bars on stderr: bytes while downloading, audio seconds while transcribing."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            TextColumn("{task.fields[amount]}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=quiet or not err.is_terminal,
        )
        self.task: TaskID | None = None
        self.kind = ""

    @contextmanager
    def running(self) -> Iterator[None]:
        with self.progress:
            yield

    def stage(self, name: str, total: float | None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.kind = name
        self.task = self.progress.add_task(name, total=total, amount="")

    def advance(self, done: float, total: float | None) -> None:
        if self.task is None:
            return
        if self.kind == "fetch":
            amount = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        elif self.kind == "index":
            amount = f"{done:,.0f}/{total:,.0f} passages"
        else:
            amount = f"{done:.0f}/{total:.0f} s audio" if total else f"{done:.0f} s"
        self.progress.update(self.task, completed=done, total=total, amount=amount)

    def message(self, text: str) -> None:
        if not self.quiet:
            self.progress.console.print(text, markup=False, highlight=False)


def _print_version(wanted: bool) -> None:
    if not wanted:
        return
    try:
        number = version("stadtstimme")
    except PackageNotFoundError:  # run from a source tree that is not installed
        number = "unknown"
    out.print(f"stadtstimme {number}", markup=False, highlight=False)
    raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Archive, transcribe and search the video statements of cities and their mayors."""


def _marked(snippet_html: str) -> Text:
    text = Text()
    for i, part in enumerate(re.split(r"</?mark>", snippet_html)):
        text.append(
            clean_text(html.unescape(part), one_line=False), style="bold reverse" if i % 2 else ""
        )
    return text


# The options that describe a statement, shared by `ingest`, `queue` and `source add`.
LanguageOption = Annotated[
    str | None, typer.Option(help="Spoken language, e.g. de, en; 'auto' detects.")
]
TitleOption = Annotated[str | None, typer.Option(help="Title, instead of the source's.")]
MunicipalityOption = Annotated[str | None, typer.Option(help="Municipality speaking.")]
SpeakerOption = Annotated[str | None, typer.Option(help="Who speaks.")]
PublishedOption = Annotated[
    str | None, typer.Option(help="Date published: YYYY, YYYY-MM or YYYY-MM-DD.")
]
PromptOption = Annotated[
    str | None, typer.Option(help="Names of places and people to help transcription.")
]


@app.command()
def ingest(
    targets: Annotated[list[str], typer.Argument(help="URLs yt-dlp understands, or local files.")],
    language: LanguageOption = None,
    title: TitleOption = None,
    municipality: MunicipalityOption = None,
    speaker: SpeakerOption = None,
    published: PublishedOption = None,
    prompt: PromptOption = None,
    accept_partial: Annotated[
        bool,
        typer.Option(
            "--accept-partial",
            help="Archive media that decodes less than 95 % of the length it declares.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statements as JSON.")] = False,
) -> None:
    """Fetch, transcribe and index statements. Ingesting one again prints the existing id."""

    def work() -> int:
        spoken = language_option(language, "--language")
        date = date_option(published, "--published")
        settings = _settings(write=True)
        from ingest.pipeline import Pipeline, Request  # yt-dlp, PyAV: only here

        failures = 0
        with Catalog(settings.catalog_path) as catalog:
            reporter = ConsoleReporter(quiet or as_json)
            pipeline = Pipeline(
                settings, catalog, _writing_engine(settings, catalog, reporter), reporter
            )
            for target in targets:
                request = Request(
                    target,
                    spoken,
                    title,
                    municipality,
                    speaker,
                    date,
                    prompt,
                    accept_partial=accept_partial,
                )
                try:
                    with reporter.running():
                        outcome = pipeline.ingest(request)
                except StadtstimmeError as error:
                    if len(targets) == 1:
                        raise
                    failures += 1
                    err.print(f"error: {error.message}", markup=False, highlight=False)
                    continue
                statement = outcome.statement
                if as_json:
                    out.print_json(data=_record(statement) | {"existed": outcome.existed})
                    continue
                verb = "already archived" if outcome.existed else "archived"
                duration = timecode(statement.duration or 0)
                out.print(
                    f"{verb}: {statement.id}  {_shown(statement.title)}  ({duration})",
                    markup=False,
                    highlight=False,
                )
                if statement.note:
                    out.print(f"  note: {_shown(statement.note)}", markup=False, highlight=False)
        return failures

    failures = _run(work)
    if failures:
        raise typer.Exit(1)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help='Words; "a phrase"; -excluded; prefix*.')],
    municipality: Annotated[str | None, typer.Option(help="Only this municipality's.")] = None,
    speaker: Annotated[str | None, typer.Option(help="Only this speaker's.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="From this date: YYYY, YYYY-MM or YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", help="Up to this date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD."),
    ] = None,
    sort: Annotated[Sort, typer.Option(help="Order of the statements.")] = "relevance",
    page: Annotated[int, typer.Option(min=1, help="Which page of results.")] = 1,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Statements per page.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Find the moments in which words were said."""

    def work() -> Results:
        low, high = date_option(date_from, "--from"), date_option(date_to, "--to")
        settings = _settings(write=False)
        with _reading(settings) as catalog:
            q = Query(
                query,
                municipality=municipality,
                speaker=speaker,
                date_from=low,
                date_to=high,
                sort=sort,
                page=page,
                per_page=limit,
            )
            public = settings.public_url or DEFAULT_PUBLIC_URL
            return search(catalog, open_engine(settings, catalog), q, public)

    results = _run(work)
    if as_json:
        out.print_json(results.model_dump_json())
        return
    if results.corrected:
        out.print(f"no statement says {query!r}; showing {results.suggestion!r}", markup=False)
    elif results.suggestion:
        out.print(f"did you mean {results.suggestion!r}?", markup=False, highlight=False)
    if not results.statements:
        out.print(f"no statement says {query!r}", markup=False, highlight=False)
        return
    places = ", ".join(
        f"{name} {n}" for name, n in list(results.facets.get("municipality", {}).items())[:5]
    )
    out.print(f"{_plural(results.total, 'statement')} ({places})", markup=False, highlight=False)
    for hit in results.statements:
        head = Text(_shown(hit.title), style="bold")
        details = ", ".join(_shown(x) for x in (hit.published, hit.municipality, hit.speaker) if x)
        if details:
            head.append(f"  {details}", style="dim")
        out.print(head)
        if hit.matched_in:
            said = " and ".join(f"the {field}" for field in hit.matched_in)
            out.print(Text(f"  found in {said}", style="dim"))
            if not hit.passages:
                out.print(Text(f"         {hit.link}", style="dim"), soft_wrap=True)
        for passage in hit.passages:
            line = Text(f"  {timecode(passage.second)}  ", style="cyan")
            line.append_text(_marked(passage.snippet_html))
            out.print(line)
            out.print(Text(f"         {passage.link}", style="dim"), soft_wrap=True)


@app.command("list")
def list_command(
    status: Annotated[ListedStatus, typer.Option(help="Only statements with this status.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the statements as JSON.")] = False,
) -> None:
    """List the archive's statements with their status."""

    def work() -> list[Statement]:
        settings = _settings(write=False)
        statuses = list(Status) if status == "all" else [Status(status)]
        with _reading(settings) as catalog:
            _, statements = catalog.list_statements(statuses=statuses, limit=10_000)
        return statements

    statements = _run(work)
    if as_json:
        out.print_json(data=[_record(s) for s in statements])
        return
    for s in statements:
        line = f"{s.id}  {s.status:<11} {s.published or ''!s:<10}  {_shown(s.title)}"
        if s.error:
            line += f"  [{_shown(s.error)}]"
        out.print(line, markup=False, highlight=False)


@app.command()
def export(
    statement_id: Annotated[str, typer.Argument(help="The statement's id.")],
    kind: Annotated[
        ExportFormat,
        typer.Option("--format", help="WebVTT, SRT, plain text or JSON (metadata and segments)."),
    ] = "txt",
) -> None:
    """Print a statement's transcript as WebVTT, SRT, plain text or JSON."""

    def work() -> str:
        settings = _settings(write=False)
        with _reading(settings) as catalog:
            statement = catalog.get(statement_id)
            if not is_transcribed(statement):
                why = f" ({statement.error})" if statement.error else ""
                raise StadtstimmeError(
                    f"statement {statement.id} is not transcribed: it is {statement.status}{why}"
                )
            segments = catalog.segments(statement.id)
        if kind == "json":
            detail = StatementDetail.with_transcript(statement, segments, settings.public_url)
            return detail.model_dump_json(indent=2)
        return transcript_text(segments, kind, statement.duration)

    sys.stdout.write(_run(work))


def _index_progress(reporter: ConsoleReporter) -> Callable[[int, int], None]:
    """Progress of building the search index, shown from its first batch of passages: a bar on
    a terminal, and one line where there is none (a cron log)."""
    started = False

    def progress(done: int, total: int) -> None:
        nonlocal started
        if not started:
            reporter.message(f"building the search index: {_plural(total, 'passage')}")
            reporter.stage("index", total)
            started = True
        reporter.advance(done, total)

    return progress


def _writing_engine(settings: Settings, catalog: Catalog, reporter: ConsoleReporter) -> Engine:
    """The search engine, for a command that writes: built first when there is no index yet
    (a new archive, or a catalog from a release before tantivy), else reconciled with the
    catalog (archive.indexing.prepare_index)."""
    engine = open_engine(settings, catalog)
    with reporter.running():
        done = prepare_index(catalog, engine, _index_progress(reporter))
    held = sum(engine.held().values()) if done == "built" else 0
    if held:
        reporter.message(f"built the search index: {_plural(held, 'passage')}")
    return engine


@app.command()
def reindex(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Rebuild the search index of the chosen engine from the catalog."""

    def work() -> tuple[int, int]:
        settings = _settings(write=True)
        reporter = ConsoleReporter(quiet)
        with Catalog(settings.catalog_path) as catalog, reporter.running():
            built = rebuild(catalog, open_engine(settings, catalog), _index_progress(reporter))
        return len(built.statements), built.passages

    statements, passages = _run(work)
    out.print(f"reindexed {_plural(statements, 'statement')}, {_plural(passages, 'passage')}")


ENGINE_NAMES = {
    "TantivyEngine": "tantivy",
    "MeiliEngine": "meilisearch",
    "LegacyFtsEngine": "FTS5 of an older release (read-only until a writing command)",
}


def _mib(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 2**20:.1f} MiB"


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """What the archive holds and what it takes on disk (statements by status, passages, the
    search index, media and posters), the job queue, the sources, and what failed and why."""
    shown_failures = 20  # of failed jobs, of failed statements, of sources with errors

    def work() -> dict[str, Any]:
        from datetime import UTC, datetime

        from archive import jobs
        from archive.sources import list_sources

        settings = _settings(write=False)
        with _open_reading(settings) as catalog:
            engine = open_engine(settings, catalog)
            folder = settings.media_dir
            found = [f for f in folder.rglob("*") if f.is_file()] if folder.is_dir() else []
            posters = [f.stat().st_size for f in found if f.name.endswith("-poster.jpg")]
            media = [f.stat().st_size for f in found if not f.name.endswith("-poster.jpg")]
            statuses = catalog.status_counts()
            # Postponed: queued, but not due before a backoff or a live stream's end.
            postponed = catalog.db.execute(
                "SELECT count(*), min(not_before) FROM jobs WHERE status = 'queued' "
                "AND not_before > ?",
                (datetime.now(UTC).isoformat(timespec="microseconds"),),
            ).fetchone()
            failed_total, failed_jobs = jobs.list_jobs(
                catalog, jobs.JobStatus.FAILED, limit=shown_failures
            )
            failed_statements = catalog.db.execute(
                "SELECT id, title, error FROM statements WHERE status = ? "
                "ORDER BY updated_at DESC, seq DESC LIMIT ?",
                (str(Status.FAILED), shown_failures),
            ).fetchall()
            sources = list_sources(catalog)
            erring = [s for s in sources if s.last_error]
            return {
                "data_dir": str(settings.data_dir),
                "catalog": str(settings.catalog_path),
                "catalog_bytes": settings.catalog_path.stat().st_size,
                "schema_version": catalog.schema_version,
                "statements": {str(k): n for k, n in sorted(statuses.items())},
                "passages": catalog.passage_count(),
                "engine": ENGINE_NAMES.get(type(engine).__name__, type(engine).__name__),
                "index_bytes": engine.index_bytes(),
                "media_files": len(media),
                "media_bytes": sum(media),
                "posters": len(posters),
                "poster_bytes": sum(posters),
                "jobs": jobs.counts(catalog),
                "postponed": int(postponed[0]),
                "next_due": postponed[1],
                "sources": {
                    "active": sum(not s.paused for s in sources),
                    "paused": sum(s.paused for s in sources),
                    "with_errors": len(erring),
                },
                "failed_jobs": [
                    {"id": j.id, "kind": str(j.kind), "target": j.target, "error": j.last_error}
                    for j in failed_jobs
                ],
                "failed_jobs_more": failed_total - len(failed_jobs),
                "failed_statements": [dict(row) for row in failed_statements],
                "failed_statements_more": statuses.get(Status.FAILED, 0) - len(failed_statements),
                "source_errors": [
                    {"id": s.id, "url": s.url, "error": s.last_error}
                    for s in erring[:shown_failures]
                ],
                "source_errors_more": max(0, len(erring) - shown_failures),
            }

    figures = _run(work)
    if as_json:
        out.print_json(data=figures)
        return
    counts = figures["statements"]
    by_status = ", ".join(f"{name} {n}" for name, n in counts.items())
    queue = figures["jobs"]
    waiting = f"{queue['queued']} queued"
    if figures["postponed"]:
        due = str(figures["next_due"])[:19].replace("T", " ")
        waiting += f" ({figures['postponed']} postponed, next due {due} UTC)"
    sources = figures["sources"]
    lines = [
        f"data directory  {figures['data_dir']}",
        f"catalog         {_mib(figures['catalog_bytes'])}, schema version "
        f"{figures['schema_version']}",
        f"statements      {sum(counts.values())}" + (f" ({by_status})" if by_status else ""),
        f"passages        {figures['passages']}",
        f"search index    {figures['engine']}, {_mib(figures['index_bytes'])}",
        f"media           {_plural(figures['media_files'], 'file')}, "
        f"{_mib(figures['media_bytes'])}",
        f"posters         {_plural(figures['posters'], 'file')}, {_mib(figures['poster_bytes'])}",
        f"jobs            {waiting}, {queue['running']} running, {queue['done']} done, "
        f"{queue['failed']} failed",
        f"sources         {sources['active']} active, {sources['paused']} paused, "
        f"{sources['with_errors']} with errors",
    ]

    # The failures, each with its reason: what an operator acts on.
    def row(*fields: object) -> str:
        """One failure: its fields cleaned each (a reason may hold anything a source sent)."""
        *names, reason = (_shown(f) if f is not None else "no reason recorded" for f in fields)
        return "  ".join(names) + f": {reason}"

    sections = {
        "failed jobs": [
            row(f"job {f['id']}", f["target"], f["error"]) for f in figures["failed_jobs"]
        ],
        "failed statements": [
            row(f["id"], f["title"], f["error"]) for f in figures["failed_statements"]
        ],
        "sources with errors": [
            row(f"source {f['id']}", f["url"], f["error"]) for f in figures["source_errors"]
        ],
    }
    more = {
        "failed jobs": figures["failed_jobs_more"],
        "failed statements": figures["failed_statements_more"],
        "sources with errors": figures["source_errors_more"],
    }
    for heading, found in sections.items():
        if found:
            lines.append(f"{heading}:")
            lines += [f"  {each}" for each in found]
        if more[heading]:
            lines.append(f"  and {more[heading]} more")
    for text in lines:
        out.print(text, markup=False, highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker", help="Also run queued jobs, in a worker thread (needs a writable archive)."
        ),
    ] = False,
) -> None:
    """Serve the JSON API and the search page (read-only: a read-only archive serves)."""

    def check() -> None:
        settings = _settings(write=False)
        from api.site import load_site

        load_site(settings)  # an intro, imprint, … that names no URL and no readable file
        with _open_reading(settings) as catalog:
            open_engine(settings, catalog)  # a Meilisearch server that cannot be reached stops here

    stop = None
    if worker:  # first: it sets up a new archive's catalog, which check() then reads
        from ingest.cli_worker import start_worker_thread

        stop = _run(start_worker_thread)
    _run(check)
    import uvicorn

    uvicorn.run("api.app:create_server_app", factory=True, host=host, port=port)
    if stop is not None:
        stop.set()


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(1)


# Commands defined in modules of their own, added to `app` when they are imported.
from ingest import cli_admin, cli_sources, cli_worker  # noqa: E402, F401
