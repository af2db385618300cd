"""The Meilisearch engine's pure parts, without a server: settings, documents, filters, query
text, request bodies, the write side's filters, paging, swap body and built vocabulary, and the
catalog-side counting and ordering, checked against a brute-force oracle computed straight from
the catalog. The network tests use the real client against a closed loopback port: every call
must fail as one line naming the server, leaving the catalog's vocabulary as it was."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError
from meilisearch.models.task import Task

import archive.search.meili as meili
from archive.analysis import analyse_text, parse_query, term
from archive.catalog import Catalog, passage_rowid, statement_id_for
from archive.config import Settings
from archive.dates import PartialDate
from archive.models import Passage, Segment, Statement, Status, Transcript, Word
from archive.passages import build_passages
from archive.search import Built, Query
from archive.search.meili import (
    LOCALES,
    MAX_VALUES_PER_FACET,
    META_POSITION,
    META_TERM_FIELDS,
    PART_SEPARATOR,
    REMOVE_CHUNK,
    TERM_FIELDS,
    MeiliEngine,
    SearchEngineUnavailable,
    SearchTaskFailed,
    api_error_message,
    build_uid,
    chunked,
    count_terms,
    dated_order,
    documents,
    documents_request,
    facet_params,
    filter_expression,
    index_settings,
    matched_fields,
    meta_documents,
    meta_texts,
    outdated,
    page_params,
    paged,
    passage_counts,
    passage_params,
    quote,
    search_params,
    search_text,
    seq_filter,
    settings_differ,
    stale_filter,
    swap_request,
    tally,
    task_failure,
    unreachable_reason,
    visible,
    vocabulary_layers,
)
from archive.search.vocabulary import CatalogVocabulary, spelled_terms

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
    used |= filtered_attributes(seq_filter([3, 7]))  # remove(), held terms
    used |= filtered_attributes(stale_filter([{"seq": 7, "position": 0}], [7, 9]))  # index()
    assert used >= {"municipality", "speaker", "source", "language", "statement_id"}
    assert used >= {"seq", "position"}
    assert used <= set(index_settings()["filterableAttributes"])


def test_every_configured_attribute_is_a_document_field() -> None:
    """A searchable, filterable or sortable attribute that no document has finds nothing."""
    meta = statement(published=PartialDate(2026, 2, 3))
    [doc] = documents(meta, [passage(0, "Stadt")])
    [title] = meta_documents(meta, 7)
    settings = index_settings()
    configured = {
        *settings["searchableAttributes"],
        *settings["filterableAttributes"],
        *settings["sortableAttributes"],
    }
    assert configured <= set(doc) | set(title)
    assert settings["searchableAttributes"] == [*META_TERM_FIELDS, *TERM_FIELDS]


def test_term_fields_are_pinned_to_a_locale_without_german_segmentation() -> None:
    [rule] = index_settings()["localizedAttributes"]
    assert rule["attributePatterns"] == [*META_TERM_FIELDS, *TERM_FIELDS]
    assert "deu" not in rule["locales"] and "de" not in rule["locales"]


def test_no_attribute_is_exempted_from_typos_which_would_break_prefixes() -> None:
    assert "disableOnAttributes" not in index_settings()["typoTolerance"]


def test_index_settings_are_a_fresh_copy_each_time() -> None:
    first = index_settings()
    first["searchableAttributes"].append("x")
    assert index_settings()["searchableAttributes"] == [
        *("meta_terms", "meta_joined", "meta_heads", "meta_modifiers"),
        *("terms", "joined", "heads", "modifiers"),
    ]


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
    """What Meilisearch compares (the document's days against the range's) is what the embedded
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
    assert params["facets"] == ["statement_id", "meta_of"]
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
    own = f'statement_id = "abc" AND position < {META_POSITION}'  # passages, not metadata
    assert params["filter"] == f'(municipality = "Kiel") AND {own}'
    assert params["limit"] == 2
    assert params["showRankingScore"] is True
    assert params["attributesToRetrieve"] == ["id"]


