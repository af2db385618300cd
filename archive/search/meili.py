"""The Meilisearch engine: the search protocol of archive.search (`Engine`) served by a
Meilisearch server, for archives that outgrow one machine (STADTSTIMME_MEILI_URL,
STADTSTIMME_MEILI_KEY). The embedded engine is tantivy (archive/search/tantivy.py).

Why it looks the way it does: Meilisearch has no German stemming, no compound splitting and
matches a prefix only on the last query word. So every passage document carries the terms our
analyser made of its text (archive.analysis), exactly what the embedded engine indexes, and
queries are written in those terms: both engines then find the same passages. That includes
compounds Whisper wrote apart or hyphenated ("Umbau arbeiten"): the document's `joined` field
holds the analyser's joined terms ("umbauarbeit"), so that a query word finds them as it finds any
term, with no query of another form (Meilisearch's query language has no OR). The catalog stays
the truth: which statements are visible (status), their dates, places and speakers are read
from it at search time, so facets, trend and date order come out as the embedded engine
computes them.

Metadata (title, speaker, municipality: archive.search.META_FIELDS) is searched as the embedded
engine searches it: one document per non-empty field of a statement, in the same index, beside
its passages (id `meta-<seq>-<kind>`, `position` = META_POSITION + kind, past any passage's,
so that the stale filter of `index` keeps it and `held` and the passage requests leave it out
by `position < META_POSITION`), its text
analysed as a passage's into `meta_terms`, `meta_joined`, `meta_heads`, `meta_modifiers`, and
`meta_of` = "<field>:<statement id>". One index, not a second one: ranking needs passages and
metadata in one list (`distinct` by statement), and counting them in one facet request; a
second index would need federated search, whose facets need another server version, and
writes to two indexes per statement. The metadata attributes come first among the searchable
ones, so that Meilisearch's `attribute` rule ranks a field naming the query above passages
matching as well (the embedded engine weighs it by IDF instead). The facet over `meta_of`
gives the fields each statement matches in, and passages are counted as the statement's
matching documents less those. Title, speaker and municipality words count in the did-you-mean
vocabulary as the embedded engine's do. An index written by a version without metadata
documents (its settings lack `meta_of`) makes `ready()` False, so that the first writing
command rebuilds it; until then it answers from its passages.

How it follows the protocol (archive/search/__init__.py, `Engine`; archive.indexing carries it
out):
- The catalog commits first. `index`, `remove` and `swap` take the catalog's write transaction
  (joining the caller's) before they send anything, await every task they enqueue, and change
  the did-you-mean vocabulary (a catalog table, CatalogVocabulary) in that transaction; a failed
  task raises, so the vocabulary change rolls back with the caller's statuses. Meilisearch cannot
  take part in the catalog's transaction: a crash after an awaited task and before the catalog's
  commit leaves the index ahead of the catalog, which the next reconciliation repairs.
- Documents carry their statement's `seq` (filterable). `index` replaces a statement's passages
  by seq: it adds the new ones, then deletes the ones it no longer has, so that a statement
  indexed again stays findable meanwhile; `remove` deletes by `seq IN [...]` filters,
  REMOVE_CHUNK seqs at a time. Both count the vocabulary out from the terms the index's
  documents hold.
- `held()` pages through every document, fetching only `seq`, HELD_PAGE at a time, and counts
  them: exact, and one page in memory at a time. Not a facet distribution over `seq`, which
  maxValuesPerFacet cuts off. Offset paging is consistent because our writers queue on the
  catalog's transaction, in which reconciliation calls it.
- A rebuild: `build` creates a new index `<uid>_build_<nanoseconds>` with the same primary key
  and settings and fills it while searches still answer from the current one, counting its
  vocabulary in memory; `swap` exchanges the two atomically (Meilisearch's swap-indexes; an empty
  current index is created first if there is none), deletes the old one (now under the built
  name) and replaces the vocabulary table's rows with the built index's, in the caller's catalog
  transaction; `discard` deletes a built index that will not be swapped in.

Not run against a server here: no Meilisearch server exists on the machine where this was
written and none could be installed. The pure parts (settings, documents, filters, query text,
request bodies, the write side's filters, paging and swap body, the built vocabulary) are
unit-tested (tests/search/test_meili_unit.py), and every method's error path is tested with the
real client against a closed port; tests/search/test_contract.py runs the shared contract when
MEILI_URL is set. Needs Meilisearch 1.10 or later (negative operator 1.8, `distinct`
search parameter 1.9, `localizedAttributes` and the `locales` search parameter 1.10).

Known differences from the embedded engine (each documented where it arises):
- at most 10 positive words or phrases count: Meilisearch ignores query terms past the 10th;
- one prefix per query: Meilisearch expands only the last query word; further `prefix*` clauses
  are matched as whole words;
- a prefix expands to at most 1,000 words where Meilisearch has no prefix database entry for it,
  and also matches the `joined` terms (a compound said apart, "Umbauarb*" finds "Umbau
  arbeiten"), which the embedded engine does not expand prefixes into (its PREFIXED);
- an excluded prefix (`-Maskenb*`) excludes the vocabulary's words with that prefix (up to
  MAX_EXCLUDED_EXPANSION of them), not compound parts that were never said as words of their own;
- phrases: the embedded engine matches them in `terms` only, Meilisearch in any searchable
  field; compound parts are therefore joined by a hard separator, so that no phrase can match
  two of them;
- Meilisearch also matches the concatenation of up to three consecutive query words ("kita
  offnung" finds "kitaoffnung"), which the compound parts make the embedded engine find too in
  nearly every case, and a query word split in two adjacent indexed words (its best split only),
  which the `joined` field makes the embedded engine find too wherever the split is the written
  one ("umbauarbeit" finds "umbau arbeit" in both);
- filters and dates are applied by Meilisearch to the values copied into the documents when they
  were indexed, then checked again against the catalog: a statement whose metadata changed
  since can be missing where the embedded engine finds it;
- relevance order is Meilisearch's (words, proximity, attribute, exactness), not BM25;
- counts cover at most MAX_VALUES_PER_FACET matching statements.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

import meilisearch
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.index import Index
from meilisearch.models.document import Document
from meilisearch.models.task import Task, TaskInfo

from archive.analysis import Clause, ParsedQuery, analyse_text
from archive.catalog import PASSAGE_BITS, Catalog
from archive.errors import StadtstimmeError
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
from archive.search.vocabulary import CatalogVocabulary, spelled_terms

INDEX = "passages"
PRIMARY_KEY = "id"
TERM_FIELDS = ("terms", "joined", "heads", "modifiers")
META_TERM_FIELDS = ("meta_terms", "meta_joined", "meta_heads", "meta_modifiers")
SEARCHABLE = META_TERM_FIELDS + TERM_FIELDS  # a metadata match ranks first (`attribute`)
META_POSITION = 1 << PASSAGE_BITS  # a metadata document's position: this + kind (1..)
FILTERABLE = (
    "meta_of",
    "statement_id",
    "seq",
    "position",
    "municipality",
    "speaker",
    "source",
    "language",
    "published_first",
    "published_last",
    "year",
    "month",
)
SORTABLE = ("published_first", "seq")
# Meilisearch's default ranking rules, pinned so that an index configured elsewhere agrees.
RANKING_RULES = ("words", "typo", "proximity", "attribute", "sort", "exactness")
# The term fields hold our analyser's stems, not German text. With the German locale Meilisearch
# runs charabia's German compound segmenter on them (meilisearch#4945), which cuts dictionary
# pieces out of a token and keeps the rest as a token of its own (charabia#367: "sporthalle" ->
# sport, hall, e): a second, different decomposition would make the engines disagree (prefixes,
# phrases, stray fragments). Without any locale, language detection may still pick German.
# A Latin-script locale without a segmenter of its own pins the plain Latin segmenter.
LOCALES = ("eng",)
# Compound parts and joined terms are separated by a hard separator: Meilisearch puts the words
# on either side of it eight positions apart, so a phrase (which needs adjacent words) cannot
# match two of them; the embedded engine matches phrases in the `terms` field only.
PART_SEPARATOR = ". "
MAX_TOTAL_HITS = 100_000
MAX_VALUES_PER_FACET = 100_000  # the facet over statement_id must list every matching statement
BATCH = 1000  # documents per addition
BUILD_IN_FLIGHT = 4  # document batches a build leaves queued on the server before awaiting one
HELD_PAGE = 10_000  # documents per page when reading what the index holds
REMOVE_CHUNK = 1000  # seqs per filter when removing statements
REQUEST_TIMEOUT_S = 30
TASK_TIMEOUT_MS = 300_000
TASK_POLL_MS = 100
CATALOG_CHUNK = 500  # statement ids per catalog query (SQLite's limit on bound parameters)
MAX_EXCLUDED_EXPANSION = 100  # catalog words an excluded prefix may stand for, per clause
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_AUTH_CODES = frozenset({"invalid_api_key", "missing_authorization_header"})
_prepared: set[tuple[str, str | None, str]] = set()
_outdated: set[tuple[str, str | None, str]] = set()  # indexes without metadata documents
log = logging.getLogger(__name__)
T = TypeVar("T")


class SearchEngineUnavailable(StadtstimmeError):
    status = 503
    code = "search_unavailable"


class SearchTaskFailed(SearchEngineUnavailable):
    status = 502
    code = "search_task_failed"


# -- pure parts: settings, documents, filters, query text, request bodies ----------------------


def index_settings() -> dict[str, Any]:
    """The index settings both engines' agreement depends on, applied at every start.

    Searchable attributes: the metadata documents' first (a field naming the query ranks
    first), then in the order of the embedded engine's weights (terms, joined, heads,
    modifiers), so that Meilisearch's `attribute` rule prefers the same matches. Filters on
    everything a query filters on; the statement id also serves `distinct` and the facet that
    counts passages; `seq` serves `remove`, `held` and `index`."""
    return {
        "searchableAttributes": list(SEARCHABLE),
        "filterableAttributes": list(FILTERABLE),
        "sortableAttributes": list(SORTABLE),
        "rankingRules": list(RANKING_RULES),
        "stopWords": [],
        "synonyms": {},
        # Typos are off: the fields hold stems, on which Meilisearch's typo tolerance would
        # match other words than the embedded engine does ("mask" one typo from "mast"); typos
        # are handled for both engines alike by the did-you-mean in archive/search/__init__.py.
        # Not `disableOnAttributes` on the three fields, which would mean the same: since the
        # indexer of v1.12 words of such attributes are kept out of the words FST, from which
        # prefixes are derived, so prefix search found nothing in them (meilisearch#6403,
        # fixed by #6432 after v1.47) and in 1.12 exact words were not found at all (#5346).
        "typoTolerance": {"enabled": False},
        # Phrases need word positions, not only "in the same attribute".
        "proximityPrecision": "byWord",
        "localizedAttributes": [{"attributePatterns": list(SEARCHABLE), "locales": list(LOCALES)}],
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "faceting": {"maxValuesPerFacet": MAX_VALUES_PER_FACET},
    }


_UNORDERED = frozenset({"filterableAttributes", "sortableAttributes"})
_WHOLE = frozenset({"synonyms"})  # mappings compared whole: extra entries matter


def settings_differ(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether the server's settings lack any of ours (so that an update is needed).

    Only what we set is compared: the server adds defaults of its own (disableOnWords,
    sortFacetValuesBy, …), and lists of filterable and sortable attributes in any order."""
    for key, value in wanted.items():
        if key not in current:
            return True
        have = current[key]
        if isinstance(value, Mapping) and key not in _WHOLE:
            if not isinstance(have, Mapping) or settings_differ(have, value):
                return True
        elif key in _UNORDERED:
            if not isinstance(have, list) or sorted(map(str, have)) != sorted(value):
                return True
        elif have != value:
            return True
    return False


