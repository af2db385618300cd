"""Benchmark: how fast does the embedded search engine (tantivy) index and answer as the archive
grows?

The embedded engine (archive.search.tantivy) ranks by BM25 over all matches and counts facets,
the trend and grouping in bulk. This checks its speed on synthetic archives of given sizes
(counted in passages), each built in a file-backed catalog the way the pipeline builds it:

- text: passages of 50-110 words drawn from a Zipf distribution (rank^-s) over the ~60,000 most
  frequent German word forms (wordfreq's list, shipped in its wheel, so nothing is downloaded;
  the forms HanTa tags as nouns capitalised, since the analyser splits only those), cut into
  sentences of 6-18 words with synthetic word timestamps; statements of 10-40 passages,
  published over ten years, in 300 municipalities of skewed (Zipf) frequency with two speakers
  each (600 speakers);
- storing: `Catalog.claim` and `Catalog.save_transcript` (segments, passages), in batches of
  statements inside one outer transaction each; generating the text is timed apart, not counted;
- indexing, the two ways the product indexes:
  1. per statement, as ingest does: `archive.indexing.index_statement` (read the passages back,
     analyse, replace them in the index and commit it, mark the statement indexed: one catalog
     transaction and one tantivy commit per statement) for the first statements, about
     INDEX_SLICE passages, from cold analyser caches;
  2. the whole archive, as `stadtstimme reindex` does: `archive.indexing.rebuild` (a new index
     generation: passage texts read in row id order, analysed in worker processes by
     archive.search.bulk, added, one commit; then the catch-up, statuses and swap in one catalog
     transaction). First cold: the analyser's caches cleared and no forms table (the index
     root's forms.sqlite3 deleted); then warm: in a fresh process, the forms table the cold run
     left present. Printed: seconds and passages/s of each, the rate of the second half of the
     passages added, and the parts (adding, commit, swap). Goal: >= 5,000 passages/s on reindex
     with the word forms known (the warm run; the cold figure beside it). bench/reindex.py times
     a reindex stage by stage.

Then, on a fresh connection (as the API would open one) and with the analyser's caches full (as a
long-running server has them: the forms table loaded, then up to WARM_PASSAGES passages
analysed), it times the full `search()` call (page 1, 10 per page; facets and the monthly trend
are always computed) for each kind of query, over --queries distinct queries after one warm-up
query. The queries are chosen with the tantivy index itself: the words said (the index's
`terms` field, the did-you-mean vocabulary less the metadata's words) give candidate words by
the passages that hold them, and each candidate's passages are counted exactly with the
engine's own query (archive.search.tantivy's QueryBuilder: the word, or its compound parts), so
a share is that of the passages the query matches:
- rare: a word in at least one but fewer than 0.1 % of the passages;
- common: a word in >= 10 % (from the Zipf head);
- phrase: two adjacent words of a stored passage. A phrase of stop-words is one whose every word
  is in >= 10 % of the passages (its term's document frequency; with this text the Zipf head,
  the function words: der, die, und, ...); the others hold at least one rarer word. They are
  timed together and shown apart;
- prefix: 3 or 4 letters (alternately) of a frequent stem, with *;
- filtered: a common word filtered by municipality (drawn as often as it has statements);
- faceted: a common word (facet counts checked);
- grouped: a common word, newest first;
- trend: a common word within a date range of one to three years;
- metadata: words of the statements' metadata, which search covers too (titles "Videobotschaft
  N", municipalities "Gemeinde N", speakers "Sprecherin N-K"), in turn: "Videobotschaft" (in
  every title: every statement found by its metadata alone, the broadest case), a municipality,
  a speaker and one title.
It prints p50, p95 and max, the share of time spent in garbage collections, p95 less
collections, the p50 of the process's CPU time in the call (well below the p50 when other
processes held the cores: the figures are then the machine's, not the engine's), and the mean
number of matching statements per kind. Goals: p95 <= 50 ms at every size for every kind, except
phrases of stop-words and prefixes (all of them 3-4 letters), which are bounded at <= 150 ms.
--profile adds a cProfile of the kinds named.

Sizes: the current generation's directory (`engine.index_bytes()`; goal <= 250 MiB at 1M
passages, printed as the rate per million passages at each size), the forms table, and the
catalog file by table (SQLite's dbstat), with its free pages, and per passage (goal <= 4.5 KB:
word timings are stored once, in the segments; a catalog of schema version 4 or lower, which
kept a copy in the passages, is migrated when reused, and its free pages counted apart).

Ranking: FTS5 is no longer part of the product. --reference-fts builds a reference the product
no longer has: an FTS5 table with the schema of releases before tantivy
(archive.search.fts.LEGACY_SCHEMA) in a scratch SQLite file beside the catalog
(reference-fts.sqlite3; analysed by archive.search.bulk with the forms table, so it costs about
as much as a warm reindex plus the FTS5 inserts), and prints, for the unfiltered kinds ranked by
relevance, the mean share of the top-10 passages in common between tantivy and FTS5 ranking
every match by BM25 (column weights as before). The side-by-side record of FTS5 and tantivy
(speed, agreement of totals, facets and trend) was taken with this benchmark's previous version
before the FTS5 engine went; see the note on the tantivy issue.

--reuse queries a kept catalog of a size instead of building it anew; `prepare_index` brings its
index in step first (timed when it builds). A catalog kept by the previous version (an FTS5 table
in the catalog, an older tantivy index in tantivy/) is usable: its index is built anew in a new
generation, and the FTS5 tables are dropped, as the first writing command of the product does.

    python bench/search.py --sizes 10000 100000 1000000 [--queries 50] [--dir DIR] [--keep]
    python bench/search.py --sizes 100000 --dir /tmp/b --keep --reuse --profile common
    python bench/search.py --sizes 100000 --dir /tmp/b --keep --reuse --reference-fts
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import tantivy
import wordfreq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import analysis
from archive.analysis import parse_query, term, words
from archive.catalog import Catalog, statement_id_for
from archive.dates import PartialDate
from archive.forms import FormsStore
from archive.indexing import index_statement, prepare_index, rebuild
from archive.longlived import settle
from archive.models import Passage, Segment, Statement, Status, Transcript, Word
from archive.search import Built, Progress, Query, Results, search
from archive.search import tantivy as tantivy_module
from archive.search.bulk import analysed_rows
from archive.search.fts import _BM25, LEGACY_SCHEMA, match_expression
from archive.search.tantivy import CURRENT, FORMS, QueryBuilder, TantivyEngine, build_schema

VOCABULARY = 60_000
MIN_FORMS = 50_000
MUNICIPALITIES = 300
SPEAKERS_PER_MUNICIPALITY = 2
FIRST_DAY = dt.date(2015, 1, 1)
DAYS = 3653  # ten years
PASSAGE_WORDS = (50, 110)
SENTENCE_WORDS = (6, 18)
STATEMENT_PASSAGES = (10, 40)
BATCH_STATEMENTS = 50
INDEX_SLICE = 2_000  # passages indexed statement by statement before the rebuild
WARM_PASSAGES = 100_000
RARE_SHARE = 0.001
COMMON_SHARE = 0.10
STOP_SHARE = COMMON_SHARE  # a stop-word: its term is in at least this share of the passages
PER_PAGE = 10
GOAL_MS = 50.0
GOAL_BROAD_MS = 150.0  # phrases of stop-words, prefixes of 3-4 letters
GOAL_PASSAGES_PER_S = 5_000.0
GOAL_INDEX_MIB_PER_MILLION = 250.0
GOAL_CATALOG_KB_PER_PASSAGE = 4.5
KINDS = (
    "rare",
    "common",
    "phrase",
    "prefix",
    "filtered",
    "faceted",
    "grouped",
    "trend",
    "metadata",
)
RANKED_KINDS = ("rare", "common", "phrase", "prefix")  # top-10 agreement: no filter, relevance
TOP = 10
INDEX_FOLDER = "tantivy"  # the index root beside the catalog (as the previous version named it)
REFERENCE = "reference-fts.sqlite3"
ALL_TERMS = 10_000_000  # a limit above any vocabulary's size
SCHEMA = build_schema()  # equal to the engine's: queries built with it run on its searchers
_LETTERS = re.compile(r"[^\W\d_]+")


# text


def german_forms() -> tuple[list[str], int]:
    """The most frequent German word forms of letters only, nouns capitalised as written.

    wordfreq gives lower-case forms; the analyser splits compounds only in capitalised words
    (nouns), so the forms HanTa tags as nouns (NN, NE) are capitalised. Returns the forms and
    how many were capitalised."""
    forms = [w for w in wordfreq.top_n_list("de", VOCABULARY) if _LETTERS.fullmatch(w)]
    if len(forms) < MIN_FORMS:
        raise SystemExit(f"wordfreq gave only {len(forms)} German word forms")
    try:
        from HanTa import HanoverTagger
    except ImportError:
        print("HanTa is not installed: all word forms stay lower-case")
        return forms, 0
    tagger = HanoverTagger.HanoverTagger("morphmodel_ger.pgz")
    nouns = 0
    for i, form in enumerate(forms):
        tags = tagger.tag_word(form)
        if tags and tags[0][0] in ("NN", "NE"):
            forms[i] = form[:1].upper() + form[1:]
            nouns += 1
    return forms, nouns


class Zipf:
    """Draws word forms with probability proportional to rank^-exponent."""

    def __init__(self, forms: Sequence[str], exponent: float, rng: np.random.Generator) -> None:
        weights = 1.0 / np.arange(1, len(forms) + 1, dtype=np.float64) ** exponent
        self.cdf = np.cumsum(weights)
        self.rng = rng
        self.plain = [" " + f for f in forms]
        self.capital = [" " + f[:1].upper() + f[1:] for f in forms]
        self.final = [" " + f + "." for f in forms]

    def draw(self, n: int) -> list[int]:
        ranks: list[int] = np.searchsorted(self.cdf, self.rng.random(n) * self.cdf[-1]).tolist()
        return ranks


@dataclass(frozen=True)
class Place:
    municipality: str
    speakers: tuple[str, ...]


def places(count: int) -> list[Place]:
    return [
        Place(f"Gemeinde {i}", tuple(f"Sprecherin {i}-{k}" for k in range(1, 3)))
        for i in range(1, count + 1)
    ]


class Generator:
    """Synthetic statements: metadata, segments (one per sentence) and passages."""

    def __init__(self, forms: Sequence[str], exponent: float, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.zipf = Zipf(forms, exponent, self.rng)
        self.places = places(MUNICIPALITIES)
        weights = 1.0 / np.arange(1, MUNICIPALITIES + 1)
        self.place_weights = weights / weights.sum()

    def statement(self, number: int) -> Statement:
        origin = f"bench:{number}"
        place = self.places[int(self.rng.choice(MUNICIPALITIES, p=self.place_weights))]
        speaker = place.speakers[0 if self.rng.random() < 0.75 else 1]
        day = FIRST_DAY + dt.timedelta(days=int(self.rng.integers(DAYS)))
        identifier = statement_id_for(origin)
        return Statement(
            id=identifier,
            origin=origin,
            title=f"Videobotschaft {number}",
            published=PartialDate.of(day),
            municipality=place.municipality,
            speaker=speaker,
            source="bench",
            language="de",
            extractor="youtube",
            page_url=f"https://www.youtube.com/watch?v={identifier}",
        )

    def _sentence_lengths(self, total: int) -> list[int]:
        lengths: list[int] = []
        while total > 0:
            n = int(self.rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1))
            n = total if total - n < SENTENCE_WORDS[0] else n
            lengths.append(n)
            total -= n
        return lengths

    def _words(self, sentences: Sequence[int]) -> list[Word]:
        """Timed words for sentences of the given lengths: capitalised first, full stop last."""
        total = sum(sentences)
        ranks = self.zipf.draw(total)
        durations = self.rng.uniform(0.15, 0.55, total).tolist()
        gaps = self.rng.uniform(0.02, 0.15, total).tolist()
        spoken: list[Word] = []
        clock, i = 1.0, 0
        for length in sentences:
            for k in range(length):
                forms = (
                    self.zipf.capital
                    if k == 0
                    else self.zipf.final
                    if k == length - 1
                    else self.zipf.plain
                )
                spoken.append(
                    Word(round(clock, 3), round(clock + durations[i], 3), forms[ranks[i]])
                )
                clock += durations[i] + gaps[i]
                i += 1
            clock += 0.4
        return spoken

    def transcript(self, statement_id: str, passages: int) -> tuple[Transcript, list[Passage]]:
        """One segment per sentence; passages of whole sentences, 50-110 words each."""
        low, high = PASSAGE_WORDS
        counts = self.rng.integers(low, high + 1, passages).tolist()
        per_passage = [self._sentence_lengths(count) for count in counts]
        spoken = self._words([n for lengths in per_passage for n in lengths])
        segments: list[Segment] = []
        built: list[Passage] = []
        at = 0
        for position, lengths in enumerate(per_passage):
            first = len(segments)
            for n in lengths:
                sentence = tuple(spoken[at : at + n])
                text = "".join(w.text for w in sentence)
                segments.append(Segment(sentence[0].start, sentence[-1].end, text, sentence))
                at += n
            said = tuple(w for segment in segments[first:] for w in segment.words)
            built.append(Passage(statement_id, position, said[0].start, said[-1].end, said))
        duration = spoken[-1].end + 1.0
        return Transcript("de", duration, tuple(segments)), built


# building


class Stopwatch:
    """Accumulates the time spent in a wrapped function."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        return timed