def test_the_passage_request_without_other_filters() -> None:
    params = passage_params(Query("Stadt"), "stadt ", None, "abc")
    assert params["filter"] == f'statement_id = "abc" AND position < {META_POSITION}'


# -- metadata documents ---------------------------------------------------------------------------


def test_one_metadata_document_per_field_that_is_set() -> None:
    meta = statement(title="Grußwort der Oberbürgermeisterin", speaker="Anna Beispiel")
    docs = meta_documents(meta, 7)
    assert [d["id"] for d in docs] == ["meta-7-1", "meta-7-2"]
    assert [d["meta_of"] for d in docs] == ["title:abc123", "speaker:abc123"]
    assert [d["position"] for d in docs] == [META_POSITION + 1, META_POSITION + 2]
    assert all(d["position"] > 0xFFFF for d in docs)  # past every passage's position
    assert docs[0]["meta_terms"] == " ".join(analyse_text(meta.title).terms)
    assert term("Bürgermeister") in docs[0]["meta_heads"].split(PART_SEPARATOR)
    assert all("terms" not in d for d in docs)  # passages' fields stay passages'
    assert meta_texts(meta) == [meta.title, "Anna Beispiel"]


def test_metadata_documents_carry_the_values_filtered_on() -> None:
    meta = statement(municipality="Köln", published=PartialDate(2026, 2, 3), language="de")
    [title, place] = meta_documents(meta, 7)
    assert place["meta_of"] == "municipality:abc123"
    for doc in (title, place):
        assert doc["municipality"] == "Köln" and doc["language"] == "de"
        assert (doc["published_first"], doc["month"]) == (20260203, "2026-02")


def test_no_seq_no_metadata_documents() -> None:
    assert meta_documents(statement(seq=None), None) == []


def test_the_stale_filter_keeps_the_metadata_documents() -> None:
    meta = statement(speaker="Anna Beispiel")
    docs = documents(meta, [passage(0, "Stadt")]) + meta_documents(meta, 7)
    assert stale_filter(docs, [7]) == (
        f"seq = 7 AND NOT position IN [0, {META_POSITION + 1}, {META_POSITION + 2}]"
    )


def test_matched_fields_come_in_the_order_of_the_fields() -> None:
    found = matched_fields({"municipality:a": 1, "title:a": 1, "speaker:b": 1, "title:c": 0})
    assert found == {"a": ("title", "municipality"), "b": ("speaker",)}


def test_passages_are_the_matching_documents_less_the_metadata_ones() -> None:
    fields = matched_fields({"title:a": 1, "speaker:a": 1, "title:b": 1})
    assert passage_counts({"a": 5, "b": 1, "c": 3}, fields) == {"a": 3, "b": 0, "c": 3}


def test_an_index_without_metadata_documents_is_outdated() -> None:
    assert outdated({"filterableAttributes": ["seq", "statement_id"]})
    assert outdated({})
    assert not outdated({"filterableAttributes": index_settings()["filterableAttributes"]})


# -- the catalog side, checked against a brute-force oracle over the catalog ---------------------
#
# What the engine computes from the catalog's rows (visibility, facets, trend, date order) is
# compared with the same quantities computed the slow, obvious way: every passage analysed, every
# statement read as the raw stored row, every date expanded into the calendar days it may name.


def segment(start: float, text: str) -> Segment:
    words = tuple(
        Word(start + i * 0.5, start + i * 0.5 + 0.4, " " + word)
        for i, word in enumerate(text.split())
    )
    return Segment(start, words[-1].end, " " + text, words)


