"""One search protocol, several engines. The catalog is the truth; an engine is a projection of it.

An engine finds and ranks passages, groups them by statement and counts facets and the monthly
trend. Snippets, highlights, deep links and did-you-mean are made here, from the catalog, so that
every engine answers alike.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal, Protocol, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from rapidfuzz import fuzz, process

from archive.analysis import ParsedQuery, fold, parse_query, term
from archive.catalog import Catalog
from archive.dates import PartialDate
from archive.models import Passage, Statement
from archive.search.vocabulary import Vocabulary

Sort = Literal["relevance", "newest", "oldest"]
# A statement's metadata fields that search covers besides its passages. A match in one of them
# is a statement-level hit: no moment, not counted in the trend.
MetaField = Literal["title", "speaker", "municipality"]
META_FIELDS: tuple[MetaField, ...] = ("title", "speaker", "municipality")
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
    date_from: PartialDate | None = None  # both ends inclusive: a statement dated within
    date_to: PartialDate | None = None  # the range, or dated less precisely and overlapping it
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
    passages: tuple[RankedPassage, ...]  # empty when only its metadata matched
    matched_in: tuple[MetaField, ...] = ()  # the metadata fields that match, in META_FIELDS order


@dataclass
class Matches:
    """What an engine answers: one page of statements with their best passages, and counts over
    the whole result (statements per facet value, matching passages per month).

    A statement matches when one of its passages matches the query or one of its metadata
    fields does (each field on its own, as each passage: every word of the query in it);
    `total` and the facets count statements of that union, the trend matching passages only."""

    total: int
    statements: list[RankedStatement]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    trend: dict[str, int] = field(default_factory=dict)


Progress = Callable[[int, int], None]  # passages done, passages in all
# Called by an engine's search with the page's statements as soon as it knows them, before it
# has counted every match, so that the caller reads them meanwhile (archive.search.search).
PageReady = Callable[[list[RankedStatement]], None]


@dataclass(frozen=True)
class Built:
    """An index built beside the current one, not yet answering searches (`Engine.build`)."""

    name: str  # the engine's name for it: a directory, an index uid
    statements: tuple[int, ...]  # the seqs it holds
    passages: int


class Engine(Protocol):
    """A search index: a projection of the catalog, kept in step by one protocol that every
    engine follows (archive.indexing carries it out; the engines only do what it asks):

    1. The catalog commits first. A transcript is saved (status TRANSCRIBED) before the index
       holds it; a takedown (hidden, deleted) is committed in the catalog before the index
       forgets it. Searches show only statements the catalog calls INDEXED, so a takedown is
       gone from search the moment the catalog commits it.
    2. Every index write happens inside a catalog write transaction (BEGIN IMMEDIATE), taken
       before the index writer: writers of all processes queue on the catalog first, so the
       index and the statuses change in one order everywhere, and the engine's own writer lock
       is only a second guard.
    3. `index()` replaces a statement's passages and its metadata (META_FIELDS, searched too:
       a metadata edit is indexed by indexing the statement again) and commits the index; the
       catalog then marks the statement INDEXED in the same catalog transaction, committed
       last. A crash between the two leaves a TRANSCRIBED statement the index already holds:
       invisible, and indexed again (idempotently) by the next reconciliation.
    4. Reconciliation (`archive.indexing.reconcile`, at the start of every writing command)
       compares `held()` with the catalog: passages of statements that are not INDEXED are
       removed, INDEXED statements whose passage count differs and TRANSCRIBED ones are
       indexed, all in one catalog transaction.
    5. A rebuild builds a new index beside the current one (`build`), searches still answering
       from the old, then, in one catalog transaction, swaps it in (`swap`), marks what it
       built INDEXED and reconciles what changed meanwhile.
    """

    @property
    def vocabulary(self) -> Vocabulary: ...

    def ready(self) -> bool:
        """Whether an index answers (False before the first build)."""
        ...

    def index(
        self,
        statement: Statement,
        passages: Sequence[tuple[int, Passage]],
        into: Built | None = None,
    ) -> None:
        """Replace the statement's passages (all of them, by its seq) and its metadata, and
        commit, in the current index or in a built one not yet swapped in."""
        ...

    def remove(self, seqs: Collection[int], into: Built | None = None) -> None:
        """Remove every passage and the metadata of these statements and commit."""
        ...

    def held(self) -> dict[int, int]:
        """How many passages the index holds of each statement, by seq (0 for a statement of
        which it holds only the metadata)."""
        ...

    def build(self, statements: Sequence[Statement], progress: Progress | None) -> Built:
        """Index these statements' passages and metadata into a new index that answers nothing
        yet."""
        ...

    def swap(self, built: Built) -> None:
        """Make a built index the one that answers, and drop the one it replaces."""
        ...

    def discard(self, built: Built) -> None:
        """Drop a built index that will not be swapped in."""
        ...

    def search(self, query: Query, page_ready: PageReady | None = None) -> Matches:
        """Statements of the indexed ones that match, honouring filters, sort and page. An
        engine that knows the page before the counts calls `page_ready` with the statements it
        will return (the same list), in the calling thread; one that does not, need not."""
        ...

    def index_bytes(self) -> int | None:
        """How much the index takes on this machine's disk (None: not on this machine)."""
        ...