@dataclass
class Stored:
    """What generating and storing took."""

    passages: int = 0
    statements: int = 0
    words: int = 0
    generate_s: float = 0.0
    store_s: float = 0.0  # claim, save_transcript
    commit_s: float = 0.0  # of the outer transactions


def store_statement(
    catalog: Catalog, statement: Statement, transcript: Transcript, passages: Sequence[Passage]
) -> Statement:
    """What the pipeline's fetch and transcribe stages leave: a transcribed statement."""
    claimed = catalog.claim(statement)
    catalog.save_transcript(claimed.id, transcript, passages, None)
    return claimed


def store(catalog: Catalog, generator: Generator, size: int) -> Stored:
    """Generate and store `size` passages, BATCH_STATEMENTS statements per outer transaction."""
    done = Stored()
    low, high = STATEMENT_PASSAGES
    while done.passages < size:
        with catalog.transaction():
            for _ in range(BATCH_STATEMENTS):
                if done.passages >= size:
                    break
                count = min(int(generator.rng.integers(low, high + 1)), size - done.passages)
                began = time.perf_counter()
                statement = generator.statement(done.statements + 1)
                transcript, passages = generator.transcript(statement.id, count)
                stored = time.perf_counter()
                store_statement(catalog, statement, transcript, passages)
                done.generate_s += stored - began
                done.store_s += time.perf_counter() - stored
                done.passages += count
                done.statements += 1
                done.words += sum(len(p.words) for p in passages)
            began = time.perf_counter()
        done.commit_s += time.perf_counter() - began
    return done


