"""The `stadtstimme` commands of sources (issue 10); they add themselves to ingest.cli.app.

`source add|list|remove|pause|resume` keep the list of sources; `update` checks every active
source once and queues what is new; `watch` repeats `update` until stopped. Neither downloads
media: `stadtstimme worker` runs the queued jobs. Exit codes as in ingest.cli; `update` exits 1
when any source failed (each failure is one line naming the source, the others go on).
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from archive.catalog import Catalog
from archive.config import Settings, language_option
from archive.errors import InvalidInput, NoCatalog
from archive.search import Engine
from archive.sources import Source
from ingest.cli import (
    ConsoleReporter,
    LanguageOption,
    PromptOption,
    _plural,
    _run,
    _settings,
    _shown,
    _writing_engine,
    app,
    err,
    out,
)

if TYPE_CHECKING:
    from archive.jobs import Job
    from ingest.sources import Checked

source_app = typer.Typer(
    help="Channels, playlists, feeds, pages and folders that `update` checks for new statements.",
    no_args_is_help=True,
)
app.add_typer(source_app, name="source")

MIN_EVERY_S = 10
_UNITS = {"s": 1, "m": 60, "h": 3600}


def _print(line: str, *, error: bool = False) -> None:
    (err if error else out).print(line, markup=False, highlight=False, soft_wrap=True)


def _source_record(source: Source) -> dict[str, Any]:
    return asdict(source) | {"kind": str(source.kind)}


def _settings_text(source: Source) -> str:
    values = (
        ("municipality", source.municipality),
        ("speaker", source.speaker),
        ("language", source.language),
        ("prompt", source.prompt),
    )
    return "  ".join(f"{name}={_shown(value)}" for name, value in values if value)


def _describe(source: Source) -> str:
    return f"source {source.id} ({source.kind}) {_shown(source.url)}"


@source_app.command("add")
def source_add(
    target: Annotated[
        str, typer.Argument(help="A feed, channel, playlist or page URL, or a folder.")
    ],
    municipality: Annotated[
        str | None, typer.Option(help="Municipality of its statements.")
    ] = None,
    speaker: Annotated[str | None, typer.Option(help="Who speaks in its statements.")] = None,
    language: LanguageOption = None,
    prompt: PromptOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the source as JSON.")] = False,
) -> None:
    """Add a source; adding one again prints the existing id."""

    def work() -> tuple[Source, bool]:
        spoken = language_option(language, "--language")
        settings = _settings(write=True)
        from ingest.sources import add_source

        with Catalog(settings.catalog_path) as catalog:
            return add_source(
                catalog,
                target,
                municipality=municipality,
                speaker=speaker,
                language=spoken,
                prompt=prompt,
            )

    source, added = _run(work)
    if as_json:
        out.print_json(data=_source_record(source) | {"existed": not added})
    elif added:
        _print(f"added {_describe(source)}")
    else:
        _print(f"already a source: {_describe(source)}")


@source_app.command("list")
def source_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the sources as JSON.")] = False,
) -> None:
    """List the sources: kind, settings, paused or not, when last checked, the last error."""

    def work() -> list[Source]:
        settings = _settings(write=False)
        from archive.sources import list_sources

        try:
            catalog = Catalog(settings.catalog_path, readonly=True)
        except NoCatalog:
            return []
        with catalog:
            return list_sources(catalog)

    found = _run(work)
    if as_json:
        out.print_json(data=[_source_record(source) for source in found])
        return
    if not found:
        _print("no sources (add one with `stadtstimme source add URL_OR_FOLDER`)")
    for source in found:
        state = "paused" if source.paused else "active"
        _print(f"{source.id}  {source.kind:<7} {state:<6}  {_shown(source.url)}")
        details = _settings_text(source)
        checked = f"checked {source.checked_at}" if source.checked_at else "not checked yet"
        _print(f"   {checked}" + (f"  {details}" if details else ""))
        if source.last_error:
            _print(f"   last error: {_shown(source.last_error)}")


def _change(source_id: int, action: Callable[[Catalog, int], Source]) -> Source:
    def work() -> Source:
        settings = _settings(write=True)
        with Catalog(settings.catalog_path) as catalog:
            return action(catalog, source_id)

    return _run(work)


SourceId = Annotated[int, typer.Argument(help="The source's id (see `source list`).")]


@source_app.command("remove")
def source_remove(source_id: SourceId) -> None:
    """Remove a source; its statements stay in the archive, its queued jobs are dropped."""
    from archive.sources import remove_source

    _print(f"removed {_describe(_change(source_id, remove_source))}")


@source_app.command("pause")
def source_pause(source_id: SourceId) -> None:
    """Pause a source: update and watch skip it until it is resumed."""
    from archive.sources import pause_source

    _print(f"paused {_describe(_change(source_id, lambda c, i: pause_source(c, i, True)))}")


@source_app.command("resume")
def source_resume(source_id: SourceId) -> None:
    """Resume a paused source."""
    from archive.sources import pause_source

    _print(f"resumed {_describe(_change(source_id, lambda c, i: pause_source(c, i, False)))}")


class _LazyEngine:
    """The search engine, opened (and reconciled) only when a title change needs re-indexing."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings, self.catalog = settings, catalog
        self.engine: Engine | None = None

    def __call__(self) -> Engine:
        if self.engine is None:
            reporter = ConsoleReporter(quiet=True)
            self.engine = _writing_engine(self.settings, self.catalog, reporter)
        return self.engine