class PassageHit(BaseModel):
    """A moment in which the query was said: a snippet around it and a link one second before."""

    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    second: int = Field(description="Where the link starts: a second before the first match.")
    snippet: str
    snippet_html: str = Field(description="The snippet, HTML-escaped, with matches in <mark>.")
    link: str = Field(description="The statement page, its player starting at `second`.")
    source_link: str | None = Field(description="The moment in the source's own player.")


class StatementView(BaseModel):
    """A statement as the page, the API and `--json` show it: its metadata and its links."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    published: str | None = Field(description="YYYY, YYYY-MM or YYYY-MM-DD: as precise as known.")
    duration: float | None = Field(description="Seconds.")
    municipality: str | None
    speaker: str | None
    uploader: str | None
    language: str | None
    page_url: str | None
    thumbnail: str | None
    note: str | None
    link: str = Field(description="The statement's page.")
    media: str | None = Field(description="The archived video or audio; null when none is kept.")
    media_kind: Literal["video", "audio"] | None = Field(description="What `media` holds.")
    poster: str | None = Field(description="A still of the archived video.")

    @classmethod
    def of(cls, statement: Statement, public_url: str | None, **more: Any) -> Self:
        """The view of a catalog statement; `more` fills the fields a subclass adds."""
        base = public_url or ""
        kept = statement.media_file is not None and statement.media_kind is not None
        return cls(
            id=statement.id,
            title=statement.title,
            published=None if statement.published is None else str(statement.published),
            duration=statement.duration,
            municipality=statement.municipality,
            speaker=statement.speaker,
            uploader=statement.uploader,
            language=statement.language,
            page_url=statement.page_url,
            thumbnail=statement.thumbnail,
            note=statement.note,
            link=statement_link(statement.id, None, public_url),
            media=f"{base}/media/{statement.id}" if kept else None,
            media_kind=statement.media_kind if kept else None,
            poster=f"{base}/media/{statement.id}/poster.jpg" if statement.poster_file else None,
            **more,
        )


class StatementHit(StatementView):
    """A statement that says the query, with its best moments, or whose metadata matches it."""

    passages: tuple[PassageHit, ...] = Field(
        description="The best matching moments; empty when only the metadata matched."
    )
    matched_in: tuple[MetaField, ...] = Field(
        default=(),
        description=(
            "The metadata fields (title, speaker, municipality) that match the query: a "
            "statement-level hit, with no moment and not counted in the trend. Empty when only "
            "passages matched."
        ),
    )
    _statement: Statement | None = PrivateAttr(default=None)

    @classmethod
    def found(
        cls,
        statement: Statement,
        passages: Sequence[PassageHit],
        public_url: str | None,
        matched_in: Sequence[MetaField] = (),
    ) -> StatementHit:
        hit = cls.of(statement, public_url, passages=tuple(passages), matched_in=tuple(matched_in))
        hit._statement = statement
        return hit

    @property
    def statement(self) -> Statement:
        """The catalog's record the hit was made from, for callers in this process; not shown."""
        assert self._statement is not None, "a hit read back from JSON has no catalog record"
        return self._statement