def print_stored(done: Stored) -> None:
    print(
        f"stored {done.passages:,} passages in {done.statements:,} statements "
        f"({done.words:,} words, {done.words / done.passages:.0f} per passage); "
        f"generating the text took {done.generate_s:.1f} s (not counted)"
    )
    print(f"  {'':<44}{'seconds':>9}{'passages/s':>12}")
    for label, seconds in (
        ("storing (claim, save_transcript)", done.store_s),
        ("commits", done.commit_s),
    ):
        print(f"  {label:<44}{seconds:9.1f}{done.passages / max(seconds, 1e-9):12,.0f}")


@dataclass
class Sliced:
    """What indexing statement by statement took."""

    passages: int = 0
    statements: int = 0
    seconds: float = 0.0
    read_s: float = 0.0  # Catalog.passages: reading the passages back
    analyse_s: float = 0.0  # index_fields, called by TantivyEngine.index
    per_statement_ms: list[float] = field(default_factory=list)
    forms: int = 0  # distinct word forms the analyser analysed
    load_s: float = 0.0  # loading the compound splitters beforehand (not counted)


def index_slice(catalog: Catalog, engine: TantivyEngine, passages: int) -> Sliced:
    """`index_statement` for the first statements (by seq) until `passages` are indexed, each in
    a catalog transaction of its own with one tantivy commit, as ingest indexes a statement it
    has just transcribed; from cold analyser caches, the compound splitters loaded beforehand
    (a process loads them once, at its first compound: seconds). Reading the passages back and
    the analyser are timed apart, wrapped where they are looked up."""
    began = time.perf_counter()
    analysis.load_models()
    done = Sliced(load_s=time.perf_counter() - began)
    analysis.clear_caches()
    reading, analysing = Stopwatch(), Stopwatch()
    counts = catalog.passage_counts()
    state = catalog.index_state()
    real_passages = catalog.passages
    real_index_fields = analysis.index_fields  # the engine's module imported it by name
    catalog.passages = reading.wrap(real_passages)  # type: ignore[method-assign]
    setattr(tantivy_module, "index_fields", analysing.wrap(real_index_fields))  # noqa: B010
    try:
        for seq in sorted(state):
            if done.passages >= passages:
                break
            statement_id, status, _ = state[seq]
            if status != Status.TRANSCRIBED:
                continue
            began = time.perf_counter()
            index_statement(catalog, engine, statement_id)
            took = time.perf_counter() - began
            done.seconds += took
            done.per_statement_ms.append(took * 1000)
            done.passages += counts.get(seq, 0)
            done.statements += 1
    finally:
        catalog.passages = real_passages  # type: ignore[method-assign]
        setattr(tantivy_module, "index_fields", real_index_fields)  # noqa: B010
    done.read_s, done.analyse_s = reading.seconds, analysing.seconds
    done.forms = analysis.analysed_forms()
    return done


