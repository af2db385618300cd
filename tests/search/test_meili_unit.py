"""The Meilisearch engine's pure parts, without a server: settings, documents, filters, query
text, request bodies, and the catalog-side counting and ordering, checked against the FTS engine
on the same catalog. The one network test uses the real client against a closed loopback port."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError
from meilisearch.models.task import Task

from archive.analysis import analyse_text, parse_query, term
from archive.catalog import Catalog, passage_rowid
from archive.config import Settings
from archive.dates import PartialDate
from archive.models import Passage, Statement, Status, Word
from archive.search import Query
from archive.search.engines import open_engine
from archive.search.fts import FtsEngine, match_expression
from archive.search.meili import (
    LOCALES,
    MAX_VALUES_PER_FACET,
    PART_SEPARATOR,
    TERM_FIELDS,
    MeiliEngine,
    SearchEngineUnavailable,
    SearchTaskFailed,
    api_error_message,
    dated_order,
    documents,
    facet_params,
    filter_expression,
    index_settings,
    page_params,
    passage_params,
    quote,
    search_params,
    search_text,
    settings_differ,
    tally,
    task_failure,
    unreachable_reason,
    visible,
)
from tests.archive.seed import spoken, store

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback


# -- index settings ------------------------------------------------------------------------------


FILTERED_ON = re.compile(r"\b([a-z_]+) (?:=|>=|<=|IN|NOT IN)")


def filtered_attributes(expression: str | None) -> set[str]:
    return set(FILTERED_ON.findall(expression or ""))


def test_every_attribute_the_engine_filters_on_is_filterable() -> None:
    """Meilisearch rejects a filter on an attribute that is not filterable: every attribute any
    request of the engine filters on must be in the settings."""
    query = Query(
        "x",
        municipality="a",
        speaker="b",
        source="c",
        language="de",
        date_from=PartialDate(2025, 7),
        date_to=PartialDate(2025, 7, 3),
    )
    used = filtered_attributes(filter_expression(query, ['NOT statement_id IN ["a"]']))
    used |= filtered_attributes(passage_params(query, "x ", None, "abc")["filter"])
    used |= {"position"}  # index() removes a statement's stale passages by position
    assert used >= {"municipality", "speaker", "source", "language", "statement_id"}
    assert used <= set(index_settings()["filterableAttributes"])


def test_every_configured_attribute_is_a_document_field() -> None:
    """A searchable, filterable or sortable attribute that no document has finds nothing."""
    [doc] = documents(statement(published=PartialDate(2026, 2, 3)), [passage(0, "Stadt")])
    settings = index_settings()
    configured = {
        *settings["searchableAttributes"],
        *settings["filterableAttributes"],
        *settings["sortableAttributes"],
    }
    assert configured <= set(doc)
    assert settings["searchableAttributes"] == list(TERM_FIELDS)


def test_term_fields_are_pinned_to_a_locale_without_german_segmentation() -> None:
    [rule] = index_settings()["localizedAttributes"]
    assert rule["attributePatterns"] == list(TERM_FIELDS)
    assert "deu" not in rule["locales"] and "de" not in rule["locales"]


def test_no_attribute_is_exempted_from_typos_which_would_break_prefixes() -> None:
    assert "disableOnAttributes" not in index_settings()["typoTolerance"]


def test_index_settings_are_a_fresh_copy_each_time() -> None:
    first = index_settings()
    first["searchableAttributes"].append("x")
    assert index_settings()["searchableAttributes"] == ["terms", "heads", "modifiers"]


# -- comparing settings (applied only when they differ) -------------------------------------------


def server_view() -> dict[str, object]:
    """Our settings as a server returns them: defaults added, sets in another order."""
    settings = index_settings()
    settings["typoTolerance"] = {
        "enabled": False,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [],
        "disableOnAttributes": [],
        "disableOnNumbers": False,
    }
    settings["faceting"] = {"maxValuesPerFacet": MAX_VALUES_PER_FACET, "sortFacetValuesBy": {}}
    settings["filterableAttributes"] = sorted(settings["filterableAttributes"])
    settings["displayedAttributes"] = ["*"]
    return settings


def test_settings_as_the_server_returns_them_do_not_differ() -> None:
    assert not settings_differ(server_view(), index_settings())


def test_a_missing_setting_differs() -> None:
    current = server_view()
    del current["localizedAttributes"]
    assert settings_differ(current, index_settings())


def test_a_changed_nested_setting_differs() -> None:
    current = server_view()
    current["pagination"] = {"maxTotalHits": 1000}
    assert settings_differ(current, index_settings())


def test_searchable_attributes_in_another_order_differ() -> None:
    current = server_view()
    current["searchableAttributes"] = ["heads", "terms", "modifiers"]
    assert settings_differ(current, index_settings())


def test_a_missing_filterable_attribute_differs() -> None:
    current = server_view()
    current["filterableAttributes"] = ["statement_id"]
    assert settings_differ(current, index_settings())


def test_typos_enabled_on_the_server_differ() -> None:
    current = server_view()
    current["typoTolerance"] = {"enabled": True}
    assert settings_differ(current, index_settings())


def test_synonyms_on_the_server_differ() -> None:
    current = server_view()
    current["synonyms"] = {"kita": ["kindergarten"]}
    assert settings_differ(current, index_settings())


# -- documents -------------------------------------------------------------------------------------


def words_of(text: str) -> tuple[Word, ...]:
    return tuple(Word(i * 0.5, i * 0.5 + 0.4, " " + w) for i, w in enumerate(text.split()))


def statement(**values: object) -> Statement:
    fields: dict[str, object] = {
        "id": "abc123",
        "origin": "o",
        "title": "t",
        "status": Status.INDEXED,
        "seq": 7,
    }
    fields.update(values)
    return Statement(**fields)  # type: ignore[arg-type]


def passage(position: int, text: str, statement_id: str = "abc123") -> tuple[int, Passage]:
    return (
        passage_rowid(7, position),
        Passage(statement_id, position, 0.0, 10.0, words_of(text)),
    )


def test_one_document_per_passage_with_the_row_id() -> None:
    docs = documents(statement(), [passage(0, "Guten Tag"), passage(1, "Die Maskenpflicht")])
    assert [d["id"] for d in docs] == [7 << 16, (7 << 16) | 1]
    assert [d["position"] for d in docs] == [0, 1]
    assert {d["statement_id"] for d in docs} == {"abc123"}


def test_seq_comes_from_the_row_id() -> None:
    [doc] = documents(statement(seq=None), [passage(3, "Stadt")])
    assert doc["seq"] == 7


def test_terms_are_what_the_analyser_makes_of_the_text() -> None:
    text = "In allen Bussen gilt die Maskenpflicht"
    [doc] = documents(statement(), [passage(0, text)])
    analysed = analyse_text(text)
    assert doc["terms"] == " ".join(analysed.terms)
    assert doc["terms"].split() == [term(w) for w in text.split()]


def test_compound_parts_are_separated_so_that_phrases_cannot_span_them() -> None:
    [doc] = documents(statement(), [passage(0, "Schatzkarte und Maskenpflicht")])
    assert doc["heads"] == f"kart{PART_SEPARATOR}pflicht"
    assert doc["modifiers"] == f"schatz{PART_SEPARATOR}mask"


def test_a_passage_without_compounds_has_empty_part_fields() -> None:
    [doc] = documents(statement(), [passage(0, "Guten Tag")])
    assert (doc["heads"], doc["modifiers"]) == ("", "")


def test_metadata_is_copied_for_filtering() -> None:
    meta = statement(municipality="Köln", speaker="Henriette Reker", source="s1", language="de")
    [doc] = documents(meta, [passage(0, "Stadt")])
    assert doc["municipality"] == "Köln"
    assert doc["speaker"] == "Henriette Reker"
    assert doc["source"] == "s1"
    assert doc["language"] == "de"


def test_missing_metadata_is_null() -> None:
    [doc] = documents(statement(), [passage(0, "Stadt")])
    assert doc["municipality"] is None and doc["speaker"] is None
    assert doc["published_first"] is None and doc["published_last"] is None
    assert doc["month"] is None and doc["year"] is None


@pytest.mark.parametrize(
    ("published", "first", "last", "month"),
    [
        (PartialDate(2026, 2, 3), 20260203, 20260203, "2026-02"),
        (PartialDate(2024, 2), 20240201, 20240229, "2024-02"),
        (PartialDate(2026), 20260101, 20261231, None),
    ],
)
def test_a_date_gives_the_days_it_may_name_and_its_month(
    published: PartialDate, first: int, last: int, month: str | None
) -> None:
    [doc] = documents(statement(published=published), [passage(0, "Stadt")])
    assert (doc["published_first"], doc["published_last"]) == (first, last)
    assert (doc["month"], doc["year"]) == (month, published.year)


def test_no_passages_no_documents() -> None:
    assert documents(statement(), []) == []


# -- filter values --------------------------------------------------------------------------------


def meili_unquote(expression: str) -> tuple[str, str]:
    """A double-quoted filter value read as Meilisearch's filter parser reads it
    (crates/filter-parser/src/value.rs: quoted_by, unescape, then the unescaper crate)."""
    assert expression.startswith('"')
    i, escaped_quote = 1, False
    while i < len(expression) and expression[i] != '"':
        if expression[i] == "\\":
            assert i + 1 < len(expression), "a trailing backslash is a malformed value"
            escaped_quote |= expression[i + 1] == '"'
            i += 2
        else:
            i += 1
    assert i < len(expression), "missing closing quote"
    raw, rest = expression[1:i], expression[i + 1 :]
    if escaped_quote:
        raw = raw.replace('\\"', '"')
    out, j = [], 0
    escapes = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "/": "/"}
    while j < len(raw):
        if raw[j] == "\\":
            out.append(escapes[raw[j + 1]])
            j += 2
        else:
            out.append(raw[j])
            j += 1
    return "".join(out), rest


@pytest.mark.parametrize(
    "value",
    ["Köln", "Freiburg im Breisgau", 'Der "Chef"', "C:\\Pfad\\", '\\"', 'x" OR seq > 0 OR "'],
)
def test_quoted_values_read_back_unchanged(value: str) -> None:
    assert meili_unquote(quote(value)) == (value, "")


@given(st.text())
def test_any_text_reads_back_unchanged_and_ends_the_value(value: str) -> None:
    assert meili_unquote(quote(value) + " AND x = 1") == (value, " AND x = 1")


def test_a_quote_cannot_end_the_value_early() -> None:
    assert quote('a" OR "b') == '"a\\" OR \\"b"'


def test_backslashes_are_doubled_before_quotes_are_escaped() -> None:
    assert quote('\\"') == '"\\\\\\""'


# -- date ranges ---------------------------------------------------------------------------------


def partial_dates() -> st.SearchStrategy[PartialDate]:
    day = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))
    return st.one_of(
        day.map(PartialDate.of),
        day.map(lambda d: PartialDate(d.year, d.month)),
        day.map(lambda d: PartialDate(d.year)),
    )


@given(partial_dates(), st.none() | partial_dates(), st.none() | partial_dates())
def test_the_integer_filter_agrees_with_overlaps(
    published: PartialDate, low: PartialDate | None, high: PartialDate | None
) -> None:
    """What Meilisearch compares (the document's days against the range's) is what the FTS
    engine and `visible` decide with PartialDate.overlaps."""
    [doc] = documents(statement(published=published), [passage(0, "Stadt")])
    expression = filter_expression(Query("x", date_from=low, date_to=high)) or ""
    comparisons = re.findall(r"(published_first|published_last) (>=|<=) (\d+)", expression)
    kept = all(
        doc[name] >= int(value) if op == ">=" else doc[name] <= int(value)
        for name, op, value in comparisons
    )
    assert kept == published.overlaps(low, high)


# -- filter expressions ---------------------------------------------------------------------------


def test_no_filter() -> None:
    assert filter_expression(Query("x")) is None


def test_an_equality_filter_is_quoted() -> None:
    assert filter_expression(Query("x", municipality="Köln")) == 'municipality = "Köln"'


def test_equality_filters_are_and_ed() -> None:
    query = Query("x", municipality="Köln", speaker="A B", source="s", language="de")
    assert filter_expression(query) == (
        'municipality = "Köln" AND speaker = "A B" AND source = "s" AND language = "de"'
    )


def test_a_value_with_quotes_stays_one_value() -> None:
    expression = filter_expression(Query("x", speaker='Der "Chef" \\ OR 1'))
    assert expression is not None and expression.startswith("speaker = ")
    assert meili_unquote(expression.removeprefix("speaker = ")) == ('Der "Chef" \\ OR 1', "")


def test_a_date_range_keeps_the_dates_that_overlap_it() -> None:
    query = Query("x", date_from=PartialDate(2025, 7), date_to=PartialDate(2025))
    assert filter_expression(query) == (
        "published_last >= 20250701 AND published_first <= 20251231"
    )


def test_extra_expressions_are_parenthesised_and_and_ed() -> None:
    query = Query("x", municipality="Kiel")
    assert filter_expression(query, ['statement_id = "a" OR statement_id = "b"']) == (
        'municipality = "Kiel" AND (statement_id = "a" OR statement_id = "b")'
    )


def test_extra_expressions_alone() -> None:
    assert filter_expression(Query("x"), ["seq > 3"]) == "(seq > 3)"


# -- query text -----------------------------------------------------------------------------------


def text_of(query: str, expansions: dict[str, list[str]] | None = None) -> str:
    return search_text(parse_query(query), expansions)


def test_words_are_written_as_terms() -> None:
    assert text_of("Maskenpflicht Bussen") == f"maskenpflicht {term('Bussen')} "


def test_without_a_prefix_the_text_ends_with_a_space_so_the_last_word_is_whole() -> None:
    assert text_of("Stadt").endswith("stadt ")


def test_a_prefix_is_last_with_nothing_after_it() -> None:
    assert text_of("Masken* Stadt") == "stadt mask"


def test_only_the_last_prefix_is_a_prefix() -> None:
    assert text_of("Wochen* Masken*") == "woch mask"
    assert text_of("Masken* Wochen*") == "mask woch"


def test_a_too_short_prefix_is_a_word() -> None:
    assert text_of("Ma*") == "ma "


def test_a_phrase_is_quoted() -> None:
    assert text_of('"Gutschein der Stadt"') == '"gutschein der stadt" '


def test_a_phrase_before_a_prefix() -> None:
    assert text_of('Masken* "Gutschein der Stadt"') == '"gutschein der stadt" mask'


def test_an_excluded_word() -> None:
    assert text_of("Kita -Notbetreuung") == f"-{term('Notbetreuung')} kita "


def test_an_excluded_phrase() -> None:
    assert text_of('Wochenmarkt -"bleibt offen"') == '-"bleibt off" wochenmarkt '


def test_exclusions_come_before_the_words_that_meilisearch_may_stop_reading() -> None:
    words = " ".join(f"w{i}" for i in range(12))
    assert text_of(f"{words} -Karneval").startswith("-karneval ")


def test_an_excluded_prefix_without_expansion_excludes_the_term() -> None:
    assert text_of("Stadt -Maskenb*") == "-maskenb stadt "


def test_an_excluded_prefix_excludes_each_of_its_words() -> None:
    text = text_of("Stadt -Maskenb*", {"maskenb": ["maskenb", "maskenball", "maskenbildn"]})
    assert text == "-maskenb -maskenball -maskenbildn stadt "


def test_an_excluded_phrase_prefix_expands_its_last_word() -> None:
    text = text_of("Kita -Kita-Öff*", {"off": ["off", "offnung"]})
    assert text.startswith('-"kita off" -"kita offnung" ')


def test_only_exclusions() -> None:
    assert text_of("-Stadt") == "-stadt "


# -- request bodies -------------------------------------------------------------------------------


def test_every_request_requires_all_words_and_pins_the_locale() -> None:
    params = search_params("stadt ", None)
    assert params == {"q": "stadt ", "matchingStrategy": "all", "locales": list(LOCALES)}


def test_the_filter_is_sent_when_there_is_one() -> None:
    assert search_params("stadt ", 'speaker = "A"')["filter"] == 'speaker = "A"'


def test_the_facet_request_counts_passages_per_statement_without_hits() -> None:
    params = facet_params("stadt ", None)
    assert params["facets"] == ["statement_id"]
    assert params["page"] == 0 and "limit" not in params and "offset" not in params
    assert params["matchingStrategy"] == "all"


def test_the_page_request_takes_one_passage_per_statement() -> None:
    params = page_params(Query("Stadt", page=3, per_page=20), "stadt ", None)
    assert params["distinct"] == "statement_id"
    assert (params["offset"], params["limit"]) == (40, 20)
    assert params["attributesToRetrieve"] == ["statement_id"]


def test_the_passage_request_is_limited_to_one_statement() -> None:
    query = Query("Stadt", passages_per_statement=2)
    params = passage_params(query, "stadt ", 'municipality = "Kiel"', "abc")
    assert params["filter"] == '(municipality = "Kiel") AND statement_id = "abc"'
    assert params["limit"] == 2
    assert params["showRankingScore"] is True
    assert params["attributesToRetrieve"] == ["id"]


def test_the_passage_request_without_other_filters() -> None:
    params = passage_params(Query("Stadt"), "stadt ", None, "abc")
    assert params["filter"] == 'statement_id = "abc"'


# -- the catalog side, checked against the FTS engine on the same catalog --------------------------


@pytest.fixture
def fts(tmp_path: Path) -> Iterator[tuple[Catalog, FtsEngine]]:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = FtsEngine(catalog)
        rows = [
            ("koeln", "Köln", "2026-02-03", "Die Stadt sagt Maskenpflicht. Die Stadt hilft."),
            ("bonn", "Bonn", "2025-11-20", "Die Stadt baut Schulen."),
            ("bonn2", "Bonn", "2025-11-20", "Stadt und Land."),
            ("kiel", "Kiel", "2025-07-03", "Der Strand der Stadt."),
            ("undated", None, None, "Eine Stadt ohne Datum."),
            ("undated2", "kiel", None, "Noch eine Stadt."),
            ("year", "Bonn", "2024", "Die Stadt im Jahr."),
            ("month", "Kiel", "2024-06", "Die Stadt im Monat."),
        ]
        for key, municipality, published, text in rows:
            store(
                catalog,
                engine,
                f"https://example.org/{key}",
                [spoken(0.0, text)],
                municipality=municipality,
                published=published,
                speaker="Rede" if key.startswith("bonn") else None,
            )
        store(
            catalog,
            engine,
            "https://example.org/hidden",
            [spoken(0, "Stadt")],
            status=Status.HIDDEN,
        )
        yield catalog, engine


def matching(catalog: Catalog, text: str) -> dict[str, int]:
    """Every statement (of any status, unfiltered) with passages matching, and how many: what
    the Meilisearch facet request answers."""
    expression = match_expression(parse_query(text).clauses)
    rows = catalog.db.execute(
        "SELECT rowid >> 16, count(*) FROM passage_terms WHERE passage_terms MATCH ? GROUP BY 1",
        (expression,),
    ).fetchall()
    seqs = {seq: n for seq, n in rows}
    ids = catalog.db.execute(
        f"SELECT id, seq FROM statements WHERE seq IN ({', '.join('?' * len(seqs))})", list(seqs)
    ).fetchall()
    return {row[0]: seqs[row[1]] for row in ids}


QUERIES = [
    Query("Stadt"),
    Query("Stadt", municipality="Bonn"),
    Query("Stadt", municipality="kiel"),
    Query("Stadt", speaker="Rede"),
    Query("Stadt", date_from=PartialDate(2025, 11)),
    Query("Stadt", date_to=PartialDate(2025)),
    Query("Stadt", date_from=PartialDate(2025, 7, 3), date_to=PartialDate(2025, 7, 3)),
    Query("Stadt", date_from=PartialDate(2026), date_to=PartialDate(2026, 12)),
    Query("Stadt", date_from=PartialDate(2024, 6), date_to=PartialDate(2024, 6, 30)),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q))
def test_visible_statements_are_those_fts_finds(
    fts: tuple[Catalog, FtsEngine], query: Query
) -> None:
    catalog, engine = fts
    counts = matching(catalog, query.text)
    rows = catalog.statements_by_id(sorted(counts)).values()
    shown = {s.id for s in rows if visible(s, query)}
    everything = engine.search(replace(query, per_page=100))
    assert shown == {s.statement_id for s in everything.statements}
    assert len(shown) == everything.total


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q))
def test_facets_and_trend_are_those_of_fts(fts: tuple[Catalog, FtsEngine], query: Query) -> None:
    catalog, engine = fts
    counts = matching(catalog, query.text)
    shown = [s for s in catalog.statements_by_id(sorted(counts)).values() if visible(s, query)]
    facets, trend = tally(shown, counts)
    expected = engine.search(query)
    assert facets == expected.facets
    assert trend == expected.trend


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_is_that_of_fts(fts: tuple[Catalog, FtsEngine], sort: str) -> None:
    catalog, engine = fts
    counts = matching(catalog, "Stadt")
    shown = [s for s in catalog.statements_by_id(sorted(counts)).values() if visible(s, Query("x"))]
    expected = engine.search(Query("Stadt", sort=sort, per_page=100))  # type: ignore[arg-type]
    order = dated_order(shown, newest=sort == "newest")
    assert order == [s.statement_id for s in expected.statements]
    assert order[-2:] == [s.statement_id for s in expected.statements][-2:]  # undated last


def test_the_trend_counts_matching_passages() -> None:
    rows = [
        statement(id="a", published=PartialDate(2026, 2, 3)),
        statement(id="b", published=PartialDate(2026, 2)),
        statement(id="c", published=PartialDate(2026)),  # names no month: not in the trend
    ]
    facets, trend = tally(rows, {"a": 2, "b": 3, "c": 7})
    assert trend == {"2026-02": 5}
    assert facets["year"] == {"2026": 3}


def test_a_hidden_statement_is_not_visible() -> None:
    assert not visible(statement(status=Status.HIDDEN), Query("x"))
    assert not visible(statement(status=Status.TRANSCRIBED), Query("x"))
    assert visible(statement(), Query("x"))


def test_filters_compare_exactly_unlike_meilisearch() -> None:
    assert not visible(statement(municipality="köln"), Query("x", municipality="Köln"))
    assert not visible(statement(municipality="Köln "), Query("x", municipality="Köln"))


def test_an_undated_statement_is_outside_any_date_range() -> None:
    assert not visible(statement(), Query("x", date_from=PartialDate(2000)))
    assert not visible(statement(), Query("x", date_to=PartialDate(2100)))


def test_a_date_less_precise_than_the_range_is_visible_where_it_overlaps() -> None:
    in_2026 = statement(published=PartialDate(2026))
    assert visible(in_2026, Query("x", date_from=PartialDate(2026, 12, 31)))
    assert not visible(in_2026, Query("x", date_from=PartialDate(2027, 1, 1)))


# -- tasks and errors -----------------------------------------------------------------------------


def task(status: str, error: dict[str, str] | None = None) -> Task:
    return Task(
        uid=5,
        status=status,
        type="documentAdditionOrUpdate",
        error=error,
        enqueued_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def test_a_succeeded_task_is_no_failure() -> None:
    assert task_failure(task("succeeded")) is None


def test_a_failed_task_gives_its_error() -> None:
    failed = task("failed", {"code": "invalid_document_id", "message": "Document id is invalid."})
    assert task_failure(failed) == "invalid_document_id: Document id is invalid."


def test_a_canceled_task_is_a_failure_too() -> None:
    assert task_failure(task("canceled")) == "ended canceled"


def test_a_failed_task_is_an_unavailable_engine() -> None:
    assert issubclass(SearchTaskFailed, SearchEngineUnavailable)
    assert (SearchEngineUnavailable.status, SearchEngineUnavailable.code) == (
        503,
        "search_unavailable",
    )


def api_error(status: int, body: bytes) -> MeilisearchApiError:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return MeilisearchApiError("HTTP error", response)


def test_a_rejected_key_is_named() -> None:
    error = api_error(
        403, b'{"message":"The provided API key is invalid.","code":"invalid_api_key"}'
    )
    message = api_error_message("http://meili:7700", "searching", error)
    assert message == (
        "Meilisearch at http://meili:7700 refused the key while searching: "
        "The provided API key is invalid."
    )


def test_another_api_error_gives_status_code_and_message_on_one_line() -> None:
    body = (
        b'{"message":"Attribute `x` is not filterable.\\n1:2 x = 1","code":"invalid_search_filter"}'
    )
    message = api_error_message("http://meili:7700", "searching", api_error(400, body))
    assert "\n" not in message
    assert message.startswith("Meilisearch at http://meili:7700 failed while searching")
    assert "HTTP 400 invalid_search_filter" in message and "1:2 x = 1" in message


def test_a_page_that_is_no_meilisearch_answer_is_cut_short() -> None:
    message = api_error_message("http://meili", "searching", api_error(404, b"<html>" * 500))
    assert len(message) < 500 and message.endswith("…")


def test_the_reason_a_connection_failed() -> None:
    error = MeilisearchCommunicationError(
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /x "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: "
        "Failed to establish a new connection: [Errno 111] Connection refused'))"
    )
    assert unreachable_reason(error) == "Connection refused"
    assert unreachable_reason(MeilisearchCommunicationError("odd")) == "connection failed"


def test_a_closed_port_is_an_unavailable_engine_naming_the_url(tmp_path: Path) -> None:
    with (
        Catalog(tmp_path / "catalog.sqlite3") as catalog,
        pytest.raises(SearchEngineUnavailable) as raised,
    ):
        MeiliEngine(catalog, CLOSED, "key", index="test_closed")
    message = raised.value.message
    assert CLOSED in message
    assert "cannot be reached" in message and "Connection refused" in message
    assert "\n" not in message and "Traceback" not in message and "urllib3" not in message


def test_a_url_without_scheme_is_refused_before_any_request(tmp_path: Path) -> None:
    with (
        Catalog(tmp_path / "catalog.sqlite3") as catalog,
        pytest.raises(SearchEngineUnavailable, match="'localhost:7700' is not an http"),
    ):
        MeiliEngine(catalog, "localhost:7700", None)


# -- choosing the engine ------------------------------------------------------------------------


def test_without_a_meilisearch_url_the_engine_is_fts(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        engine = open_engine(Settings(data_dir=tmp_path), catalog)
    assert isinstance(engine, FtsEngine)


def test_with_a_meilisearch_url_the_engine_is_meilisearch(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, meili_url=CLOSED, meili_key="key")
    with (
        Catalog(tmp_path / "catalog.sqlite3") as catalog,
        pytest.raises(SearchEngineUnavailable, match=re.escape(CLOSED)),
    ):
        open_engine(settings, catalog)


def test_the_fts_path_imports_neither_the_meilisearch_client_nor_tantivy(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from archive.catalog import Catalog\n"
        "from archive.config import Settings\n"
        "from archive.search.engines import open_engine\n"
        f"p = Path({str(tmp_path)!r})\n"
        "with Catalog(p / 'c.sqlite3') as c: open_engine(Settings(data_dir=p), c)\n"
        "assert 'meilisearch' not in sys.modules, 'meilisearch imported'\n"
        "assert 'archive.search.meili' not in sys.modules\n"
        "assert 'tantivy' not in sys.modules, 'tantivy imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
