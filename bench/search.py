"""Benchmark: how fast does the embedded search index and answer as the archive grows?

The embedded engine (archive.search.fts) promises bounded work, so that a broad query stays fast
in a large archive. This checks the promise on synthetic archives of given sizes (counted in
passages), each built in a file-backed catalog the way the pipeline builds it:

- text: passages of 50-110 words drawn from a Zipf distribution (rank^-s) over the ~60,000 most
  frequent German word forms (wordfreq's list, shipped in its wheel, so nothing is downloaded;
  the forms HanTa tags as nouns capitalised, since the analyser splits only those), cut into
  sentences of 6-18 words with synthetic word timestamps; statements of 10-40 passages,
  published over ten years, in 300 municipalities of skewed (Zipf) frequency with two speakers
  each (600 speakers);
- storing: `Catalog.claim` and `Catalog.save_transcript` (segments, passages);
- indexing: `Catalog.passages`, `FtsEngine.index` (the German analyser, the FTS5 insert and the
  did-you-mean vocabulary) and
  `archive.indexing.index_statement`, as the pipeline does. Statements are stored and indexed in
  batches inside one outer transaction each (the catalog's transactions nest into it).

The analyser's per-word caches are emptied before each size, so every build starts cold; the
second half of a build shows the rate once most word forms are cached. Generating the text is
timed apart and not counted; the figure is passages per second of the index stage (goal:
>= 5,000/s), with its parts (reading passages back, analyser, FTS5) and storing beside it.

Then, on a fresh connection (as the API would open one) and with the analyser's caches full (as
a long-running server has them), it times the full `search()` call (page 1, 10 per page; facets
and the monthly trend are always computed) for each kind of query, over --queries distinct
queries after one warm-up query: a rare word (in < 0.1 % of passages), a common word (in >= 10 %,
from the Zipf head, verified with an FTS count), a phrase (two adjacent words of a stored
passage), a prefix (3-4 letters of a frequent stem, with *), a common word filtered by
municipality, faceted (a common word; facet counts checked), grouped (a common word, newest
first) and a common word within a date range (the trend). It prints p50, p95, the share of time
spent in garbage collections, and the mean number of matching statements per kind, and the
catalog's size; --breakdown adds where the time goes, --profile a cProfile. Goals: p95 <= 50 ms
for every kind at 100,000 passages, <= 300 ms at 1,000,000. It prints figures; it is no test.

Engines (--engines, default both): the catalog and its FTS5 index are built as above (the
queries are chosen with FTS5 in any case); the tantivy engine (archive.search.tantivy) then
indexes the same catalog, from cold analyser caches again, as `reindex` does, timed apart. Each
query is run on both engines in turn (the order swapped from query to query), each engine's
table is printed, with its index size, and whether total, facets and trend agree on every
query ("agree n/n"); and for the unfiltered kinds ranked by relevance, the mean share of the
top-10 passages in common between tantivy and FTS5 ranking every match by BM25.

    python bench/search.py --sizes 10000 100000 1000000 [--queries 50] [--dir DIR] [--keep]
    python bench/search.py --sizes 100000 --dir /tmp/b --keep --reuse --breakdown --profile common
    python bench/search.py --sizes 100000 --engines tantivy --dir /tmp/b --keep --reuse
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import wordfreq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import analysis
from archive import search as search_module
from archive.analysis import parse_query, term, words
from archive.catalog import Catalog, statement_id_for
from archive.dates import PartialDate
from archive.indexing import index_statement
from archive.models import Passage, Segment, Statement, Status, Transcript, Word
from archive.search import Engine, Query, Results, fts, search
from archive.search import tantivy as tantivy_module
from archive.search.fts import _BM25, FtsEngine, match_expression
from archive.search.tantivy import QueryBuilder, TantivyEngine

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
WARM_PASSAGES = 100_000
RARE_SHARE = 0.001
COMMON_SHARE = 0.10
PER_PAGE = 10
GOALS_MS = {100_000: 50.0, 1_000_000: 300.0}
GOAL_PASSAGES_PER_S = 5_000.0
KINDS = ("rare", "common", "phrase", "prefix", "filtered", "faceted", "grouped", "trend")
ENGINES = ("fts", "tantivy")
RANKED_KINDS = ("rare", "common", "phrase", "prefix")  # top-10 agreement: no filter, relevance
TOP = 10
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
    """Accumulates the time spent in a wrapped function (or added by hand)."""

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
class Figures:
    """Seconds spent per phase over some passages."""

    passages: int = 0
    store_s: float = 0.0
    index_s: float = 0.0
    read_s: float = 0.0  # of index_s: Catalog.passages (reading the passages back)
    analyse_s: float = 0.0  # of index_s: analyse_text, called by FtsEngine.index
    commit_s: float = 0.0

    @property
    def write_s(self) -> float:
        return self.store_s + self.index_s + self.commit_s

    def minus(self, earlier: Figures) -> Figures:
        names = ("passages", "store_s", "index_s", "read_s", "analyse_s", "commit_s")
        return Figures(*(getattr(self, n) - getattr(earlier, n) for n in names))


@dataclass
class Build:
    figures: Figures = field(default_factory=Figures)
    half: Figures | None = None  # the figures when half the passages were in
    statements: int = 0
    words: int = 0
    generate_s: float = 0.0
    reading: Stopwatch = field(default_factory=Stopwatch)
    analysing: Stopwatch = field(default_factory=Stopwatch)
    forms: int = 0  # distinct word forms the analyser analysed (its cache misses)

    def sync(self) -> None:
        self.figures.read_s = self.reading.seconds
        self.figures.analyse_s = self.analysing.seconds


def clear_analyser_caches() -> None:
    analysis.clear_caches()


def store_statement(
    catalog: Catalog, statement: Statement, transcript: Transcript, passages: Sequence[Passage]
) -> Statement:
    """What the pipeline's fetch and transcribe stages leave: a transcribed statement."""
    claimed = catalog.claim(statement)
    catalog.save_transcript(claimed.id, transcript, passages, None)
    return claimed


