"""A persistent table of analysed word forms, so that a new process does not analyse again what
an earlier one did: splitting one compound costs HanTa and compound-split milliseconds (and
loading them seconds), reading its analysis back about a microsecond.

One SQLite file (`<data_dir>/index/forms.sqlite3`), apart from the catalog: it is a cache,
removable at any time. It holds each word form's term, heads and modifiers (parts joined by
spaces: terms hold none) and, in its meta table, the stamp of the analyser that wrote it
(ANALYSER_VERSION, the versions of the libraries the analysis depends on, Unicode's): a file
with another stamp is emptied when opened for writing and ignored when read, so a form in the
table is always what `_analysed` computes in this process. Several processes may read and write
the file together (WAL, busy timeout); forms are only ever added (INSERT OR IGNORE), in one
transaction per save, and a save into a file that another analyser version has stamped since
is dropped.
"""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from pathlib import Path
from types import TracebackType

from archive import analysis
from archive.analysis import ANALYSER_VERSION, Form
from archive.catalog import BUSY_SECONDS, wal_mode

SPELLINGS_AT_ONCE = 500
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # A rowid table: loading in rowid order reads the forms in the order they were first met.
    "CREATE TABLE IF NOT EXISTS forms (word TEXT PRIMARY KEY, term TEXT NOT NULL,"
    " heads TEXT NOT NULL, modifiers TEXT NOT NULL)",
    # Did-you-mean shows a term as a word said (archive.search.tantivy.IndexVocabulary).
    "CREATE INDEX IF NOT EXISTS forms_term ON forms (term)",
)


@cache
def analyser_stamp() -> str:
    """What a form's analysis depends on besides our code: a Snowball, HanTa, compound-split or
    Unicode update may change it without anyone bumping ANALYSER_VERSION."""
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("PyStemmer", "HanTa", "compound-split")
    )
    return f"analyser {ANALYSER_VERSION}; {libraries}; Unicode {unicodedata.unidata_version}"


class FormsStore:
    """One connection to a forms table. `readonly=True` (worker processes) never writes nor
    creates anything (in a read-only directory it reads the file as it is), and `load()`
    answers 0 where there is nothing it can trust: a missing, unreadable or damaged file,
    another analyser's table."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.stamp = analyser_stamp()
        self._db: sqlite3.Connection | None = None
        self._saved: set[str] = set()
        if readonly:
            self._db = _connect_readonly(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            wal_mode(db)
            db.execute("PRAGMA synchronous=NORMAL")
            with _transaction(db, "BEGIN IMMEDIATE"):
                for statement in _SCHEMA:
                    db.execute(statement)
                if _stamp(db) != self.stamp:
                    db.execute("DELETE FROM forms")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('analyser', ?)", (self.stamp,))
        except BaseException:
            db.close()
            raise
        self._db = db

    def load(self) -> int:
        """Put the table's forms into this process's analysis memo (archive.analysis decides how
        many fit; the oldest come first: with Zipfian words, the frequent ones); returns how
        many it took."""
        if self._db is None:
            return 0
        try:
            with _transaction(self._db, "BEGIN"):
                if _stamp(self._db) != self.stamp:
                    return 0
                rows = self._db.execute(
                    "SELECT word, term, heads, modifiers FROM forms ORDER BY rowid"
                )
                try:
                    return analysis.remember_forms(
                        (word, (term, _parts(heads), _parts(modifiers)))
                        for word, term, heads, modifiers in rows
                    )
                finally:
                    rows.close()  # remember_forms may stop early
        except sqlite3.Error:
            if self.readonly:
                return 0
            raise

    def save(self, forms: Mapping[str, Form]) -> int:
        """Add these forms (this process's or a worker's analyses) to the table, in one
        transaction; returns how many were new to it."""
        if self._db is None or self.readonly:
            raise ValueError(f"the forms table {self.path} is open read-only")
        rows = [
            (word, term, " ".join(heads), " ".join(modifiers))
            for word, (term, heads, modifiers) in forms.items()
            if _parts(" ".join(heads)) == heads and _parts(" ".join(modifiers)) == modifiers
        ]  # a part with a space (NFKC of some ligatures) would come back split: not stored
        if not rows:
            return 0
        with _transaction(self._db, "BEGIN IMMEDIATE"):
            if _stamp(self._db) != self.stamp:
                return 0  # another analyser version has taken the file over
            cursor = self._db.executemany(
                "INSERT OR IGNORE INTO forms (word, term, heads, modifiers) VALUES (?, ?, ?, ?)",
                rows,
            )
            return cursor.rowcount

    def save_words(self, words: Iterable[str]) -> int:
        """Add the forms of these words (analysed now where this process has not yet), those
        this store has not saved before: what an index holds must be in the table, whatever
        this process's memo knew before (did-you-mean spells terms from it)."""
        wanted = {word for word in words if word not in self._saved}
        forms = analysis.new_forms()  # and whatever else this process analysed anew
        forms.update((word, analysis.analysed_form(word)) for word in wanted)
        added = self.save(forms) if forms else 0
        self._saved |= wanted
        return added

    def spellings(self, terms: Collection[str]) -> dict[str, str]:
        """A word said for each of these terms that the table knows: the shortest (the
        uninflected form, mostly: "Krankenhaus" before "Krankenhäusern"), capitalised first."""
        if self._db is None or not terms:
            return {}
        found: dict[str, str] = {}
        wanted = sorted(terms)
        try:
            for start in range(0, len(wanted), SPELLINGS_AT_ONCE):
                chunk = wanted[start : start + SPELLINGS_AT_ONCE]
                marks = ", ".join("?" for _ in chunk)
                rows = self._db.execute(
                    f"SELECT term, word FROM forms WHERE term IN ({marks})", chunk
                )
                for found_term, word in rows:
                    known = found.get(found_term)
                    if known is None or (len(word), word) < (len(known), known):
                        found[found_term] = word
        except sqlite3.Error:
            if self.readonly:
                return {}
            raise
        return found

    def save_new(self) -> int:
        """Add the forms this process analysed anew since the last save (or load)."""
        return self.save(analysis.new_forms())

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> FormsStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _parts(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(" ")) if joined else ()


def _stamp(db: sqlite3.Connection) -> str | None:
    """The stamp of the analyser that wrote the table; None when there is no table yet."""
    try:
        found = db.execute("SELECT value FROM meta WHERE key = 'analyser'").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
        return None
    return None if found is None else str(found[0])


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK when the body raises (the connection is in autocommit
    mode; SQLite may have rolled back already after some errors)."""
    db.execute(begin)
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect_readonly(path: Path) -> sqlite3.Connection | None:
    """A connection that cannot write and creates no file, or None where there is nothing to
    read. As the catalog's: in a read-only directory without a -wal file, the main file is the
    whole table and nobody writes it through this directory, so it is opened immutable (SQLite
    could not create the -shm file it needs otherwise)."""
    if not path.is_file():
        return None
    uri = path.resolve().as_uri() + "?mode=ro"
    if not os.access(path.parent, os.W_OK) and not path.with_name(path.name + "-wal").exists():
        uri += "&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error:
        return None
