"""One search protocol, several engines. The catalog is the truth; an engine is a projection of it.

An engine finds and ranks passages, groups them by statement and counts facets and the monthly
trend. Snippets, highlights, deep links and did-you-mean are made here, from the catalog, so that
every engine answers alike.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rapidfuzz import fuzz, process

from archive.analysis import ParsedQuery, fold, parse_query, term
from archive.catalog import Catalog
from archive.models import Passage, Statement

Sort = Literal["relevance", "newest", "oldest"]
SORTS: tuple[Sort, ...] = ("relevance", "newest", "oldest")
MAX_QUERY_CHARS = 1000
SNIPPET_BEFORE = 8
SNIPPET_WORDS = 30
LEAD_SECONDS = 1.0
# Did-you-mean: suggest when a query finds at most this many statements, words this similar.
SUGGEST_BELOW = 1
SUGGEST_SIMILARITY = 80.0


@dataclass(frozen=True)
class Query:
    text: str
    municipality: str | None = None
    speaker: str | None = None
    source: str | None = None
    language: str | None = None
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD; both ends inclusive
    date_to: str | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 10
    passages_per_statement: int = 3

    @cached_property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text[:MAX_QUERY_CHARS])

    @property
    def filters(self) -> dict[str, str]:
        """The equality filters that are set."""
        names = ("municipality", "speaker", "source", "language")
        return {name: value for name in names if (value := getattr(self, name))}


@dataclass(frozen=True)
class RankedPassage:
    rowid: int
    score: float


@dataclass(frozen=True)
class RankedStatement:
    statement_id: str
    passages: tuple[RankedPassage, ...]


@dataclass
class Matches:
    """What an engine answers: one page of statements with their best passages, and counts over
    the whole result (statements per facet value, matching passages per month)."""

    total: int
    statements: list[RankedStatement]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    trend: dict[str, int] = field(default_factory=dict)


class Engine(Protocol):
    def index(self, statement: Statement, passages: Sequence[tuple[int, Passage]]) -> None: ...

    def delete(self, statement_id: str) -> None: ...

    def search(self, query: Query) -> Matches:
        """Statements of the indexed ones that match, honouring filters, sort and page."""
        ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class PassageHit:
    start: float
    end: float
    second: int
    snippet: str
    snippet_html: str
    link: str
    source_link: str | None


@dataclass(frozen=True)
class StatementHit:
    statement: Statement
    passages: tuple[PassageHit, ...]
    link: str


@dataclass
class Results:
    query: Query
    total: int
    statements: list[StatementHit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    trend: dict[str, int] = field(default_factory=dict)
    suggestion: str | None = None
    corrected: bool = False
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


def statement_link(statement_id: str, second: int | None, public_url: str | None) -> str:
    path = f"/statements/{statement_id}" + (f"?t={second}" if second is not None else "")
    return f"{public_url}{path}" if public_url else path


def source_link(statement: Statement, second: int) -> str | None:
    """A link to the moment in the source's own player, where that player understands one."""
    page = statement.page_url
    if not page:
        return None
    extractor = (statement.extractor or "").lower()
    if extractor == "youtube":
        parts = urlsplit(page)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "t"] + [("t", f"{second}s")]
        return urlunsplit(parts._replace(query=urlencode(query)))
    if extractor == "vimeo":
        return urlunsplit(urlsplit(page)._replace(fragment=f"t={second}s"))
    return None