def index_timed(catalog: Catalog, engine: Engine, statement: Statement, reading: Stopwatch) -> None:
    """The pipeline's index stage (`index_statement`), reading the passages back timed apart."""
    real_passages = catalog.passages
    catalog.passages = reading.wrap(real_passages)  # type: ignore[method-assign]
    try:
        index_statement(catalog, engine, statement.id)
    finally:
        catalog.passages = real_passages  # type: ignore[method-assign]


def build(catalog: Catalog, engine: FtsEngine, generator: Generator, size: int) -> Build:
    """Generate, store and index `size` passages, from cold analyser caches."""
    clear_analyser_caches()
    done = Build()
    # The engine looks analyse_text up in its module at each call: time it there.
    real_analyse_text = analysis.analyse_text
    setattr(fts, "analyse_text", done.analysing.wrap(real_analyse_text))  # noqa: B010
    try:
        while done.figures.passages < size:
            build_batch(catalog, engine, generator, size, done)
            done.sync()
            if done.half is None and done.figures.passages >= size // 2:
                done.half = replace(done.figures)
    finally:
        setattr(fts, "analyse_text", real_analyse_text)  # noqa: B010
    done.forms = analysis.analysed_forms()
    return done


def build_batch(
    catalog: Catalog, engine: FtsEngine, generator: Generator, size: int, done: Build
) -> None:
    """Up to BATCH_STATEMENTS statements in one outer transaction."""
    figures = done.figures
    with catalog.transaction():
        for _ in range(BATCH_STATEMENTS):
            if figures.passages >= size:
                break
            low, high = STATEMENT_PASSAGES
            count = min(int(generator.rng.integers(low, high + 1)), size - figures.passages)
            began = time.perf_counter()
            statement = generator.statement(done.statements + 1)
            transcript, passages = generator.transcript(statement.id, count)
            stored = time.perf_counter()
            claimed = store_statement(catalog, statement, transcript, passages)
            indexed = time.perf_counter()
            index_timed(catalog, engine, claimed, done.reading)
            ended = time.perf_counter()
            done.generate_s += stored - began
            figures.store_s += indexed - stored
            figures.index_s += ended - indexed
            figures.passages += count
            done.statements += 1
            done.words += sum(len(p.words) for p in passages)
        began = time.perf_counter()
    figures.commit_s += time.perf_counter() - began


def rate_table(done: Build) -> Callable[[str, Callable[[Figures], float]], None]:
    """Print a build's table header; return the function that prints one row: seconds and
    passages per second over all the build and over its second half."""
    all_ = done.figures
    second = all_.minus(done.half or Figures())
    print(f"  {'':<36}{'seconds':>9}{'passages/s':>12}{'2nd half /s':>13}")

    def row(label: str, seconds: Callable[[Figures], float]) -> None:
        rate = all_.passages / max(seconds(all_), 1e-9)
        late = second.passages / max(seconds(second), 1e-9)
        print(f"  {label:<36}{seconds(all_):9.1f}{rate:12,.0f}{late:13,.0f}")

    return row


