"""The catalog: all SQL about statements, segments and passages (SQLite in WAL mode).

The catalog is the source of truth; search indexes are projections of it. Every write that
belongs together happens in one transaction, so a crash never leaves a half-written statement
that reads as complete.

Word timings are stored once, in the segments (migration 5). A passage is a run of consecutive
segments (archive.passages), so its row holds the first segment's position and the number of
segments, and its words are read from them: one range scan of the segments' primary key
(statement_id, position). A segment's words are one flat JSON array of four items per word:
the start in centiseconds after the previous word's end (the first: after the segment's start),
the duration in centiseconds, the probability in thousandths, and the word's length in the
segment's text, which is then stored unstripped as the words spell it (a word that does not
spell the text carries its own text in place of its length). Whisper times words to 20 ms and
faster-whisper rounds them to 10 ms, so centiseconds lose nothing; thousandths keep what was
kept before. Measured on bench/search.py's synthetic words (80 a passage, 6.8 segments): a
passage's words took 2,788 bytes as [start, end, text, probability] arrays, 2,318 rounded to
10 ms with compact separators, 1,029 as the integers above. At 100k passages the catalog went
from 9.2 KB a passage (920 MiB: segments 405, passages 400, each word kept twice) to 2.7 KB
(260 MiB new: segments 197, passages 58), with the search's CPU time per query unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from archive.dates import PartialDate
from archive.errors import (
    CatalogNeedsMigration,
    CatalogUnavailable,
    NoCatalog,
    NotFound,
    TakenDown,
)
from archive.models import (
    CAPTIONS_FROM_SOURCE,
    TRANSCRIBED_BY_WHISPER,
    Passage,
    Segment,
    Statement,
    Status,
    Transcript,
    Word,
)
from archive.passages import covered_segments, spoken_words

log = logging.getLogger(__name__)
T = TypeVar("T")


def _repair_dates(db: sqlite3.Connection) -> None:
    """Set every published value that is no YYYY, YYYY-MM or YYYY-MM-DD calendar date to
    unknown, logging each: earlier versions stored what a sidecar or an option said."""
    rows = db.execute("SELECT id, published FROM statements WHERE published IS NOT NULL")
    for statement_id, published in rows.fetchall():
        date = PartialDate.stored(published)
        if date is None:
            log.warning(
                "statement %s: published %r is not a date; set to unknown", statement_id, published
            )
            db.execute("UPDATE statements SET published = NULL WHERE id = ?", (statement_id,))
        elif str(date) != published:
            db.execute(
                "UPDATE statements SET published = ? WHERE id = ?", (str(date), statement_id)
            )


def _words_once(db: sqlite3.Connection) -> None:
    """Migration 5: passages refer to the segments they cover instead of copying their words,
    segments store their words in the compact form (module docstring), and a statement records
    who wrote its transcript (every transcript before this migration is Whisper's). The
    dropped copies leave free pages: `VACUUM` gives them back to the file system (README)."""
    db.execute("ALTER TABLE statements ADD COLUMN transcript_origin TEXT")
    db.execute(
        "UPDATE statements SET transcript_origin = ? WHERE status IN (?, ?) "
        "OR EXISTS (SELECT 1 FROM segments WHERE statement_id = statements.id)",
        (TRANSCRIBED_BY_WHISPER, str(Status.TRANSCRIBED), str(Status.INDEXED)),
    )
    db.execute("ALTER TABLE passages ADD COLUMN first_segment INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE passages ADD COLUMN segment_count INTEGER NOT NULL DEFAULT 0")
    statement_ids = [
        row[0]
        for row in db.execute(
            "SELECT statement_id FROM segments UNION SELECT statement_id FROM passages"
        ).fetchall()
    ]
    for statement_id in statement_ids:
        _move_words(db, statement_id)
    db.execute("ALTER TABLE passages DROP COLUMN words")


def _move_words(db: sqlite3.Connection, statement_id: str) -> None:
    """One statement's part of migration 5. Its passages were built from its segments by the
    same rule since the first release; words are matched by text (a segment without word
    timings was copied with rounded times). Passages without any segment (no release wrote
    them; tests did) become segments of their own, so that no word is lost."""
    rows = db.execute(
        "SELECT position, start, end, text, words FROM segments WHERE statement_id = ? "
        "ORDER BY position",
        (statement_id,),
    ).fetchall()
    positions = [int(row[0]) for row in rows]
    segments = [Segment(row[1], row[2], row[3], _old_words(row[4])) for row in rows]
    passages = [
        (int(row[0]), Passage(statement_id, row[1], row[2], row[3], _old_words(row[4])))
        for row in db.execute(
            "SELECT id, position, start, end, words FROM passages WHERE statement_id = ? "
            "ORDER BY position",
            (statement_id,),
        ).fetchall()
    ]
    if passages and not segments:
        log.warning("statement %s: passages without segments become its segments", statement_id)
        segments = [Segment(p.start, p.end, p.text, p.words) for _, p in passages]
        positions = list(range(len(segments)))
        db.executemany(
            "INSERT INTO segments (statement_id, position, start, end, text, words) "
            "VALUES (?, ?, ?, ?, '', '[]')",
            [(statement_id, n, s.start, s.end) for n, s in enumerate(segments)],
        )
    try:
        runs = covered_segments(
            segments, [p for _, p in passages], same=lambda a, b: a.text == b.text
        )
    except ValueError as error:
        raise CatalogUnavailable(f"cannot migrate the catalog: {error}") from None
    db.executemany(
        "UPDATE segments SET text = ?, words = ? WHERE statement_id = ? AND position = ?",
        [
            (*_segment_columns(segment), statement_id, position)
            for position, segment in zip(positions, segments, strict=True)
        ],
    )
    db.executemany(
        "UPDATE passages SET first_segment = ?, segment_count = ? WHERE id = ?",
        [
            (positions[run.start], positions[run.stop - 1] - positions[run.start] + 1, rowid)
            if run
            else (0, 0, rowid)
            for (rowid, _), run in zip(passages, runs, strict=True)
        ],
    )


Migration = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: tuple[Migration, ...] = (
    # 1: statements, segments, passages, vocabulary
    """
    CREATE TABLE statements (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        origin TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        published TEXT,
        duration REAL,
        municipality TEXT,
        speaker TEXT,
        uploader TEXT,
        source TEXT,
        language TEXT,
        page_url TEXT,
        media_url TEXT,
        thumbnail TEXT,
        extractor TEXT,
        media_file TEXT,
        error TEXT,
        note TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX statements_status_published ON statements(status, published);
    CREATE TABLE segments (
        statement_id TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        text TEXT NOT NULL,
        words TEXT NOT NULL,
        PRIMARY KEY (statement_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY, -- seq * PASSAGES_PER_STATEMENT + position
        statement_id TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        text TEXT NOT NULL,
        words TEXT NOT NULL,
        UNIQUE (statement_id, position)
    );
    CREATE TABLE vocabulary (
        term TEXT PRIMARY KEY,
        word TEXT NOT NULL,
        passages INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX vocabulary_word ON vocabulary(word);
    """,
    # 2: a counter of changes to statements, so that a search engine may cache their metadata
    """
    CREATE TABLE statements_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );

    INSERT INTO statements_version (id, version) VALUES (1, 0);

    CREATE TRIGGER statements_inserted AFTER INSERT ON statements BEGIN
        UPDATE statements_version SET version = version + 1;
    END;

    CREATE TRIGGER statements_updated AFTER UPDATE ON statements BEGIN
        UPDATE statements_version SET version = version + 1;
    END;

    CREATE TRIGGER statements_deleted AFTER DELETE ON statements BEGIN
        UPDATE statements_version SET version = version + 1;
    END;
    """,
    # 3: the did-you-mean vocabulary belongs to the search index (archive/search/vocabulary.py),
    # which keeps it in step with what it indexes; renamed, not dropped, so that it serves
    # until the next reindex rebuilds it.
    """
    ALTER TABLE vocabulary RENAME TO search_vocabulary;
    """,
    # 4: published dates that are no calendar dates become unknown (logged one by one)
    _repair_dates,
    # 5: word timings stored once (in the segments); who wrote a statement's transcript
    _words_once,
    # 6: what media is kept (video or audio; earlier releases kept audio), and a poster still
    """
    ALTER TABLE statements ADD COLUMN media_kind TEXT;
    ALTER TABLE statements ADD COLUMN poster_file TEXT;
    UPDATE statements SET media_kind = 'audio' WHERE media_file IS NOT NULL;
    """,
    # 7: keeping current (issue 10): sources, the job queue, tombstones of deleted statements,
    # which fields an operator edited, and transcript corrections
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE, -- normalised URL, or a folder's absolute path
        kind TEXT NOT NULL, -- listing (yt-dlp: channel, playlist, page), feed, folder
        municipality TEXT,
        speaker TEXT,
        language TEXT,
        prompt TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        added_at TEXT NOT NULL,
        checked_at TEXT,
        last_error TEXT
    );
    CREATE TABLE source_items (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        item TEXT NOT NULL, -- what the listing names: a URL, a feed entry id, a file path
        title TEXT,
        job_id INTEGER,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (source_id, item)
    ) WITHOUT ROWID;
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL, -- ingest, retranscribe
        target TEXT NOT NULL, -- a URL or a file path (ingest), a statement id (retranscribe)
        source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
        options TEXT NOT NULL DEFAULT '{}', -- JSON: the request's fields
        status TEXT NOT NULL, -- queued, running, done, failed
        statement_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT, -- not to be claimed before (backoff, a live stream still running)
        last_error TEXT,
        worker TEXT, -- host:pid of the worker running it
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX jobs_status ON jobs(status, not_before, id);
    CREATE UNIQUE INDEX jobs_active_target ON jobs(kind, target)
        WHERE status IN ('queued', 'running');
    CREATE TABLE tombstones (
        origin TEXT PRIMARY KEY,
        statement_id TEXT NOT NULL,
        title TEXT NOT NULL,
        reason TEXT,
        deleted_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        statement_id TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
        start REAL NOT NULL, -- the corrected words' time span
        end REAL NOT NULL,
        text TEXT NOT NULL, -- what was said there, as the operator wrote it
        made_at TEXT NOT NULL
    );
    CREATE INDEX corrections_statement ON corrections(statement_id, start);
    ALTER TABLE statements ADD COLUMN source_id INTEGER;
    ALTER TABLE statements ADD COLUMN edited TEXT; -- fields an operator edited, comma-separated
    """,
)

_STATEMENT_COLUMNS = tuple(f.name for f in fields(Statement))
# A passage's row id is its statement's seq times this plus its position, so that the search
# index knows a passage's statement without a lookup: statement seq = rowid >> 16.
PASSAGE_BITS = 16
PASSAGES_PER_STATEMENT = 1 << PASSAGE_BITS


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, split where SQLite sees one complete (a trigger's body
    holds semicolons of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def passage_rowid(seq: int, position: int) -> int:
    if not 0 <= position < PASSAGES_PER_STATEMENT:
        raise ValueError(f"passage position {position} out of range")
    return (seq << PASSAGE_BITS) | position


def now() -> str:
    """The time, to the microsecond: a rebuild of the search index tells the statements changed
    while it ran by `updated_at` (archive.indexing.rebuild)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def statement_id_for(origin: str) -> str:
    """A short, URL-safe id that is the same every time for the same origin."""
    digest = hashlib.sha256(origin.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:12]


def _segment_columns(segment: Segment) -> tuple[str, str]:
    """The `text` and `words` columns of a segment (the encoding: module docstring)."""
    spelled = "".join(w.text for w in segment.words)
    spells = bool(segment.words) and spelled.strip() == segment.text.strip()
    flat: list[int | str] = []
    clock = round(segment.start * 100)
    for word in segment.words:
        start, end = round(word.start * 100), round(word.end * 100)
        flat += (start - clock, end - start, round(word.probability * 1000))
        flat.append(len(word.text) if spells else word.text)
        clock = end
    text = spelled if spells else segment.text.strip()
    return text, json.dumps(flat, ensure_ascii=False, separators=(",", ":"))


def _segment(start: float, end: float, text: str, words: str) -> Segment:
    """A segment read back from its columns (the inverse of _segment_columns)."""
    flat = json.loads(words)
    decoded: list[Word] = []
    clock = round(start * 100)
    at = 0
    for gap, duration, permille, spelling in zip(
        flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True
    ):
        begin = clock + gap
        clock = begin + duration
        if isinstance(spelling, int):
            said, at = text[at : at + spelling], at + spelling
        else:
            said = spelling
        decoded.append(Word(begin / 100, clock / 100, said, permille / 1000))
    return Segment(start, end, text.strip(), tuple(decoded))


def _old_words(raw: str) -> tuple[Word, ...]:
    """Words as schema versions before 5 stored them: [start, end, text, probability] each."""
    return tuple(map(Word._make, json.loads(raw)))


def _statement(row: sqlite3.Row) -> Statement:
    values = {key: row[key] for key in row.keys() if key in _STATEMENT_COLUMNS}  # noqa: SIM118
    values["status"] = Status(values["status"])
    values["published"] = PartialDate.stored(values.get("published"))
    return Statement(**values)


def _column(value: object) -> object:
    """A statement field as the catalog stores it."""
    return str(value) if isinstance(value, Status | PartialDate) else value


BUSY_SECONDS = 30.0


def wal_mode(db: sqlite3.Connection) -> None:
    """Put the catalog (or another SQLite file of the archive, archive.forms) in WAL mode.
    SQLite answers "database is locked" at once, without waiting for the busy timeout, when
    another process is creating or migrating the same new file (several ingests started
    together on a fresh archive): that answer is retried here, as the busy timeout would, for
    up to BUSY_SECONDS."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.01
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, and creates no file where it cannot write.

    A WAL-mode database needs its -shm file to be read with locking. In a writable directory
    SQLite makes one (mode=ro). In a read-only directory it can use an existing -wal and -shm
    (a writer elsewhere has them open, or a crash left them: their content is part of the
    catalog), so mode=ro again; with no -wal the main file is the whole catalog and nobody
    writes it through this directory, so it is opened immutable, without locks."""
    if not path.is_file():
        raise NoCatalog(f"no catalog at {path}")
    uri = path.resolve().as_uri() + "?mode=ro"
    wal = path.with_name(path.name + "-wal")
    if not os.access(path.parent, os.W_OK) and not wal.exists():
        uri += "&immutable=1"
    try:
        return sqlite3.connect(
            uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise CatalogUnavailable(f"cannot read the catalog {path}: {error}") from None


class Catalog:
    """One connection to the catalog file. Cheap to open; open one per thread.

    `readonly=True` opens an existing catalog without writing anything (a read-only archive is
    searchable and servable): NoCatalog when there is none, CatalogNeedsMigration when it is
    older than this program, CatalogUnavailable when SQLite cannot read it."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        if readonly:
            self.db = _connect_readonly(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
        try:
            self.db.row_factory = sqlite3.Row
            if readonly:
                self.db.execute("PRAGMA query_only=ON")
            else:
                wal_mode(self.db)
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self.db.close()
            if not readonly:
                raise
            raise CatalogUnavailable(f"cannot read the catalog {path}: {error}") from None
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Bring the catalog to the latest schema; a read-only catalog is only checked."""
        if self.schema_version >= len(MIGRATIONS):
            return
        if self.readonly:
            if self.schema_version == 0:
                raise NoCatalog(f"the catalog {self.path} is not set up yet")
            raise CatalogNeedsMigration(
                f"the catalog {self.path} needs migrating from schema version "
                f"{self.schema_version} to {len(MIGRATIONS)}, which this read-only command does "
                "not do: run a writing command such as `stadtstimme reindex` first"
            )
        with self.transaction():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                if callable(migration):
                    migration(self.db)
                else:
                    for statement in _statements(migration):
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception. Nested calls join the outer."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # statements

    def find(self, statement_id: str) -> Statement | None:
        row = self.db.execute("SELECT * FROM statements WHERE id = ?", (statement_id,)).fetchone()
        return _statement(row) if row else None

    def get(self, statement_id: str) -> Statement:
        statement = self.find(statement_id)
        if statement is None:
            raise NotFound(f"no statement with id {statement_id!r}")
        return statement

    def statements_version(self) -> int:
        """A number that changes whenever any statement is added, changed or removed."""
        return int(self.db.execute("SELECT version FROM statements_version").fetchone()[0])

    def per_version(self, cache: dict[str, tuple[int, T]], build: Callable[[Catalog], T]) -> T:
        """`build(self)`, kept in `cache` for this catalog file until a statement is added,
        changed or removed (the version counter of migration 2); a file made anew starts anew."""
        key = f"{self.path}:{self.path.stat().st_ino}"
        version = self.statements_version()
        cached = cache.get(key)
        if cached is None or cached[0] != version:
            cached = cache[key] = (version, build(self))
        return cached[1]

    def statement_facts(
        self,
    ) -> dict[int, tuple[str, str, str | None, str | None, str | None, str | None, str | None]]:
        """seq -> (id, status, published, municipality, speaker, source, language) of all."""
        rows = self.db.execute(
            "SELECT seq, id, status, published, municipality, speaker, source, language "
            "FROM statements"
        )
        return {row[0]: tuple(row)[1:] for row in rows}

    def find_by_origin(self, origin: str) -> Statement | None:
        row = self.db.execute("SELECT * FROM statements WHERE origin = ?", (origin,)).fetchone()
        return _statement(row) if row else None

    def claim(self, statement: Statement) -> Statement:
        """Insert the statement unless its origin is known; return what the catalog holds."""
        stamp = now()
        values = {name: getattr(statement, name) for name in _STATEMENT_COLUMNS} | {
            "created_at": stamp,
            "updated_at": stamp,
        }
        del values["seq"]
        del values["transcript_origin"]  # written with the transcript (save_transcript)
        for later in ("media_kind", "poster_file", "edited"):  # written when it happens
            del values[later]
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction():
            tombstone = self.db.execute(
                "SELECT statement_id, deleted_at FROM tombstones WHERE origin = ?",
                (statement.origin,),
            ).fetchone()
            if tombstone is not None:
                raise TakenDown(
                    f"{statement.origin} was deleted from the archive ({tombstone['deleted_at']}, "
                    f"statement {tombstone['statement_id']}); only an operator can re-admit it "
                    "(stadtstimme readmit)"
                )
            self.db.execute(
                f"INSERT INTO statements (seq, {columns}) "
                f"SELECT coalesce(max(seq), 0) + 1, {marks} FROM statements "
                "WHERE true ON CONFLICT(origin) DO NOTHING",
                tuple(_column(v) for v in values.values()),
            )
            found = self.find_by_origin(statement.origin)
        assert found is not None
        return found

    def update(self, statement_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(_STATEMENT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown statement fields: {sorted(unknown)}")
        changes["updated_at"] = now()
        assignments = ", ".join(f"{key} = ?" for key in changes)
        values = tuple(_column(v) for v in changes.values())
        with self.transaction():
            self.db.execute(
                f"UPDATE statements SET {assignments} WHERE id = ?", (*values, statement_id)
            )

    def set_status(self, statement_id: str, status: Status, error: str | None = None) -> None:
        self.update(statement_id, status=status, error=error)

    def status_counts(self) -> dict[Status, int]:
        """How many statements have each status."""
        rows = self.db.execute("SELECT status, count(*) FROM statements GROUP BY status")
        return {Status(row[0]): int(row[1]) for row in rows}

    def passage_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM passages").fetchone()[0])

    def passage_counts(self) -> dict[int, int]:
        """seq -> passages, of every statement that has any (one pass over the row ids)."""
        rows = self.db.execute(f"SELECT id >> {PASSAGE_BITS}, count(*) FROM passages GROUP BY 1")
        return {int(row[0]): int(row[1]) for row in rows}

    def passage_texts(self, batch: int = 5_000) -> Iterator[tuple[int, str]]:
        """(row id, text) of every passage in row id order, read a batch at a time, without
        the word timings (a rebuild of the search index needs only the text)."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT id, text FROM passages WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield int(row[0]), str(row[1])
            last = int(rows[-1][0])

    def index_state(self) -> dict[int, tuple[str, Status, str]]:
        """seq -> (id, status, updated_at) of every statement (what reconciling an index with
        the catalog compares)."""
        rows = self.db.execute("SELECT seq, id, status, updated_at FROM statements")
        return {int(row[0]): (row[1], Status(row[2]), row[3]) for row in rows}

    def statements_with(self, statuses: Sequence[Status]) -> list[Statement]:
        marks = ", ".join("?" for _ in statuses)
        rows = self.db.execute(
            f"SELECT * FROM statements WHERE status IN ({marks}) ORDER BY seq",
            tuple(str(s) for s in statuses),
        )
        return [_statement(row) for row in rows]

    def mark_indexed(self, seqs: Collection[int]) -> None:
        """Mark those of these statements indexed that are transcribed."""
        stamp = now()
        with self.transaction():
            self.db.executemany(
                "UPDATE statements SET status = ?, error = NULL, updated_at = ? "
                "WHERE seq = ? AND status = ?",
                [(str(Status.INDEXED), stamp, seq, str(Status.TRANSCRIBED)) for seq in seqs],
            )

    def has_fts_index(self) -> bool:
        """Whether the catalog holds the SQLite FTS5 search index of releases before tantivy."""
        found = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'passage_terms'"
        ).fetchone()
        return found is not None

    def drop_fts_index(self) -> None:
        """The last step of moving a catalog to a new index, run once that answers: the FTS5
        tables go (SQLite drops the virtual table's shadow tables with it)."""
        with self.transaction():
            self.db.execute("DROP TABLE IF EXISTS passage_terms")

    def list_statements(
        self, *, statuses: Sequence[Status] = (Status.INDEXED,), limit: int = 20, offset: int = 0
    ) -> tuple[int, list[Statement]]:
        marks = ", ".join("?" for _ in statuses)
        names = tuple(str(s) for s in statuses)
        total = self.db.execute(
            f"SELECT count(*) FROM statements WHERE status IN ({marks})", names
        ).fetchone()[0]
        rows = self.db.execute(
            f"SELECT * FROM statements WHERE status IN ({marks}) "
            "ORDER BY published DESC NULLS LAST, created_at DESC LIMIT ? OFFSET ?",
            (*names, limit, offset),
        ).fetchall()
        return int(total), [_statement(row) for row in rows]

    def statements_by_id(self, ids: Sequence[str]) -> dict[str, Statement]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self.db.execute(f"SELECT * FROM statements WHERE id IN ({marks})", tuple(ids))
        return {row["id"]: _statement(row) for row in rows}

    # transcripts and passages

    def save_transcript(
        self,
        statement_id: str,
        transcript: Transcript,
        passages: Sequence[Passage],
        note: str | None,
    ) -> None:
        """Replace the statement's segments and passages and mark it transcribed, all at once.
        The passages must be built from the transcript's segments (archive.passages): each is
        stored as the run of segments it covers; ValueError otherwise."""
        if transcript.origin not in (TRANSCRIBED_BY_WHISPER, CAPTIONS_FROM_SOURCE):
            raise ValueError(f"unknown transcript origin {transcript.origin!r}")
        runs = covered_segments(transcript.segments, passages)
        with self.transaction():
            seq = self.get(statement_id).seq
            assert seq is not None
            self.db.execute("DELETE FROM segments WHERE statement_id = ?", (statement_id,))
            self.db.execute("DELETE FROM passages WHERE statement_id = ?", (statement_id,))
            self.db.executemany(
                "INSERT INTO segments (statement_id, position, start, end, text, words) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (statement_id, i, s.start, s.end, *_segment_columns(s))
                    for i, s in enumerate(transcript.segments)
                ],
            )
            self.db.executemany(
                "INSERT INTO passages "
                "(id, statement_id, position, start, end, text, first_segment, segment_count) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        passage_rowid(seq, p.position),
                        statement_id,
                        p.position,
                        p.start,
                        p.end,
                        p.text,
                        run.start,
                        len(run),
                    )
                    for p, run in zip(passages, runs, strict=True)
                ],
            )
            self.update(
                statement_id,
                status=Status.TRANSCRIBED,
                error=None,
                note=note,
                language=transcript.language,
                duration=transcript.duration,
            )
            self.db.execute(
                "UPDATE statements SET transcript_origin = ? WHERE id = ?",
                (transcript.origin, statement_id),
            )

    def transcript(self, statement_id: str) -> Transcript | None:
        """The statement's transcript as saved, with who wrote it and the note saved with it;
        None before one is saved (NotFound for an unknown statement)."""
        row = self.db.execute(
            "SELECT language, duration, transcript_origin, note FROM statements WHERE id = ?",
            (statement_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no statement with id {statement_id!r}")
        if row["transcript_origin"] is None:
            return None
        return Transcript(
            language=row["language"] or "",
            duration=row["duration"] or 0.0,
            segments=tuple(self.segments(statement_id)),
            origin=row["transcript_origin"],
            note=row["note"],
        )

    def segments(self, statement_id: str) -> list[Segment]:
        rows = self.db.execute(
            "SELECT start, end, text, words FROM segments WHERE statement_id = ? ORDER BY position",
            (statement_id,),
        )
        return [_segment(*row) for row in rows]

    def passages(self, statement_id: str) -> list[tuple[int, Passage]]:
        """The statement's passages with their row ids, in order."""
        return list(self._passages("p.statement_id = ?", (statement_id,)).items())

    def passages_by_rowid(self, rowids: Sequence[int]) -> dict[int, Passage]:
        if not rowids:
            return {}
        marks = ", ".join("?" for _ in rowids)
        return self._passages(f"p.id IN ({marks})", tuple(rowids))

    def _passages(self, where: str, values: tuple[object, ...]) -> dict[int, Passage]:
        """Passages with their words, read from the segments they cover (one range scan of the
        segments' primary key each), in row id order. Plain tuples: several rows a passage."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        rows = cursor.execute(
            "SELECT p.id, p.statement_id, p.position, p.start, p.end, "
            "s.start, s.end, s.text, s.words FROM passages AS p "
            "LEFT JOIN segments AS s ON s.statement_id = p.statement_id "
            "AND s.position >= p.first_segment "
            "AND s.position < p.first_segment + p.segment_count "
            f"WHERE {where} ORDER BY p.id, s.position",
            values,
        )
        found: dict[int, Passage] = {}
        for rowid, group in groupby(rows, key=itemgetter(0)):
            first = next(group)
            covered = [_segment(*row[5:]) for row in chain((first,), group) if row[5] is not None]
            found[rowid] = Passage(
                statement_id=first[1],
                position=first[2],
                start=first[3],
                end=first[4],
                words=spoken_words(covered),
            )
        return found