def _day(day: date) -> int:
    """A day as the number YYYYMMDD, which Meilisearch compares."""
    return day.year * 10_000 + day.month * 100 + day.day


def documents(
    statement: Statement, passages: Sequence[tuple[int, Passage]]
) -> list[dict[str, Any]]:
    """One Meilisearch document per passage: its row id, the terms our analyser made of it (as
    the embedded engine indexes them) and the statement's metadata to filter on.

    The statement's seq is taken from the row id (seq << 16 | position), which is what the
    catalog stored, so that a Statement built by hand cannot disagree with it."""
    filtered = _filtered_metadata(statement)
    docs = []
    for rowid, passage in passages:
        analysed = analyse_text(passage.text)
        docs.append(
            {
                "id": rowid,
                "statement_id": statement.id,
                "seq": rowid >> PASSAGE_BITS,
                "position": passage.position,
                "terms": " ".join(analysed.terms),
                "heads": PART_SEPARATOR.join(analysed.heads),
                "modifiers": PART_SEPARATOR.join(analysed.modifiers),
                "joined": PART_SEPARATOR.join(analysed.joined),
                **filtered,
            }
        )
    return docs


def _filtered_metadata(statement: Statement) -> dict[str, Any]:
    """The statement's values that queries filter on, as every document of it carries them."""
    published = statement.published
    return {
        "municipality": statement.municipality,
        "speaker": statement.speaker,
        "source": statement.source,
        "language": statement.language,
        "published_first": _day(published.first) if published else None,
        "published_last": _day(published.last) if published else None,
        "month": published.month_key if published else None,
        "year": published.year if published else None,
    }