def put(
    catalog: Catalog,
    key: str,
    texts: Sequence[str],
    *,
    status: Status = Status.INDEXED,
    published: str | None = None,
    municipality: str | None = None,
    speaker: str | None = None,
) -> Statement:
    """A statement stored as the pipeline stores it (claimed, transcribed), then given its
    status; no engine: the catalog alone is what these tests read. Texts a minute apart become
    passages of their own."""
    origin = f"https://example.org/{key}"
    claimed = catalog.claim(
        Statement(
            id=statement_id_for(origin),
            origin=origin,
            title=key,
            published=PartialDate.parse(published) if published else None,
            municipality=municipality,
            speaker=speaker,
        )
    )
    segments = tuple(segment(60.0 * i, text) for i, text in enumerate(texts))
    passages = build_passages(claimed.id, segments)
    assert len(passages) == len(texts)
    transcript = Transcript("de", segments[-1].end, segments)
    catalog.save_transcript(claimed.id, transcript, passages, None)
    if status != Status.TRANSCRIBED:
        catalog.set_status(claimed.id, status)
    return catalog.get(claimed.id)


SEEDED = [
    # key, municipality, published, speaker, status, texts
    ("koeln", "Köln", "2026-02-03", None, "indexed", ["Die Stadt sagt Maske.", "Die Stadt hilft."]),
    ("bonn", "Bonn", "2025-11-20", "Rede", "indexed", ["Die Stadt baut.", "Schulen bauen wir."]),
    ("bonn2", "Bonn", "2025-11-20", "Rede", "indexed", ["Stadt und Land."]),
    ("kiel", "Kiel", "2025-07-03", None, "indexed", ["Der Strand der Stadt."]),
    ("undated", None, None, None, "indexed", ["Eine Stadt ohne Datum."]),
    ("undated2", "kiel", None, None, "indexed", ["Noch eine Stadt."]),
    ("year", "Bonn", "2024", None, "indexed", ["Die Stadt im Jahr."]),
    ("month", "Kiel", "2024-06", None, "indexed", ["Die Stadt im Monat."]),
    ("first", "Kiel", "2024-06-01", None, "indexed", ["Die Stadt am Ersten."]),
    ("hidden", "Köln", "2026-02-03", None, "hidden", ["Stadt"]),
    ("waiting", "Köln", "2026-02-03", None, "transcribed", ["Stadt"]),
    ("other", "Köln", "2026-02", None, "indexed", ["Kein Treffer hier."]),
]


def sid(key: str) -> str:
    return statement_id_for(f"https://example.org/{key}")


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        for key, municipality, published, speaker, status, texts in SEEDED:
            put(
                catalog,
                key,
                texts,
                status=Status(status),
                published=published,
                municipality=municipality,
                speaker=speaker,
            )
        yield catalog


def oracle_matching(catalog: Catalog, word: str) -> dict[str, int]:
    """Every statement (of any status, unfiltered) with passages holding the word in a
    searchable field, and how many: what the facet request over statement_id answers, found by
    analysing every passage of the catalog."""
    [clause] = parse_query(word).positive
    [wanted] = clause.terms
    counts: Counter[str] = Counter()
    for statement_id, text in catalog.db.execute("SELECT statement_id, text FROM passages"):
        analysed = analyse_text(text)
        if wanted in {*analysed.terms, *analysed.heads, *analysed.modifiers, *analysed.joined}:
            counts[statement_id] += 1
    return dict(counts)


CALENDAR = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(11 * 366)]


def days_named(stored: str) -> list[dt.date]:
    """Every day a stored date (YYYY, YYYY-MM or YYYY-MM-DD) may name."""
    days = [day for day in CALENDAR if day.isoformat().startswith(stored)]
    assert days, stored
    return days


def oracle_visible(catalog: Catalog, query: Query, ids: Sequence[str]) -> list[dict[str, object]]:
    """The raw catalog rows of these statements that a search lists: indexed, every filter equal
    to the stored value, and some day the stored date may name within the range's days."""
    rows = [dict(row) for row in catalog.db.execute("SELECT * FROM statements ORDER BY seq")]
    low = min(days_named(str(query.date_from))) if query.date_from else dt.date.min
    high = max(days_named(str(query.date_to))) if query.date_to else dt.date.max
    shown = []
    for row in rows:
        if row["id"] not in ids or row["status"] != "indexed":
            continue
        if any(row[name] != value for name, value in query.filters.items()):
            continue
        if query.date_from or query.date_to:
            stored = row["published"]
            if stored is None or not any(low <= day <= high for day in days_named(str(stored))):
                continue
        shown.append(row)
    return shown