def passage_hit(
    statement: Statement, passage: Passage, parsed: ParsedQuery, public_url: str | None
) -> PassageHit:
    """Snippet around the first matched word, marked, and a link one second before it."""
    marks = [parsed.matches_word(word.text) for word in passage.words]
    first = marks.index(True) if True in marks else 0
    moment = passage.words[first].start if passage.words else passage.start
    second = max(0, math.floor(moment - LEAD_SECONDS))
    lo = max(0, first - SNIPPET_BEFORE)
    hi = min(len(passage.words), lo + SNIPPET_WORDS)
    plain: list[str] = []
    marked: list[str] = []
    for word, hit in zip(passage.words[lo:hi], marks[lo:hi], strict=True):
        text = word.text.strip()
        plain.append(text)
        marked.append(f"<mark>{html.escape(text)}</mark>" if hit else html.escape(text))
    prefix = "… " if lo > 0 else ""
    suffix = " …" if hi < len(passage.words) else ""
    return PassageHit(
        start=passage.start,
        end=passage.end,
        second=second,
        snippet=prefix + " ".join(plain) + suffix,
        snippet_html=prefix + " ".join(marked) + suffix,
        link=statement_link(statement.id, second, public_url),
        source_link=source_link(statement, second),
    )


def _nearest_word(catalog: Catalog, written: str) -> str | None:
    """The indexed word nearest to a word nobody said (did-you-mean), by edit similarity.

    Typos rarely hit the first letter, so only words sharing it are compared."""
    folded = fold(written)
    if len(folded) < 4:
        return None
    candidates = catalog.vocabulary(term(written)[:1])
    if not candidates:
        return None
    choices = {spelling: fold(spelling) for _, spelling, _ in candidates}
    counts = {spelling: n for _, spelling, n in candidates}
    best = process.extract(
        folded, choices, scorer=fuzz.ratio, score_cutoff=SUGGEST_SIMILARITY, limit=5
    )
    if not best:
        return None
    _, score, spelling = max(best, key=lambda hit: (hit[1], counts[hit[2]]))
    return str(spelling) if score < 100 else None


def suggest(catalog: Catalog, query: Query) -> str | None:
    """The query with each unknown word replaced by the nearest indexed word, if any changed."""
    replacements: dict[str, str] = {}
    for clause in query.parsed.positive:
        if clause.prefix or clause.phrase:
            continue
        (written,) = clause.written
        if catalog.passages_with_term(clause.terms[0]) > 0:
            continue
        nearest = _nearest_word(catalog, written)
        if nearest:
            replacements[written] = nearest
    if not replacements:
        return None
    text = query.text[:MAX_QUERY_CHARS]
    for written, nearest in replacements.items():
        text = text.replace(written, nearest, 1)
    return text


def search(catalog: Catalog, engine: Engine, query: Query, public_url: str | None) -> Results:
    """Run a query: the engine's matches, with snippets, deep links and a did-you-mean.

    When nothing is found and a spelling suggestion exists, the suggestion's results are given
    instead, marked `corrected`, so that a typo does not end the search."""
    began = time.perf_counter()
    parsed = query.parsed
    if parsed.empty:
        return Results(query=query, total=0)
    matches = engine.search(query)
    suggestion = suggest(catalog, query) if matches.total < SUGGEST_BELOW + 1 else None
    corrected = False
    if matches.total == 0 and suggestion:
        matches = engine.search(replace(query, text=suggestion))
        corrected = matches.total > 0
    statements = catalog.statements_by_id([s.statement_id for s in matches.statements])
    passages = catalog.passages_by_rowid([p.rowid for s in matches.statements for p in s.passages])
    active = parse_query(suggestion) if corrected and suggestion else parsed
    hits = [
        StatementHit(
            statement=statements[ranked.statement_id],
            passages=tuple(
                passage_hit(statements[ranked.statement_id], passages[p.rowid], active, public_url)
                for p in ranked.passages
                if p.rowid in passages
            ),
            link=statement_link(ranked.statement_id, None, public_url),
        )
        for ranked in matches.statements
        if ranked.statement_id in statements
    ]
    return Results(
        query=query,
        total=matches.total,
        statements=hits,
        facets=matches.facets,
        trend=matches.trend,
        suggestion=suggestion,
        corrected=corrected,
        took_ms=(time.perf_counter() - began) * 1000,
    )