def print_goal(done: Build) -> None:
    all_ = done.figures
    second = all_.minus(done.half or Figures())
    rate = all_.passages / all_.index_s
    verdict = "met" if rate >= GOAL_PASSAGES_PER_S else "MISSED"
    print(
        f"  goal indexing >= {GOAL_PASSAGES_PER_S:,.0f} passages/s: {verdict} ({rate:,.0f}/s; "
        f"second half {second.passages / second.index_s:,.0f}/s)"
    )


def print_build(done: Build) -> None:
    all_ = done.figures
    print(
        f"built {all_.passages:,} passages in {done.statements:,} statements "
        f"({done.words:,} words, {done.words / all_.passages:.0f} per passage); "
        f"generating the text took {done.generate_s:.1f} s (not counted)"
    )
    row = rate_table(done)
    row("storing (claim, save_transcript)", lambda f: f.store_s)
    row("indexing (read, analyse, FTS insert)", lambda f: f.index_s)
    row("  of it reading passages back", lambda f: f.read_s)
    row("  of it the analyser (analyse_text)", lambda f: f.analyse_s)
    row("  of it FTS5 insert, delete, status", lambda f: f.index_s - f.read_s - f.analyse_s)
    row("commits", lambda f: f.commit_s)
    row("storing + indexing + commits", lambda f: f.write_s)
    print(
        f"  the analyser analysed {done.forms:,} distinct word forms "
        f"(cache misses; {all_.analyse_s / max(done.forms, 1) * 1000:.2f} ms each at most)"
    )
    print_goal(done)


def index_tantivy(catalog: Catalog, engine: TantivyEngine) -> Build:
    """Index the built catalog's statements into tantivy, from cold analyser caches again, the
    way `stadtstimme reindex` does (`index_statement` per statement, one tantivy commit each),
    in batches of BATCH_STATEMENTS statements inside one outer transaction, as the build.

    Both engines keep the did-you-mean vocabulary in the catalog's `search_vocabulary`, which
    the FTS5 build has filled: tantivy counts into a TEMP table of that name that shadows it
    while it indexes (the same statements, in memory), so that nothing is counted twice."""
    clear_analyser_caches()
    done = Build()
    figures = done.figures
    rows = catalog.db.execute(
        "SELECT s.id, count(*) FROM statements AS s JOIN passages AS p ON p.statement_id = s.id "
        "WHERE s.status = ? GROUP BY s.seq ORDER BY s.seq",
        (str(Status.INDEXED),),
    ).fetchall()
    size = sum(count for _, count in rows)
    real_analyse_text = analysis.analyse_text
    setattr(tantivy_module, "analyse_text", done.analysing.wrap(real_analyse_text))  # noqa: B010
    try:
        with scratch_vocabulary(catalog):
            for start in range(0, len(rows), BATCH_STATEMENTS):
                with catalog.transaction():
                    for statement_id, count in rows[start : start + BATCH_STATEMENTS]:
                        began = time.perf_counter()
                        index_statement_timed(catalog, engine, statement_id, done.reading)
                        figures.index_s += time.perf_counter() - began
                        figures.passages += count
                        done.statements += 1
                    began = time.perf_counter()
                figures.commit_s += time.perf_counter() - began
                done.sync()
                if done.half is None and figures.passages >= size // 2:
                    done.half = replace(figures)
    finally:
        setattr(tantivy_module, "analyse_text", real_analyse_text)  # noqa: B010
    done.forms = analysis.analysed_forms()
    return done


def index_statement_timed(
    catalog: Catalog, engine: Engine, statement_id: str, reading: Stopwatch
) -> None:
    real_passages = catalog.passages
    catalog.passages = reading.wrap(real_passages)  # type: ignore[method-assign]
    try:
        index_statement(catalog, engine, statement_id)
    finally:
        catalog.passages = real_passages  # type: ignore[method-assign]