def oracle_tally(
    rows: Sequence[dict[str, object]], counts: dict[str, int]
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Statements per municipality, speaker and year; matching passages per month."""
    facets: dict[str, Counter[str]] = {"municipality": Counter(), "speaker": Counter()}
    facets["year"] = Counter()
    trend: Counter[str] = Counter()
    for row in rows:
        for name in ("municipality", "speaker"):
            if row[name]:
                facets[name][str(row[name])] += 1
        stored = row["published"]
        if stored:
            facets["year"][str(stored)[:4]] += 1
            if len(str(stored)) >= 7:
                trend[str(stored)[:7]] += counts[str(row["id"])]
    return {name: dict(counter) for name, counter in facets.items()}, dict(trend)


def oracle_dated(rows: Sequence[dict[str, object]], newest: bool) -> list[str]:
    """Dated statements by the days they may name (the earlier first day first; on the same
    first day the less precise date, which names more days, first), then seq; reversed for
    newest first. Undated ones last, the latest seq first."""

    def when(row: dict[str, object]) -> tuple[dt.date, int, int]:
        days = days_named(str(row["published"]))
        return (days[0], -len(days), int(str(row["seq"])))

    dated = sorted((r for r in rows if r["published"]), key=when, reverse=newest)
    undated = sorted((r for r in rows if not r["published"]), key=lambda r: -int(str(r["seq"])))
    return [str(row["id"]) for row in dated + undated]


def shown_by_the_engine(catalog: Catalog, query: Query, counts: dict[str, int]) -> list[Statement]:
    """What MeiliEngine.search keeps of the statements the facet request names."""
    rows = catalog.statements_by_id(sorted(counts)).values()
    return sorted((s for s in rows if visible(s, query)), key=lambda s: s.seq or 0)


QUERIES = [
    Query("Stadt"),
    Query("Stadt", municipality="Bonn"),
    Query("Stadt", municipality="kiel"),
    Query("Stadt", municipality="Köln"),
    Query("Stadt", speaker="Rede"),
    Query("Stadt", language="de", source="nowhere"),
    Query("Stadt", date_from=PartialDate(2025, 11)),
    Query("Stadt", date_to=PartialDate(2025)),
    Query("Stadt", date_from=PartialDate(2025, 7, 3), date_to=PartialDate(2025, 7, 3)),
    Query("Stadt", date_from=PartialDate(2026), date_to=PartialDate(2026, 12)),
    Query("Stadt", date_from=PartialDate(2024, 6), date_to=PartialDate(2024, 6, 30)),
    Query("Stadt", date_from=PartialDate(2024, 6, 2)),
    Query("Schulen"),
    Query("Treffer"),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_visible_statements_are_the_oracles(seeded: Catalog, query: Query) -> None:
    counts = oracle_matching(seeded, query.text)
    shown = [s.id for s in shown_by_the_engine(seeded, query, counts)]
    assert shown == [row["id"] for row in oracle_visible(seeded, query, list(counts))]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_facets_and_trend_are_the_oracles(seeded: Catalog, query: Query) -> None:
    counts = oracle_matching(seeded, query.text)
    facets, trend = tally(shown_by_the_engine(seeded, query, counts), counts)
    assert (facets, trend) == oracle_tally(oracle_visible(seeded, query, list(counts)), counts)
    assert list(trend) == sorted(trend)


@pytest.mark.parametrize("query", QUERIES, ids=repr)
@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_is_the_oracles(seeded: Catalog, query: Query, sort: str) -> None:
    counts = oracle_matching(seeded, query.text)
    order = dated_order(shown_by_the_engine(seeded, query, counts), newest=sort == "newest")
    rows = oracle_visible(seeded, query, list(counts))
    assert order == oracle_dated(rows, newest=sort == "newest")


def test_the_oracle_itself_on_the_seeded_archive(seeded: Catalog) -> None:
    """Anchors written out by hand, so that the engine and the oracle cannot agree on a mistake:
    not hidden, not merely transcribed, not without the word; passages counted, not statements."""
    counts = oracle_matching(seeded, "Stadt")
    assert counts[sid("koeln")] == 2 and counts[sid("bonn")] == 1
    assert sid("other") not in counts
    rows = oracle_visible(seeded, Query("Stadt"), list(counts))
    keys = {sid(key): key for key, *_ in SEEDED}
    assert {keys[str(row["id"])] for row in rows} == {
        "koeln", "bonn", "bonn2", "kiel", "undated", "undated2", "year", "month", "first"
    }  # fmt: skip
    facets, trend = oracle_tally(rows, counts)
    assert facets == {
        "municipality": {"Köln": 1, "Bonn": 3, "Kiel": 3, "kiel": 1},
        "speaker": {"Rede": 2},
        "year": {"2026": 1, "2025": 3, "2024": 3},
    }
    assert trend == {"2026-02": 2, "2025-11": 2, "2025-07": 1, "2024-06": 2}
    newest = [keys[i] for i in oracle_dated(rows, newest=True)]
    assert newest == [
        "koeln", "bonn2", "bonn", "kiel", "first", "month", "year", "undated2", "undated"
    ]  # fmt: skip
    oldest = [keys[i] for i in oracle_dated(rows, newest=False)]
    assert oldest == [
        "year", "month", "first", "kiel", "bonn", "bonn2", "koeln", "undated2", "undated"
    ]  # fmt: skip


def test_the_trend_counts_matching_passages() -> None:
    rows = [
        statement(id="a", published=PartialDate(2026, 2, 3)),
        statement(id="b", published=PartialDate(2026, 2)),
        statement(id="c", published=PartialDate(2026)),  # names no month: not in the trend
    ]
    facets, trend = tally(rows, {"a": 2, "b": 3, "c": 7})
    assert trend == {"2026-02": 5}
    assert facets["year"] == {"2026": 3}


def test_a_statement_found_by_its_metadata_alone_counts_in_the_facets_not_the_trend() -> None:
    rows = [
        statement(id="a", published=PartialDate(2026, 2, 3), municipality="Gera"),
        statement(id="b", published=PartialDate(2026, 3, 1), municipality="Jena"),
    ]
    facets, trend = tally(rows, {"a": 0, "b": 1})
    assert trend == {"2026-03": 1}
    assert facets["municipality"] == {"Gera": 1, "Jena": 1}


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


# -- the write side: filters, chunks, paging, the swap, the built vocabulary ----------------------


def test_a_seq_filter_lists_each_seq_once_in_order() -> None:
    assert seq_filter([7, 3, 7]) == "seq IN [3, 7]"
    assert seq_filter([12]) == "seq IN [12]"


def test_a_seq_filter_of_nothing_is_refused() -> None:
    """An empty `seq IN []` would be a filter that removes nothing, or a server error."""
    with pytest.raises(ValueError, match="at least one seq"):
        seq_filter([])


@given(st.lists(st.integers(0, 50)), st.integers(1, 7))
def test_chunks_keep_every_item_in_order_and_are_full_but_the_last(
    items: list[int], size: int
) -> None:
    chunks = list(chunked(items, size))
    assert [item for chunk in chunks for item in chunk] == items
    assert all(chunks) and all(len(chunk) == size for chunk in chunks[:-1])
    assert not chunks or len(chunks[-1]) <= size


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        list(chunked([1, 2], 0))


def seqs_in(filter_: str) -> list[int]:
    found = re.fullmatch(r"seq IN \[(\d+(?:, \d+)*)\]", filter_)
    assert found, filter_
    return [int(value) for value in found.group(1).split(", ")]


def test_long_removals_are_chunked_into_filters_of_every_seq() -> None:
    seqs = [*range(1, 2 * REMOVE_CHUNK + 2), 5, 5]  # duplicates are removed once
    filters = meili.remove_filters(seqs)
    assert len(filters) == 3
    listed = [seqs_in(f) for f in filters]
    assert [len(values) for values in listed] == [REMOVE_CHUNK, REMOVE_CHUNK, 1]
    assert [value for values in listed for value in values] == sorted(set(seqs))


def test_removing_nothing_makes_no_filter() -> None:
    assert meili.remove_filters([]) == []


def test_the_stale_passages_of_one_statement_are_those_at_other_positions() -> None:
    docs = documents(statement(), [passage(0, "Guten Tag"), passage(1, "Die Stadt")])
    assert stale_filter(docs, [7]) == "seq = 7 AND NOT position IN [0, 1]"


def test_a_statement_without_passages_loses_all_it_had() -> None:
    assert stale_filter([], [7]) == "seq = 7"


def test_stale_filters_of_several_seqs_are_parenthesised_alternatives() -> None:
    """AND binds tighter than OR in Meilisearch's filters; the parentheses say so anyway."""
    [doc] = documents(statement(), [passage(2, "Stadt")])
    assert stale_filter([doc], [9]) == "(seq = 7 AND NOT position IN [2]) OR (seq = 9)"


def test_a_stale_filter_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one seq"):
        stale_filter([], [])


def test_a_documents_page_asks_for_its_fields_only() -> None:
    assert documents_request(["seq"], 20_000, 10_000) == {
        "fields": ["seq"],
        "offset": 20_000,
        "limit": 10_000,
    }
    assert documents_request(("terms",), 0, 5, "seq IN [3]")["filter"] == "seq IN [3]"


def pages_of(items: list[int], calls: list[tuple[int, int]]) -> Callable[[int, int], list[int]]:
    def fetch(offset: int, limit: int) -> list[int]:
        calls.append((offset, limit))
        return items[offset : offset + limit]

    return fetch


@pytest.mark.parametrize(
    ("count", "expected_calls"),
    [
        (0, [(0, 10)]),
        (7, [(0, 10)]),
        (20, [(0, 10), (10, 10), (20, 10)]),
        (25, [(0, 10), (10, 10), (20, 10)]),
    ],
)
def test_paging_reads_every_item_and_stops_at_a_short_page(
    count: int, expected_calls: list[tuple[int, int]]
) -> None:
    calls: list[tuple[int, int]] = []
    items = list(range(count))
    assert list(paged(pages_of(items, calls), 10)) == items
    assert calls == expected_calls


def test_paging_fetches_a_page_only_when_it_is_read() -> None:
    """held() must not hold every document: one page at a time."""
    calls: list[tuple[int, int]] = []
    reading = paged(pages_of(list(range(100)), calls), 10)
    assert calls == []
    assert [next(reading) for _ in range(10)] == list(range(10))
    assert calls == [(0, 10)]
    next(reading)
    assert calls == [(0, 10), (10, 10)]


def test_a_built_index_is_named_after_the_current_one() -> None:
    name = build_uid("passages", 1_760_000_000_123_456_789)
    assert name == "passages_build_1760000000123456789"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,400}", name)  # what Meilisearch accepts as a uid


