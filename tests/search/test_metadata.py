"""Search covers a statement's title, speaker and municipality as well as its passages, in every
engine (the contract of tests/search/conftest.py: tantivy always, Meilisearch with MEILI_URL).

A hit there is a statement-level hit: `matched_in` names the fields, it has no passages (no
moment) unless a passage matches too, and it counts in the total and the facets, never in the
trend. Titles go through the same German analysis as transcripts."""

from __future__ import annotations

from typing import Any

import pytest

from archive.dates import PartialDate
from archive.indexing import take_down
from archive.search import Query, Results, search
from tests.search.conftest import Seeded
from tests.search.relevance import store

# Said in no transcript of the relevance set nor in these statements' own: found by metadata only.
GERA: dict[str, Any] = {
    "title": "Video-Botschaft des Oberbürgermeisters zum Stadtfest",
    "municipality": "Gera",
    "speaker": "Julian Vonarb",
    "published": "2024-05-03",
}
GERA_SAYS = ["Liebe Gäste, am Freitag beginnt das große Fest auf dem Marktplatz."]
# A title in another inflection: "Oberbürgermeisterin" (and "Bürgermeisterin": the analyser
# stems it as "Bürgermeister").
JENA: dict[str, Any] = {
    "title": "Grußwort der Oberbürgermeisterin",
    "municipality": "Jena",
    "speaker": "Anna Beispiel",
    "published": "2024-08-20",
}
JENA_SAYS = ["Herzlich willkommen zur Eröffnung der neuen Bibliothek im Zentrum."]
# Says the title's word as well: a hit both ways.
ERFURT: dict[str, Any] = {
    "title": "Stadtfest in Erfurt",
    "municipality": "Erfurt",
    "speaker": "Andreas Horn",
    "published": "2024-06-10",
}
ERFURT_SAYS = ["Das Stadtfest beginnt am Samstag mit einem Umzug."]


def seed_metadata(seeded: Seeded) -> dict[str, str]:
    ids = {}
    for key, metadata, said in (
        ("gera", GERA, GERA_SAYS),
        ("jena", JENA, JENA_SAYS),
        ("erfurt", ERFURT, ERFURT_SAYS),
    ):
        statement = store(seeded.catalog, seeded.engine, f"metadata:{key}", said, **metadata)
        ids[key] = statement.id
    return ids


def find(seeded: Seeded, text: str, **options: Any) -> Results:
    for name in ("date_from", "date_to"):
        if name in options:
            options[name] = PartialDate.parse(options[name])
    return search(seeded.catalog, seeded.engine, Query(text, per_page=100, **options), None)


def by_id(results: Results) -> dict[str, Any]:
    return {hit.id: hit for hit in results.statements}