@contextmanager
def scratch_vocabulary(catalog: Catalog) -> Iterator[None]:
    """A TEMP `search_vocabulary` like the catalog's, shadowing it (unqualified names find the
    temp schema first) until the block ends."""
    row = catalog.db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search_vocabulary'"
    ).fetchone()
    catalog.db.execute(re.sub(r"^CREATE TABLE", "CREATE TEMP TABLE", row[0]))
    try:
        yield
    finally:
        catalog.db.execute("DROP TABLE temp.search_vocabulary")


def print_tantivy_build(done: Build) -> None:
    all_ = done.figures
    print(
        f"tantivy: indexed {all_.passages:,} passages of {done.statements:,} statements "
        "(index_statement each, cold analyser caches)"
    )
    row = rate_table(done)
    row("indexing (read, analyse, tantivy)", lambda f: f.index_s)
    row("  of it reading passages back", lambda f: f.read_s)
    row("  of it the analyser (analyse_text)", lambda f: f.analyse_s)
    row("  of it tantivy add, commit, vocab.", lambda f: f.index_s - f.read_s - f.analyse_s)
    row("commits (catalog)", lambda f: f.commit_s)
    print(f"  the analyser analysed {done.forms:,} distinct word forms")
    print_goal(done)


def warm_analyser(catalog: Catalog, limit: int = WARM_PASSAGES) -> None:
    """Fill the analyser's caches from stored passages, as a long-running server has them (a
    fresh build leaves them so): a cold cache costs the morphological analysis of each new
    word form in a snippet, and a full cache makes each full garbage collection longer."""
    began = time.perf_counter()
    rows = catalog.db.execute("SELECT text FROM passages LIMIT ?", (limit,))
    for (text,) in rows:
        analysis.analyse_text(text)
        analysis.terms(text)
    print(
        f"analyser caches warmed from {limit:,} passages at most: "
        f"{analysis.analysed_forms():,} word forms, "
        f"{time.perf_counter() - began:.0f} s"
    )


def checkpoint(catalog: Catalog) -> None:
    catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def print_sizes(path: Path, catalog: Catalog) -> None:
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(f"catalog file: {total / 2**20:,.1f} MiB ({path})")
    try:
        rows = catalog.db.execute(
            "SELECT CASE WHEN name LIKE 'passage_terms%' THEN 'passage_terms (FTS5)' "
            "ELSE name END AS part, sum(pgsize) FROM dbstat GROUP BY part ORDER BY 2 DESC"
        ).fetchall()
    except Exception:  # noqa: BLE001 - dbstat is optional in SQLite builds
        return
    print("  " + ", ".join(f"{name} {size / 2**20:,.1f} MiB" for name, size in rows[:6]))


# queries