def test_the_swap_request_exchanges_the_current_and_the_built_index() -> None:
    body = swap_request("passages", "passages_build_1")
    assert body == [{"indexes": ["passages", "passages_build_1"]}]
    assert json.loads(json.dumps(body)) == body  # what the client posts to /swap-indexes


def vocabulary_rows(catalog: Catalog) -> list[tuple[str, str, int]]:
    rows = catalog.db.execute(
        "SELECT term, word, passages FROM search_vocabulary WHERE passages > 0 ORDER BY term"
    )
    return [(row[0], row[1], row[2]) for row in rows]


def test_the_built_vocabulary_is_what_indexing_passage_by_passage_counts(tmp_path: Path) -> None:
    """build() counts in memory and swap() writes the layers; index() adds passage by passage:
    the vocabulary table must come out the same, spellings included."""
    texts = [
        "Die Stadt baut Schulen.",
        "Die Stadt hilft, die STADT hilft.",
        "Schulen, Kitas und Maskenpflicht in Bussen.",
        "Ein Bus, zwei Busse: die Stadt.",
        "stadt",
    ]
    with (
        Catalog(tmp_path / "passage-by-passage.sqlite3") as one,
        Catalog(tmp_path / "built.sqlite3") as built,
    ):
        CatalogVocabulary(one).add(spelled_terms(text) for text in texts)
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for text in texts:
            count_terms(text, counts, spelling)
        vocabulary = CatalogVocabulary(built)
        vocabulary.add([{"alt": "Alt"}])  # what the replaced index held
        vocabulary.clear()
        vocabulary.add(vocabulary_layers(counts, spelling))
        assert vocabulary_rows(built) == vocabulary_rows(one)
        assert vocabulary.passages_with(term("Stadt")) == 4
        assert vocabulary.passages_with("alt") == 0


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(0, 12)))
def test_the_layers_add_up_to_the_counts(counts: dict[str, int]) -> None:
    spelling = {t: t.upper() for t in counts}
    layers = list(vocabulary_layers(counts, spelling))
    added: Counter[str] = Counter()
    for layer in layers:
        added.update(layer.keys())
        assert all(word == spelling[t] for t, word in layer.items())
    assert added == Counter({t: n for t, n in counts.items() if n > 0})
    assert len(layers) == max(counts.values(), default=0)