def print_slice(done: Sliced) -> None:
    print(
        f"indexing statement by statement (index_statement: one catalog transaction and one "
        f"tantivy commit each; cold analyser caches): {done.passages:,} passages of "
        f"{done.statements:,} statements; the compound splitters loaded beforehand in "
        f"{done.load_s:.1f} s (not counted)"
    )
    if not done.statements:
        return
    print(f"  {'':<44}{'seconds':>9}{'passages/s':>12}")
    for label, seconds in (
        ("index_statement", done.seconds),
        ("  of it reading passages back", done.read_s),
        ("  of it the analyser (index_fields)", done.analyse_s),
        (
            "  of it tantivy (delete, add, commit), status",
            done.seconds - done.read_s - done.analyse_s,
        ),
    ):
        print(f"  {label:<44}{seconds:9.2f}{done.passages / max(seconds, 1e-9):12,.0f}")
    ms = done.per_statement_ms
    print(
        f"  per statement: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
        f"max {max(ms):.0f} ms; the analyser analysed {done.forms:,} distinct word forms"
    )


class TimedEngine(TantivyEngine):
    """The engine, noting when `build` returned (the new generation written and committed)."""

    built_at = 0.0

    def build(self, statements: Sequence[Statement], progress: Progress | None) -> Built:
        built = super().build(statements, progress)
        self.built_at = time.perf_counter()
        return built


@dataclass
class Reindexed:
    """What one `rebuild` took; times in seconds from its start."""

    passages: int = 0
    seconds: float = 0.0
    half_at: float = 0.0  # when half the passages had been added
    half_passages: int = 0
    added_at: float = 0.0  # when the last passages had been added
    built_at: float = 0.0  # when the build returned: committed, merges done
    forms_before: int = 0  # in the forms table
    forms_after: int = 0
    process_s: float | None = None  # the fresh process's wall time, start-up included

    @property
    def rate(self) -> float:
        return self.passages / max(self.seconds, 1e-9)

    @property
    def second_half_rate(self) -> float:
        late = self.passages - self.half_passages
        return late / max(self.added_at - self.half_at, 1e-9)


def forms_path(root: Path) -> Path:
    return root / FORMS


def forms_count(root: Path) -> int:
    """Word forms in the index root's forms table (0: none)."""
    path = forms_path(root)
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM forms").fetchone()[0])
        except sqlite3.Error:
            return 0


def delete_forms(root: Path) -> None:
    """The forms table goes, with its WAL and shared-memory files."""
    path = forms_path(root)
    for found in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        found.unlink(missing_ok=True)


def timed_rebuild(catalog: Catalog, root: Path) -> Reindexed:
    """`archive.indexing.rebuild` of the whole catalog, timed through its progress calls."""
    engine = TimedEngine(catalog, root)
    done = Reindexed(forms_before=forms_count(root))
    began = time.perf_counter()

    def progress(added: int, total: int) -> None:
        at = time.perf_counter() - began
        if not done.half_passages and 2 * added >= total:
            done.half_at, done.half_passages = at, added
        done.added_at = at

    built = rebuild(catalog, engine, progress)
    done.seconds = time.perf_counter() - began
    done.built_at = engine.built_at - began
    done.passages = built.passages
    done.forms_after = forms_count(root)
    return done


def rebuild_in_fresh_process(folder: Path) -> Reindexed:
    """A warm reindex as a new `stadtstimme reindex` process runs it: this script again, with
    --rebuild-only, which prints its figures as JSON on its last line."""
    began = time.perf_counter()
    ran = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--rebuild-only", str(folder)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    done = Reindexed(**json.loads(ran.stdout.strip().splitlines()[-1]))
    done.process_s = time.perf_counter() - began
    return done


def rebuild_only(folder: Path) -> None:
    """The --rebuild-only child: one timed rebuild of the folder's catalog, figures as JSON."""
    with Catalog(folder / "catalog.sqlite3") as catalog:
        done = timed_rebuild(catalog, folder / INDEX_FOLDER)
        checkpoint(catalog)
    print(json.dumps(asdict(done)))


def print_reindex(cold: Reindexed, warm: Reindexed | None) -> None:
    print(
        f"reindex (archive.indexing.rebuild, as `stadtstimme reindex`): {cold.passages:,} passages"
    )
    print(f"  {'':<44}{'seconds':>9}{'passages/s':>12}{'2nd half /s':>13}")
    runs = [("cold: no forms table, caches cleared", cold)]
    if warm is not None:
        runs.append(("warm: forms table present, fresh process", warm))
    for label, done in runs:
        print(f"  {label:<44}{done.seconds:9.1f}{done.rate:12,.0f}{done.second_half_rate:13,.0f}")
        parts = (
            ("  of it reading, analysing, adding", done.added_at),
            ("  of it the commit and merges", done.built_at - done.added_at),
            ("  of it catch-up, statuses, swap", done.seconds - done.built_at),
        )
        for part, seconds in parts:
            print(f"  {part:<44}{seconds:9.1f}")
        started = "" if done.process_s is None else f"; the process took {done.process_s:.1f} s"
        print(
            f"    forms table: {done.forms_before:,} word forms before, "
            f"{done.forms_after:,} after{started}"
        )
    known = warm or cold
    verdict = "met" if known.rate >= GOAL_PASSAGES_PER_S else "MISSED"
    cold_verdict = "met" if cold.rate >= GOAL_PASSAGES_PER_S else "missed"
    print(
        f"  goal >= {GOAL_PASSAGES_PER_S:,.0f} passages/s on reindex, word forms known: {verdict} "
        f"({known.rate:,.0f}/s warm; cold {cold.rate:,.0f}/s, {cold_verdict})"
    )


def checkpoint(catalog: Catalog) -> None:
    catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def warm_analyser(catalog: Catalog, root: Path, limit: int = WARM_PASSAGES) -> None:
    """Fill the analyser's caches as a long-running server has them: the forms table loaded,
    then stored passages analysed (the term of every word, as snippets and highlights need):
    a cold cache costs the analysis of each new word form in a snippet, and a full cache makes
    each full garbage collection longer."""
    began = time.perf_counter()
    with FormsStore(forms_path(root), readonly=True) as store:
        loaded = store.load()
    rows = catalog.db.execute("SELECT text FROM passages LIMIT ?", (limit,))
    for (text,) in rows:
        analysis.index_fields(text)
        analysis.terms(text)
    print(
        f"analyser caches warmed: {loaded:,} word forms from the forms table, then "
        f"{limit:,} passages at most analysed: {analysis.analysed_forms():,} word forms, "
        f"{time.perf_counter() - began:.0f} s"
    )


