"""One contract for every engine: the same hits (as sets), facet counts, trend and deep-link
seconds on the German relevance set. Rank order is the engines' own business."""

from __future__ import annotations

import math
from typing import Any

import pytest

from archive.analysis import term
from archive.indexing import take_down
from archive.models import Status
from archive.search import Query, search
from tests.search.conftest import Seeded
from tests.search.relevance import load, query, store

QUERIES = load()["queries"]


def found(seeded: Seeded, text: str, **options: Any) -> set[str]:
    keys = {sid: key for key, sid in seeded.ids.items()}
    results = search(seeded.catalog, seeded.engine, query(text, options, per_page=100), None)
    return {keys[hit.statement.id] for hit in results.statements}


@pytest.mark.parametrize("entry", QUERIES, ids=[f"{q['kind']}:{q['q']}" for q in QUERIES])
def test_hits_are_the_expected_set(seeded: Seeded, entry: dict[str, object]) -> None:
    hits = found(seeded, str(entry["q"]), **dict(entry.get("filters", {})))  # type: ignore[call-overload]
    assert set(entry["expect"]) <= hits  # type: ignore[call-overload]
    assert not hits & set(entry.get("must_not", []))  # type: ignore[call-overload]


@pytest.mark.parametrize("entry", [q for q in QUERIES if "facets" in q], ids=lambda q: q["q"])
def test_facet_counts(seeded: Seeded, entry: dict[str, object]) -> None:
    results = search(seeded.catalog, seeded.engine, Query(str(entry["q"])), None)
    for name, expected in dict(entry["facets"]).items():  # type: ignore[call-overload]
        assert results.facets[name] == expected


def test_trend_counts_matching_passages_per_month(seeded: Seeded) -> None:
    results = search(seeded.catalog, seeded.engine, Query("Abstand"), None)
    assert results.trend == {"2025-11": 1, "2026-01": 1}


def test_total_and_pages(seeded: Seeded) -> None:
    everything = search(seeded.catalog, seeded.engine, Query("Innenstadt", per_page=100), None)
    pages = [
        search(seeded.catalog, seeded.engine, Query("Innenstadt", per_page=1, page=p), None)
        for p in range(1, everything.total + 2)
    ]
    assert everything.total >= 2
    assert all(p.total == everything.total for p in pages)
    assert [len(p.statements) for p in pages] == [1] * everything.total + [0]
    paged = {p.statements[0].statement.id for p in pages[:-1]}
    assert paged == {hit.statement.id for hit in everything.statements}


@pytest.mark.parametrize(
    ("text", "key", "spoken"),
    [
        ("Maskenpflicht", "koeln-maske", "Maskenpflicht"),
        ("Pflicht", "koeln-maske", "Maskenpflicht"),
        ("Schatzkarte", "bremen-schatz", "Schatzkarte"),
        ("Rathaus", "bremen-schatz", "Rathaus."),
        ("Abstand", "koeln-maske", "Abstand"),
        ("Krankenhaus", "koeln-maske", "Krankenhäusern"),
        ("Umbauarbeiten", "ulm-umbau", "Umbau"),
        ("Weidezone", "ulm-umbau", "Weide-Zone"),
        ("Überflutungen", "ulm-umbau", "über"),
    ],
)
def test_deep_link_second_is_one_before_the_first_matched_word(
    seeded: Seeded, text: str, key: str, spoken: str
) -> None:
    results = search(seeded.catalog, seeded.engine, Query(text), None)
    hit = next(h for h in results.statements if h.statement.id == seeded.ids[key])
    said = [w for s in seeded.catalog.segments(seeded.ids[key]) for w in s.words]
    start = next(w.start for w in said if w.text.strip() == spoken)
    assert hit.passages[0].second == max(0, math.floor(start - 1))
    assert hit.passages[0].link == f"/statements/{seeded.ids[key]}?t={hit.passages[0].second}"


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("Umbauarbeiten", "<mark>Umbau</mark> <mark>arbeiten</mark>"),
        ("Weidezone", "<mark>Weide-Zone</mark>"),
        ("Überflutung", "<mark>über</mark> <mark>Flutungen</mark>"),
    ],
)
def test_a_compound_said_apart_is_found_and_both_halves_marked(
    seeded: Seeded, text: str, marked: str
) -> None:
    """Whisper writes compounds apart or hyphenated; the compound asked for finds them."""
    results = search(seeded.catalog, seeded.engine, Query(text), None)
    hit = next(h for h in results.statements if h.statement.id == seeded.ids["ulm-umbau"])
    assert marked in hit.passages[0].snippet_html
    assert found(seeded, text) == {"ulm-umbau", "passau-hochwasser"}