# -- every server call fails as one line naming the server, and changes nothing ------------------


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MeiliEngine]:
    """An engine whose index counts as prepared (so that opening makes no request) on the real
    client, pointed at a closed port; its catalog has one transcribed statement and one word in
    the vocabulary."""
    monkeypatch.setattr(meili, "_prepared", {(CLOSED, "key", "test_closed")})
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        put(catalog, "a", ["Die Stadt hilft."], status=Status.TRANSCRIBED)
        CatalogVocabulary(catalog).add([{"stadt": "Stadt"}])
        yield MeiliEngine(catalog, CLOSED, "key", index="test_closed")


def assert_unreachable(engine: MeiliEngine, error: SearchEngineUnavailable, doing: str) -> None:
    message = error.message
    assert message.startswith(f"Meilisearch at {CLOSED} cannot be reached while {doing}")
    assert message.endswith("(Connection refused)")
    assert "\n" not in message and "Traceback" not in message and "urllib3" not in message
    assert not engine.catalog.db.in_transaction  # rolled back, not left open
    assert vocabulary_rows(engine.catalog) == [("stadt", "Stadt", 1)]


def test_held_fails_naming_the_server(offline: MeiliEngine) -> None:
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.held()
    assert_unreachable(offline, raised.value, "counting the passages the index holds")