class Results(BaseModel):
    """One page of a search: the statements that say the query, and counts over all of them."""

    model_config = ConfigDict(frozen=True)

    query: str
    total: int = Field(description="Statements that match (not passages).")
    page: int
    per_page: int
    pages: int
    took_ms: float
    suggestion: str | None = Field(description="The query with unknown words spelled as said.")
    corrected: bool = Field(description="True when the results are the suggestion's.")
    facets: dict[str, dict[str, int]] = Field(
        description="Matching statements per municipality, speaker and year."
    )
    trend: dict[str, int] = Field(description="Matching passages per month (YYYY-MM).")
    statements: list[StatementHit]

    @classmethod
    def of(
        cls,
        query: Query,
        matches: Matches,
        statements: list[StatementHit],
        *,
        suggestion: str | None = None,
        corrected: bool = False,
        took_ms: float = 0.0,
    ) -> Results:
        return cls(
            query=query.text,
            total=matches.total,
            page=query.page,
            per_page=query.per_page,
            pages=max(1, math.ceil(matches.total / query.per_page)),
            took_ms=round(took_ms, 2),
            suggestion=suggestion,
            corrected=corrected,
            facets=matches.facets,
            trend=matches.trend,
            statements=statements,
        )


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
    matched = parsed.matched([word.text for word in passage.words])
    first = next((n for n, hit in enumerate(matched) if hit), 0)
    moment = passage.words[first].start if passage.words else passage.start
    second = max(0, math.floor(moment - LEAD_SECONDS))
    lo = max(0, first - SNIPPET_BEFORE)
    hi = min(len(passage.words), lo + SNIPPET_WORDS)
    plain: list[str] = []
    marked: list[str] = []
    for word, hit in zip(passage.words[lo:hi], matched[lo:hi], strict=True):
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


def _nearest_word(vocabulary: Vocabulary, written: str) -> str | None:
    """The indexed word nearest to a word nobody said (did-you-mean), by edit similarity.

    Typos rarely hit the first letter, so only words sharing it are compared."""
    folded = fold(written)
    if len(folded) < 4:
        return None
    candidates = vocabulary.starting_with(term(written)[:1])
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


def suggest(vocabulary: Vocabulary, query: Query) -> str | None:
    """The query with each unknown word replaced by the nearest indexed word, if any changed."""
    replacements: dict[str, str] = {}
    for clause in query.parsed.positive:
        if clause.prefix or clause.phrase:
            continue
        (written,) = clause.written
        if vocabulary.passages_with(clause.terms[0]) > 0:
            continue
        nearest = _nearest_word(vocabulary, written)
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

    The page's statements, passages and snippets are read as soon as the engine knows the page
    (`page_ready`), while it still counts every match (at a million passages a common word's
    counts take about 20 ms, the page's reading and snippets about 9).
    When nothing is found and a spelling suggestion exists, the suggestion's results are given
    instead, marked `corrected`, so that a typo does not end the search."""
    began = time.perf_counter()
    parsed = query.parsed
    if parsed.empty:
        return Results.of(query, Matches(total=0, statements=[]), [])
    read: list[tuple[list[RankedStatement], list[StatementHit]]] = []

    def page_ready(page: list[RankedStatement]) -> None:
        read.append((page, hits_of(catalog, page, parsed, public_url)))

    matches = engine.search(query, page_ready)
    suggestion = suggest(engine.vocabulary, query) if matches.total < SUGGEST_BELOW + 1 else None
    corrected = False
    if matches.total == 0 and suggestion:
        matches = engine.search(replace(query, text=suggestion))
        corrected = matches.total > 0
    if read and read[-1][0] is matches.statements:
        hits = read[-1][1]
    else:
        active = parse_query(suggestion) if corrected and suggestion else parsed
        hits = hits_of(catalog, matches.statements, active, public_url)
    return Results.of(
        query,
        matches,
        hits,
        suggestion=suggestion,
        corrected=corrected,
        took_ms=(time.perf_counter() - began) * 1000,
    )


def hits_of(
    catalog: Catalog, page: list[RankedStatement], parsed: ParsedQuery, public_url: str | None
) -> list[StatementHit]:
    """The page's statements from the catalog, each with its passages' snippets (a statement
    taken down since the engine found it is left out)."""
    statements = catalog.statements_by_id([s.statement_id for s in page])
    passages = catalog.passages_by_rowid([p.rowid for s in page for p in s.passages])
    return [
        StatementHit.found(
            statement,
            [
                passage_hit(statement, passages[p.rowid], parsed, public_url)
                for p in ranked.passages
                if p.rowid in passages
            ],
            public_url,
            ranked.matched_in,
        )
        for ranked in page
        if (statement := statements.get(ranked.statement_id)) is not None
    ]