def meta_id(seq: int, kind: int) -> str:
    return f"meta-{seq}-{kind}"


def meta_documents(statement: Statement, seq: int | None) -> list[dict[str, Any]]:
    """One document per non-empty metadata field (META_FIELDS, kind 1.. in that order), its
    text analysed as a passage's; none without a seq to address them by."""
    if seq is None:
        return []
    docs = []
    for kind, name in enumerate(META_FIELDS, 1):
        text = getattr(statement, name)
        if not text:
            continue
        analysed = analyse_text(text)
        docs.append(
            {
                "id": meta_id(seq, kind),
                "statement_id": statement.id,
                "seq": seq,
                "position": META_POSITION + kind,
                "meta_of": f"{name}:{statement.id}",
                "meta_terms": " ".join(analysed.terms),
                "meta_heads": PART_SEPARATOR.join(analysed.heads),
                "meta_modifiers": PART_SEPARATOR.join(analysed.modifiers),
                "meta_joined": PART_SEPARATOR.join(analysed.joined),
                **_filtered_metadata(statement),
            }
        )
    return docs


def meta_texts(statement: Statement) -> list[str]:
    """The metadata fields' texts that meta_documents indexes (for the vocabulary)."""
    return [text for name in META_FIELDS if (text := getattr(statement, name))]


def matched_fields(meta_of: Mapping[str, int]) -> dict[str, tuple[MetaField, ...]]:
    """The metadata fields each statement matches in, in META_FIELDS order, from the facet
    distribution over `meta_of` ("<field>:<statement id>")."""
    found: dict[str, set[str]] = {}
    for value, count in meta_of.items():
        name, _, statement_id = value.partition(":")
        if count > 0 and name in META_FIELDS:
            found.setdefault(statement_id, set()).add(name)
    return {sid: tuple(f for f in META_FIELDS if f in names) for sid, names in found.items()}


