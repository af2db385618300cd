"""The catalog: all SQL about statements, segments and passages (SQLite in WAL mode).

The catalog is the source of truth; search indexes are projections of it. Every write that
belongs together happens in one transaction, so a crash never leaves a half-written statement
that reads as complete.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.analysis import term, words
from archive.errors import NotFound
from archive.models import Passage, Segment, Statement, Status, Transcript, Word

MIGRATIONS: tuple[str, ...] = (
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
    return datetime.now(UTC).isoformat(timespec="seconds")


def statement_id_for(origin: str) -> str:
    """A short, URL-safe id that is the same every time for the same origin."""
    digest = hashlib.sha256(origin.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:12]


def _words_to_json(words: Sequence[Word]) -> str:
    return json.dumps(
        [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 3)] for w in words],
        ensure_ascii=False,
    )


def _words_from_json(raw: str) -> tuple[Word, ...]:
    return tuple(map(Word._make, json.loads(raw)))


def _statement(row: sqlite3.Row) -> Statement:
    values = {key: row[key] for key in row.keys() if key in _STATEMENT_COLUMNS}  # noqa: SIM118
    values["status"] = Status(values["status"])
    return Statement(**values)


class Catalog:
    """One connection to the catalog file. Cheap to open; open one per thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        if self.schema_version >= len(MIGRATIONS):
            return
        with self.transaction():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
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
        values = asdict(statement) | {"created_at": stamp, "updated_at": stamp}
        del values["seq"]
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction():
            self.db.execute(
                f"INSERT INTO statements (seq, {columns}) "
                f"SELECT coalesce(max(seq), 0) + 1, {marks} FROM statements "
                "WHERE true ON CONFLICT(origin) DO NOTHING",
                tuple(str(v) if isinstance(v, Status) else v for v in values.values()),
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
        values = tuple(str(v) if isinstance(v, Status) else v for v in changes.values())
        with self.transaction():
            self.db.execute(
                f"UPDATE statements SET {assignments} WHERE id = ?", (*values, statement_id)
            )

    def set_status(self, statement_id: str, status: Status, error: str | None = None) -> None:
        self.update(statement_id, status=status, error=error)

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
        """Replace the statement's segments and passages and mark it transcribed, all at once."""
        with self.transaction():
            seq = self.get(statement_id).seq
            assert seq is not None
            self._count_words([p for _, p in self.passages(statement_id)], -1)
            self.db.execute("DELETE FROM segments WHERE statement_id = ?", (statement_id,))
            self.db.execute("DELETE FROM passages WHERE statement_id = ?", (statement_id,))
            self.db.executemany(
                "INSERT INTO segments (statement_id, position, start, end, text, words) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (statement_id, i, s.start, s.end, s.text.strip(), _words_to_json(s.words))
                    for i, s in enumerate(transcript.segments)
                ],
            )
            self.db.executemany(
                "INSERT INTO passages (id, statement_id, position, start, end, text, words) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        passage_rowid(seq, p.position),
                        statement_id,
                        p.position,
                        p.start,
                        p.end,
                        p.text,
                        _words_to_json(p.words),
                    )
                    for p in passages
                ],
            )
            self._count_words(passages, +1)
            self.update(
                statement_id,
                status=Status.TRANSCRIBED,
                error=None,
                note=note,
                language=transcript.language,
                duration=transcript.duration,
            )

    def _count_words(self, passages: Sequence[Passage], sign: int) -> None:
        """Keep the vocabulary (term, a spelling of it, passages it is in) for did-you-mean."""
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for passage in passages:
            seen = {term(word): word for word in words(passage.text)}
            counts.update(seen.keys())
            spelling.update(seen)
        self.db.executemany(
            "INSERT INTO vocabulary (term, word, passages) VALUES (?, ?, ?) "
            "ON CONFLICT(term) DO UPDATE SET passages = max(0, passages + excluded.passages)",
            [(t, spelling[t], sign * n) for t, n in counts.items()],
        )

    def vocabulary(self, first: str, limit: int = 50_000) -> list[tuple[str, str, int]]:
        """(term, spelling, passages) of the words whose term starts with `first`."""
        rows = self.db.execute(
            "SELECT term, word, passages FROM vocabulary "
            "WHERE term >= ? AND term < ? AND passages > 0 LIMIT ?",
            (first, first + "\uffff", limit),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def passages_with_term(self, term_: str) -> int:
        row = self.db.execute("SELECT passages FROM vocabulary WHERE term = ?", (term_,)).fetchone()
        return int(row[0]) if row else 0

    def segments(self, statement_id: str) -> list[Segment]:
        rows = self.db.execute(
            "SELECT start, end, text, words FROM segments WHERE statement_id = ? ORDER BY position",
            (statement_id,),
        )
        return [
            Segment(row["start"], row["end"], row["text"], _words_from_json(row["words"]))
            for row in rows
        ]

    def passages(self, statement_id: str) -> list[tuple[int, Passage]]:
        """The statement's passages with their row ids, in order."""
        rows = self.db.execute(
            "SELECT * FROM passages WHERE statement_id = ? ORDER BY position", (statement_id,)
        )
        return [(row["id"], _passage(row)) for row in rows]

    def passages_by_rowid(self, rowids: Sequence[int]) -> dict[int, Passage]:
        if not rowids:
            return {}
        marks = ", ".join("?" for _ in rowids)
        rows = self.db.execute(f"SELECT * FROM passages WHERE id IN ({marks})", tuple(rowids))
        return {row["id"]: _passage(row) for row in rows}

    def statement_ids(self, statuses: Sequence[Status]) -> list[str]:
        marks = ", ".join("?" for _ in statuses)
        rows = self.db.execute(
            f"SELECT id FROM statements WHERE status IN ({marks}) ORDER BY id",
            tuple(str(s) for s in statuses),
        )
        return [row["id"] for row in rows]


def _passage(row: sqlite3.Row) -> Passage:
    return Passage(
        statement_id=row["statement_id"],
        position=row["position"],
        start=row["start"],
        end=row["end"],
        words=_words_from_json(row["words"]),
    )