def settle_as_served() -> None:
    """What `stadtstimme serve` does once started (api.app.create_server_app): the compound
    splitters loaded, and every object alive then exempted from garbage collection
    (archive.longlived)."""
    began = time.perf_counter()
    analysis.load_models()
    settle()
    print(
        f"settled as a server: splitters loaded, {gc.get_freeze_count():,} objects exempted from "
        f"garbage collection ({time.perf_counter() - began:.1f} s)"
    )


def print_sizes(catalog: Catalog, engine: TantivyEngine, root: Path) -> None:
    """The catalog file by table, the index's current generation, the forms table."""
    path = catalog.path
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(f"catalog file: {total / 2**20:,.1f} MiB ({path})")
    try:
        rows = catalog.db.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    except sqlite3.Error:  # dbstat is optional in SQLite builds
        rows = []
    free = catalog.db.execute("PRAGMA freelist_count").fetchone()[0]
    page = catalog.db.execute("PRAGMA page_size").fetchone()[0]
    parts = [f"{name} {size / 2**20:,.1f} MiB" for name, size in rows[:6]]
    print("  " + ", ".join([*parts, f"free pages {free * page / 2**20:,.1f} MiB"]))
    passages = catalog.passage_count()
    per_passage = (total - free * page) / max(passages, 1) / 1000
    verdict = "met" if per_passage <= GOAL_CATALOG_KB_PER_PASSAGE else "MISSED"
    print(
        f"  {per_passage:,.2f} KB per passage without free pages (goal <= "
        f"{GOAL_CATALOG_KB_PER_PASSAGE} KB: {verdict})"
    )
    index = engine.index_bytes() or 0
    per_million = index / max(passages, 1) * 1_000_000 / 2**20
    if passages >= 1_000_000:
        verdict = "met" if per_million <= GOAL_INDEX_MIB_PER_MILLION else "MISSED"
    else:
        verdict = "judged from 1M passages on"
    print(
        f"tantivy index: {index / 2**20:,.1f} MiB ({engine.layout.current()}); "
        f"{per_million:,.0f} MiB per million passages (goal <= "
        f"{GOAL_INDEX_MIB_PER_MILLION:.0f} MiB per million: {verdict})"
    )
    forms = forms_path(root)
    if forms.exists():
        size = sum(p.stat().st_size for p in root.glob(FORMS + "*"))
        print(f"forms table: {size / 2**20:,.1f} MiB, {forms_count(root):,} word forms ({forms})")
    stray = [
        p
        for p in root.iterdir()
        if p.is_file() and p.name != CURRENT and not p.name.startswith((FORMS, "."))
    ]
    if stray:
        size = sum(p.stat().st_size for p in stray)
        print(
            f"  ({len(stray)} other files in {root}, {size / 2**20:,.1f} MiB, not counted: an "
            "index of the previous version, left as the product leaves it)"
        )


# queries


class PassageCounter:
    """Passages matched, counted with the engine's own query on the current generation."""

    def __init__(self, engine: TantivyEngine) -> None:
        handle = engine._current()
        if handle is None:
            raise SystemExit(f"no search index in {engine.root}")
        self.searcher = handle.searcher()
        self.builder = QueryBuilder(self.searcher, SCHEMA)

    def passages(self, text: str) -> int:
        """Passages the engine matches for a query text (the word, or its compound parts)."""
        built = self.builder.query(parse_query(text))
        if built is None:
            return 0
        found = self.searcher.aggregate(built, {"n": {"value_count": {"field": "rowid"}}})
        return int(found["n"]["value"])

    def with_term(self, term_: str) -> int:
        """Passages whose words hold the term (its document frequency in `terms`)."""
        return self.searcher.doc_freq("terms", term_)


@dataclass(frozen=True)
class Chosen:
    words: list[str]
    shares: list[float]


@dataclass(frozen=True)
class Said:
    """A word of the index's vocabulary: its term, its most said spelling, its passages."""

    term: str
    word: str
    passages: int


def vocabulary(engine: TantivyEngine) -> list[Said]:
    """Every word said, most passages first (ties by term): the `terms` field's dictionary,
    counted over live passages. Not the did-you-mean vocabulary, which holds the metadata's
    words too: the queries are those chosen before metadata was searched."""
    handle = engine._current()
    if handle is None:
        raise SystemExit(f"no search index in {engine.root}")
    counted: list[tuple[str, int]] = handle.searcher().terms_with_prefix(
        "terms", "", filter_query=tantivy.Query.all_query(), limit=ALL_TERMS
    )
    spelled = engine.spellings([found for found, n in counted if n > 0])
    found = [Said(t, spelled.get(t, t), n) for t, n in counted if n > 0]
    return sorted(found, key=lambda said: (-said.passages, said.term))


def common_words(
    counter: PassageCounter, said: Sequence[Said], passages: int, wanted: int
) -> Chosen:
    """Words whose query matches at least COMMON_SHARE of the passages, most frequent first."""
    chosen, shares = [], []
    for candidate in said[: wanted * 4]:
        share = counter.passages(candidate.word) / passages
        if share >= COMMON_SHARE:
            chosen.append(candidate.word)
            shares.append(share)
        if len(chosen) == wanted:
            break
    return Chosen(chosen, shares)


def rare_words(
    counter: PassageCounter, said: Sequence[Said], passages: int, wanted: int, rng: random.Random
) -> Chosen:
    """Words whose query matches at least one but fewer than RARE_SHARE of the passages."""
    limit = max(1, int(passages * RARE_SHARE))
    candidates = sorted(s.word for s in said if 1 <= s.passages <= limit and len(s.word) >= 4)
    rng.shuffle(candidates)
    chosen, shares = [], []
    for word in candidates:
        count = counter.passages(word)
        if 0 < count < passages * RARE_SHARE:
            chosen.append(word)
            shares.append(count / passages)
        if len(chosen) == wanted:
            break
    return Chosen(chosen, shares)