def _report(results: list[Checked], as_json: bool) -> int:
    """Print what an update did; the number of sources that failed."""
    failed = [checked for checked in results if checked.error]
    if as_json:
        out.print_json(
            data={
                "sources": [
                    {
                        "source": _source_record(c.source),
                        "listed": c.listed,
                        "queued": c.queued,
                        "known": c.known,
                        "deleted": c.deleted,
                        "retitled": c.retitled,
                        "jobs": c.job_ids,
                        "error": c.error,
                    }
                    for c in results
                ],
                "failed": len(failed),
            }
        )
        return len(failed)
    if not results:
        _print("no active sources (add one with `stadtstimme source add URL_OR_FOLDER`)")
    for c in results:
        if c.error:
            _print(f"error: {_describe(c.source)}: {_shown(c.error)}", error=True)
            continue
        parts = [f"{c.listed} listed", f"{c.queued} queued"]
        parts += [f"{c.known} in the archive already"] if c.known else []
        parts += [f"{c.deleted} deleted from the archive, not queued"] if c.deleted else []
        parts += [f"{_plural(c.retitled, 'title')} updated"] if c.retitled else []
        _print(f"{_describe(c.source)}: {', '.join(parts)}")
    return len(failed)


@app.command()
def update(
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
) -> None:
    """Check every active source once and queue what is new (`stadtstimme worker` runs it)."""

    def work() -> list[Checked]:
        settings = _settings(write=True)
        from ingest.sources import update_all

        with Catalog(settings.catalog_path) as catalog:
            return update_all(catalog, _LazyEngine(settings, catalog))

    if _report(_run(work), as_json):
        raise typer.Exit(1)


def every_seconds(value: str) -> int:
    """'30s', '10m', '1h' (or plain seconds) as seconds, at least MIN_EVERY_S."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", value.lower())
    if match is None:
        raise InvalidInput(f"--every {value!r}: give a period such as 30s, 10m or 1h")
    seconds = int(match[1]) * _UNITS[match[2] or "s"]
    if seconds < MIN_EVERY_S:
        raise InvalidInput(f"--every {value!r}: at least {MIN_EVERY_S} s")
    return seconds


@app.command()
def watch(
    every: Annotated[str, typer.Option(help="How often: 30s, 10m, 1h (at least 10 s).")] = "1h",
    run_jobs: Annotated[
        bool,
        typer.Option("--work", help="Also run the queued jobs here, after each update."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print each update as JSON.")] = False,
) -> None:
    """Run `update` now and then every period, until stopped (Ctrl-C, SIGTERM). It only queues,
    unless --work: else `stadtstimme worker` runs the jobs."""
    stopping = threading.Event()
    running: list[threading.Event] = []  # the stop event of the jobs being run (--work)

    def stop(signum: int, frame: object) -> None:
        stopping.set()
        for event in running:
            event.set()

    def work() -> None:
        seconds = every_seconds(every)
        settings = _settings(write=True)
        from ingest.sources import update_all

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with Catalog(settings.catalog_path) as catalog:
            engine = _LazyEngine(settings, catalog)
            model = None
            while not stopping.is_set():
                _report(update_all(catalog, engine, stopping.is_set), as_json)
                if run_jobs and not stopping.is_set():
                    from ingest.transcribe import load_model
                    from ingest.worker import Worker

                    model = model or load_model(settings)
                    runner = Worker(settings, catalog, engine(), model, notify=_notify)
                    running[:] = [runner.stop]
                    if not stopping.is_set():
                        runner.run(once=True)
                stopping.wait(seconds)
        if not as_json:
            _print("stopped")

    _run(work)


def _notify(job: Job, outcome: str, text: str) -> None:
    _print(f"job {job.id} {outcome}: {_shown(text)}")
