"""The embedded search engine: a tantivy index in the data directory, no server, BM25 over all
matches, and counts (facets, trend, grouping) computed in bulk: inside tantivy, or with numpy.

The index holds one document per passage, one per metadata field of a statement (title,
speaker, municipality: archive.search.META_FIELDS, which search covers too), and one per
statement:
- `rowid` (fast): the catalog's passage row id, seq << 16 | position;
- `seq` (indexed, fast): the statement's seq, to delete, filter and count by statement;
- `terms`: the analyser's word terms in order (archive.analysis), with positions: words,
  phrases and BM25 are matched and scored here;
- `heads`, `modifiers`: compound parts, indexed without frequencies or positions: they make a
  part find its compound but are not scored by BM25 (summing BM25 over fields, each with its own
  IDF, agreed far worse with FTS5's BM25 than scoring the terms field alone);
- a metadata document has `seq`, `rowid` = -(seq * SLOTS + kind) (negative: no passage's, and
  it names its statement and field, kind 1-3 in META_FIELDS order) and the field's text analysed
  as a passage's (inflections, compounds, phrases, prefixes and exclusions work alike) in
  `meta_terms`, `meta_heads`, `meta_modifiers`: fields of their own, so that passages' BM25
  statistics (document frequencies, average lengths) and the FTS5 agreement stay as they were;
- a passage also has its statement's date (Dated): `month` (fast; none when the date names no
  month) and the first and last day it may name, `first` and `last` (fast);
- a statement document has `seq`, no `rowid`, the terms, heads and modifiers of all its
  passages and metadata fields in `s_terms`, `s_heads`, `s_modifiers` (documents only, no
  frequencies or positions), and, fast, `s_municipality` and `s_speaker` (value_key: a hash),
  `s_year`, `first` and `last`. A word or prefix matches it exactly when it matches one of the
  statement's passages or fields, so it counts statements without a bucket per statement. It
  took the index at a million passages from 164 to 246 MiB. Date and metadata are a projection
  like the rest: an edit indexes the statement again (archive.search.Engine, 3.).
The did-you-mean vocabulary (IndexVocabulary) is the `terms` and `meta_terms` fields' term
dictionaries (a title word is known, not "corrected" into a word said), counted
over live documents only: it lives and dies with the index, rebuilt with it, and a statement
taken down takes its words with it at the same commit. A term is shown as a word said, from the
table of analysed word forms (archive.forms; a field of `term:word` tokens did the same but
took a third of the index: 27.2 MiB against 18.2 at 100,000 passages).
All three text fields use tantivy's built-in `whitespace` tokenizer: our terms are already
folded and stemmed, and it neither lowercases nor drops long tokens (the `default` tokenizer
drops tokens over 40 characters).

On disk: `<index_dir>/current.json` names the generation that answers, a directory beside it
holding one tantivy index. A rebuild (`build`) writes a new generation while searches go on
answering from the current one, and `swap` points current.json at it (written whole, then
renamed over the old file) and removes the old one. Every process checks current.json's stamp
at each search and write (a stat) and switches at once; a reader also reloads when the
generation's meta.json changed, so that a commit (a takedown) shows at once in every serving
process. A read-only data directory is served through a private directory of symbolic links to
the index's files (tantivy takes a lock file beside meta.json even to read).

Ranking, and how it was chosen. Each word (or prefix) has one IDF, that of the passages holding
it in any field, as FTS5 computes a phrase's: its BM25 in `terms` is boosted to that IDF, and a
passage holding it only as a compound part scores HEAD_WEIGHT or MODIFIER_WEIGHT times it (a
constant, since parts are not scored), one holding it said apart (two adjacent words, below)
APART_WEIGHT times it: below the word said whole, above its parts, for it is the word itself.
Measured against full FTS5 BM25 (every match ranked, column weights 1/0.6/0.3), mean share
of the top-10 passages in common, 50 queries each, on bench/search.py's 20,000-passage corpus:
parts at FTS5's 0.6/0.3 with each field's own IDF:
common words .51, prefixes .22; one IDF per word: .77 and .58; parts at 0.3/0.15: .83 and .62;
at 0.1/0.05: .86 and .61, as with parts unweighted (.86, .60). Rare words .99, phrases .96
throughout. The relevance set (tests/search/relevance.json) scores the same for all of these
(recall@5 1.0, P@5 .989, MRR 1.0, as FTS5): it has too few statements to tell them apart.

Queries are built from archive.analysis.parse_query's clauses, never from user text:
- a word: the term in `terms`, `heads` or `modifiers`; or said apart, as Whisper often writes a
  compound ("Umbau arbeiten", "Weide-Zone"): a phrase in `terms` of each cut of the word into
  two terms that both exist (archive.analysis.said_apart). Indexing the joined terms of adjacent
  words instead (a field `joined`, as the Meilisearch engine does) doubled the index at 1M
  passages (164 -> 342 MiB, goal 250) and slowed a reindex by 90 us a passage;
- a phrase: a phrase query on `terms`;
- a prefix: expanded completely from the term dictionaries of the current searcher (every term
  of each field that starts with it; not tantivy's phrase_prefix_query, which stops at 50) and
  weighed as one word (one IDF for all expansions); the MAX_SCORED_EXPANSION most frequent
  expansions in `terms` are scored by BM25, combined as a disjunction max (PREFIX_TIE), any
  further ones and the compound parts match through term sets with constant scores. A phrase
  ending in a prefix (only an excluded `-Kita-Öff*` makes one) is matched in `terms` only, as
  phrases are. A prefix is not looked for said apart;
- exclusions: must-not clauses.

Metadata: each query is built twice, on the passage fields and on the metadata fields; a
statement matches if a passage or a metadata document does (each on its own: every word in one
passage or in one field). A metadata document is scored as a passage that mentions every query
word once would be, without BM25's length normalisation (a metadata field's average length
over all documents means nothing): each word's IDF among the metadata documents, compound heads
META_HEAD_WEIGHT and modifiers META_MODIFIER_WEIGHT of it (higher than in passages: an
"Oberbürgermeister" in a title is a Bürgermeister), times META_WEIGHT. Ranking then treats it
as one more passage of its statement: a statement ranks by its best document. So a title naming
a word that few titles name ranks above passages mentioning it once or twice, while a word in
every title (low IDF) does not push those statements up. The max, not a sum with the best
passage: it keeps ranking one top-k search over both kinds of documents, exact and pruned.
An index of an older READABLE FORMAT still answers until the first writing command has built
and swapped in a new one (`ready()` is False for it): format 3 from passages only, format 4
(no statement documents) counting by statement as below.

Counting. Visibility (indexed status), filters and dates are masks over numpy arrays indexed by
seq (Facts), built from the catalog's statements and cached per catalog version. Two ways:
- by statement documents (_Search.by_statements), for a query of one word or prefix when at
  most STATED_HIDDEN of the statements are left out by status or a filter other than dates:
  one aggregation of the statement documents gives the total and the facets (a bucket per
  value, not per statement), one of the passages the trend (a bucket per month); what may not
  be found is kept out by seq (a term set), dates by range queries on `first` and `last`. A
  word said apart (a phrase) adds the statements that only say it so, counted by seq. At a
  million passages a word in every statement took 19 ms (p50), against 42 by statement buckets;
- by statement buckets (_Search.by_passages), for everything else: one histogram aggregation
  over `seq` gives every matching statement and its number of matching passages (in spans, when
  more buckets may come than tantivy's limit allows), within the statements the query allows
  when they are few (Scope, COUNT_WITHIN), facets and the trend are bincounts over the arrays.
  Converting a bucket to Python costs: 40,000 statements took 14 ms of a 24 ms aggregation.
The page is found without the counts, in this thread, while they run in another (tantivy
releases the GIL): by relevance, each statement's best document by BM25 over all matches (top-k
documents, widened until the page is full or every match is seen), restricted to the statements
the filters allow; by date, the allowed statements in date order (undated last), probed in
growing slices for matches (MAX_PROBED). The caller reads the page's statements and snippets
meanwhile (`page_ready`, archive.search.search). A phrase of stop-words at 1M passages, 120 ms
to count and 90 to rank, takes about 130-150 ms, not 220.

Writing follows the projection protocol of archive.search.Engine: the caller holds a catalog
write transaction; the engine then takes the index writer of the current generation (one per
index: within a process a lock serialises writers, across processes a writer that meets
LockBusy retries with backoff for up to WRITER_WAIT_S seconds), changes and commits it. Files
that a crashed writer or a finished merge left behind are garbage-collected when a writer
starts.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import tantivy

from archive.analysis import Clause, IndexFields, ParsedQuery, index_fields, said_apart, words
from archive.catalog import PASSAGE_BITS, Catalog
from archive.dates import PartialDate
from archive.errors import Busy, CatalogNeedsMigration, CatalogUnavailable
from archive.forms import FormsStore
from archive.models import Passage, Statement, Status
from archive.search import (
    META_FIELDS,
    Built,
    Matches,
    MetaField,
    PageReady,
    Progress,
    Query,
    RankedPassage,
    RankedStatement,
)
from archive.search.vocabulary import CatalogVocabulary
from archive.stops import alive, stop_point

log = logging.getLogger(__name__)

FORMAT = 5  # of the documents and fields below; kept in current.json
# Older formats whose generation still answers until a rebuild replaces it: format 3 is format
# 4 without the metadata fields, format 4 is format 5 without statement documents and months;
# each format's fields come after the older ones' in the schema, so that field numbers (in
# queries built on _SCHEMA) agree.
READABLE = frozenset({3, 4, FORMAT})
GENERATION = re.compile(r"g(?P<ns>\d+)-(?P<pid>\d+)")  # a generation's directory name
CURRENT = "current.json"
FORMS = "forms.sqlite3"  # analysed word forms, kept for rebuilds (archive.forms)
TOKENIZER = "whitespace"
# A passage that holds a query word only as a compound part scores this share of the word's IDF:
# enough to rank a head above a modifier, too little to outrank the word said whole (see the
# module docstring for how it was chosen).
HEAD_WEIGHT = 0.1
MODIFIER_WEIGHT = 0.05
# A passage that holds a query word said apart ("Umbau arbeiten" for Umbauarbeiten) scores this
# share: below the word said whole, above its parts, for it is the word itself, written as two.
APART_WEIGHT = 0.5
# A passage holding several expansions of a prefix scores the best one's BM25 plus this share of
# the others' (a disjunction max). FTS5 scores a prefix as one word whose frequency is the sum
# over its expansions, which saturates; summing the expansions' BM25 does not. Top-10 agreement
# with FTS5 on prefixes (bench/search.py's 20,000-passage corpus, 50 queries): sum .61; tie 0 .40,
# .15 .56, .3 .79, .45 .70, .6 .64. Common words .86 throughout (they have one expansion).
PREFIX_TIE = 0.3
MAX_SCORED_EXPANSION = 1000  # prefix expansions scored by BM25; the rest match unscored
MAX_REGEX_EXPANSION = 16_000  # below tantivy's RegexPhraseQuery limit (1 << 14 terms)
# tantivy's aggregations stop at 65,000 buckets: counts per statement are taken over seq ranges
# of at most AGGREGATION_SEQS statements, in one request each.
AGGREGATION_BUCKETS = 65_000  # (hard_bounds keep a histogram's buckets below it)
AGGREGATION_SEQS = 60_000
# A relevance page ranks the top max(FIRST_PASSAGES, FIRST_PER_STATEMENT * statements wanted)
# passages first, and WIDEN times more until they hold the statements wanted (or all matches).
FIRST_PASSAGES = 64
FIRST_PER_STATEMENT = 4
WIDEN = 4
# The best passages of a page's statements come from one search over all their matches when
# these are at most this many, else from one search per statement.
MAX_BATCHED = 20_000
# A search counts within the statements a filter allows (Scope) when they are at most this share
# of all statements, else counts in all of them and masks those not allowed.
COUNT_WITHIN = 0.25
# A search of one word or prefix counts statements by their statement documents when at most
# this share of the statements is not allowed (not indexed, or left out by a filter).
STATED_HIDDEN = 0.05
STATEMENT_FIELDS = ("s_terms", "s_heads", "s_modifiers")
MAX_APART = 20_000  # statements saying the word apart that counting by statements adds up
# A page by date probes at most this many statements, in date order, for matches before it
# waits for the counts of every match instead.
MAX_PROBED = 6_000
WRITER_HEAP = 64_000_000
BUILD_HEAP = 400_000_000  # a rebuild writes large segments: fewer merges
WRITER_THREADS = 1
WRITER_WAIT_S = 600.0
WRITER_BACKOFF_S = (0.01, 1.0)  # first and longest pause between attempts
BUILD_STATEMENTS = 500  # statements read from the catalog at a time by a rebuild

_MUST, _SHOULD, _MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot
_TQ = tantivy.Query
_KEY, _DOC_COUNT = itemgetter("key"), itemgetter("doc_count")  # of an aggregation's bucket
_CODED = ("municipality", "speaker", "source", "language")
FACETS = ("municipality", "speaker", "year")
FIELDS = ("terms", "heads", "modifiers")
META_TEXT_FIELDS = ("meta_terms", "meta_heads", "meta_modifiers")
SLOTS = 4  # a metadata document's rowid is -(seq * SLOTS + kind), kind 1.. in META_FIELDS order
# A metadata document scores META_WEIGHT times the summed IDF of the query's words among
# metadata documents: a passage of average length mentioning a word once scores about its IDF,
# twice 1.375 times it, and saturates at 2.2 times (BM25, k1 = 1.2): a field naming the word
# outranks passages that merely mention it, not one that is about it.
META_WEIGHT = 1.5
META_HEAD_WEIGHT = 0.8
META_MODIFIER_WEIGHT = 0.5
META_PARTS = (META_HEAD_WEIGHT, META_MODIFIER_WEIGHT)

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


class IndexBusy(Busy):
    """Another process held the index writer longer than WRITER_WAIT_S."""

    status = 503
    code = "index_busy"


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Integers, not unsigned: Python ints are signed 64-bit in the binding.
    builder.add_integer_field("rowid", fast=True)
    builder.add_integer_field("seq", indexed=True, fast=True)
    builder.add_text_field("terms", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("heads", tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_text_field("modifiers", tokenizer_name=TOKENIZER, index_option="basic")
    # Format 4: after format 3's fields, so that their numbers stay (READABLE).
    builder.add_text_field("meta_terms", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("meta_heads", tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_text_field("meta_modifiers", tokenizer_name=TOKENIZER, index_option="basic")
    # Format 5: a passage's month and date range (its statement's), and one document per
    # statement (with the same date range).
    builder.add_integer_field("month", fast=True)
    builder.add_integer_field("first", fast=True)
    builder.add_integer_field("last", fast=True)
    builder.add_text_field("s_terms", tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_text_field("s_heads", tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_text_field("s_modifiers", tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_integer_field("s_municipality", fast=True)
    builder.add_integer_field("s_speaker", fast=True)
    builder.add_integer_field("s_year", fast=True)
    return builder.build()


_SCHEMA = build_schema()
_PASSAGES = tantivy.Query.range_query(_SCHEMA, "rowid", tantivy.FieldType.Integer, 0, 2**62)
_META_ALL = tantivy.Query.range_query(_SCHEMA, "rowid", tantivy.FieldType.Integer, -(2**62), -1)


def document(rowid: int, fields: IndexFields, dated: Dated | None = None) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_integer("rowid", rowid)
    doc.add_integer("seq", rowid >> PASSAGE_BITS)
    doc.add_text("terms", fields.terms)
    doc.add_text("heads", fields.heads)
    doc.add_text("modifiers", fields.modifiers)
    if dated is not None:
        dated.add_to(doc)
    return doc


@dataclass(frozen=True)
class Dated:
    """A statement's date as its documents hold it (Facts.month, Facts.first, Facts.last): the
    month (year * 12 + month - 1; none when the date names no month) and the first and last
    day the date may name (proleptic ordinals), for the trend and date filters in tantivy."""

    month: int | None
    first: int
    last: int

    @classmethod
    def of(cls, statement: Statement) -> Dated | None:
        date = statement.published
        if date is None:
            return None
        month = date.year * 12 + date.month - 1 if date.month else None
        return cls(month, date.first.toordinal(), date.last.toordinal())

    def add_to(self, doc: tantivy.Document) -> None:
        if self.month is not None:
            doc.add_integer("month", self.month)
        doc.add_integer("first", self.first)
        doc.add_integer("last", self.last)


def value_key(value: str) -> int:
    """A metadata value as a statement document's fast field holds it: 52 bits of a hash, so
    that tantivy's aggregations (which give keys as floats) give it back exactly."""
    digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 12