def prefixes(said: Sequence[Said], wanted: int) -> list[str]:
    """3 and 4 letters (alternately) of the most frequent stems, stable under the analyser."""
    stems = [s.term for s in said if len(s.term) >= 5][: wanted * 20]
    found: list[str] = []
    for i, stem in enumerate(stems):
        prefix = stem[: 3 + i % 2]
        if prefix.isalpha() and term(prefix) == prefix and prefix not in found:
            found.append(prefix)
        if len(found) == wanted:
            break
    return [p + "*" for p in found]


def phrases(catalog: Catalog, statements: int, wanted: int, rng: random.Random) -> list[str]:
    """Two adjacent words of randomly drawn stored passages."""
    found: list[str] = []
    for _ in range(wanted * 20):
        seq = rng.randint(1, statements)
        row = catalog.db.execute(
            "SELECT p.text FROM passages AS p JOIN statements AS s ON s.id = p.statement_id "
            "WHERE s.seq = ? AND p.position = 0",
            (seq,),
        ).fetchone()
        if row is None:
            continue
        spoken = words(row[0])
        at = rng.randrange(len(spoken) - 1)
        phrase = f'"{spoken[at]} {spoken[at + 1]}"'
        if phrase not in found:
            found.append(phrase)
        if len(found) == wanted:
            break
    return found


def of_stop_words(counter: PassageCounter, query: Query, passages: int) -> bool:
    """Whether every word of a phrase is a stop-word: its term in >= STOP_SHARE of passages."""
    return all(
        counter.with_term(t) >= STOP_SHARE * passages
        for clause in query.parsed.positive
        for t in clause.terms
    )


def municipality_picker(catalog: Catalog, rng: random.Random) -> Callable[[], str]:
    """Municipalities drawn as often as they have statements (users search where talk is)."""
    rows = catalog.db.execute("SELECT municipality, count(*) FROM statements GROUP BY 1").fetchall()
    names = [row[0] for row in rows]
    weights = [row[1] for row in rows]
    return lambda: rng.choices(names, weights)[0]


def date_range(rng: random.Random) -> tuple[PartialDate, PartialDate]:
    start = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS - 365))
    end = min(
        start + dt.timedelta(days=rng.randint(365, 3 * 365)),
        FIRST_DAY + dt.timedelta(days=DAYS - 1),
    )
    return PartialDate.of(start), PartialDate.of(end)


def metadata_queries(statements: int, wanted: int, rng: random.Random) -> list[Query]:
    """Queries that match statements' metadata (see the module docstring), in turn."""
    texts = []
    for i in range(wanted):
        place = rng.randint(1, MUNICIPALITIES)
        texts.append(
            [
                "Videobotschaft",
                f"Gemeinde {place}",
                f"Sprecherin {place}-{rng.randint(1, SPEAKERS_PER_MUNICIPALITY)}",
                f"Videobotschaft {rng.randint(1, statements)}",
            ][i % 4]
        )
    return [Query(text, per_page=PER_PAGE) for text in texts]


def rotated(items: Sequence[str], by: int) -> list[str]:
    return list(items[by:]) + list(items[:by])


@dataclass
class QuerySets:
    """Per kind, count + 1 distinct queries (the first is the warm-up); and per kind, named
    subsets of the timed queries (indexes into queries[1:]) that have goals of their own."""

    queries: dict[str, list[Query]]
    subsets: dict[str, dict[str, list[int]]]


