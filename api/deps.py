"""Dependencies shared by the routes: settings, the app's one catalog and engine, the statement
a page shows, the search query.

The catalog and the engine are opened once per process (`Served`, in create_app; closed by the
app's lifespan), not per request: for Meilisearch that is one HTTP client, for tantivy one
engine whose searcher reloads at each commit (archive.search.tantivy `_Handle.searcher`), so a
served search sees every index write and takedown at once.

SQLite connections and threads: FastAPI runs sync endpoints in a pool of worker threads, and
the engine keeps the catalog it was given. The shared catalog therefore reads through a
connection of the calling thread (`_ThreadConnections`), opened on the thread's first use and
kept while the thread lives (anyio keeps a worker thread while it is busy and for 10 s idle):
no two requests ever share a connection or a cursor, and no lock serialises reads. A
connection per request (as before) cost an open, three PRAGMAs and a schema check each time;
one connection behind a lock would serialise every catalog read of the server.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Query, Request

from archive import search as searching
from archive.catalog import Catalog
from archive.config import Settings
from archive.dates import PartialDate, date_option
from archive.errors import InvalidInput, NotFound
from archive.models import Statement, Status
from archive.search import Engine
from archive.search.engines import open_engine
from archive.search.fts import LegacyFtsEngine
from archive.search.tantivy import layout


class _Held:
    """A thread's connection, in an object the set of open ones can refer to weakly."""

    __slots__ = ("__weakref__", "db", "epoch", "immutable")

    def __init__(self, db: sqlite3.Connection, epoch: int, immutable: bool) -> None:
        self.db = db
        self.epoch = epoch
        self.immutable = immutable


class _ThreadConnections:
    """Stands in for the sqlite3.Connection of the shared catalog: every attribute is looked up
    on the calling thread's own read-only connection. Code that keeps `catalog.db` (the
    vocabulary of the FTS5 and Meilisearch engines does) so still reads through the caller's."""

    def __init__(self, path: Path, first: sqlite3.Connection) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._local = threading.local()
        self._open: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._epoch = 0  # bumped by close(): a thread's connection of an older epoch is closed
        self._hold(first)

    def _immutable(self) -> bool:
        """Whether a connection opened now is opened immutable (archive.catalog
        _connect_readonly: a read-only directory without a -wal file)."""
        return not os.access(self._path.parent, os.W_OK) and not self._wal.exists()

    def _hold(self, db: sqlite3.Connection) -> sqlite3.Connection:
        immutable = self._immutable()
        with self._lock:
            held = _Held(db, self._epoch, immutable)
            self._open.add(held)
        self._local.held = held  # dropped, and its connection closed, when the thread ends
        return db

    def mine(self) -> sqlite3.Connection:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.epoch != self._epoch:
            return self._hold(Catalog(self._path, readonly=True).db)
        if held.immutable and self._wal.exists():
            # A read-only archive opened while nobody wrote it: a writer elsewhere has begun
            # (its -wal appeared), and an immutable connection would never see its commits.
            # Reopened, not closed: a cursor of the old one may still be read in this thread.
            return self._hold(Catalog(self._path, readonly=True).db)
        return held.db

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mine(), name)

    def close(self) -> None:
        """Close every thread's connection; a later use opens a new one (a second lifespan)."""
        with self._lock:
            self._epoch += 1
            held = list(self._open)
            self._open.clear()
        for each in held:
            each.db.close()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)


class SharedCatalog(Catalog):
    """A read-only Catalog shared by the app's threads (see the module docstring). The first
    connection is opened at once, so that NoCatalog, CatalogNeedsMigration and
    CatalogUnavailable stop the server's start."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, readonly=True)
        self.connections = _ThreadConnections(path, self.db)
        self.db = cast(sqlite3.Connection, self.connections)

    def close(self) -> None:
        self.connections.close()


class Served:
    """What the app opens once: the shared catalog and the engine over it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog = SharedCatalog(settings.catalog_path)
        try:
            self._engine = open_engine(settings, self.catalog)
        except BaseException:
            self.catalog.close()
            raise
        self._switch = threading.Lock()

    def engine(self) -> Engine:
        """The engine; a catalog from before tantivy is searched by its FTS5 index until a
        writer has built the tantivy index, and from then on by that (as open_engine chooses,
        once: a stat of current.json per search until then)."""
        engine = self._engine
        if isinstance(engine, LegacyFtsEngine) and layout(self.settings.index_dir).current():
            with self._switch:
                if isinstance(self._engine, LegacyFtsEngine):
                    self._engine = open_engine(self.settings, self.catalog)
                engine = self._engine
        return engine

    def close(self) -> None:
        self.catalog.close()


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def served(request: Request) -> Served:
    opened: Served = request.app.state.served
    return opened


async def get_catalog(request: Request) -> Catalog:
    """The app's read-only catalog (async: no worker thread is taken just to hand it over)."""
    return served(request).catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


async def get_engine(request: Request) -> Engine:
    return served(request).engine()


EngineDep = Annotated[Engine, Depends(get_engine)]


def visible_statement(catalog: CatalogDep, statement_id: str) -> Statement:
    """A statement the public may see: indexed, not hidden, not failed."""
    statement = catalog.find(statement_id)
    if statement is None or statement.status != Status.INDEXED:
        raise NotFound(f"no statement with id {statement_id!r}")
    return statement


class InvalidParameter(InvalidInput):
    """An invalid query parameter, named for the error page (the message stays the API's)."""

    def __init__(self, message: str, parameter: str, value: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


def _date(value: str | None, parameter: str) -> PartialDate | None:
    try:
        return date_option(value or None, parameter)  # blank: a form field left empty
    except InvalidInput as error:
        raise InvalidParameter(error.message, parameter, value or "") from None


_YEAR = r"[1-9]\d{3}"
_LEAP_YEAR = r"(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:1[26]|[2468][048]|[3579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
)
# Exactly the calendar dates archive.dates accepts, so that the OpenAPI description says what is
# valid; empty means no bound (a form left blank). Checked by date_option, which names the value.
DATE = rf"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2]))?|{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)?$"
DATE_HELP = "YYYY, YYYY-MM or YYYY-MM-DD, a calendar date; inclusive"


async def build_query(
    q: Annotated[
        str, Query(max_length=1000, description='Words; "a phrase"; -excluded; prefix*')
    ] = "",
    municipality: Annotated[str | None, Query(max_length=200)] = None,
    speaker: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    date_from: Annotated[
        str | None,
        Query(
            alias="from", max_length=10, description=DATE_HELP, json_schema_extra={"pattern": DATE}
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(
            alias="to", max_length=10, description=DATE_HELP, json_schema_extra={"pattern": DATE}
        ),
    ] = None,
    sort: Annotated[searching.Sort, Query()] = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 10,
) -> searching.Query:
    return searching.Query(
        text=q,
        municipality=municipality or None,
        speaker=speaker or None,
        source=source or None,
        language=language or None,
        date_from=_date(date_from, "from"),
        date_to=_date(date_to, "to"),
        sort=sort,
        page=page,
        per_page=per_page,
    )


SearchQueryDep = Annotated[searching.Query, Depends(build_query)]