class StatementDocument:
    """A statement's document: the terms, heads and modifiers of all its passages and
    metadata fields (a single word or prefix matches it exactly when it matches one of
    them), and its municipality, speaker and year, for counting statements in tantivy."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.terms: set[str] = set()
        self.heads: set[str] = set()
        self.modifiers: set[str] = set()

    def add(self, fields: IndexFields) -> None:
        self.terms.update(fields.terms.split())
        self.heads.update(fields.heads.split())
        self.modifiers.update(fields.modifiers.split())

    def document(self, seq: int) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_integer("seq", seq)
        doc.add_text("s_terms", " ".join(self.terms))
        doc.add_text("s_heads", " ".join(self.heads))
        doc.add_text("s_modifiers", " ".join(self.modifiers))
        statement = self.statement
        for name, value in (
            ("municipality", statement.municipality),
            ("speaker", statement.speaker),
        ):
            if value:
                doc.add_integer(f"s_{name}", value_key(value))
        if statement.published is not None:
            doc.add_integer("s_year", statement.published.year)
        dated = Dated.of(statement)
        if dated is not None:
            dated.add_to(doc)
        return doc


def meta_rows(statement: Statement, seq: int | None = None) -> list[tuple[int, str]]:
    """(rowid, text) of the statement's metadata documents: one per non-empty field."""
    seq = statement.seq if seq is None else seq
    if seq is None:
        return []
    texts = (getattr(statement, name) for name in META_FIELDS)
    return [(meta_rowid(seq, kind), text) for kind, text in enumerate(texts, 1) if text]