def query_sets(
    catalog: Catalog, engine: TantivyEngine, statements: int, passages: int, count: int, seed: int
) -> QuerySets:
    began = time.perf_counter()
    rng = random.Random(seed)
    wanted = count + 1
    counter = PassageCounter(engine)
    said = vocabulary(engine)
    common = common_words(counter, said, passages, wanted)
    rare = rare_words(counter, said, passages, wanted, rng)
    if not common.words or not rare.words:
        raise SystemExit(f"too few common ({len(common.words)}) or rare words ({len(rare.words)})")
    pick = municipality_picker(catalog, rng)
    words_ = common.words
    trend = []
    for word in rotated(words_, 3 * len(words_) // 4):
        low, high = date_range(rng)
        trend.append(Query(word, date_from=low, date_to=high, per_page=PER_PAGE))
    drawn = [Query(p, per_page=PER_PAGE) for p in phrases(catalog, statements, wanted, rng)]
    stop = [i for i, q in enumerate(drawn[1:]) if of_stop_words(counter, q, passages)]
    others = [i for i in range(len(drawn) - 1) if i not in set(stop)]
    found = [Query(p, per_page=PER_PAGE) for p in prefixes(said, wanted)]
    letters = {n: [i for i, q in enumerate(found[1:]) if len(q.text) == n + 1] for n in (3, 4)}
    print(
        f"queries ({time.perf_counter() - began:.1f} s to choose, counted with the index): "
        f"{len(common.words)} common words (share of passages "
        f"{min(common.shares):.1%}-{max(common.shares):.1%}), {len(rare.words)} rare words "
        f"(share {min(rare.shares):.3%}-{max(rare.shares):.3%}); {len(drawn) - 1} timed phrases, "
        f"{len(stop)} of them of stop-words (every word in >= {STOP_SHARE:.0%} of passages)"
    )
    return QuerySets(
        queries={
            "rare": [Query(w, per_page=PER_PAGE) for w in rare.words],
            "common": [Query(w, per_page=PER_PAGE) for w in words_],
            "phrase": drawn,
            "prefix": found,
            "filtered": [
                Query(w, municipality=pick(), per_page=PER_PAGE)
                for w in rotated(words_, len(words_) // 4)
            ],
            "faceted": [Query(w, per_page=PER_PAGE) for w in rotated(words_, len(words_) // 2)],
            "grouped": [Query(w, sort="newest", per_page=PER_PAGE) for w in words_[::-1]],
            "trend": trend,
            "metadata": metadata_queries(statements, wanted, rng),
        },
        subsets={
            "phrase": {"of stop-words": stop, "others": others},
            "prefix": {f"{n} letters": letters[n] for n in (3, 4)},
        },
    )


# timing


@dataclass
class Timing:
    kind: str
    ms: list[float]
    gc_ms: list[float]  # of ms: in the garbage collector's collections
    cpu_ms: list[float]  # this process's CPU time (all its threads) in the same calls
    hits: list[int]
    notes: str

    def only(self, label: str, indexes: Sequence[int]) -> Timing:
        return Timing(
            label,
            [self.ms[i] for i in indexes],
            [self.gc_ms[i] for i in indexes],
            [self.cpu_ms[i] for i in indexes],
            [self.hits[i] for i in indexes],
            "",
        )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def note(kind: str, results: Sequence[Results]) -> str:
    if kind == "faceted":
        present = sum(
            all(r.facets.get(n) for n in ("municipality", "speaker", "year")) for r in results
        )
        sizes = {
            n: statistics.mean(len(r.facets.get(n, {})) for r in results)
            for n in ("municipality", "speaker", "year")
        }
        return f"facets present {present}/{len(results)}; mean values " + ", ".join(
            f"{n} {v:.0f}" for n, v in sizes.items()
        )
    if kind == "trend":
        months = statistics.mean(len(r.trend) for r in results)
        return f"mean trend months {months:.0f}"
    if kind == "grouped":
        ordered = sum(
            [str(h.statement.published) for h in r.statements]
            == sorted((str(h.statement.published) for h in r.statements), reverse=True)
            for r in results
        )
        return f"newest first {ordered}/{len(results)}"
    if kind == "metadata":
        named = sum(bool(h.matched_in) for r in results for h in r.statements)
        shown = sum(len(r.statements) for r in results)
        return f"hits shown matching in metadata {named}/{shown}"
    empty = sum(r.total == 0 for r in results)
    return f"no hits {empty}/{len(results)}" if empty else ""


class GcClock:
    """Time spent in the garbage collector's collections, through gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def time_kind(
    catalog: Catalog, engine: TantivyEngine, kind: str, queries: Sequence[Query]
) -> Timing:
    """Each query once, after one warm-up query. Queries are parsed beforehand."""
    for query in queries:
        _ = query.parsed
    search(catalog, engine, queries[0], None)  # warm-up
    ms: list[float] = []
    gc_ms: list[float] = []
    cpu_ms: list[float] = []
    results: list[Results] = []
    with GcClock() as collecting:
        for query in queries[1:]:
            in_gc = collecting.seconds
            began, used = time.perf_counter(), time.process_time()
            found = search(catalog, engine, query, None)
            ms.append((time.perf_counter() - began) * 1000)
            cpu_ms.append((time.process_time() - used) * 1000)
            gc_ms.append((collecting.seconds - in_gc) * 1000)
            results.append(found)
    return Timing(kind, ms, gc_ms, cpu_ms, [r.total for r in results], note(kind, results))


def goal_ms(kind: str, subset: str | None) -> float:
    """Phrases of stop-words and prefixes (all of 3-4 letters) are bounded at GOAL_BROAD_MS."""
    broad = kind == "prefix" or (kind == "phrase" and subset == "of stop-words")
    return GOAL_BROAD_MS if broad else GOAL_MS


def print_timings(timings: Sequence[Timing], subsets: dict[str, dict[str, list[int]]]) -> None:
    """p50/p95/max of the whole search() call; gc % is the share of that time spent in the
    garbage collector, p95 -gc the p95 of each query's time less its collections, cpu p50 the
    p50 of the process's CPU time in the call (far below the p50 when other processes hold the
    cores). Kinds with subsets show them below, each with its own goal."""
    print(
        f"{'kind':<16} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'gc %':>5} "
        f"{'p95 -gc':>8} {'cpu p50':>8} {'mean hits':>10}  notes"
    )
    verdicts: list[str] = []

    def row(t: Timing) -> None:
        if not t.ms:
            print(f"{t.kind:<16} {0:>3}")
            return
        share = sum(t.gc_ms) / max(sum(t.ms), 1e-9)
        without = [total - collecting for total, collecting in zip(t.ms, t.gc_ms, strict=True)]
        print(
            f"{t.kind:<16} {len(t.ms):>3} {percentile(t.ms, 50):8.1f} "
            f"{percentile(t.ms, 95):8.1f} {max(t.ms):8.1f} {share:5.0%} "
            f"{percentile(without, 95):8.1f} {percentile(t.cpu_ms, 50):8.1f} "
            f"{statistics.mean(t.hits):10,.0f}  {t.notes}"
        )

    def verdict(label: str, t: Timing, goal: float) -> None:
        if t.ms:
            met = "met" if percentile(t.ms, 95) <= goal else "MISSED"
            verdicts.append(f"{label} {met}" + ("" if goal == GOAL_MS else f" (<= {goal:.0f})"))

    for t in timings:
        row(t)
        named = subsets.get(t.kind, {})
        for subset, indexes in named.items():
            row(t.only(f"  {subset}", indexes))
        if t.kind == "phrase":
            for subset, indexes in named.items():
                verdict(f"phrase {subset}", t.only(subset, indexes), goal_ms("phrase", subset))
        else:
            verdict(t.kind, t, goal_ms(t.kind, None))
    print(
        f"goal p95 <= {GOAL_MS:.0f} ms, phrases of stop-words and prefixes of 3-4 letters <= "
        f"{GOAL_BROAD_MS:.0f} ms: " + ", ".join(verdicts)
    )


def profile_kind(
    catalog: Catalog, engine: TantivyEngine, kind: str, queries: Sequence[Query], top: int
) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries[1:]:
        search(catalog, engine, query, None)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"--- profile: {kind}, {len(queries) - 1} queries, by cumulative time")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


# the reference: full BM25 in FTS5


def reference_fts(catalog: Catalog, root: Path, folder: Path) -> sqlite3.Connection:
    """An FTS5 table as releases before tantivy made it (LEGACY_SCHEMA) in a scratch file beside
    the catalog, of every passage's analysed terms; kept with the catalog and reused while it
    holds as many passages."""
    path = folder / REFERENCE
    passages = catalog.passage_count()
    if path.exists():
        db = sqlite3.connect(path, isolation_level=None)
        try:
            held = int(db.execute("SELECT count(*) FROM passage_terms").fetchone()[0])
        except sqlite3.Error:
            held = -1
        if held == passages:
            print(f"reference: FTS5 table of {held:,} passages reused ({path})")
            return db
        db.close()
        path.unlink()
    began = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(LEGACY_SCHEMA)
    db.execute("BEGIN")
    for batch in analysed_rows(catalog.passage_texts(), forms=forms_path(root)):
        db.executemany(
            "INSERT INTO passage_terms (rowid, terms, heads, modifiers) VALUES (?, ?, ?, ?)",
            [(rowid, f.terms, f.heads, f.modifiers) for rowid, f in batch],
        )
    db.execute("COMMIT")
    print(
        f"reference: FTS5 table (the schema before tantivy) of {passages:,} passages built in "
        f"{time.perf_counter() - began:.1f} s, {path.stat().st_size / 2**20:,.1f} MiB ({path})"
    )
    return db


def top_agreement(
    reference: sqlite3.Connection, engine: TantivyEngine, queries: Sequence[Query]
) -> float:
    """Mean share of the top-10 passages in common: FTS5 ranking every match by its BM25
    (column weights as the FTS5 engine's), and tantivy's BM25 over all matches (the engine's
    query)."""
    handle = engine._current()
    assert handle is not None
    searcher = handle.searcher()
    builder = QueryBuilder(searcher, SCHEMA)
    shares: list[float] = []
    for query in queries[1:]:
        expression = match_expression(query.parsed.clauses)
        full = [
            row[0]
            for row in reference.execute(
                f"SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? ORDER BY {_BM25} "
                "LIMIT ?",
                (expression, TOP),
            )
        ]
        built = builder.query(query.parsed)
        found: list[int | float | bool | None] = []
        if built is not None:
            hits = searcher.search(built, TOP).hits
            found = searcher.fast_field_values("rowid", [address for _, address in hits])
        if full:
            shares.append(len(set(full) & set(found)) / len(full))
    return statistics.mean(shares) if shares else float("nan")


# driver


def build_size(folder: Path, size: int, args: argparse.Namespace, forms: Sequence[str]) -> None:
    """Generate and store the archive, index a slice statement by statement, then reindex it
    cold and warm."""
    path = folder / "catalog.sqlite3"
    root = folder / INDEX_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    with Catalog(path) as catalog:
        generator = Generator(forms, args.zipf, args.seed + size)
        print_stored(store(catalog, generator, size))
        checkpoint(catalog)
        print_slice(index_slice(catalog, TantivyEngine(catalog, root), INDEX_SLICE))
        analysis.clear_caches()
        delete_forms(root)
        cold = timed_rebuild(catalog, root)
        checkpoint(catalog)
    warm = rebuild_in_fresh_process(folder)
    print_reindex(cold, warm)


def run_size(size: int, args: argparse.Namespace, forms: Sequence[str]) -> None:
    folder = args.dir / f"search-{size}"
    path = folder / "catalog.sqlite3"
    root = folder / INDEX_FOLDER
    print(f"\n=== {size:,} passages ===")
    if args.reuse and path.exists():
        print(f"reusing {path}")
        with Catalog(path) as catalog:
            began = time.perf_counter()
            did = prepare_index(catalog, TantivyEngine(catalog, root))
            took = time.perf_counter() - began
            passages = catalog.passage_count()
            rate = f", {passages / took:,.0f} passages/s" if did == "built" else ""
            print(f"prepare_index: {did} ({took:.1f} s{rate})")
            checkpoint(catalog)
    else:
        build_size(folder, size, args, forms)
    with Catalog(path) as catalog:
        engine = TantivyEngine(catalog, root)
        engine.layout.sweep()  # generations this process built and another replaced
        warm_analyser(catalog, root)
        settle_as_served()
        print_sizes(catalog, engine, root)
        statements, passages = catalog.db.execute(
            "SELECT count(*), (SELECT count(*) FROM passages) FROM statements WHERE status = ?",
            (str(Status.INDEXED),),
        ).fetchone()
        sets = query_sets(catalog, engine, statements, passages, args.queries, args.seed)
        kinds = [k for k in KINDS if k in args.kinds]
        timings = [time_kind(catalog, engine, kind, sets.queries[kind]) for kind in kinds]
        print_timings(timings, sets.subsets)
        if args.reference_fts:
            reference = reference_fts(catalog, root, folder)
            try:
                began = time.perf_counter()
                shares = {
                    kind: top_agreement(reference, engine, sets.queries[kind])
                    for kind in kinds
                    if kind in RANKED_KINDS
                }
            finally:
                reference.close()
            print(
                f"top-{TOP} agreement with full FTS5 BM25 (mean share of passages in common): "
                + ", ".join(f"{kind} {share:.2f}" for kind, share in shares.items())
                + f" ({time.perf_counter() - began:.1f} s)"
            )
        for kind in args.profile:
            profile_kind(catalog, engine, kind, sets.queries[kind], args.profile_top)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="archive sizes, in passages"
    )
    parser.add_argument("--queries", type=int, default=50, help="timed queries per kind")
    parser.add_argument("--dir", type=Path, default=None, help="where catalogs are built")
    parser.add_argument("--keep", action="store_true", help="keep the catalogs")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="query a kept catalog of a size instead of building it anew (also one kept by the "
        "previous, FTS5 version: its index is then built)",
    )
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument(
        "--profile",
        nargs="*",
        default=[],
        choices=KINDS,
        help="also print a cProfile of these kinds' queries",
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument(
        "--reference-fts",
        action="store_true",
        help="also build an FTS5 table (the schema before tantivy) in a scratch file beside the "
        "catalog and print the top-10 agreement of tantivy with its full BM25",
    )
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of word ranks")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild-only", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.rebuild_only is not None:
        rebuild_only(args.rebuild_only)
        return
    began = time.perf_counter()
    forms, nouns = german_forms()
    print(
        f"{len(forms):,} German word forms (wordfreq {version('wordfreq')}; {nouns:,} nouns "
        f"capitalised, {time.perf_counter() - began:.0f} s), "
        f"Zipf exponent {args.zipf}; SQLite {sqlite3.sqlite_version}; tantivy "
        f"{version('tantivy')}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="search-bench-") as scratch:
        if args.dir is None:
            args.dir = Path(scratch)
            if args.keep:
                print("--keep without --dir: the temporary directory goes anyway")
        for size in args.sizes:
            run_size(size, args, forms)


if __name__ == "__main__":
    main()