def test_index_fails_naming_the_server(offline: MeiliEngine) -> None:
    statement = offline.catalog.get(sid("a"))
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.index(statement, offline.catalog.passages(statement.id))
    assert_unreachable(offline, raised.value, f"indexing statement {statement.id}")


def test_remove_fails_naming_the_server(offline: MeiliEngine) -> None:
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.remove([1, 2])
    assert_unreachable(offline, raised.value, "removing 2 statement(s) from the index")


def test_removing_nothing_asks_nothing(offline: MeiliEngine) -> None:
    offline.remove([])
    assert vocabulary_rows(offline.catalog) == [("stadt", "Stadt", 1)]


def test_build_fails_naming_the_server_and_reports_no_progress(
    offline: MeiliEngine, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[tuple[int, int]] = []
    statements = [offline.catalog.get(sid("a"))]
    with (
        caplog.at_level(logging.WARNING, logger=meili.__name__),
        pytest.raises(SearchEngineUnavailable) as raised,
    ):
        offline.build(statements, lambda done, total: heard.append((done, total)))
    assert_unreachable(offline, raised.value, "building the index test_closed_build_")
    assert heard == []
    assert offline._built == {}
    # the half-built index could not be deleted either: said, not raised over the first error
    [record] = caplog.records
    assert "after a failed build" in record.getMessage()
    assert "is left on the server" in record.getMessage()


def test_swap_fails_naming_the_server_and_keeps_the_vocabulary(offline: MeiliEngine) -> None:
    built = Built("test_closed_build_1", (1,), 1)
    offline._built[built.name] = (Counter({"neu": 1}), {"neu": "Neu"})
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.swap(built)
    assert_unreachable(offline, raised.value, "swapping in the index test_closed_build_1")
    assert built.name in offline._built  # a later swap may still succeed


def test_swapping_an_index_this_engine_did_not_build_is_refused(offline: MeiliEngine) -> None:
    with pytest.raises(ValueError, match="not built by this engine"):
        offline.swap(Built("test_closed_build_2", (), 0))
    assert vocabulary_rows(offline.catalog) == [("stadt", "Stadt", 1)]


@pytest.mark.parametrize("method", ["swap", "discard"])
def test_the_current_index_is_never_taken_for_a_built_one(
    offline: MeiliEngine, method: str
) -> None:
    with pytest.raises(ValueError, match="is the current one"):
        getattr(offline, method)(Built("test_closed", (), 0))


def test_discard_fails_naming_the_server(offline: MeiliEngine) -> None:
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.discard(Built("test_closed_build_3", (), 0))
    assert_unreachable(offline, raised.value, "deleting the built index test_closed_build_3")


def test_drop_fails_naming_the_server(offline: MeiliEngine) -> None:
    with pytest.raises(SearchEngineUnavailable) as raised:
        offline.drop()
    assert_unreachable(offline, raised.value, "deleting the index")


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


def test_with_a_meilisearch_url_the_engine_is_meilisearch(tmp_path: Path) -> None:
    from archive.search.engines import open_engine

    settings = Settings(data_dir=tmp_path, meili_url=CLOSED, meili_key="key")
    with (
        Catalog(tmp_path / "catalog.sqlite3") as catalog,
        pytest.raises(SearchEngineUnavailable, match=re.escape(CLOSED)),
    ):
        open_engine(settings, catalog)


def test_without_a_meilisearch_url_neither_the_engine_nor_its_client_is_loaded(
    tmp_path: Path,
) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from archive.catalog import Catalog\n"
        "from archive.config import Settings\n"
        "from archive.search.engines import open_engine\n"
        f"p = Path({str(tmp_path)!r})\n"
        "with Catalog(p / 'c.sqlite3') as c: e = open_engine(Settings(data_dir=p), c)\n"
        "assert type(e).__name__ != 'MeiliEngine', type(e)\n"
        "assert 'meilisearch' not in sys.modules, 'meilisearch imported'\n"
        "assert 'archive.search.meili' not in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTSTIMME_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def test_compounds_said_apart_are_joined_terms_in_a_searchable_field() -> None:
    """Whisper's "Umbau arbeiten" and "Weide-Zone": a document holds the terms of the compounds,
    so that the compound's plain term in `q` finds them (Meilisearch has no OR to ask for the
    two words instead)."""
    [doc] = documents(statement(), [passage(0, "Der Umbau arbeiten zu. Die Weide-Zone")])
    assert doc["joined"] == f"{term('Umbauarbeiten')}{PART_SEPARATOR}{term('Weidezone')}"
    settings = index_settings()
    assert "joined" in settings["searchableAttributes"]
    assert "joined" in settings["localizedAttributes"][0]["attributePatterns"]
    assert search_text(parse_query("Umbauarbeiten")) == f"{term('Umbauarbeiten')} "