def meta_rowid(seq: int, kind: int) -> int:
    return -(seq * SLOTS + kind)


def any_document(rowid: int, fields: IndexFields, dated: Dated | None = None) -> tantivy.Document:
    """A passage's document, or (negative rowid) a metadata field's."""
    if rowid >= 0:
        return document(rowid, fields, dated)
    doc = tantivy.Document()
    doc.add_integer("rowid", rowid)
    doc.add_integer("seq", -rowid // SLOTS)
    doc.add_text("meta_terms", fields.terms)
    doc.add_text("meta_heads", fields.heads)
    doc.add_text("meta_modifiers", fields.modifiers)
    return doc


def seq_of(rowid: int) -> int:
    """The statement of a document's rowid, a passage's or a metadata document's."""
    return rowid >> PASSAGE_BITS if rowid >= 0 else -rowid // SLOTS


# -- generations: which index answers ----------------------------------------------------------


def _write_whole(path: Path, text: str) -> None:
    """Write a small file so that readers see the old content or the new, never a part."""
    written = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with written.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    written.replace(path)
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


class Layout:
    """The index directory: current.json and the generations beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / CURRENT
        self._stamp: tuple[int, int, int] | None = None
        self._current: Path | None = None
        self._format: int | None = None
        self._lock = threading.Lock()

    def current(self) -> Path | None:
        """The generation that answers, None before the first build (checked by a stat)."""
        stamp = _stamp(self.pointer)
        with self._lock:
            if stamp == self._stamp:
                return self._current
            replaced = self._current
            self._current, self._format = self._read()
            self._stamp = stamp
            current = self._current
        if replaced is not None and replaced != current:
            _forget(replaced)  # its files are gone or going: release them
        return current

    def current_format(self) -> int | None:
        """The FORMAT of the generation that answers (None: there is none)."""
        self.current()
        return self._format

    def _read(self) -> tuple[Path | None, int | None]:
        found = _read_json(self.pointer)
        if found is None:
            return None, None
        name, format_ = found.get("generation"), found.get("format")
        if format_ not in READABLE or not isinstance(name, str) or not isinstance(format_, int):
            return None, None  # made by another version: a writing command builds anew
        if not GENERATION.fullmatch(name):  # a name we never write: no path outside root
            return None, None
        return self.root / name, format_

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / f"g{time.time_ns()}-{os.getpid()}"
        folder.mkdir()
        return folder

    def point(self, generation: Path) -> None:
        _write_whole(self.pointer, json.dumps({"format": FORMAT, "generation": generation.name}))

    def sweep(self) -> list[Path]:
        """Remove generations that nobody will use: not the current one, and not one that a
        live process is building (its pid is in its name). Returns what was removed."""
        current = self.current()
        removed = []
        for folder in self.root.iterdir():
            named = GENERATION.fullmatch(folder.name)
            if named is None or folder == current or not folder.is_dir():
                continue
            pid = int(named["pid"])
            if pid != os.getpid() and alive(pid):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            _forget(folder)
            removed.append(folder)
        return removed


# -- one tantivy index per generation and process ----------------------------------------------


class _Handle:
    """A generation's tantivy index, opened once per process and shared by every engine and
    thread that uses it: opening costs, and one reader serves all searches."""

    def __init__(self, directory: Path, format_: int = FORMAT) -> None:
        self.directory = directory
        legacy = format_ != FORMAT  # an older FORMAT (READABLE)
        self.meta = format_ >= 4  # it has metadata documents
        self.stated = format_ >= 5  # it has statement documents, and passages their months
        self._meta = directory / "meta.json"
        self._overlay: Path | None = None
        opened = directory
        if not os.access(directory, os.W_OK):
            # tantivy takes a lock file beside meta.json even to read: read through links.
            self._overlay = opened = _overlay()
            atexit.register(self.close)
            self._link()
        try:
            if legacy:  # opened with its own schema (that of _SCHEMA would not match)
                self.index = tantivy.Index.open(str(opened))
            else:
                self.index = tantivy.Index(_SCHEMA, path=str(opened), reuse=True)
        except ValueError as error:
            raise CatalogUnavailable(f"cannot open the search index {directory}: {error}") from None
        self._stamp = _stamp(self._meta)
        self._write_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._meta_docs: tuple[object, int] | None = None

    def meta_docs(self, searcher: tantivy.Searcher) -> int:
        """How many metadata documents the searcher sees (for their IDF), counted once per
        commit read."""
        known = self._meta_docs
        if known is not None and known[0] == self._stamp:
            return known[1]
        found = searcher.search(_META_ALL, 1, count=True)
        count = int(getattr(found, "count", 0) or 0)
        self._meta_docs = (self._stamp, count)
        return count

    def _link(self) -> None:
        assert self._overlay is not None
        for found in self.directory.iterdir():
            link = self._overlay / found.name
            if not link.is_symlink() and found.name != ".tantivy-meta.lock":
                link.symlink_to(found)

    def close(self) -> None:
        if self._overlay is not None:
            shutil.rmtree(self._overlay, ignore_errors=True)

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the last commit of any process: tantivy replaces meta.json at every
        commit, so a changed file means a reload (a stat costs microseconds)."""
        stamp = _stamp(self._meta)
        if stamp is None or stamp == self._stamp:  # None: swapped out and removed meanwhile;
            return self.index.searcher()  # the files this searcher maps stay readable
        return self.fresh_searcher()

    def fresh_searcher(self) -> tantivy.Searcher:
        with self._reload_lock:
            stamp = _stamp(self._meta)
            if stamp is not None:  # else removed by a swap: keep the last commit read
                if self._overlay is not None:
                    self._link()
                self.index.reload()
                self._stamp = stamp
        return self.index.searcher()

    @contextmanager
    def writer(self, heap: int = WRITER_HEAP) -> Iterator[tantivy.IndexWriter]:
        """The index's one writer, for one change: rolled back if the body raises, released
        (after the merges it started) when the body ends, the reader reloaded then."""
        with self._write_lock:
            writer = self._take_writer(heap)
            try:
                writer.garbage_collect_files()  # what a crashed writer or a merge left
                yield writer
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
                self.fresh_searcher()

    def _take_writer(self, heap: int) -> tantivy.IndexWriter:
        """The writer, waiting while another process holds it (tantivy: LockBusy)."""
        deadline = time.monotonic() + WRITER_WAIT_S
        pause, longest = WRITER_BACKOFF_S
        while True:
            try:
                return self.index.writer(heap, WRITER_THREADS)
            except ValueError as error:
                if "LockBusy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"the search index {self.directory} has been busy with another writer "
                        f"for {WRITER_WAIT_S:.0f} s"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, longest)


OVERLAY_PREFIX = "stadtstimme-index-"


