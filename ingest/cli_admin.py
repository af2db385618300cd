"""The `stadtstimme` commands of admin (issue 10); they add themselves to ingest.cli.app.

Every admin action of the API has one here, for the operator on the machine: hide, unhide,
delete, readmit, edit, correct, retranscribe (sources: ingest/cli_sources.py; jobs:
ingest/cli_worker.py). They write: the data directory must be writable, and the search index
is first brought in step with the catalog, as for ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import typer

from archive import admin, corrections
from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Statement
from archive.search import Engine
from ingest.cli import ConsoleReporter, _record, _run, _settings, _shown, _writing_engine, app, out

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
IdArgument = Annotated[str, typer.Argument(help="The statement's id.")]


@contextmanager
def _writing() -> Iterator[tuple[Settings, Catalog, Engine]]:
    settings = _settings(write=True)
    with Catalog(settings.catalog_path) as catalog:
        yield settings, catalog, _writing_engine(settings, catalog, ConsoleReporter(quiet=True))


def _say(line: str) -> None:
    out.print(line, markup=False, highlight=False)


def _statement_command(
    action: Callable[[Settings, Catalog, Engine], Statement], verb: str, as_json: bool
) -> None:
    def work() -> dict[str, Any]:
        with _writing() as (settings, catalog, engine):
            statement = action(settings, catalog, engine)
            corrected = corrections.has_corrections(catalog, statement.id)
        return _record(statement) | {"corrected": corrected}

    record = _run(work)
    if as_json:
        out.print_json(data=record)
        return
    _say(f"{verb}: {record['id']}  {_shown(record['title'])}  ({record['status']})")


@app.command()
def hide(statement_id: IdArgument, as_json: JsonOption = False) -> None:
    """Take a statement down: gone from search, pages, API and feeds at once (kept for unhide)."""
    _statement_command(lambda s, c, e: admin.hide(c, e, statement_id), "hidden", as_json)


@app.command()
def unhide(statement_id: IdArgument, as_json: JsonOption = False) -> None:
    """Show a hidden statement again."""
    _statement_command(lambda s, c, e: admin.unhide(c, e, statement_id), "shown", as_json)


@app.command()
def delete(
    statement_id: IdArgument,
    reason: Annotated[str | None, typer.Option(help="Why it was deleted (kept).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a statement with its media and index entries. Its origin's tombstone keeps
    ingest and update from bringing it back until `stadtstimme readmit`."""

    def work() -> admin.Tombstone:
        with _writing() as (settings, catalog, engine):
            return admin.delete(catalog, engine, settings.media_dir, statement_id, reason)

    gone = _run(work)
    if as_json:
        out.print_json(data=asdict(gone))
        return
    _say(f"deleted: {gone.statement_id}  {_shown(gone.title)}  (origin {_shown(gone.origin)})")


@app.command()
def readmit(
    origin_or_id: Annotated[str, typer.Argument(help="The deleted statement's origin or id.")],
    as_json: JsonOption = False,
) -> None:
    """Allow a deleted statement's origin again: ingest and update may bring it back."""

    def work() -> admin.Tombstone:
        with _writing() as (_, catalog, _engine):
            return admin.readmit(catalog, origin_or_id)

    back = _run(work)
    if as_json:
        out.print_json(data=asdict(back))
        return
    _say(f"re-admitted: {_shown(back.origin)}  (was {back.statement_id}, {_shown(back.title)})")


@app.command()
def edit(
    statement_id: IdArgument,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality; '' clears.")] = None,
    speaker: Annotated[str | None, typer.Option(help="Who speaks; '' clears.")] = None,
    published: Annotated[
        str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD; '' clears.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Spoken language, e.g. de.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Edit a statement's metadata (re-indexed at once; a source's update leaves it)."""
    values = {
        "title": title,
        "municipality": municipality,
        "speaker": speaker,
        "published": published,
        "language": language,
    }
    _statement_command(
        lambda s, c, e: admin.edit(c, e, statement_id, values, "--"), "edited", as_json
    )


@app.command()
def correct(
    statement_id: IdArgument,
    start: Annotated[float, typer.Option(min=0, help="Start of the span, in seconds.")],
    end: Annotated[float, typer.Option(min=0, help="End of the span, in seconds.")],
    text: Annotated[str, typer.Option(help="What was said there ('' removes the words).")],
    as_json: JsonOption = False,
) -> None:
    """Correct the words said between --start and --end (a word belongs to the span its middle
    lies in); their timings are kept, and search finds the correction at once."""

    def work() -> corrections.Correction:
        correction = corrections.checked(start, end, text, "--")
        with _writing() as (_, catalog, engine):
            return corrections.correct(catalog, engine, statement_id, correction)

    done = _run(work)
    if as_json:
        out.print_json(data=asdict(done))
        return
    _say(f"corrected: {statement_id}  {done.start:.2f}-{done.end:.2f} s  {_shown(done.text)}")


@app.command()
def retranscribe(
    statement_id: IdArgument,
    model: Annotated[str | None, typer.Option(help="Another Whisper model.")] = None,
    language: Annotated[str | None, typer.Option(help="Spoken language, or auto.")] = None,
    discard_corrections: Annotated[
        bool, typer.Option("--discard-corrections", help="Do not apply the corrections again.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Queue a statement to be transcribed again by a worker (`stadtstimme worker`)."""

    def work() -> tuple[Any, bool]:
        with _writing() as (_, catalog, _engine):
            return admin.retranscribe(
                catalog,
                statement_id,
                model=model,
                language=language,
                discard_corrections=discard_corrections,
                prefix="--",
            )

    job, new = _run(work)
    if as_json:
        out.print_json(data=asdict(job) | {"new": new})
        return
    verb = "queued" if new else "already queued"
    _say(f"{verb}: job {job.id}, re-transcribe {statement_id}")