def test_a_title_word_finds_a_statement_that_does_not_say_it(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    results = find(seeded, "Bürgermeister")
    hits = by_id(results)
    gera = hits[ids["gera"]]
    assert gera.matched_in == ("title",)
    assert gera.passages == ()
    # counted in the total and the facets, not in the trend
    assert results.total == len(results.statements) == len(hits)
    assert results.facets["municipality"]["Gera"] == 1
    assert results.facets["speaker"]["Julian Vonarb"] == 1
    assert results.facets["year"]["2024"] == 2  # Gera and Jena, both by title only
    assert "2024-05" not in results.trend and "2024-08" not in results.trend
    # the statement that says it (Dresden's) is found by its passages as before
    dresden = hits[seeded.ids["dresden-buergermeister"]]
    assert dresden.passages
    # the trend's months are those of statements with matching passages only
    assert set(results.trend) == {
        str(hit.statement.published)[:7] for hit in results.statements if hit.passages
    }


def test_an_inflected_title_is_found_as_a_transcript_would_be(seeded: Seeded) -> None:
    """ "Oberbürgermeisterin" holds "Bürgermeister" as its head, as "Oberbürgermeisters" does;
    the analyser stems "Bürgermeisterin" as "Bürgermeister", so either finds both titles."""
    ids = seed_metadata(seeded)
    for text in ("Bürgermeister", "Bürgermeisterin", "Oberbürgermeister", "buergermeister"):
        hits = by_id(find(seeded, text))
        assert {ids["gera"], ids["jena"]} <= set(hits), text
        assert hits[ids["jena"]].matched_in == ("title",)


def test_speaker_and_municipality_match_on_their_own(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    speaker = by_id(find(seeded, "Vonarb"))
    assert list(speaker) == [ids["gera"]]
    assert speaker[ids["gera"]].matched_in == ("speaker",)
    assert speaker[ids["gera"]].passages == ()
    place = find(seeded, "Gera")
    assert [hit.id for hit in place.statements] == [ids["gera"]]
    assert place.statements[0].matched_in == ("municipality",)
    assert place.trend == {}
    assert place.facets["municipality"] == {"Gera": 1}
    # a municipality of several words, every word asked for in it
    freiburg = by_id(find(seeded, "Freiburg Breisgau"))
    assert freiburg[seeded.ids["freiburg-kita"]].matched_in == ("municipality",)


def test_a_statement_matching_both_ways_has_passages_and_matched_in(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    results = find(seeded, "Stadtfest")
    hits = by_id(results)
    assert set(hits) == {ids["gera"], ids["erfurt"]}
    assert hits[ids["erfurt"]].matched_in == ("title",)
    assert hits[ids["erfurt"]].passages
    assert "<mark>Stadtfest</mark>" in hits[ids["erfurt"]].passages[0].snippet_html
    assert hits[ids["gera"]].passages == ()
    assert results.trend == {"2024-06": 1}  # Erfurt's passage; Gera's title does not count
    # a statement matching in several fields lists them in order
    both = by_id(find(seeded, "Erfurt"))
    assert both[ids["erfurt"]].matched_in == ("title", "municipality")


def test_filters_apply_to_metadata_hits(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    assert set(by_id(find(seeded, "Bürgermeister", municipality="Gera"))) == {ids["gera"]}
    assert ids["gera"] not in by_id(find(seeded, "Bürgermeister", municipality="Dresden"))
    assert set(by_id(find(seeded, "Bürgermeister", speaker="Anna Beispiel"))) == {ids["jena"]}
    dated = find(seeded, "Bürgermeister", date_from="2024-05", date_to="2024-05-31")
    assert set(by_id(dated)) == {ids["gera"]}
    assert dated.total == 1 and dated.trend == {}
    assert find(seeded, "Vonarb", date_from="2025").total == 0


def test_query_syntax_applies_to_metadata(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    # exclusion: the title holds the excluded word
    excluded = by_id(find(seeded, "Bürgermeister -Stadtfest"))
    assert ids["gera"] not in excluded and ids["jena"] in excluded
    # phrases: in order and together, within one field
    assert ids["jena"] in by_id(find(seeded, '"Grußwort der Oberbürgermeisterin"'))
    assert ids["jena"] not in by_id(find(seeded, '"Oberbürgermeisterin Grußwort"'))
    assert find(seeded, '"Julian Vonarb"').statements[0].matched_in == ("speaker",)
    # every word in one field: a title word and a speaker's name are two fields
    assert ids["gera"] not in by_id(find(seeded, "Stadtfest Vonarb"))
    # prefixes
    assert by_id(find(seeded, "Grußw*"))[ids["jena"]].matched_in == ("title",)


def test_sort_by_date_includes_metadata_hits(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    newest = find(seeded, "Bürgermeister", sort="newest")
    order = [hit.id for hit in newest.statements]
    assert order.index(ids["jena"]) < order.index(ids["gera"])  # 2024-08 before 2024-05
    dates = [str(hit.statement.published) for hit in newest.statements]
    assert dates == sorted(dates, reverse=True)


def test_paging_counts_metadata_hits(seeded: Seeded) -> None:
    seed_metadata(seeded)
    every = find(seeded, "Bürgermeister")
    pages = [
        search(seeded.catalog, seeded.engine, Query("Bürgermeister", per_page=1, page=p), None)
        for p in range(1, every.total + 1)
    ]
    assert every.total >= 3
    assert {p.statements[0].id for p in pages} == {hit.id for hit in every.statements}


def test_a_takedown_removes_the_metadata_hit(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    take_down(seeded.catalog, seeded.engine, ids["gera"])
    assert ids["gera"] not in by_id(find(seeded, "Bürgermeister"))
    assert find(seeded, "Vonarb").total == 0
    seq = seeded.catalog.get(ids["gera"]).seq
    assert seq not in seeded.engine.held()


def test_held_counts_passages_only(seeded: Seeded) -> None:
    ids = seed_metadata(seeded)
    held = seeded.engine.held()
    counts = seeded.catalog.passage_counts()
    for key in ("gera", "jena", "erfurt"):
        seq = seeded.catalog.get(ids[key]).seq
        assert seq is not None and held[seq] == counts[seq] == 1


def test_title_words_are_known_to_did_you_mean(seeded: Seeded) -> None:
    """A word only a title holds is not "corrected" into a word said, and a typo of it is."""
    seed_metadata(seeded)
    exact = find(seeded, "Grußwort")
    assert exact.total == 1 and exact.suggestion is None and not exact.corrected
    typo = find(seeded, "Grußwart")
    assert typo.suggestion == "Grußwort"
    assert typo.corrected and typo.statements[0].matched_in == ("title",)


@pytest.mark.parametrize("text", ["Bürgermeister", "Vonarb", "Gera"])
def test_metadata_hits_have_no_moment_in_json(seeded: Seeded, text: str) -> None:
    seed_metadata(seeded)
    shown = find(seeded, text).model_dump(mode="json")
    metadata_only = [hit for hit in shown["statements"] if not hit["passages"]]
    assert metadata_only
    assert all(hit["matched_in"] for hit in metadata_only)