def fts_count(catalog: Catalog, text: str) -> int:
    """Passages the engine matches for a query text."""
    expression = match_expression(parse_query(text).clauses)
    assert expression is not None
    row = catalog.db.execute(
        "SELECT count(*) FROM passage_terms WHERE passage_terms MATCH ?", (expression,)
    ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Chosen:
    words: list[str]
    shares: list[float]


def common_words(catalog: Catalog, passages: int, wanted: int) -> Chosen:
    """Words whose term is in at least COMMON_SHARE of the passages, most frequent first."""
    rows = catalog.db.execute(
        "SELECT word FROM search_vocabulary ORDER BY passages DESC LIMIT ?", (wanted * 4,)
    ).fetchall()
    chosen, shares = [], []
    for (word,) in rows:
        share = fts_count(catalog, word) / passages
        if share >= COMMON_SHARE:
            chosen.append(word)
            shares.append(share)
        if len(chosen) == wanted:
            break
    return Chosen(chosen, shares)


def rare_words(catalog: Catalog, passages: int, wanted: int, rng: random.Random) -> Chosen:
    """Words found in at least one but fewer than RARE_SHARE of the passages."""
    limit = max(1, int(passages * RARE_SHARE))
    rows = catalog.db.execute(
        "SELECT word FROM search_vocabulary WHERE passages BETWEEN 1 AND ? AND length(word) >= 4",
        (limit,),
    ).fetchall()
    candidates = [row[0] for row in rows]
    rng.shuffle(candidates)
    chosen, shares = [], []
    for word in candidates:
        count = fts_count(catalog, word)
        if 0 < count < passages * RARE_SHARE:
            chosen.append(word)
            shares.append(count / passages)
        if len(chosen) == wanted:
            break
    return Chosen(chosen, shares)


def prefixes(catalog: Catalog, wanted: int) -> list[str]:
    """3 and 4 letters (alternately) of the most frequent stems, stable under the analyser."""
    rows = catalog.db.execute(
        "SELECT term FROM search_vocabulary WHERE length(term) >= 5 ORDER BY passages DESC LIMIT ?",
        (wanted * 20,),
    ).fetchall()
    found: list[str] = []
    for i, (stem,) in enumerate(rows):
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


def rotated(items: Sequence[str], by: int) -> list[str]:
    return list(items[by:]) + list(items[:by])


def query_sets(
    catalog: Catalog, statements: int, passages: int, count: int, seed: int
) -> dict[str, list[Query]]:
    """Per kind, count + 1 distinct queries (the first is the warm-up)."""
    rng = random.Random(seed)
    wanted = count + 1
    common = common_words(catalog, passages, wanted)
    rare = rare_words(catalog, passages, wanted, rng)
    print(
        f"queries: {len(common.words)} common words (share of passages "
        f"{min(common.shares):.1%}-{max(common.shares):.1%}), {len(rare.words)} rare words "
        f"(share {min(rare.shares):.3%}-{max(rare.shares):.3%})"
    )
    pick = municipality_picker(catalog, rng)
    words_ = common.words
    trend = []
    for word in rotated(words_, 3 * len(words_) // 4):
        low, high = date_range(rng)
        trend.append(Query(word, date_from=low, date_to=high, per_page=PER_PAGE))
    return {
        "rare": [Query(w, per_page=PER_PAGE) for w in rare.words],
        "common": [Query(w, per_page=PER_PAGE) for w in words_],
        "phrase": [Query(p, per_page=PER_PAGE) for p in phrases(catalog, statements, wanted, rng)],
        "prefix": [Query(p, per_page=PER_PAGE) for p in prefixes(catalog, wanted)],
        "filtered": [
            Query(w, municipality=pick(), per_page=PER_PAGE)
            for w in rotated(words_, len(words_) // 4)
        ],
        "faceted": [Query(w, per_page=PER_PAGE) for w in rotated(words_, len(words_) // 2)],
        "grouped": [Query(w, sort="newest", per_page=PER_PAGE) for w in words_[::-1]],
        "trend": trend,
    }


@dataclass
class Timing:
    kind: str
    ms: list[float]
    gc_ms: list[float]  # of ms: in the garbage collector's collections
    hits: list[int]
    notes: str


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


@dataclass
class Compared:
    """A kind's timings per engine, and on how many queries the engines agreed."""

    timings: dict[str, Timing]
    agree: int
    n: int
    differing: list[str]  # the first few query texts on which they did not


def answer(found: Results) -> tuple[int, dict[str, dict[str, int]], dict[str, int]]:
    """What both engines must answer alike: total, facets (as counts) and trend."""
    return found.total, {n: dict(v) for n, v in found.facets.items()}, dict(found.trend)


def time_kind(
    catalog: Catalog, engines: dict[str, Engine], kind: str, queries: Sequence[Query]
) -> Compared:
    """Each query on every engine in turn (the order swapped from query to query), after one
    warm-up query each. Queries are parsed beforehand, so that no engine pays for it."""
    for query in queries:
        _ = query.parsed
    for engine in engines.values():
        search(catalog, engine, queries[0], None)  # warm-up
    names = list(engines)
    ms: dict[str, list[float]] = {n: [] for n in names}
    gc_ms: dict[str, list[float]] = {n: [] for n in names}
    results: dict[str, list[Results]] = {n: [] for n in names}
    with GcClock() as collecting:
        for i, query in enumerate(queries[1:]):
            for name in names if i % 2 == 0 else names[::-1]:
                in_gc = collecting.seconds
                began = time.perf_counter()
                found = search(catalog, engines[name], query, None)
                ms[name].append((time.perf_counter() - began) * 1000)
                gc_ms[name].append((collecting.seconds - in_gc) * 1000)
                results[name].append(found)
    timings = {
        n: Timing(kind, ms[n], gc_ms[n], [r.total for r in results[n]], note(kind, results[n]))
        for n in names
    }
    agree, differing = 0, []
    for i, query in enumerate(queries[1:]):
        answers = [answer(results[n][i]) for n in names]
        if all(a == answers[0] for a in answers[1:]):
            agree += 1
        elif len(differing) < 3:
            differing.append(query.text)
    return Compared(timings, agree, len(queries) - 1, differing)


def top_agreement(catalog: Catalog, engine: TantivyEngine, queries: Sequence[Query]) -> float:
    """Mean share of the top-10 passages in common: FTS5 ranking every match by its BM25 (column
    weights as the engine's), and tantivy's BM25 over all matches (the engine's query)."""
    shares: list[float] = []
    handle = engine._index
    for query in queries[1:]:
        expression = match_expression(query.parsed.clauses)
        full = [
            row[0]
            for row in catalog.db.execute(
                f"SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? ORDER BY {_BM25} "
                "LIMIT ?",
                (expression, TOP),
            )
        ]
        searcher = handle.searcher()
        built = QueryBuilder(searcher, handle.schema).query(query.parsed)
        found: list[int | None] = []
        if built is not None:
            hits = searcher.search(built, TOP).hits
            found = searcher.fast_field_values("rowid", [address for _, address in hits])
        if full:
            shares.append(len(set(full) & set(found)) / len(full))
    return statistics.mean(shares) if shares else float("nan")


def print_timings(size: int, timings: Sequence[Timing]) -> None:
    """p50/p95/max of the whole search() call; gc % is the share of that time spent in the
    garbage collector, p95 -gc the p95 of each query's time less its collections."""
    goal = GOALS_MS.get(size)
    print(
        f"{'kind':<9} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'gc %':>5} "
        f"{'p95 -gc':>8} {'mean hits':>10}  notes"
    )
    for t in timings:
        share = sum(t.gc_ms) / sum(t.ms)
        without = [total - collecting for total, collecting in zip(t.ms, t.gc_ms, strict=True)]
        print(
            f"{t.kind:<9} {len(t.ms):>3} {percentile(t.ms, 50):8.1f} {percentile(t.ms, 95):8.1f} "
            f"{max(t.ms):8.1f} {share:5.0%} {percentile(without, 95):8.1f} "
            f"{statistics.mean(t.hits):10,.0f}  {t.notes}"
        )
    if goal is not None:
        verdicts = [
            f"{t.kind} {'met' if percentile(t.ms, 95) <= goal else 'MISSED'}" for t in timings
        ]
        print(f"goal p95 <= {goal:.0f} ms: " + ", ".join(verdicts))


PARTS = (
    "engine.search",
    "  _matching_statements",
    "  _candidates",
    "  _first_passages",
    "suggest",
    "statements_by_id",
    "passages_by_rowid",
    "passage_hit",
)


@contextmanager
def instrumented(catalog: Catalog, engine: FtsEngine) -> Iterator[dict[str, Stopwatch]]:
    """Stopwatches on the parts of a search, wrapped where they are looked up (on the engine and
    catalog objects, and in archive.search), and taken off again."""
    clocks = {part: Stopwatch() for part in PARTS}
    objects = {"engine": engine, "catalog": catalog, "module": search_module}
    targets = {
        "engine.search": ("engine", "search"),
        "  _matching_statements": ("engine", "_matching_statements"),
        "  _candidates": ("engine", "_candidates"),
        "  _first_passages": ("engine", "_first_passages"),
        "suggest": ("module", "suggest"),
        "statements_by_id": ("catalog", "statements_by_id"),
        "passages_by_rowid": ("catalog", "passages_by_rowid"),
        "passage_hit": ("module", "passage_hit"),
    }
    originals = {part: getattr(objects[o], name) for part, (o, name) in targets.items()}
    for part, (o, name) in targets.items():
        setattr(objects[o], name, clocks[part].wrap(originals[part]))
    try:
        yield clocks
    finally:
        for part, (o, name) in targets.items():
            if o == "module":
                setattr(objects[o], name, originals[part])
            else:
                delattr(objects[o], name)


def print_breakdown(
    catalog: Catalog, engine: FtsEngine, sets: dict[str, list[Query]], kinds: Sequence[str]
) -> None:
    """Mean milliseconds per query in each part of a search, per kind (one more pass)."""
    print("breakdown, mean ms per query: " + ", ".join(p.strip() for p in PARTS) + ", gc, total")
    for kind in kinds:
        queries = sets[kind][1:]
        with instrumented(catalog, engine) as clocks, GcClock() as collecting:
            began = time.perf_counter()
            for query in queries:
                search(catalog, engine, query, None)
            total = time.perf_counter() - began
        parts = [clocks[p].seconds for p in PARTS] + [collecting.seconds, total]
        print(f"  {kind:<9}" + "".join(f"{s / len(queries) * 1000:7.1f}" for s in parts))


def profile_kind(
    catalog: Catalog, engine: Engine, kind: str, queries: Sequence[Query], top: int
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


# driver


def directory_mib(directory: Path) -> float:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 2**20


def run_size(size: int, args: argparse.Namespace, forms: Sequence[str]) -> None:
    folder = args.dir / f"search-{size}"
    path = folder / "catalog.sqlite3"
    index_dir = folder / "tantivy"
    print(f"\n=== {size:,} passages ===")
    reuse = args.reuse and path.exists()
    if not reuse:
        shutil.rmtree(folder, ignore_errors=True)
        with Catalog(path) as catalog:
            engine = FtsEngine(catalog)
            generator = Generator(forms, args.zipf, args.seed + size)
            print_build(build(catalog, engine, generator, size))
            checkpoint(catalog)
    else:
        print(f"reusing {path}")
    if "tantivy" in args.engines and not (index_dir / "meta.json").exists():
        with Catalog(path) as catalog:
            print_tantivy_build(index_tantivy(catalog, TantivyEngine(catalog, index_dir)))
            checkpoint(catalog)
    if reuse:  # a build leaves the analyser's caches full, as a long-running server has them
        with Catalog(path) as catalog:
            warm_analyser(catalog)
    with Catalog(path) as catalog:
        engines: dict[str, Engine] = {}
        for name in args.engines:
            engines[name] = (
                FtsEngine(catalog) if name == "fts" else TantivyEngine(catalog, index_dir)
            )
        print_sizes(path, catalog)
        if "tantivy" in engines:
            print(f"tantivy index: {directory_mib(index_dir):,.1f} MiB ({index_dir})")
        statements, passages = catalog.db.execute(
            "SELECT count(*), (SELECT count(*) FROM passages) FROM statements WHERE status = ?",
            (str(Status.INDEXED),),
        ).fetchone()
        sets = query_sets(catalog, statements, passages, args.queries, args.seed)
        kinds = [k for k in KINDS if k in args.kinds]
        compared = [time_kind(catalog, engines, kind, sets[kind]) for kind in kinds]
        for name in engines:
            print(f"--- {name}")
            print_timings(size, [c.timings[name] for c in compared])
        if len(engines) > 1:
            agreed = sum(c.agree for c in compared)
            total = sum(c.n for c in compared)
            per_kind = ", ".join(
                f"{kind} {c.agree}/{c.n}" for kind, c in zip(kinds, compared, strict=True)
            )
            print(f"total, facets and trend: agree {agreed}/{total} ({per_kind})")
            for kind, c in zip(kinds, compared, strict=True):
                if c.differing:
                    print(f"  {kind} differs on: {c.differing}")
        if "tantivy" in engines:
            began = time.perf_counter()
            tantivy_engine = engines["tantivy"]
            assert isinstance(tantivy_engine, TantivyEngine)
            shares = {
                kind: top_agreement(catalog, tantivy_engine, sets[kind])
                for kind in kinds
                if kind in RANKED_KINDS
            }
            print(
                f"top-{TOP} agreement with full FTS5 BM25 (mean share of passages in common): "
                + ", ".join(f"{kind} {share:.2f}" for kind, share in shares.items())
                + f" ({time.perf_counter() - began:.1f} s)"
            )
        if args.breakdown and "fts" in engines:
            print_breakdown(catalog, engines["fts"], sets, kinds)
        for name, engine in engines.items():
            for kind in args.profile:
                print(f"--- {name}")
                profile_kind(catalog, engine, kind, sets[kind], args.profile_top)
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
        help="query a kept catalog of a size instead of building it anew",
    )
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument(
        "--engines",
        nargs="+",
        default=list(ENGINES),
        choices=ENGINES,
        help="engines to time side by side (the FTS5 index is built in any case: the queries "
        "are chosen with it)",
    )
    parser.add_argument(
        "--profile",
        nargs="*",
        default=[],
        choices=KINDS,
        help="also print a cProfile of these kinds' queries",
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also print where each kind's time goes in the FTS5 engine (one more pass)",
    )
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of word ranks")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    forms, nouns = german_forms()
    print(
        f"{len(forms):,} German word forms (wordfreq {version('wordfreq')}; {nouns:,} nouns "
        f"capitalised, {time.perf_counter() - began:.0f} s), "
        f"Zipf exponent {args.zipf}; SQLite {sqlite3.sqlite_version}"
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