def _overlay() -> Path:
    """A private directory for reading a read-only index through links, named after this
    process; those of processes that ended without removing theirs (killed) are removed."""
    scratch = Path(tempfile.gettempdir())
    for found in scratch.glob(f"{OVERLAY_PREFIX}*-*"):
        pid = found.name[len(OVERLAY_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(found, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{OVERLAY_PREFIX}{os.getpid()}-"))


_HANDLES: dict[Path, _Handle] = {}
_LAYOUTS: dict[Path, Layout] = {}
_HANDLES_LOCK = threading.Lock()


def _handle(directory: Path, format_: int = FORMAT) -> _Handle:
    """The process's handle on a generation (a generation's name is never reused)."""
    with _HANDLES_LOCK:
        found = _HANDLES.get(directory)
        if found is None:
            found = _HANDLES[directory] = _Handle(directory, format_)
        return found


def _forget(directory: Path) -> None:
    with _HANDLES_LOCK:
        gone = _HANDLES.pop(directory, None)
    if gone is not None:
        gone.close()


def layout(root: Path) -> Layout:
    """The process's Layout of an index directory (it caches current.json by its stamp)."""
    with _HANDLES_LOCK:
        key = root.absolute()
        found = _LAYOUTS.get(key)
        if found is None:
            found = _LAYOUTS[key] = Layout(key)
        return found


# -- statement facts as arrays indexed by seq --------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Every catalog statement's searchable facts, as arrays indexed by seq (codes: -1 = none)."""

    ids: list[str]
    visible: Bools  # indexed (not hidden, not failed, not half-done)
    codes: dict[str, Ints]  # municipality, speaker, source, language
    values: dict[str, list[str]]  # code -> value, per field
    lookup: dict[str, dict[str, int]]  # value -> code, per field
    keyed: dict[str, dict[int, int]]  # value_key(value) -> code, municipality and speaker
    year: Ints  # 0: undated
    month: Ints  # year * 12 + month - 1; -1: no month known
    first: Ints  # proleptic ordinal of the first day the date may name; 0: undated
    last: Ints
    order: Ints  # YYYYMMDD with 00 for an unknown month or day (the dates' order); -1: undated

    @classmethod
    def of(cls, catalog: Catalog) -> Facts:
        rows = catalog.statement_facts()
        size = max(rows, default=-1) + 1
        ids = [""] * size
        visible = np.zeros(size, np.bool_)
        codes = {name: np.full(size, -1, np.int64) for name in _CODED}
        values: dict[str, list[str]] = {name: [] for name in _CODED}
        lookup: dict[str, dict[str, int]] = {name: {} for name in _CODED}
        year = np.zeros(size, np.int64)
        month = np.full(size, -1, np.int64)
        first = np.zeros(size, np.int64)
        last = np.zeros(size, np.int64)
        order = np.full(size, -1, np.int64)
        indexed = str(Status.INDEXED)
        for seq in sorted(rows):
            sid, status, published, *coded = rows[seq]
            ids[seq] = sid
            visible[seq] = status == indexed
            for name, value in zip(_CODED, coded, strict=True):
                if value:
                    code = lookup[name].get(value)
                    if code is None:
                        code = lookup[name][value] = len(values[name])
                        values[name].append(value)
                    codes[name][seq] = code
            date = PartialDate.stored(published)
            if date is not None:
                year[seq] = date.year
                if date.month:
                    month[seq] = date.year * 12 + date.month - 1
                first[seq] = date.first.toordinal()
                last[seq] = date.last.toordinal()
                order[seq] = date.year * 10_000 + (date.month or 0) * 100 + (date.day or 0)
        keyed = {
            name: {value_key(value): code for value, code in lookup[name].items()}
            for name in ("municipality", "speaker")
        }
        for name, keys in keyed.items():
            if len(keys) < len(lookup[name]):  # two values with one key: never counted by it
                keyed[name] = {}
        return cls(ids, visible, codes, values, lookup, keyed, year, month, first, last, order)

    @property
    def size(self) -> int:
        return len(self.ids)

    def allowed(self, query: Query) -> Bools:
        """Which statements the query may find: indexed, equal on every filter, dated within
        the range where one is given (overlapping it, however precise the date)."""
        mask = self.visible.copy()
        for name, value in query.filters.items():
            code = self.lookup[name].get(value)
            if code is None:
                return np.zeros(self.size, np.bool_)
            mask &= self.codes[name] == code
        if query.date_from or query.date_to:
            mask &= self.order >= 0
            if query.date_from:
                mask &= self.last >= query.date_from.first.toordinal()
            if query.date_to:
                mask &= self.first <= query.date_to.last.toordinal()
        return mask

    def tally(self, seqs: Ints, passages: Ints) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        """Facets (statements per municipality, speaker, year) and the trend (matching passages
        per month) of the matching statements `seqs`, each with its matching passages."""
        facets = {name: _counted(self.values[name], self.codes[name][seqs]) for name in _CODED[:2]}
        years = self.year[seqs]
        found, counts = _bins(years[years > 0])
        facets["year"] = _most_common([str(y) for y in found.tolist()], counts)
        months = self.month[seqs]
        named = months >= 0
        found, sums = _bins(months[named], passages[named])
        trend = {
            f"{m // 12:04d}-{m % 12 + 1:02d}": int(n)
            for m, n in zip(found.tolist(), sums.tolist(), strict=True)
        }
        return facets, trend

    def dated(self, seqs: Ints, newest: bool) -> Ints:
        """`seqs` by date, newest or oldest first, ties by seq likewise; undated last, newest
        (highest seq) first."""
        keys = self.order[seqs]
        dated = keys >= 0
        with_date, keys = seqs[dated], keys[dated]
        if newest:
            ordered = with_date[np.lexsort((-with_date, -keys))]
        else:
            ordered = with_date[np.lexsort((with_date, keys))]
        return np.concatenate([ordered, np.sort(seqs[~dated])[::-1]])


def _bins(values: Ints, weights: Ints | None = None) -> tuple[Ints, Ints]:
    """The distinct values, ascending, each with its count (or its sum of `weights`): a
    bincount over the values' span (years, months), faster than np.unique's sort."""
    if not len(values):
        return values, values
    low = int(values.min())
    counts = np.bincount(values - low, weights=weights)
    present = np.flatnonzero(counts)
    return present + low, counts[present].astype(np.int64)


def _counted(values: list[str], codes: Ints) -> dict[str, int]:
    coded = codes[codes >= 0]
    counts = np.bincount(coded, minlength=len(values))
    present = np.flatnonzero(counts)
    return _most_common([values[c] for c in present.tolist()], counts[present])


def _most_common(names: list[str], counts: npt.NDArray[np.int64]) -> dict[str, int]:
    """Names by count, most first (ties in the given order, as Counter.most_common)."""
    order = np.argsort(-counts, kind="stable")
    return {names[i]: int(counts[i]) for i in order.tolist()}


_FACTS: dict[str, tuple[int, Facts]] = {}


def facts(catalog: Catalog) -> Facts:
    """The catalog's Facts, cached per catalog file until a statement changes."""
    return catalog.per_version(_FACTS, Facts.of)


# -- queries -----------------------------------------------------------------------------------


class QueryBuilder:
    """tantivy queries for parsed clauses, on one searcher (whose term dictionaries expand
    prefixes and whose document frequencies weigh compound parts).

    On the passage fields by default, BM25-scored; with `meta=True` on the metadata fields,
    each match a constant (its IDF among `docs` metadata documents, compound parts weighed
    META_HEAD_WEIGHT and META_MODIFIER_WEIGHT of it), see the module docstring."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        schema: tantivy.Schema,
        *,
        meta: bool = False,
        docs: int | None = None,
    ) -> None:
        self.searcher = searcher
        self.schema = schema
        self.docs = max(1, searcher.num_docs if docs is None else docs)
        self.meta = meta
        self.fields = META_TEXT_FIELDS if meta else FIELDS
        self.said = self.fields[0]
        weights = META_PARTS if meta else (HEAD_WEIGHT, MODIFIER_WEIGHT)
        self.parts = tuple(zip(self.fields[1:], weights, strict=True))
        self._known: dict[str, bool] = {}

    def idf(self, docs: int) -> float:
        """BM25's IDF, as tantivy computes it."""
        docs = min(docs, self.docs)
        return math.log(1.0 + (self.docs - docs + 0.5) / (docs + 0.5))

    def query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        """The query for all clauses; None when it cannot match anything."""
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for clause in parsed.positive:
            found = self.clause(clause)
            if found is None:
                return None
            parts.append((_MUST, found))
        for clause in parsed.excluded:
            found = self.clause(clause)
            if found is not None:
                parts.append((_MUST_NOT, found))
        if not parts:
            return None
        return parts[0][1] if len(parts) == 1 else _TQ.boolean_query(parts)

    def clause(self, clause: Clause) -> tantivy.Query | None:
        if clause.prefix:
            if clause.phrase:
                return self.phrase_prefix(clause.terms[:-1], clause.terms[-1])
            return self.prefix(clause.terms[0])
        if clause.phrase:
            phrase = _TQ.phrase_query(self.schema, self.said, [*clause.terms])
            if not self.meta:
                return phrase
            idf = sum(self.idf(self.searcher.doc_freq(self.said, t)) for t in clause.terms)
            return _TQ.const_score_query(phrase, idf)
        return self.word(clause.terms[0], clause.written[0])

    def word(self, term: str, written: str) -> tantivy.Query | None:
        """The word in `terms` (BM25), or as a compound part (a constant), all weighed with one
        IDF: that of the passages holding it in any field, as FTS5 computes a phrase's; or said
        apart: a phrase of two adjacent terms that both exist (archive.analysis.said_apart), a
        constant APART_WEIGHT times that IDF."""
        docs = {field: self.searcher.doc_freq(field, term) for field in self.fields}
        idf = self.idf(sum(docs.values()))
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if docs[self.said]:
            if self.meta:
                said = _TQ.term_query(self.schema, self.said, term, "basic")
                should.append((_SHOULD, _TQ.const_score_query(said, idf)))
            else:
                said = _TQ.term_query(self.schema, self.said, term, "freq")
                should.append((_SHOULD, self.reweighed(said, idf, docs[self.said])))
        for field, weight in self.parts:
            if docs[field]:
                part = _TQ.term_query(self.schema, field, term, "basic")
                should.append((_SHOULD, _TQ.const_score_query(part, weight * idf)))
        for pair in said_apart(written):
            if all(self.known(t) for t in pair):
                apart = _TQ.phrase_query(self.schema, self.said, [*pair])
                should.append((_SHOULD, _TQ.const_score_query(apart, APART_WEIGHT * idf)))
        return _either(should)

    def known(self, term: str) -> bool:
        """Whether any document holds the term in `terms` (or `meta_terms`; asked once per
        query builder)."""
        found = self._known.get(term)
        if found is None:
            found = self._known[term] = self.searcher.doc_freq(self.said, term) > 0
        return found

    def reweighed(self, query: tantivy.Query, idf: float, docs: int) -> tantivy.Query:
        """A term query on `terms` whose BM25 uses `idf` instead of the term's own."""
        own = self.idf(docs)
        return query if math.isclose(idf, own) else _TQ.boost_query(query, idf / own)

    def prefix(self, prefix: str) -> tantivy.Query | None:
        """Every term of every field that starts with the prefix (the term dictionaries are
        complete; tantivy's phrase_prefix_query stops at 50 terms), weighed as one word: each
        expansion's BM25 with the IDF of the passages holding any of them, as FTS5 does."""
        found = {field: self.searcher.terms_with_prefix(field, prefix) for field in self.fields}
        idf = self.idf(sum(n for field in self.fields for _, n in found[field]))
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        said = found[self.said]  # most passages first
        scored = [] if self.meta else said[:MAX_SCORED_EXPANSION]  # metadata: all constant
        expansions = [
            self.reweighed(_TQ.term_query(self.schema, self.said, term, "freq"), idf, docs)
            for term, docs in scored
        ]
        if len(expansions) > 1:  # the best expansion, and a share of the others' BM25
            should.append((_SHOULD, _TQ.disjunction_max_query(expansions, PREFIX_TIE)))
        elif expansions:
            should.append((_SHOULD, expansions[0]))
        if len(said) > len(scored):
            rest = _TQ.term_set_query(self.schema, self.said, [t for t, _ in said[len(scored) :]])
            should.append((_SHOULD, _TQ.const_score_query(rest, idf)))
        for field, weight in self.parts:
            if found[field]:
                parts = _TQ.term_set_query(self.schema, field, [t for t, _ in found[field]])
                should.append((_SHOULD, _TQ.const_score_query(parts, weight * idf)))
        return _either(should)

    def phrase_prefix(self, words: Sequence[str], prefix: str) -> tantivy.Query | None:
        """A phrase whose last word is a prefix, in `terms`: every expansion counts."""
        found = self.searcher.terms_with_prefix(self.said, prefix)
        if not found:
            return None
        if len(found) + len(words) <= MAX_REGEX_EXPANSION:
            # Terms are letters and digits; escaped all the same.
            pattern: list[str | tuple[int, str]] = [re.escape(w) for w in words]
            pattern.append(re.escape(prefix) + ".*")
            return _TQ.regex_phrase_query(self.schema, self.said, pattern)
        phrases = [
            (_SHOULD, _TQ.phrase_query(self.schema, self.said, [*words, term])) for term, _ in found
        ]
        return _TQ.boolean_query(phrases)


# -- the engine --------------------------------------------------------------------------------


class NoIndex(CatalogNeedsMigration):
    """A read-only command met an archive whose search index was never built."""


class IndexVocabulary:
    """The did-you-mean vocabulary: the current generation's `terms`, each with the number of
    live passages holding it (a passage removed leaves its terms' document frequencies behind
    until a merge; counting through a filter does not), shown as a word said (archive.forms)."""

    def __init__(self, engine: TantivyEngine) -> None:
        self.engine = engine

    def starting_with(self, first: str, limit: int = 50_000) -> list[tuple[str, str, int]]:
        """(term, spelling, passages) of the indexed words whose term starts with `first`."""
        handle = self.engine._current()
        if handle is None:
            return []
        searcher = handle.searcher()
        counted: list[tuple[str, int]] = searcher.terms_with_prefix(
            "terms", first, filter_query=_TQ.all_query(), limit=limit
        )
        if handle.meta:  # metadata words too, counted with the passages holding them
            named = searcher.terms_with_prefix(
                "meta_terms", first, filter_query=_TQ.all_query(), limit=limit
            )
            if named:
                summed = dict(counted)
                for found, n in named:
                    summed[found] = summed.get(found, 0) + n
                counted = sorted(summed.items())[:limit]
        spelled = self.engine.spellings([found for found, n in counted if n > 0])
        return [(found, spelled.get(found, found), n) for found, n in counted if n > 0]

    def passages_with(self, term_: str) -> int:
        handle = self.engine._current()
        if handle is None:
            return 0
        query = _TQ.term_query(_SCHEMA, "terms", term_)
        if handle.meta:  # passages or metadata documents
            named = _TQ.term_query(_SCHEMA, "meta_terms", term_)
            query = _TQ.boolean_query([(_SHOULD, query), (_SHOULD, named)])
        found = handle.searcher().search(query, 1, count=True)
        return int(getattr(found, "count", 0) or 0)  # the binding's stub lacks `count`


class Rebuilding:
    """What a rebuild writes for analysed rows that come statement after statement (passages in
    row id order, then the statement's metadata rows: _statement_rows): each document, a
    passage with its statement's date, and a statement's document once its rows are written."""

    def __init__(self, writer: tantivy.IndexWriter, statements: Mapping[int, Statement]) -> None:
        self.writer = writer
        self.statements = statements
        self.whole: tuple[int, StatementDocument] | None = None
        self.dated: Dated | None = None

    def add(self, rowid: int, fields: IndexFields) -> None:
        seq = seq_of(rowid)
        if self.whole is None or self.whole[0] != seq:
            self.finish()
            self.whole = (seq, StatementDocument(self.statements[seq]))
            self.dated = Dated.of(self.statements[seq])
        self.writer.add_document(any_document(rowid, fields, self.dated))
        self.whole[1].add(fields)

    def finish(self) -> None:
        """Write the statement document of the rows added last."""
        if self.whole is not None:
            self.writer.add_document(self.whole[1].document(self.whole[0]))
        self.whole = None


def _statement_rows(
    passages: Iterable[tuple[int, str]], statements: dict[int, Statement]
) -> Iterator[tuple[int, str]]:
    """(rowid, text) of the statements' passages (of the catalog's, in row id order) and
    metadata documents, one statement after the other, each statement's metadata after its
    passages (a rebuild writes a statement's document when the next one begins)."""
    named = sorted(statements)
    at = 0
    for rowid, text in passages:
        seq = rowid >> PASSAGE_BITS
        if seq not in statements:
            continue
        while at < len(named) and named[at] < seq:
            yield from meta_rows(statements[named[at]])
            at += 1
        yield rowid, text
    for seq in named[at:]:
        yield from meta_rows(statements[seq])


class TantivyEngine:
    """The search protocol on the tantivy index under `root` (see the module docstring)."""

    def __init__(self, catalog: Catalog, root: Path) -> None:
        self.catalog = catalog
        self.root = root
        self.layout = layout(root)
        self.vocabulary = IndexVocabulary(self)
        if catalog.readonly and self.layout.current() is None:
            raise NoIndex(
                f"there is no search index in {root} yet: run a writing command such as "
                "`stadtstimme reindex` first (it also rebuilds one of another version)"
            )

    def ready(self) -> bool:
        """An index of this FORMAT answers (one of an older READABLE format answers too, but a
        writing command rebuilds it)."""
        return self.layout.current() is not None and self.layout.current_format() == FORMAT

    def spellings(self, terms: Collection[str]) -> dict[str, str]:
        with FormsStore(self.root / FORMS, readonly=True) as forms:
            return forms.spellings(terms)

    def _current(self) -> _Handle | None:
        generation = self.layout.current()
        if generation is None:
            return None
        return _handle(generation, self.layout.current_format() or FORMAT)

    def _target(self, into: Built | None) -> _Handle:
        """The generation a write goes to: a built one, or the current one (the archive's first,
        empty, made current on the first write)."""
        if into is not None:
            return _handle(self.root / into.name)
        current = self._current()
        if current is None:
            generation = self.layout.new_generation()
            _handle(generation)  # creates the index
            self.layout.point(generation)
            return _handle(generation)
        return current

    # writing (the caller holds a catalog write transaction: archive.indexing)

    def index(
        self,
        statement: Statement,
        passages: Sequence[tuple[int, Passage]],
        into: Built | None = None,
    ) -> None:
        """Replace the statement's passages and metadata documents: delete by seq, add, commit.
        (An index of an older format, being rebuilt by another process, gets passages only.)"""
        seqs = {rowid >> PASSAGE_BITS for rowid, _ in passages}
        if statement.seq is not None:
            seqs.add(statement.seq)
        target = self._target(into)
        seq = statement.seq if statement.seq is not None else min(seqs, default=None)
        named = meta_rows(statement, seq) if target.meta else []
        rows = [(rowid, passage.text) for rowid, passage in passages] + named
        dated = Dated.of(statement) if target.stated else None
        analysed = [(rowid, index_fields(text)) for rowid, text in rows]
        docs = [any_document(rowid, fields, dated) for rowid, fields in analysed]
        if target.stated and seq is not None:
            whole = StatementDocument(statement)
            for _, fields in analysed:
                whole.add(fields)
            docs.append(whole.document(seq))
        with FormsStore(self.root / FORMS) as forms:  # the words' spellings, and their analyses
            forms.save_words(word for _, text in rows for word in words(text))
        with target.writer() as writer:
            for seq in sorted(seqs):
                writer.delete_documents_by_term("seq", seq)
            for doc in docs:
                writer.add_document(doc)
            stop_point("index:added")
            writer.commit()

    def remove(self, seqs: Collection[int], into: Built | None = None) -> None:
        if not seqs:
            return
        with self._target(into).writer() as writer:
            for seq in sorted(seqs):
                writer.delete_documents_by_term("seq", seq)
            writer.commit()

    def held(self) -> dict[int, int]:
        handle = self._current()
        if handle is None:
            return {}
        searcher = handle.fresh_searcher()
        if not searcher.num_docs:
            return {}
        top = searcher.aggregate(_TQ.all_query(), {"top": {"max": {"field": "seq"}}})
        size = int(top["top"]["value"]) + 1
        every = Scope(0, size)
        held = dict.fromkeys(self._counts(searcher, _TQ.all_query(), every)[0].tolist(), 0)
        seqs, counts = self._counts(searcher, _PASSAGES, every)
        held.update(zip(seqs.tolist(), counts.tolist(), strict=True))
        return held

    def build(self, statements: Sequence[Statement], progress: Progress | None) -> Built:
        """Index the statements' passages into a new generation, read in row id order straight
        from the catalog's passage texts, analysed by archive.search.bulk (word forms kept in
        FORMS for the next rebuild), one commit at the end."""
        from archive.search.bulk import analysed_rows

        wanted = {s.seq: s for s in statements if s.seq is not None}
        total = sum(n for seq, n in self.catalog.passage_counts().items() if seq in wanted)
        generation = self.layout.new_generation()
        done = 0
        try:
            with _handle(generation).writer(BUILD_HEAP) as writer:
                written = Rebuilding(writer, wanted)
                rows = _statement_rows(self.catalog.passage_texts(), wanted)
                for batch in analysed_rows(rows, forms=self.root / FORMS):
                    for rowid, fields in batch:
                        written.add(rowid, fields)
                    done += sum(rowid >= 0 for rowid, _ in batch)
                    if progress is not None:
                        progress(done, total)
                written.finish()
                writer.commit()
        except BaseException:
            self.discard(Built(generation.name, (), 0))
            raise
        return Built(generation.name, tuple(sorted(wanted)), done)

    def swap(self, built: Built) -> None:
        """Point current.json at the built generation and remove the one it replaces. The
        catalog's vocabulary table is emptied: it belonged to the FTS5 index of older releases
        (or to a Meilisearch index, which refills it when it is built)."""
        CatalogVocabulary(self.catalog).clear()
        self.layout.point(self.root / built.name)
        for gone in self.layout.sweep():
            log.info("removed the replaced search index %s", gone)

    def discard(self, built: Built) -> None:
        folder = self.root / built.name
        _forget(folder)
        shutil.rmtree(folder, ignore_errors=True)

    def index_bytes(self) -> int | None:
        """The current generation's files."""
        generation = self.layout.current()
        if generation is None:
            return 0
        return sum(f.stat().st_size for f in generation.rglob("*") if f.is_file())

    # searching

    def search(self, query: Query, page_ready: PageReady | None = None) -> Matches:
        parsed = query.parsed
        if parsed.empty:
            return Matches(0, [])
        nothing = Matches(0, [], facets={name: {} for name in FACETS}, trend={})
        handle = self._current()
        if handle is None:
            return nothing
        searcher = handle.searcher()
        said = QueryBuilder(searcher, _SCHEMA).query(parsed)  # None: no passage can match
        named = None  # the same on the metadata documents
        if handle.meta:
            docs = handle.meta_docs(searcher)
            found = QueryBuilder(searcher, _SCHEMA, meta=True, docs=docs).query(parsed)
            named = None if found is None else _TQ.boost_query(found, META_WEIGHT)
        either = _either([(_SHOULD, q) for q in (said, named) if q is not None])
        if either is None:
            return nothing
        known = facts(self.catalog)
        allowed = known.allowed(query)
        run = _Search(self, searcher, query, said, named, known, allowed)
        whole = run.statement_query() if handle.stated else None
        # Counting every match (total, facets, trend) takes longest; it runs beside (tantivy
        # releases the GIL) while this thread finds the page without it and hands it over.
        counting = _beside().submit(run.counted, whole)
        try:
            page = run.page(either) if query.per_page > 0 else None
            if page is not None and page_ready is not None:
                page_ready(page.statements)
        finally:
            counted = counting.result()
        if page is None:  # the page needed the counts (or none was asked for)
            seqs = counted.seqs
            if seqs is None:  # counted by statement documents: the page by date needs them
                seqs = run.matching()
            page = run.page_of(seqs)
        return Matches(counted.total, page.statements, facets=counted.facets, trend=counted.trend)

    def _slots(self, searcher: tantivy.Searcher, query: tantivy.Query, scope: Scope) -> Ints:
        """The metadata documents (seq * SLOTS + kind) that match, of statements in `scope`,
        ascending: histograms over their negative rowids, in spans (Scope.spans)."""
        found: list[Ints] = [np.zeros(0, np.int64)]
        query = scope.within(query)
        spans = scope.spans(SLOTS)
        for low, high in spans:
            within = query
            if len(spans) > 1:
                rows = _TQ.range_query(_SCHEMA, "rowid", tantivy.FieldType.Integer, -high, -low)
                within = _TQ.boolean_query([(_MUST, query), (_MUST, rows)])
            request = {
                "rowid": {
                    "histogram": {
                        "field": "rowid",
                        "interval": 1,
                        "min_doc_count": 1,
                        "hard_bounds": {"min": -high, "max": -low},
                    }
                }
            }
            buckets = searcher.aggregate(within, request)["rowid"]["buckets"]
            keys = np.fromiter(map(_KEY, buckets), np.float64, len(buckets)).astype(np.int64)
            found.append(-keys[keys < 0])
        return np.sort(np.concatenate(found))

    def _counts(
        self, searcher: tantivy.Searcher, query: tantivy.Query, scope: Scope
    ) -> tuple[Ints, Ints]:
        """Every statement in `scope` with matching passages, and how many, by seq: one
        histogram aggregation over seq (interval 1, empty buckets dropped), or one per span
        when the scope may give more buckets than tantivy's aggregations allow
        (AGGREGATION_BUCKETS; Scope.spans). A histogram, not a terms aggregation: the same counts,
        sorted already, in 25 ms instead of 30 for a word in every passage of a million."""
        keys: list[Ints] = [np.zeros(0, np.int64)]
        values: list[Ints] = [np.zeros(0, np.int64)]
        query = scope.within(query)
        spans = scope.spans(1)
        for low, high in spans:
            within = query
            if len(spans) > 1:
                seq_range = _TQ.range_query(_SCHEMA, "seq", tantivy.FieldType.Integer, low, high)
                within = _TQ.boolean_query([(_MUST, query), (_MUST, seq_range)])
            request = {
                "seq": {
                    "histogram": {
                        "field": "seq",
                        "interval": 1,
                        "min_doc_count": 1,
                        "hard_bounds": {"min": low, "max": high},
                    }
                }
            }
            buckets = searcher.aggregate(within, request)["seq"]["buckets"]
            keys.append(np.fromiter(map(_KEY, buckets), np.float64, len(buckets)).astype(np.int64))
            values.append(np.fromiter(map(_DOC_COUNT, buckets), np.int64, len(buckets)))
        return np.concatenate(keys), np.concatenate(values)

    def _best(
        self,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        page: Sequence[tuple[int, int]],
        ranked: dict[int, list[tuple[float, int]]],
        per_statement: int,
    ) -> dict[int, tuple[RankedPassage, ...]]:
        """The best passages of each (seq, matching passages) on the page, lower score better
        (BM25 negated): those ranking saw, else from one search over every match of the
        statements that need more (their matches counted, so none is missed)."""
        best: dict[int, tuple[RankedPassage, ...]] = {}
        needed: dict[int, int] = {}
        for seq, matching in page:
            wanted = min(matching, per_statement)
            seen = ranked.get(seq, [])
            if len(seen) >= wanted:
                best[seq] = _passages(seen, wanted)
            else:
                needed[seq] = matching
        if not needed:
            return best
        total = sum(needed.values())
        if total <= MAX_BATCHED:
            batches = [([*needed], total)]
        else:
            batches = [([seq], min(n, per_statement)) for seq, n in needed.items()]
        for seqs, limit in batches:
            own = _TQ.term_set_query(_SCHEMA, "seq", seqs)
            within = _TQ.boolean_query([(_MUST, query), (_MUST, _TQ.const_score_query(own, 0.0))])
            hits = searcher.search(within, max(1, limit)).hits  # limit 0 would panic
            rowids = searcher.fast_field_values("rowid", [address for _, address in hits])
            found: dict[int, list[tuple[float, int]]] = {seq: [] for seq in seqs}
            for (score, _), rowid in zip(hits, rowids, strict=True):
                if rowid is not None and int(rowid) >> PASSAGE_BITS in found:
                    found[int(rowid) >> PASSAGE_BITS].append((-score, int(rowid)))
            for seq in seqs:
                best[seq] = _passages(found[seq], min(needed[seq], per_statement))
        return best


_NONE: tuple[Ints, Ints] = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _union(seqs: Ints, counts: Ints, named: Ints) -> tuple[Ints, Ints]:
    """The statements with matching passages (`seqs`, sorted, with their `counts`) and those
    with matching metadata (`named`, sorted), sorted by seq, with their matching passages (0:
    none). Through searchsorted, not np.union1d, which sorts all of them again (5 ms for a word
    in 40,000 statements)."""
    if len(named):
        where = np.searchsorted(seqs, named)
        known = where < len(seqs)
        known[known] = seqs[where[known]] == named[known]
        named = np.unique(named[~known])
    if not len(named):
        return seqs, counts
    every = np.concatenate([seqs, named])
    passages = np.concatenate([counts, np.zeros(len(named), np.int64)])
    order = np.argsort(every, kind="stable")
    return every[order], passages[order]


def _fields(slots: Ints, page: Sequence[int]) -> dict[int, tuple[MetaField, ...]]:
    """The metadata fields that match of each statement on the page, from the matching slots
    (ascending, so that fields come in META_FIELDS order)."""
    wanted = np.isin(slots // SLOTS, page)
    fields: dict[int, tuple[MetaField, ...]] = {}
    for slot in slots[wanted].tolist():
        seq, kind = divmod(slot, SLOTS)
        fields[seq] = (*fields.get(seq, ()), META_FIELDS[kind - 1])
    return fields


def _restricted(query: tantivy.Query, allowed: Bools) -> tantivy.Query | None:
    """The query, matching only in statements `allowed` (by seq), through the smaller of the
    two seq sets; None when none is allowed."""
    if allowed.all():
        return query
    shown = np.flatnonzero(allowed)
    if not len(shown):
        return None
    hidden = np.flatnonzero(~allowed)
    if len(shown) <= len(hidden):
        only = _TQ.term_set_query(_SCHEMA, "seq", shown.tolist())
        return _TQ.boolean_query([(_MUST, query), (_MUST, _TQ.const_score_query(only, 0.0))])
    other = _TQ.term_set_query(_SCHEMA, "seq", hidden.tolist())
    return _TQ.boolean_query([(_MUST, query), (_MUST_NOT, other)])


@dataclass(frozen=True)
class Scope:
    """The statements a search counts in: seqs low..stop-1, and of them only those `allowed`
    when a filter (or a date range) allows few of them (None: all)."""

    low: int
    stop: int
    allowed: Bools | None = None

    @classmethod
    def of(cls, allowed: Bools) -> Scope:
        """Counting every statement, then masking those not allowed, costs the aggregation's
        time per matching passage and per bucket; counting within the allowed statements costs
        a term set over their seqs. The second is cheaper while they are few (at a million
        passages: a common word in 1,021 of 40,000 statements, 4.3 ms against 25.7; in 6,359,
        10.1 ms against 24.2)."""
        shown = np.flatnonzero(allowed)
        if not len(shown):
            return cls(0, 0)
        if len(shown) > COUNT_WITHIN * len(allowed):
            return cls(0, len(allowed))
        return cls(int(shown[0]), int(shown[-1]) + 1, allowed)

    @classmethod
    def only(cls, seqs: Ints, size: int) -> Scope:
        """Just these statements (of the `size` the facts know)."""
        if not len(seqs):
            return cls(0, 0)
        allowed = np.zeros(size, np.bool_)
        allowed[seqs] = True
        return cls(int(seqs.min()), int(seqs.max()) + 1, allowed)

    def spans(self, factor: int) -> list[tuple[int, int]]:
        """The ranges of values (seq * factor + 0..factor-1) to aggregate over, one request
        each, low and high included: the whole scope when it cannot give more than
        AGGREGATION_SEQS buckets (statements allowed, times factor), else AGGREGATION_SEQS
        values at a time."""
        first, stop = self.low * factor, self.stop * factor
        if stop <= first:
            return []
        allowed = self.stop - self.low
        if self.allowed is not None:
            allowed = int(np.count_nonzero(self.allowed[self.low : self.stop]))
        if allowed * factor <= AGGREGATION_SEQS:
            return [(first, stop - 1)]
        return [
            (low, min(low + AGGREGATION_SEQS, stop) - 1)
            for low in range(first, stop, AGGREGATION_SEQS)
        ]

    def within(self, query: tantivy.Query) -> tantivy.Query:
        if self.allowed is None:
            return query
        return _restricted(query, self.allowed) or query  # (never None: some are allowed)


@dataclass(frozen=True)
class _Page:
    statements: list[RankedStatement]


@dataclass(frozen=True)
class _Stated:
    """A query on the statement documents, and the clauses that keep out the statements the
    search may not find (for the passages too)."""

    query: tantivy.Query
    within: list[tuple[tantivy.Occur, tantivy.Query]]
    apart: tantivy.Query | None = None  # the word said apart, in passages or metadata fields


@dataclass(frozen=True)
class _Counted:
    total: int
    facets: dict[str, dict[str, int]]
    trend: dict[str, int]
    seqs: Ints | None  # the matching statements the query allows; None: counted without them


@dataclass(frozen=True)
class _Search:
    """One search's state: its queries on the passages (`said`) and on the metadata (`named`),
    the statement facts and the statements the query allows."""

    engine: TantivyEngine
    searcher: tantivy.Searcher
    query: Query
    said: tantivy.Query | None
    named: tantivy.Query | None
    known: Facts
    allowed: Bools

    def counted(self, whole: _Stated | None) -> _Counted:
        """Total, facets and trend: from the statement documents when `whole` is given and
        every value they name is known, else from per-statement counts."""
        if whole is not None:
            found = self.by_statements(whole)
            if found is not None:
                return found
        return self.by_passages(Scope.of(self.allowed))

    def by_passages(self, scope: Scope) -> _Counted:
        """From one aggregation of the passages (and one of the metadata documents) by
        statement: every matching statement with its matching passages, then facets and the
        trend with numpy."""
        seqs, counts, _ = self.count(scope)
        shown = self.allowed[seqs]
        seqs, counts = seqs[shown], counts[shown]
        facets, trend = self.known.tally(seqs, counts)
        return _Counted(len(seqs), facets, trend, seqs)

    def matching(self) -> Ints:
        """Every matching statement the query allows."""
        seqs = self.count(Scope.of(self.allowed))[0]
        return seqs[self.allowed[seqs]]

    def statement_query(self) -> _Stated | None:
        """For a query of one word or prefix (nothing excluded): the query on the statement
        documents that matches exactly the statements whose passages or fields hold it, the
        word said apart (a phrase, for passages and fields), and what keeps out the statements
        the search may not find: a date range as range queries on the documents' dates, the
        rest (not indexed, filtered out) by seq, when at most STATED_HIDDEN of them are (a
        filter is counted within its Scope, by passages). None otherwise."""
        parsed = self.query.parsed
        if len(parsed.positive) != 1 or parsed.excluded or parsed.positive[0].phrase:
            return None
        query = self.query
        undated = self.known.allowed(replace(query, date_from=None, date_to=None))
        hidden = np.flatnonzero(~undated)
        if len(hidden) > STATED_HIDDEN * len(undated):
            return None
        newer = _TQ.range_query(_SCHEMA, "seq", tantivy.FieldType.Integer, self.known.size, 2**62)
        within = [(_MUST_NOT, newer)]  # indexed after the facts were read
        if len(hidden):
            within.append((_MUST_NOT, _TQ.term_set_query(_SCHEMA, "seq", hidden.tolist())))
        integer = tantivy.FieldType.Integer
        if query.date_from:
            since = query.date_from.first.toordinal()
            within.append((_MUST, _TQ.range_query(_SCHEMA, "last", integer, since, 2**62)))
        if query.date_to:
            until = query.date_to.last.toordinal()
            within.append((_MUST, _TQ.range_query(_SCHEMA, "first", integer, -(2**62), until)))
        clause = parsed.positive[0]
        searcher = self.searcher
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        apart: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if clause.prefix:
            for field in STATEMENT_FIELDS:
                found = [term for term, _ in searcher.terms_with_prefix(field, clause.terms[0])]
                if found:
                    should.append((_SHOULD, _TQ.term_set_query(_SCHEMA, field, found)))
        else:
            term = clause.terms[0]
            for field in STATEMENT_FIELDS:
                if searcher.doc_freq(field, term):
                    should.append((_SHOULD, _TQ.term_query(_SCHEMA, field, term, "basic")))
            # said apart: a phrase in a passage or a metadata field, which statement documents
            # cannot tell; its statements are counted by seq and added
            for pair in said_apart(clause.written[0]):
                for field in ("terms", "meta_terms"):
                    if all(searcher.doc_freq(field, t) for t in pair):
                        apart.append((_SHOULD, _TQ.phrase_query(_SCHEMA, field, [*pair])))
        whole = _either(should)
        if whole is None:
            return None
        return _Stated(whole, within, _either(apart))

    def by_statements(self, stated: _Stated) -> _Counted | None:
        """Total and facets from an aggregation of the statement documents (one bucket a value,
        not one a statement), plus the statements that only say the word apart (counted by
        seq, from the facts), the trend from one aggregation of the passages by month. None
        when a value is not the catalog's as the facts have it (an edit that the index has not
        caught up with), or more values exist than an aggregation gives, or the word said apart
        is in more than MAX_APART statements."""
        known, searcher = self.known, self.searcher
        request: dict[str, object] = {"total": {"value_count": {"field": "seq"}}}
        for name in FACETS:
            request[name] = {"terms": {"field": f"s_{name}", "size": AGGREGATION_BUCKETS}}
        statements = _TQ.boolean_query([(_MUST, stated.query), *stated.within])
        found = searcher.aggregate(statements, request)
        if any(found[name].get("sum_other_doc_count") for name in FACETS):
            return None
        only = _NONE[0]  # statements that say it apart only
        if stated.apart is not None:
            apart = _TQ.boolean_query([(_MUST, stated.apart), *stated.within])
            every = Scope(0, known.size)
            said = self.engine._counts(searcher, apart, every)[0]
            if len(said) > MAX_APART:
                return None
            also = self.engine._counts(searcher, statements, Scope.only(said, known.size))[0]
            only = np.setdiff1d(said, also, assume_unique=True)
        facets: dict[str, dict[str, int]] = {}
        for name in ("municipality", "speaker"):
            keyed = known.keyed[name]
            counted: Counter[int] = Counter()
            for bucket in found[name]["buckets"]:
                code = keyed.get(int(bucket["key"]))
                if code is None:
                    return None
                counted[code] = int(bucket["doc_count"])
            codes = known.codes[name][only]
            counted.update(codes[codes >= 0].tolist())
            ordered = sorted(counted)  # the order of Facts.tally, for ties
            counts = np.array([counted[code] for code in ordered], np.int64)
            facets[name] = _most_common([known.values[name][code] for code in ordered], counts)
        years = Counter({int(b["key"]): int(b["doc_count"]) for b in found["year"]["buckets"]})
        dated = known.year[only]
        years.update(dated[dated > 0].tolist())
        counts = np.array([years[year] for year in sorted(years)], np.int64)
        facets["year"] = _most_common([str(year) for year in sorted(years)], counts)
        trend: dict[str, int] = {}
        if self.said is not None:
            months = {"histogram": {"field": "month", "interval": 1, "min_doc_count": 1}}
            passages = _TQ.boolean_query([(_MUST, self.said), *stated.within])
            for bucket in searcher.aggregate(passages, {"month": months})["month"]["buckets"]:
                month = int(bucket["key"])
                trend[f"{month // 12:04d}-{month % 12 + 1:02d}"] = int(bucket["doc_count"])
        total = int(found["total"]["value"]) + len(only)
        return _Counted(total, facets, trend, None)

    def count(self, scope: Scope, fields: bool = False) -> tuple[Ints, Ints, Ints]:
        """The statements in `scope` that match, by seq, with their matching passages (0: only
        their metadata matches), and with `fields` the matching metadata documents (slots;
        else none: statements are counted by seq, in a third of the buckets)."""
        seqs, counts = _NONE
        if self.said is not None:
            seqs, counts = self.engine._counts(self.searcher, self.said, scope)
        slots = named = _NONE[0]
        if self.named is not None and fields:
            slots = self.engine._slots(self.searcher, self.named, scope)
            named = slots // SLOTS
        elif self.named is not None:
            named = self.engine._counts(self.searcher, self.named, scope)[0]
        seqs, counts = _union(seqs, counts, named)
        return seqs, counts, slots

    @property
    def bounds(self) -> tuple[int, int]:
        first = (self.query.page - 1) * self.query.per_page
        return first, first + self.query.per_page

    def page(self, either: tantivy.Query) -> _Page | None:
        """The page, found without counting every match: by relevance, each statement by its
        best document (passages and metadata documents ranked together), from the top-k
        documents, widened until they hold the page's statements or every match; by date, the
        statements the query allows in date order, probed in growing slices for matches. None
        when probing reached MAX_PROBED statements: the counts then give the page."""
        first, wanted = self.bounds
        if self.query.sort == "relevance":
            restricted = _restricted(either, self.allowed)
            if restricted is None:
                return _Page([])
            limit = max(FIRST_PASSAGES, wanted * FIRST_PER_STATEMENT)
            ranked, complete = _top(self.searcher, restricted, limit, self.allowed)
            while len(ranked) < wanted and not complete:
                limit = min(limit * WIDEN, self.searcher.num_docs)
                ranked, complete = _top(self.searcher, restricted, limit, self.allowed)
            return self.statements(list(ranked)[first:wanted], ranked)
        candidates = self.known.dated(np.flatnonzero(self.allowed), self.query.sort == "newest")
        found: list[int] = []
        at, probe = 0, max(FIRST_PASSAGES, wanted * FIRST_PER_STATEMENT)
        while len(found) < wanted and at < len(candidates):
            if at + probe > MAX_PROBED:
                return None
            chunk = candidates[at : at + probe]
            at += len(chunk)
            matching = self.count(Scope.only(chunk, self.known.size))[0]
            found.extend(chunk[np.isin(chunk, matching, assume_unique=True)].tolist())
            probe *= WIDEN
        return self.statements(found[first:wanted], {})

    def page_of(self, seqs: Ints) -> _Page:
        """The page from every matching statement the query allows (`seqs`)."""
        if self.query.per_page <= 0:
            return _Page([])
        first, wanted = self.bounds
        dated = self.known.dated(seqs, newest=self.query.sort == "newest")
        return self.statements(dated[first:wanted].tolist(), {})

    def statements(self, page: list[int], ranked: dict[int, list[tuple[float, int]]]) -> _Page:
        """The page's statements (seqs) with their best passages and the metadata fields that
        match, counted within the page alone; `ranked`: the documents ranking saw."""
        within = Scope.only(np.array(page, np.int64), self.known.size)
        seqs, counts, slots = self.count(within, fields=True)
        matching = dict(zip(seqs.tolist(), counts.tolist(), strict=True))
        counted = [(seq, matching.get(seq, 0)) for seq in page]
        passages = {seq: [p for p in found if p[1] >= 0] for seq, found in ranked.items()}
        best: dict[int, tuple[RankedPassage, ...]] = {}
        if self.said is not None:
            per_statement = self.query.passages_per_statement
            best = self.engine._best(self.searcher, self.said, counted, passages, per_statement)
        fields = _fields(slots, page)
        return _Page(
            [
                RankedStatement(self.known.ids[seq], best.get(seq, ()), fields.get(seq, ()))
                for seq in page
            ]
        )


def _top(
    searcher: tantivy.Searcher, query: tantivy.Query, limit: int, allowed: Bools
) -> tuple[dict[int, list[tuple[float, int]]], bool]:
    """The statements of the top `limit` documents (passages by BM25, metadata documents by
    their constant score), best statement first, each with its scored documents seen (score
    negated: lower is better; a metadata document's rowid is negative); only statements
    `allowed` (a statement indexed after the arrays were read is not in them). And whether
    those were all the documents that match."""
    hits = searcher.search(query, max(1, limit)).hits  # limit 0 would panic
    rowids = searcher.fast_field_values("rowid", [address for _, address in hits])
    ranked: dict[int, list[tuple[float, int]]] = {}
    for (score, _), rowid in zip(hits, rowids, strict=True):
        if rowid is None:
            continue
        seq = seq_of(int(rowid))
        if seq < len(allowed) and allowed[seq]:
            ranked.setdefault(seq, []).append((-score, int(rowid)))
    return ranked, len(hits) < limit or limit >= searcher.num_docs


_BESIDE = 4  # threads that count beside the page's search (more than one search at a time)
_beside_pool: ThreadPoolExecutor | None = None
_beside_lock = threading.Lock()


def _beside() -> ThreadPoolExecutor:
    global _beside_pool
    with _beside_lock:
        if _beside_pool is None:
            _beside_pool = ThreadPoolExecutor(_BESIDE, thread_name_prefix="count")
        return _beside_pool


def _either(should: list[tuple[tantivy.Occur, tantivy.Query]]) -> tantivy.Query | None:
    """Any of these queries; one alone as it is (top-k search prunes a bare term query by its
    block maxima)."""
    if len(should) > 1:
        return _TQ.boolean_query(should)
    return should[0][1] if should else None


def _passages(scored: list[tuple[float, int]], wanted: int) -> tuple[RankedPassage, ...]:
    return tuple(RankedPassage(rowid, score) for score, rowid in sorted(scored)[:wanted])
