"""The search index of releases before tantivy, read-only: SQLite FTS5 in the catalog file
itself. A catalog from such a release keeps answering searches with it until the first writing
command builds the tantivy index (archive.search.tantivy) and drops these tables; nothing
writes it any more. Text is analysed in Python (archive.analysis); FTS5 indexes the terms in
three columns: the words' terms in order (phrases match here), compound heads, and compound
modifiers, weighted in that order. User text never reaches FTS5's query parser: only quoted
terms made by the analyser do.

Work is bounded by design, so that a broad query stays fast in a large archive:
- a passage's row id carries its statement (seq << 16 | position): grouping, counting, facets
  and the monthly trend come from one pass over the matches' row ids, without ranking;
- relevance is computed for at most RANK_CANDIDATES matching passages, the newest; statements
  whose passages all lie beyond them are listed after the ranked ones, newest first, and show
  their first matching passages, as statements in date order do;
- only as many statements as a page needs are ordered;
- prefixes need three letters (archive.analysis.MIN_PREFIX) and use a three-letter prefix index.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence

from archive.analysis import Clause
from archive.catalog import PASSAGE_BITS, Catalog
from archive.dates import PartialDate
from archive.errors import CatalogNeedsMigration, StadtstimmeError
from archive.models import Passage, Statement, Status
from archive.search import (
    Built,
    Engine,
    Matches,
    PageReady,
    Progress,
    Query,
    RankedPassage,
    RankedStatement,
)
from archive.search.vocabulary import CatalogVocabulary

RANK_CANDIDATES = 2000


class LegacyIndex(StadtstimmeError):
    """A write was asked of the read-only FTS5 index."""

    status = 409
    code = "legacy_index"


# (seq, id, published, municipality, speaker, matching passages) of a matching statement
_Match = tuple[int, str, PartialDate | None, str | None, str | None, int]
# (id, status, published, municipality, speaker, source, language) of a statement, by seq
_Facts = tuple[str, str, PartialDate | None, str | None, str | None, str | None, str | None]
_FACT_INDEX = {"municipality": 3, "speaker": 4, "source": 5, "language": 6}
_FACTS: dict[str, tuple[int, dict[int, _Facts]]] = {}
WEIGHTS = (1.0, 0.6, 0.3)  # terms, heads, modifiers
# The table as releases before tantivy made it (tests make such catalogs with it).
LEGACY_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5(
    terms, heads, modifiers,
    tokenize = "unicode61 remove_diacritics 0", prefix = '3', detail = 'full'
)
"""
_BM25 = f"bm25(passage_terms, {', '.join(str(w) for w in WEIGHTS)})"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _clause_expression(clause: Clause) -> str:
    quoted = _quoted(" ".join(clause.terms))
    if clause.prefix:
        return quoted + " *"
    if clause.phrase:
        return "terms : " + quoted
    return quoted


def match_expression(clauses: Sequence[Clause]) -> str | None:
    """The FTS5 MATCH string for parsed clauses, or None when nothing positive is asked for."""
    positive = [_clause_expression(c) for c in clauses if not c.excluded]
    if not positive:
        return None
    excluded = [_clause_expression(c) for c in clauses if c.excluded]
    expression = " AND ".join(positive)
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def _read_facts(catalog: Catalog) -> dict[int, _Facts]:
    return {
        seq: (row[0], row[1], PartialDate.stored(row[2]), *row[3:])
        for seq, row in catalog.statement_facts().items()
    }