def test_words_asked_for_apart_find_the_compound_said_whole(seeded: Seeded) -> None:
    """Through its parts (the analyser's split), as any two words AND-ed; in quotes the words
    are matched as written."""
    assert {"ulm-umbau", "passau-hochwasser"} <= found(seeded, "Umbau Arbeiten")
    assert found(seeded, '"Umbau arbeiten"') == {"ulm-umbau"}
    assert found(seeded, "Vorort") == set()  # "vor Ort" is no compound said apart


def test_sort_newest_and_oldest(seeded: Seeded) -> None:
    newest = search(seeded.catalog, seeded.engine, Query("Kita", sort="newest"), None)
    oldest = search(seeded.catalog, seeded.engine, Query("Kita", sort="oldest"), None)
    dates = [h.statement.published for h in newest.statements]
    dated = [d for d in dates if d is not None]
    assert dates == dated == sorted(dated, reverse=True) and len(dates) == 2
    assert [h.statement.published for h in oldest.statements] == dates[::-1]


def test_a_takedown_is_gone_from_search_and_did_you_mean_at_once(seeded: Seeded) -> None:
    """`take_down` hides the statement in the catalog, then removes it from the index: right
    after, neither search nor the did-you-mean vocabulary knows it (Falckenstein and the
    Rettungsschwimmer are said in kiel-strand only)."""
    catalog, engine = seeded.catalog, seeded.engine
    only_kiel = [term("Falckenstein"), term("Rettungsschwimmer")]
    assert "kiel-strand" in found(seeded, "Strand")
    assert all(engine.vocabulary.passages_with(t) > 0 for t in only_kiel)
    typo = Query("Falckenstain")
    assert search(catalog, engine, typo, None).suggestion == "Falckenstein"
    take_down(catalog, engine, seeded.ids["kiel-strand"])
    assert catalog.get(seeded.ids["kiel-strand"]).status == Status.HIDDEN
    assert "kiel-strand" not in found(seeded, "Strand")
    assert found(seeded, "Falckenstein") == set()
    assert [engine.vocabulary.passages_with(t) for t in only_kiel] == [0, 0]
    seq = catalog.get(seeded.ids["kiel-strand"]).seq
    assert seq not in engine.held()
    # did-you-mean no longer offers its words, and others are still offered
    assert search(catalog, engine, typo, None).suggestion is None
    assert search(catalog, engine, Query("Maskenpflict"), None).suggestion == "Maskenpflicht"


def test_a_hidden_statement_is_not_found(seeded: Seeded) -> None:
    hidden = store(
        seeded.catalog,
        seeded.engine,
        "relevance:hidden",
        ["Der Leuchtturm bleibt geschlossen."],
        status=Status.HIDDEN,
        title="Leuchtturm",
    )
    assert hidden.status == Status.HIDDEN
    assert search(seeded.catalog, seeded.engine, Query("Leuchtturm"), None).total == 0


def test_typo_is_corrected_and_suggested(seeded: Seeded) -> None:
    results = search(seeded.catalog, seeded.engine, Query("Maskenpflict"), None)
    assert results.suggestion == "Maskenpflicht"
    assert results.corrected
    assert {h.statement.id for h in results.statements} == {seeded.ids["koeln-maske"]}
    assert "<mark>Maskenpflicht</mark>" in results.statements[0].passages[0].snippet_html


def test_no_suggestion_when_the_word_is_known(seeded: Seeded) -> None:
    results = search(seeded.catalog, seeded.engine, Query("Maskenpflicht"), None)
    assert results.suggestion is None and not results.corrected


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (None, "2025", {"kiel-strand"}),
        (None, "2025-12", {"kiel-strand"}),
        ("2026", None, {"dresden-buergermeister"}),
        ("2025-07", "2025-07-03", {"kiel-strand"}),
        ("2025-07-04", "2025-12-31", set()),
    ],
)
def test_date_ranges_take_years_months_and_days_inclusively(
    seeded: Seeded, date_from: str | None, date_to: str | None, expected: set[str]
) -> None:
    dates = {"date_from": date_from, "date_to": date_to}
    assert found(seeded, "geöffnet", **{k: v for k, v in dates.items() if v}) == expected


def test_the_index_reports_its_size_on_this_machine(seeded: Seeded, engine_kind: str) -> None:
    size = seeded.engine.index_bytes()
    if engine_kind == "meili":
        assert size is None  # on the server
    else:
        assert size is not None and size > 0
