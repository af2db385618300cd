"""One search protocol, several engines. The catalog is the truth; an engine is a projection of it.

An engine ranks passages; grouping by statement, snippets, highlights and deep links are made
here, from the passages' word timestamps, so that every engine answers alike.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from archive.analysis import ParsedQuery, parse_query
from archive.catalog import Catalog
from archive.models import Passage, Statement

Sort = Literal["relevance", "newest", "oldest"]
MAX_QUERY_CHARS = 1000
SNIPPET_BEFORE = 8
SNIPPET_WORDS = 30
LEAD_SECONDS = 1.0


@dataclass(frozen=True)
class Query:
    text: str
    municipality: str | None = None
    speaker: str | None = None
    language: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 10
    passages_per_statement: int = 3

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text[:MAX_QUERY_CHARS])


@dataclass(frozen=True)
class RankedPassage:
    """What an engine returns: a passage row, best first."""

    rowid: int
    statement_id: str
    score: float


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
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


class Engine(Protocol):
    def index(self, statement: Statement, passages: Sequence[tuple[int, Passage]]) -> None: ...

    def delete(self, statement_id: str) -> None: ...

    def rank(self, query: Query) -> list[RankedPassage]:
        """Every matching passage of a visible statement, best first, honouring filters."""
        ...

    def clear(self) -> None: ...


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


def _passage_hit(
    statement: Statement, passage: Passage, parsed: ParsedQuery, public_url: str | None
) -> PassageHit:
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


def search(catalog: Catalog, engine: Engine, query: Query, public_url: str | None) -> Results:
    """Run a query: rank passages, group them by statement, page, and build snippets and links."""
    began = time.perf_counter()
    parsed = query.parsed
    if parsed.empty:
        return Results(query=query, total=0)
    ranked = engine.rank(query)
    grouped: dict[str, list[RankedPassage]] = {}
    for hit in ranked:
        grouped.setdefault(hit.statement_id, []).append(hit)
    order = list(grouped)
    first = (query.page - 1) * query.per_page
    page_ids = order[first : first + query.per_page]
    statements = catalog.statements_by_id(page_ids)
    wanted = [h.rowid for sid in page_ids for h in grouped[sid][: query.passages_per_statement]]
    passages = catalog.passages_by_rowid(wanted)
    hits: list[StatementHit] = []
    for sid in page_ids:
        statement = statements[sid]
        best = [
            _passage_hit(statement, passages[h.rowid], parsed, public_url)
            for h in grouped[sid][: query.passages_per_statement]
        ]
        hits.append(StatementHit(statement, tuple(best), statement_link(sid, None, public_url)))
    took = (time.perf_counter() - began) * 1000
    return Results(query=query, total=len(order), statements=hits, took_ms=took)