class LegacyFtsEngine:
    """Searches, read-only, in the FTS5 index of a catalog from before tantivy: it answers until
    the first writing command has built the tantivy index (archive.indexing.prepare_index),
    which then drops the FTS5 tables. It writes nothing: every writing command builds the
    tantivy index first."""

    def __init__(self, catalog: Catalog, successor: Callable[[], Engine]) -> None:
        self.catalog = catalog
        self.vocabulary = CatalogVocabulary(catalog)
        self.successor = successor  # the engine that answers once these tables are dropped
        if not catalog.has_fts_index():
            raise CatalogNeedsMigration(
                f"the catalog {catalog.path} has no search index yet: run a writing "
                "command such as `stadtstimme reindex` first"
            )

    def ready(self) -> bool:
        return True

    def _read_only(self) -> LegacyIndex:
        return LegacyIndex(
            f"the search index in {self.catalog.path} is from an older release and is only "
            "read: a writing command such as `stadtstimme reindex` builds its successor"
        )

    def index(
        self,
        statement: Statement,
        passages: Sequence[tuple[int, Passage]],
        into: Built | None = None,
    ) -> None:
        raise self._read_only()

    def remove(self, seqs: Collection[int], into: Built | None = None) -> None:
        raise self._read_only()

    def held(self) -> dict[int, int]:
        rows = self.catalog.db.execute(
            f"SELECT rowid >> {PASSAGE_BITS}, count(*) FROM passage_terms GROUP BY 1"
        )
        return {int(row[0]): int(row[1]) for row in rows}

    def build(self, statements: Sequence[Statement], progress: Progress | None) -> Built:
        raise self._read_only()

    def swap(self, built: Built) -> None:
        raise self._read_only()

    def discard(self, built: Built) -> None:
        raise self._read_only()

    def index_bytes(self) -> int | None:
        """The FTS5 tables' pages in the catalog file; None where SQLite has no dbstat."""
        try:
            row = self.catalog.db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'passage_terms%'"
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        return int(row[0] or 0)

    def _facts(self) -> dict[int, _Facts]:
        """Every statement's searchable facts by seq, cached per catalog file until a statement
        changes: joining tens of thousands of matching statements in SQL costs more than the
        whole rest of a search."""
        return self.catalog.per_version(_FACTS, _read_facts)

    def _matching_statements(self, expression: str, query: Query) -> list[_Match]:
        """(seq, id, published, municipality, speaker, matching passages) of every match."""
        facts = self._facts()
        wanted = [(_FACT_INDEX[name], value) for name, value in query.filters.items()]
        low, high = query.date_from, query.date_to
        indexed = str(Status.INDEXED)
        grouped = self.catalog.db.execute(
            f"SELECT rowid >> {PASSAGE_BITS}, count(*) FROM passage_terms "
            "WHERE passage_terms MATCH ? GROUP BY 1",
            (expression,),
        )
        matching: list[_Match] = []
        for seq, passages in grouped:
            fact = facts.get(seq)
            if fact is None or fact[1] != indexed:
                continue
            if wanted and any(fact[index] != value for index, value in wanted):
                continue
            published = fact[2]
            if (low or high) and not (published and published.overlaps(low, high)):
                continue
            matching.append((seq, fact[0], published, fact[3], fact[4], passages))
        return matching

    def _candidates(
        self, expression: str, allowed: set[int], filtered: bool
    ) -> dict[int, list[tuple[float, int]]]:
        """Scores of the newest RANK_CANDIDATES matching passages of allowed statements, by seq.

        FTS5 computes bm25 only for the rows it returns, so the statement filter goes into the
        SQL (as a JSON list) when there is one, and the scan stops at the limit."""
        sql = f"SELECT rowid, {_BM25} FROM passage_terms WHERE passage_terms MATCH ?"
        params: list[object] = [expression]
        if filtered:
            sql += f" AND (rowid >> {PASSAGE_BITS}) IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(allowed)))
        sql += " ORDER BY rowid DESC LIMIT ?"
        params.append(RANK_CANDIDATES)
        found: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for rowid, score in self.catalog.db.execute(sql, params):
            seq = rowid >> PASSAGE_BITS
            if seq in allowed:  # statements not (or no longer) indexed are not
                found[seq].append((score, rowid))
        return found

    def _first_passages(self, expression: str, seq: int, limit: int) -> list[tuple[float, int]]:
        """The statement's first matching passages, in the order they were said.

        For statements outside the ranked candidates (date order, or beyond RANK_CANDIDATES):
        FTS5 stops after `limit` rows of the statement's row id range, where ranking them would
        read every match of a common word in the statement."""
        low = seq << PASSAGE_BITS
        rows = self.catalog.db.execute(
            "SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? "
            "AND rowid >= ? AND rowid < ? ORDER BY rowid LIMIT ?",
            (expression, low, low + (1 << PASSAGE_BITS), limit),
        )
        # No bm25 here: it would make FTS5 count each term's documents in the whole archive.
        return [(float(position), row[0]) for position, row in enumerate(rows)]

    def search(self, query: Query, page_ready: PageReady | None = None) -> Matches:
        """Search the FTS5 tables; when an upgrade dropped them after this engine was chosen
        (a server chooses one per request), the index that replaced them answers."""
        try:
            return self._search(query)
        except sqlite3.OperationalError as error:
            if "no such table" not in str(error):
                raise
        return self.successor().search(query, page_ready)

    def _search(self, query: Query) -> Matches:
        expression = match_expression(query.parsed.clauses)
        if expression is None:
            return Matches(0, [])
        matching = self._matching_statements(expression, query)
        facets = {
            "municipality": Counter(row[3] for row in matching if row[3]),
            "speaker": Counter(row[4] for row in matching if row[4]),
            "year": Counter(str(row[2].year) for row in matching if row[2]),
        }
        trend: Counter[str] = Counter()
        for row in matching:
            if row[2] and (month := row[2].month_key):
                trend[month] += row[5]
        ids = {row[0]: row[1] for row in matching}
        counts = {row[0]: row[5] for row in matching}
        first = (query.page - 1) * query.per_page
        order = self._order(expression, query, matching, first + query.per_page)
        page = order[first:]
        statements = []
        for seq, scored in page:
            wanted = min(counts[seq], query.passages_per_statement)
            if len(scored) >= wanted:  # the candidates hold the statement's best passages
                best = sorted(scored)[:wanted]
            else:
                best = self._first_passages(expression, seq, query.passages_per_statement)
            statements.append(
                RankedStatement(
                    ids[seq], tuple(RankedPassage(rowid, score) for score, rowid in best)
                )
            )
        return Matches(
            total=len(matching),
            statements=statements,
            facets={name: dict(counter.most_common()) for name, counter in facets.items()},
            trend=dict(sorted(trend.items())),
        )

    def _order(
        self, expression: str, query: Query, matching: Sequence[_Match], wanted: int
    ) -> list[tuple[int, list[tuple[float, int]]]]:
        """The first `wanted` matching statements' seqs in result order, with their known scores.

        Only as many as a page needs are ordered (heapq): a common word matches tens of
        thousands of statements."""
        if query.sort == "relevance":
            filtered = bool(query.filters or query.date_from or query.date_to)
            candidates = self._candidates(expression, {row[0] for row in matching}, filtered)
            ranked = sorted(candidates, key=lambda seq: min(candidates[seq]))[:wanted]
            rest = heapq.nlargest(
                wanted - len(ranked), (row[0] for row in matching if row[0] not in candidates)
            )
            return [(seq, candidates[seq]) for seq in ranked] + [(seq, []) for seq in rest]
        pick = heapq.nlargest if query.sort == "newest" else heapq.nsmallest
        dated = pick(wanted, ((row[2], row[0]) for row in matching if row[2]))
        undated = heapq.nlargest(wanted - len(dated), (row[0] for row in matching if not row[2]))
        order: list[tuple[int, list[tuple[float, int]]]] = [(seq, []) for _, seq in dated]
        return order + [(seq, []) for seq in undated]