def passage_counts(
    documents: Mapping[str, int], fields: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """Matching passages per statement: its matching documents less its metadata documents."""
    return {sid: n - len(fields.get(sid, ())) for sid, n in documents.items()}


def outdated(current: Mapping[str, Any]) -> bool:
    """Whether the server's settings are those of a version without metadata documents (or of
    a new index): its documents are then rebuilt by the first writing command."""
    return "meta_of" not in (current.get("filterableAttributes") or ())


def quote(value: str) -> str:
    """A string value for a filter expression, whatever it contains.

    Meilisearch's filter parser ends a double-quoted value at the first unescaped quote, then
    unescapes `\\"` and, since v1.4, `\\\\`: so backslashes are doubled first, then quotes are
    escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(query: Query, extra: Sequence[str] | None = None) -> str | None:
    """The Meilisearch filter for a query's equality filters and date range, AND-ed with any
    extra expressions (each put in parentheses); None when nothing is filtered.

    Meilisearch compares strings case-insensitively and trims them, the catalog exactly: statements
    whose catalog values differ from the filter are dropped after the request (see `visible`)."""
    parts = [f"{name} = {quote(value)}" for name, value in query.filters.items()]
    if query.date_from:
        parts.append(f"published_last >= {_day(query.date_from.first)}")
    if query.date_to:
        parts.append(f"published_first <= {_day(query.date_to.last)}")
    parts.extend(f"({expression})" for expression in extra or ())
    return " AND ".join(parts) or None


def _phrase(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else '"' + " ".join(terms) + '"'


def _negated(clause: Clause, expansions: Mapping[str, Sequence[str]]) -> list[str]:
    if clause.prefix and clause.terms[-1] in expansions:
        head = clause.terms[:-1]
        return ["-" + _phrase((*head, term)) for term in expansions[clause.terms[-1]]]
    return ["-" + _phrase(clause.terms)]


def search_text(parsed: ParsedQuery, expansions: Mapping[str, Sequence[str]] | None = None) -> str:
    """The Meilisearch `q` for a parsed query, written in index terms.

    Excluded clauses come first (`-t`, `-"t1 t2"`): Meilisearch stops reading a query after its
    10th positive term, and what it has not read it does not exclude. Words follow, phrases
    quoted. Meilisearch treats only the last query word as a prefix, and only when nothing
    follows it, so the last `prefix*` clause is put last and the text ends right after it;
    earlier prefix clauses become whole words (a difference from the embedded engine, which
    expands every
    prefix). Without a prefix the text ends with a space, so that no word is taken as a prefix.
    An excluded prefix has no Meilisearch form; `expansions` maps its term to the words it
    stands for (from the index's vocabulary), which are then excluded one by one; without an
    expansion the term itself is excluded."""
    words = [part for clause in parsed.excluded for part in _negated(clause, expansions or {})]
    positive = list(parsed.positive)
    prefixed = [i for i, c in enumerate(positive) if c.prefix and len(c.terms) == 1]
    last = prefixed[-1] if prefixed else None
    words.extend(_phrase(c.terms) for i, c in enumerate(positive) if i != last)
    if last is None:
        return " ".join(words) + " "
    words.append(positive[last].terms[0])
    return " ".join(words)


def search_params(text: str, filter_: str | None, **extra: Any) -> dict[str, Any]:
    """What every request shares: the text, all words required, the pinned locale, the filter."""
    params: dict[str, Any] = {"q": text, "matchingStrategy": "all", "locales": list(LOCALES)}
    if filter_:
        params["filter"] = filter_
    params.update(extra)
    return params


def facet_params(text: str, filter_: str | None) -> dict[str, Any]:
    """Every matching statement with its number of matching passages, and no hits.

    `page: 0` rather than `limit: 0`: the documentation says that a request for page 0 returns
    no documents but exhaustive totals, and that in this (page) mode the facet distribution is
    exhaustive too (meilisearch/documentation#2726), where offset/limit gives estimates."""
    return search_params(text, filter_, page=0, facets=["statement_id", "meta_of"])


def page_params(query: Query, text: str, filter_: str | None) -> dict[str, Any]:
    """One page of statements by relevance: the best passage of each (`distinct`)."""
    return search_params(
        text,
        filter_,
        distinct="statement_id",
        offset=(query.page - 1) * query.per_page,
        limit=query.per_page,
        attributesToRetrieve=["statement_id"],
    )


def passage_params(
    query: Query, text: str, filter_: str | None, statement_id: str
) -> dict[str, Any]:
    """The best passages of one statement, with Meilisearch's ranking score."""
    own = f"statement_id = {quote(statement_id)} AND position < {META_POSITION}"  # passages
    return search_params(
        text,
        f"({filter_}) AND {own}" if filter_ else own,
        limit=query.passages_per_statement,
        attributesToRetrieve=["id"],
        showRankingScore=True,
    )


def visible(statement: Statement, query: Query) -> bool:
    """Whether the embedded engine would list this catalog row for the query: indexed, and its
    values equal to the filters (exactly, as strings) and dated within the range or overlapping
    it."""
    if statement.status != Status.INDEXED:
        return False
    if any(getattr(statement, name) != value for name, value in query.filters.items()):
        return False
    if not (query.date_from or query.date_to):
        return True
    published = statement.published
    return published is not None and published.overlaps(query.date_from, query.date_to)


def tally(
    statements: Sequence[Statement], passages: Mapping[str, int]
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Facets (statements per municipality, speaker and year) and the trend (matching passages
    per month), computed from the catalog's rows as the embedded engine does."""
    facets: dict[str, Counter[str]] = {name: Counter() for name in ("municipality", "speaker")}
    facets["year"] = Counter()
    trend: Counter[str] = Counter()
    for statement in statements:
        published = statement.published
        values = {
            "municipality": statement.municipality,
            "speaker": statement.speaker,
            "year": str(published.year) if published else None,
        }
        for name, value in values.items():
            if value:
                facets[name][value] += 1
        said = passages.get(statement.id, 0)  # 0: found by its metadata, not in the trend
        if published and (month := published.month_key) and said:
            trend[month] += said
    return (
        {name: dict(counter.most_common()) for name, counter in facets.items()},
        dict(sorted(trend.items())),
    )


def dated_order(statements: Sequence[Statement], newest: bool) -> list[str]:
    """Statement ids newest or oldest first, undated last, ties by seq: the embedded engine's
    order.

    Not Meilisearch's `sort`: by default it ranks after words, typo, proximity and attribute,
    so it only breaks ties of relevance, and it cannot order the undated as the embedded engine
    does."""

    def seq(statement: Statement) -> int:
        return statement.seq or 0

    dated = sorted(
        (s for s in statements if s.published),
        key=lambda s: (str(s.published), seq(s)),  # the stored form sorts as the calendar
        reverse=newest,
    )
    undated = sorted((s for s in statements if not s.published), key=seq, reverse=True)
    return [s.id for s in dated + undated]


def task_failure(task: Task) -> str | None:
    """The error message of a task that did not succeed, None for a succeeded one."""
    if task.status == "succeeded":
        return None
    error = task.error or {}
    message = str(error.get("message") or f"ended {task.status}")
    code = error.get("code")
    return f"{code}: {message}" if code else message


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def unreachable_reason(error: MeilisearchCommunicationError) -> str:
    """What went wrong when connecting, in a few words ("Connection refused")."""
    found = _ERRNO.search(error.message)
    return found.group(1).strip() if found else "connection failed"


def api_error_message(url: str, doing: str, error: MeilisearchApiError) -> str:
    """One line for an error Meilisearch answered, naming the server and what was being done."""
    if error.code in _AUTH_CODES or error.status_code in (401, 403):
        return f"Meilisearch at {url} refused the key while {doing}: {_one_line(error.message)}"
    code = f" {error.code}" if error.code else ""
    detail = _one_line(error.message)
    return f"Meilisearch at {url} failed while {doing} (HTTP {error.status_code}{code}): {detail}"


# -- pure parts of the write side: filters, paging, the swap, the built vocabulary --------------


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """The items in lists of `size` (the last one shorter), in order."""
    if size < 1:
        raise ValueError(f"chunk size must be positive, not {size}")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seq_filter(seqs: Iterable[int]) -> str:
    """The filter for every document of these statements, by seq: `seq IN [3, 7]`."""
    values = sorted({int(seq) for seq in seqs})
    if not values:
        raise ValueError("a seq filter needs at least one seq")
    return f"seq IN [{', '.join(map(str, values))}]"


def stale_filter(docs: Sequence[Mapping[str, Any]], seqs: Iterable[int]) -> str:
    """The documents of these statements that are not among `docs` (what an earlier indexing
    left behind): per seq, its positions other than the new documents'; a seq without new
    documents loses all of them. Positions, not ids: the primary key is not filterable."""
    kept: dict[int, list[int]] = {int(seq): [] for seq in seqs}
    for doc in docs:
        kept.setdefault(int(doc["seq"]), []).append(int(doc["position"]))
    if not kept:
        raise ValueError("a stale filter needs at least one seq")
    clauses = []
    for seq, positions in sorted(kept.items()):
        own = f"seq = {seq}"
        listed = ", ".join(map(str, sorted(positions)))
        clauses.append(f"{own} AND NOT position IN [{listed}]" if positions else own)
    if len(clauses) == 1:
        return clauses[0]
    return " OR ".join(f"({clause})" for clause in clauses)


def remove_filters(seqs: Iterable[int]) -> list[str]:
    """The filters that remove these statements' documents, REMOVE_CHUNK seqs each (a filter
    is parsed whole by the server: thousands of values make one slow to parse and to log)."""
    return [seq_filter(chunk) for chunk in chunked(sorted(set(seqs)), REMOVE_CHUNK)]


def documents_request(
    fields: Sequence[str], offset: int, limit: int, filter_: str | None = None
) -> dict[str, Any]:
    """The body of one page of `get_documents` (POST /indexes/{uid}/documents/fetch)."""
    body: dict[str, Any] = {"fields": list(fields), "offset": offset, "limit": limit}
    if filter_:
        body["filter"] = filter_
    return body


def paged(fetch: Callable[[int, int], Sequence[T]], size: int) -> Iterator[T]:
    """Every item of a listing read a page at a time (`fetch(offset, limit)`), one page in
    memory: it ends at the first page shorter than `size`."""
    offset = 0
    while True:
        page = fetch(offset, size)
        yield from page
        if len(page) < size:
            return
        offset += size


def build_uid(uid: str, nanoseconds: int) -> str:
    """The uid of an index built beside `uid` (letters, digits, `_` and `-` are allowed)."""
    return f"{uid}_build_{nanoseconds}"


def swap_request(current: str, built: str) -> list[Mapping[str, list[str] | bool]]:
    """The body of `swap_indexes`: one pair, exchanged (not renamed, which needs Meilisearch
    1.18 and a current index that does not exist)."""
    return [{"indexes": [current, built]}]


def count_terms(text: str, counts: Counter[str], spelling: dict[str, str]) -> None:
    """Count in one passage's text as CatalogVocabulary.add does: each of its terms once, with
    the latest spelling seen."""
    found = spelled_terms(text)
    counts.update(found.keys())
    spelling.update(found)


def vocabulary_layers(
    counts: Mapping[str, int], spelling: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """A counted vocabulary as "passages" for CatalogVocabulary.add, which counts each passage's
    terms once: layer k holds every term counted k times or more, with its spelling, so that the
    layers add up to exactly the counts without a dict per passage."""
    ordered = sorted((n, t) for t, n in counts.items() if n > 0)
    low = 0
    for layer in range(1, ordered[-1][0] + 1 if ordered else 1):
        while ordered[low][0] < layer:
            low += 1
        yield {t: spelling[t] for _, t in ordered[low:]}


# -- the engine --------------------------------------------------------------------------------


class MeiliEngine:
    """The search protocol on a Meilisearch index of passages (see the module docstring)."""

    def __init__(self, catalog: Catalog, url: str, key: str | None, index: str = INDEX) -> None:
        self.catalog = catalog
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SearchEngineUnavailable(
                f"Meilisearch URL {url!r} is not an http:// or https:// address"
            )
        self.uid = index
        self.vocabulary = CatalogVocabulary(catalog)
        self._built: dict[str, tuple[Counter[str], dict[str, str]]] = {}  # vocabulary per build
        self.client = meilisearch.Client(self.url, key, timeout=REQUEST_TIMEOUT_S)
        self.index_ = self.client.index(index)
        ready = (self.url, key, index)
        if ready not in _prepared:
            with self._calling("opening the index"):
                self._create_index()
                current = self.index_.get_settings()
                if outdated(current):
                    _outdated.add(ready)
                if settings_differ(current, index_settings()):
                    self._wait(self.index_.update_settings(index_settings()))
            _prepared.add(ready)
        self._ready = ready

    @contextmanager
    def _calling(self, doing: str) -> Iterator[None]:
        """Turn the client's errors into one line naming the server and what was being done."""
        try:
            yield
        except MeilisearchApiError as error:
            raise SearchEngineUnavailable(api_error_message(self.url, doing, error)) from error
        except MeilisearchCommunicationError as error:
            reason = unreachable_reason(error)
            raise SearchEngineUnavailable(
                f"Meilisearch at {self.url} cannot be reached while {doing} ({reason})"
            ) from error
        except MeilisearchTimeoutError as error:
            raise SearchEngineUnavailable(
                f"Meilisearch at {self.url} did not answer in time while {doing}"
            ) from error

    def _wait(self, info: TaskInfo, tolerate: frozenset[str] = frozenset()) -> None:
        """Wait for a task; a failed one raises with its error, unless its code is tolerated."""
        task = self.client.wait_for_task(
            info.task_uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=TASK_POLL_MS
        )
        failure = task_failure(task)
        if failure is None or (task.error or {}).get("code") in tolerate:
            return
        raise SearchTaskFailed(
            f"Meilisearch at {self.url}: task {task.uid} ({task.type}) on index "
            f"{task.index_uid or self.uid} failed: {_one_line(failure)}"
        )

    def _create_index(self) -> None:
        """Create the index with `id` as its primary key unless it exists: Meilisearch cannot
        guess it, since `statement_id` also ends in "id"."""
        try:
            self.client.get_raw_index(self.uid)
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            created = self.client.create_index(self.uid, {"primaryKey": PRIMARY_KEY})
            self._wait(created, tolerate=frozenset({"index_already_exists"}))

    def _delete_index(self, uid: str) -> None:
        """Delete an index and wait; one that does not exist is no error."""
        try:
            info = self.client.delete_index(uid)
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            return
        self._wait(info, frozenset({"index_not_found"}))

    def _documents(
        self, index: Index, fields: Sequence[str], filter_: str | None = None
    ) -> Iterator[Document]:
        """Every document of the index (that matches the filter) with only these fields, read
        HELD_PAGE at a time. Call it inside `_calling`: the pages are fetched as it is read."""

        def fetch(offset: int, limit: int) -> list[Document]:
            request = documents_request(fields, offset, limit, filter_)
            return index.get_documents(request).results

        return paged(fetch, HELD_PAGE)

    def _held_terms(self, filter_: str, index: Index | None = None) -> Iterator[list[str]]:
        """The terms of each document (passage or metadata field) the index holds that matches
        the filter, for CatalogVocabulary.remove (they are the terms it counted in: analysed
        as `term`)."""
        for doc in self._documents(index or self.index_, ["terms", "meta_terms"], filter_):
            held = getattr(doc, "terms", None) or getattr(doc, "meta_terms", None) or ""
            yield str(held).split()

    def ready(self) -> bool:
        """Meilisearch's index is made when the engine opens: it always answers, but one
        written without metadata documents (`outdated`) is to be rebuilt."""
        return self._ready not in _outdated

    def _target(self, into: Built | None) -> Index:
        if into is None:
            return self.index_
        if into.name not in self._built:
            raise ValueError(f"the index {into.name} was not built by this engine")
        return self.client.index(into.name)

    def _count_out(self, into: Built | None, held: Iterable[list[str]]) -> None:
        if into is None:
            self.vocabulary.remove(held)
            return
        counts, _ = self._built[into.name]
        for terms in held:
            counts.subtract(set(terms))

    def _count_in(self, into: Built | None, texts: Sequence[str]) -> None:
        spelled = [spelled_terms(text) for text in texts]
        if into is None:
            self.vocabulary.add(spelled)
            return
        counts, spelling = self._built[into.name]
        for found in spelled:
            counts.update(found.keys())
            spelling.update(found)

    # writing: the caller holds the catalog's write transaction (archive.indexing); each method
    # takes it too (joining the caller's), so that its vocabulary change is atomic on its own

    def index(
        self,
        statement: Statement,
        passages: Sequence[tuple[int, Passage]],
        into: Built | None = None,
    ) -> None:
        """Replace the statement's passages, by its seq, in the current index or a built one:
        add or replace the new ones, then remove any it no longer has.

        In that order, so that a statement indexed again stays findable meanwhile; each task is
        awaited and a failed one raises with Meilisearch's message. The vocabulary (the
        catalog's table, or a built index's counts) counts out what the index held of the
        statement and counts in the new passages."""
        docs = documents(statement, passages)
        seqs = {int(doc["seq"]) for doc in docs}
        if statement.seq is not None:
            seqs.add(statement.seq)
        seq = statement.seq if statement.seq is not None else min(seqs, default=None)
        named = meta_documents(statement, seq)
        docs += named
        texts = [passage.text for _, passage in passages]
        texts += meta_texts(statement) if named else []
        if seqs:
            own, stale = seq_filter(seqs), stale_filter(docs, seqs)
        else:  # a statement the catalog never numbered, without passages
            own = stale = f"statement_id = {quote(statement.id)}"
        target = self._target(into)
        with self.catalog.transaction(), self._calling(f"indexing statement {statement.id}"):
            self._count_out(into, self._held_terms(own, target))
            for batch in chunked(docs, BATCH):
                self._wait(target.add_documents(batch, PRIMARY_KEY))
            self._wait(target.delete_documents(filter=stale))
            self._count_in(into, texts)

    def remove(self, seqs: Collection[int], into: Built | None = None) -> None:
        """Remove every passage of these statements, by filters on seq (REMOVE_CHUNK seqs each),
        counting the vocabulary out from the terms the index held for them."""
        if not seqs:
            return
        target = self._target(into)
        doing = f"removing {len(seqs)} statement(s) from the index"
        with self.catalog.transaction(), self._calling(doing):
            for filter_ in remove_filters(seqs):
                self._count_out(into, self._held_terms(filter_, target))
                self._wait(target.delete_documents(filter=filter_))

    def held(self) -> dict[int, int]:
        """How many passages the index holds of each statement, by seq: every document's `seq`,
        read HELD_PAGE at a time and counted (exact: no facet limit applies)."""
        with self._calling("counting the passages the index holds"):
            documents = self._documents(self.index_, ["seq", "position"])
            counts: Counter[int] = Counter()
            for doc in documents:  # a metadata document holds the seq, not a passage
                counts[int(doc.seq)] += int(getattr(doc, "position", 0)) < META_POSITION
        return dict(counts)

    def build(self, statements: Sequence[Statement], progress: Progress | None) -> Built:
        """Index these statements' passages into a new index beside the current one, with the
        same primary key and settings; searches keep answering from the current one.

        Documents are sent BATCH at a time with at most BUILD_IN_FLIGHT batches queued, and
        `progress` hears of each batch Meilisearch has indexed. The new index's vocabulary is
        counted here, in memory, and written by `swap`. A build that fails deletes its index."""
        name = build_uid(self.uid, time.time_ns())
        seqs = sorted({s.seq for s in statements if s.seq is not None})
        held = self.catalog.passage_counts()
        total = sum(held.get(seq, 0) for seq in seqs)
        target = self.client.index(name)
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        queued: deque[tuple[TaskInfo, int]] = deque()
        done = 0

        def settle(keep: int) -> None:
            nonlocal done
            while len(queued) > keep:
                info, passages = queued.popleft()
                self._wait(info)
                done += passages
                if progress is not None:
                    progress(done, total)

        def send(batch: list[dict[str, Any]]) -> None:
            queued.append((target.add_documents(batch, PRIMARY_KEY), len(batch)))
            settle(BUILD_IN_FLIGHT)

        try:
            with self._calling(f"building the index {name}"):
                self._wait(self.client.create_index(name, {"primaryKey": PRIMARY_KEY}))
                self._wait(target.update_settings(index_settings()))
                if progress is not None:
                    progress(0, total)
                pending: list[dict[str, Any]] = []
                for statement in statements:
                    passages = self.catalog.passages(statement.id)
                    named = meta_documents(statement, statement.seq)
                    texts = [passage.text for _, passage in passages]
                    for text in texts + (meta_texts(statement) if named else []):
                        count_terms(text, counts, spelling)
                    pending.extend(documents(statement, passages) + named)
                    while len(pending) >= BATCH:
                        send(pending[:BATCH])
                        del pending[:BATCH]
                if pending:
                    send(pending)
                settle(0)
        except BaseException:
            self._forget(name, "after a failed build")
            raise
        self._built[name] = (counts, spelling)
        return Built(name=name, statements=tuple(seqs), passages=done)

    def swap(self, built: Built) -> None:
        """Make a built index the one that answers (Meilisearch swaps the two atomically),
        replace the vocabulary table's rows with the built index's, and delete the index it
        replaces (now under the built name).

        The caller holds the catalog's transaction, in which the vocabulary commits with the
        statuses. Where no current index exists yet, an empty one is created so that there is
        one to swap with. The vocabulary is written before the swap, which is the last step
        that may fail: after it nothing raises (the server answers from the new index whatever
        the catalog does), so an old index that cannot be deleted is logged and left."""
        if built.name == self.uid:
            raise ValueError(f"the index {built.name} is the current one, not a built one")
        counted = self._built.get(built.name)
        if counted is None:
            raise ValueError(
                f"the index {built.name} was not built by this engine: its vocabulary is unknown"
            )
        with self.catalog.transaction(), self._calling(f"swapping in the index {built.name}"):
            self._create_index()
            self.vocabulary.clear()
            self.vocabulary.add(vocabulary_layers(*counted))
            self._wait(self.client.swap_indexes(swap_request(self.uid, built.name)))
        del self._built[built.name]
        _outdated.discard(self._ready)
        self._forget(built.name, "after swapping it out")

    def discard(self, built: Built) -> None:
        """Delete a built index that will not be swapped in (one already gone is no error)."""
        if built.name == self.uid:
            raise ValueError(f"the index {built.name} is the current one, not a built one")
        self._built.pop(built.name, None)
        with self._calling(f"deleting the built index {built.name}"):
            self._delete_index(built.name)

    def _forget(self, uid: str, when: str) -> None:
        """Delete an index that is no longer wanted, logging rather than raising a failure: it
        is cleaning up after what already happened (or failed) and must not hide it."""
        try:
            with self._calling(f"deleting the index {uid} {when}"):
                self._delete_index(uid)
        except SearchEngineUnavailable as error:
            log.warning("%s; the index %s is left on the server", error.message, uid)

    def index_bytes(self) -> int | None:
        """None: the index is on the Meilisearch server."""
        return None

    def drop(self) -> None:
        """Delete the index itself (for tests that made an index of their own)."""
        with self._calling("deleting the index"):
            self._delete_index(self.uid)
        _prepared.discard(self._ready)

    def _expansions(self, parsed: ParsedQuery) -> dict[str, list[str]]:
        """The indexed words for each excluded prefix (see `search_text`), the prefix itself
        included; none for a prefix that stands for more than MAX_EXCLUDED_EXPANSION words."""
        expansions: dict[str, list[str]] = {}
        for clause in parsed.excluded:
            if not clause.prefix:
                continue
            prefix = clause.terms[-1]
            rows = self.vocabulary.starting_with(prefix, limit=MAX_EXCLUDED_EXPANSION + 1)
            if len(rows) <= MAX_EXCLUDED_EXPANSION:
                expansions[prefix] = sorted({prefix, *(row[0] for row in rows)})
        return expansions

    def _statements(self, ids: Sequence[str]) -> list[Statement]:
        found: list[Statement] = []
        for start in range(0, len(ids), CATALOG_CHUNK):
            found.extend(self.catalog.statements_by_id(ids[start : start + CATALOG_CHUNK]).values())
        return found

    def search(self, query: Query, page_ready: PageReady | None = None) -> Matches:
        """Statements of the indexed ones that match, honouring filters, sort and page.

        Requests: (1) the facet over statement_id gives every matching statement and its number
        of matching passages; the catalog's rows of those decide visibility, facets, trend and
        date order. (2) For relevance, one page of statements by their best passage
        (`distinct`), statements found but not visible filtered out. (3) The best passages of
        each statement on the page, in one multi-search."""
        parsed = query.parsed
        if parsed.empty:
            return Matches(0, [])
        text = search_text(parsed, self._expansions(parsed))
        filter_ = filter_expression(query)
        with self._calling("searching"):
            found = self.index_.search(text, facet_params(text, filter_))
        distribution = found.get("facetDistribution", {})
        fields = matched_fields(distribution.get("meta_of", {}))
        counts = passage_counts(distribution.get("statement_id", {}), fields)
        rows = self._statements(sorted(counts))
        shown = sorted((s for s in rows if visible(s, query)), key=lambda s: s.seq or 0)
        hidden = sorted(set(counts) - {s.id for s in shown})
        facets, trend = tally(shown, counts)
        first = (query.page - 1) * query.per_page
        if first >= len(shown):
            page: list[str] = []
        elif query.sort == "relevance":
            page = self._ranked_page(query, text, filter_, hidden, {s.id for s in shown})
        else:
            page = dated_order(shown, newest=query.sort == "newest")[first:][: query.per_page]
        best = self._best_passages(query, text, filter_, [sid for sid in page if counts[sid]])
        return Matches(
            total=len(shown),
            statements=[
                RankedStatement(sid, best.get(sid, ()), fields.get(sid, ())) for sid in page
            ],
            facets=facets,
            trend=trend,
        )

    def _ranked_page(
        self, query: Query, text: str, filter_: str | None, hidden: list[str], shown: set[str]
    ) -> list[str]:
        extra = []
        if hidden:
            extra.append(f"NOT statement_id IN [{', '.join(quote(s) for s in hidden)}]")
        params = page_params(query, text, filter_expression(query, extra) if extra else filter_)
        with self._calling("searching"):
            hits = self.index_.search(text, params)["hits"]
        ids = [str(hit["statement_id"]) for hit in hits]
        return [sid for sid in dict.fromkeys(ids) if sid in shown]

    def _best_passages(
        self, query: Query, text: str, filter_: str | None, page: Sequence[str]
    ) -> dict[str, tuple[RankedPassage, ...]]:
        """Each statement's best passages; score is the negated ranking score, so that lower is
        better as with a BM25 score negated."""
        if not page:
            return {}
        queries = [
            {"indexUid": self.uid, **passage_params(query, text, filter_, sid)} for sid in page
        ]
        with self._calling("searching"):
            results = self.client.multi_search(queries)["results"]
        best: dict[str, tuple[RankedPassage, ...]] = {}
        for sid, result in zip(page, results, strict=True):
            best[sid] = tuple(
                RankedPassage(int(hit["id"]), -float(hit.get("_rankingScore", 1.0 / (rank + 1))))
                for rank, hit in enumerate(result["hits"])
            )
        return best
