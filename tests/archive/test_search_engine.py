"""Search through the embedded tantivy engine: matching, snippets, deep links, filters, paging,
visibility, removal and rebuilds, the did-you-mean vocabulary read from the index, and
robustness against whatever a person types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.analysis import term
from archive.catalog import Catalog
from archive.dates import PartialDate
from archive.indexing import index_statement, rebuild, take_down
from archive.models import Segment, Statement, Status, Word
from archive.search import MAX_QUERY_CHARS, Query, Results, search
from archive.search.tantivy import IndexVocabulary, NoIndex, TantivyEngine
from tests.archive.seed import spoken, store

PUBLIC = "https://stadtstimme.example"


@dataclass
class Seeded:
    catalog: Catalog
    engine: TantivyEngine
    koeln: Statement
    muenster: Statement
    leipzig: Statement

    def find(self, text: str, public_url: str | None = None, **options: object) -> Results:
        return search(self.catalog, self.engine, Query(text, **options), public_url)  # type: ignore[arg-type]

    def ids(self, text: str, **options: object) -> list[str]:
        return [hit.statement.id for hit in self.find(text, **options).statements]


@pytest.fixture
def seeded(catalog: Catalog, engine: TantivyEngine) -> Seeded:
    koeln = store(
        catalog,
        engine,
        "https://example.org/koeln",
        [
            spoken(0.0, "Liebe Bürgerinnen und Bürger unserer Stadt."),
            spoken(5.0, "Heute spreche ich über den Winter."),
            spoken(10.0, "Wir haben viel gemeinsam geschafft."),
            spoken(16.0, "Das war nicht immer leicht."),
            spoken(20.0, "Dafür danke ich Ihnen allen."),
            # second passage; "Maskenpflicht" is its 8th word and starts at 33.5 s
            spoken(30.0, "In allen Bussen und Bahnen gilt die Maskenpflicht weiter."),
            spoken(36.0, "Bitte halten Sie sich daran."),
            spoken(42.0, "Vielen Dank."),
        ],
        municipality="Köln",
        published="2026-02-03",
    )
    muenster = store(
        catalog,
        engine,
        "https://example.org/muenster",
        [
            spoken(0.4, "Guten Tag aus dem Rathaus der Stadt."),
            spoken(5.0, "Der Wochenmarkt bleibt offen."),
            spoken(10.0, "Die Straße wird gesperrt."),
        ],
        municipality="Münster",
        published="2026-04-17",
    )
    leipzig = store(
        catalog,
        engine,
        "https://example.org/leipzig",
        [
            spoken(0.0, "Der Wochenmarkt zieht um und bleibt im Winter am Rathaus der Stadt."),
            spoken(8.0, "Der Maskenball fällt aus."),
        ],
        municipality="Leipzig",
        published="2026-06-09",
    )
    return Seeded(catalog, engine, koeln, muenster, leipzig)


def test_a_word_finds_its_statement_and_is_marked(seeded: Seeded) -> None:
    results = seeded.find("Maskenpflicht")
    assert results.total == 1
    [hit] = results.statements
    assert hit.statement.id == seeded.koeln.id
    assert hit.statement.municipality == "Köln"
    [passage] = hit.passages
    assert "<mark>Maskenpflicht</mark>" in passage.snippet_html
    assert passage.snippet_html.count("<mark>") == 1
    assert "Maskenpflicht" in passage.snippet and "<mark>" not in passage.snippet
    assert passage.snippet.startswith("In allen Bussen")
    assert (passage.start, passage.end) == (30.0, 42.9)


def test_words_are_folded_alike_in_index_and_query(seeded: Seeded) -> None:
    assert seeded.ids("STRASSE") == [seeded.muenster.id]
    assert seeded.ids("strasse") == [seeded.muenster.id]
    # metadata is searched too, folded alike: a statement-level hit, with no passage
    [hit] = seeded.find("MÜNSTER").statements
    assert (hit.id, hit.matched_in, hit.passages) == (seeded.muenster.id, ("municipality",), ())
    assert "<mark>Straße</mark>" in seeded.find("Strasse").statements[0].passages[0].snippet_html


def test_every_asked_word_is_marked_and_a_long_passage_is_cut_with_an_ellipsis(
    seeded: Seeded,
) -> None:
    [hit] = seeded.find("Stadt", municipality="Leipzig").statements
    html = hit.passages[0].snippet_html
    # "Stadt." is the 12th word: the snippet starts 8 words before it
    assert html.startswith("… um und bleibt")
    assert "<mark>Stadt.</mark>" in html
    [hit] = seeded.find("Wochenmarkt bleibt", municipality="Leipzig").statements
    html = hit.passages[0].snippet_html
    assert "<mark>Wochenmarkt</mark>" in html and "<mark>bleibt</mark>" in html
    assert html.count("<mark>") == 2


def test_deep_link_is_one_second_before_the_first_matched_word(seeded: Seeded) -> None:
    passage = seeded.find("Maskenpflicht").statements[0].passages[0]
    first_word = next(
        w
        for _, p in seeded.catalog.passages(seeded.koeln.id)
        for w in p.words
        if w.text.strip() == "Maskenpflicht"
    )
    assert first_word.start == 33.5
    assert passage.second == 32  # floor(33.5 - 1), not the passage start (30 s)
    assert passage.link == f"/statements/{seeded.koeln.id}?t=32"
    assert passage.source_link is None


def test_deep_link_is_absolute_with_a_public_url(seeded: Seeded) -> None:
    [hit] = seeded.find("Maskenpflicht", public_url=PUBLIC).statements
    assert hit.passages[0].link == f"{PUBLIC}/statements/{seeded.koeln.id}?t=32"
    assert hit.link == f"{PUBLIC}/statements/{seeded.koeln.id}"
    [hit] = seeded.find("Maskenpflicht").statements
    assert hit.link == f"/statements/{seeded.koeln.id}"


def test_deep_link_is_clamped_at_zero(seeded: Seeded) -> None:
    passage = seeded.find("Guten").statements[0].passages[0]
    assert passage.second == 0  # the word starts at 0.4 s; 0.4 - 1 would be -1
    assert passage.link == f"/statements/{seeded.muenster.id}?t=0"


def test_deep_link_uses_the_first_matched_word_of_several(seeded: Seeded) -> None:
    # "Rathaus" is the 5th word (2.4 s) in Münster, the 10th (4.5 s) in Leipzig
    results = seeded.find("Rathaus", sort="oldest")
    assert [h.passages[0].second for h in results.statements] == [1, 3]


def test_a_phrase_needs_its_words_together_and_in_order(seeded: Seeded) -> None:
    assert seeded.ids('"Wochenmarkt bleibt"') == [seeded.muenster.id]
    assert set(seeded.ids("Wochenmarkt bleibt")) == {seeded.muenster.id, seeded.leipzig.id}
    assert seeded.ids('"bleibt Wochenmarkt"') == []


def test_all_words_must_be_in_the_same_passage(seeded: Seeded) -> None:
    # both are in the Köln statement, but in different passages
    assert len(seeded.catalog.passages(seeded.koeln.id)) == 2
    assert set(seeded.ids("Winter")) == {seeded.koeln.id, seeded.leipzig.id}
    assert seeded.koeln.id in seeded.ids("Maskenpflicht")
    assert seeded.koeln.id not in seeded.ids("Winter Maskenpflicht")


def test_excluded_words_and_phrases(seeded: Seeded) -> None:
    assert seeded.ids("Wochenmarkt -offen") == [seeded.leipzig.id]
    assert seeded.ids('Wochenmarkt -"bleibt offen"') == [seeded.leipzig.id]
    assert seeded.ids("Stadt -Rathaus") == [seeded.koeln.id]
    assert seeded.ids("Stadt -Rathaus -Bürger") == []
    assert seeded.ids("Stadt -Maskenb*", sort="oldest") == [seeded.koeln.id, seeded.muenster.id]


def test_prefix(seeded: Seeded) -> None:
    # "Masken" is the modifier of Maskenpflicht and Maskenball: the compounds' parts find them
    assert seeded.ids("Masken", sort="oldest") == [seeded.koeln.id, seeded.leipzig.id]
    assert seeded.ids("Maskenp*") == [seeded.koeln.id]
    assert seeded.ids("Masken*", sort="oldest") == [seeded.koeln.id, seeded.leipzig.id]
    assert seeded.ids("Ma*") == []  # under three letters a star is ignored: the word "Ma"
    html = seeded.find("Masken*", municipality="Leipzig").statements[0].passages[0].snippet_html
    assert "<mark>Maskenball</mark>" in html


def test_municipality_filter(seeded: Seeded) -> None:
    assert seeded.ids("Stadt", municipality="Münster") == [seeded.muenster.id]
    assert seeded.ids("Stadt", municipality="Köln") == [seeded.koeln.id]
    assert seeded.ids("Stadt", municipality="Bonn") == []
    assert seeded.ids("Maskenpflicht", municipality="Leipzig") == []


def test_date_filters_are_inclusive(seeded: Seeded) -> None:
    by_date = {"sort": "oldest"}
    assert seeded.ids("Stadt", date_from=PartialDate.parse("2026-04-17"), **by_date) == [
        seeded.muenster.id,
        seeded.leipzig.id,
    ]
    assert seeded.ids("Stadt", date_to=PartialDate.parse("2026-04-17"), **by_date) == [
        seeded.koeln.id,
        seeded.muenster.id,
    ]
    assert seeded.ids(
        "Stadt", date_from=PartialDate.parse("2026-03-01"), date_to=PartialDate.parse("2026-05-01")
    ) == [seeded.muenster.id]
    assert seeded.ids("Stadt", date_from=PartialDate.parse("2026-07-01")) == []


def test_sort_newest_and_oldest(seeded: Seeded, catalog: Catalog, engine: TantivyEngine) -> None:
    undated = store(catalog, engine, "https://example.org/undated", [spoken(0, "Die Stadt.")])
    k, m, lz = seeded.koeln.id, seeded.muenster.id, seeded.leipzig.id
    assert seeded.ids("Stadt", sort="newest") == [lz, m, k, undated.id]
    assert seeded.ids("Stadt", sort="oldest") == [k, m, lz, undated.id]
    assert set(seeded.ids("Stadt")) == {k, m, lz, undated.id}


def test_pagination(seeded: Seeded) -> None:
    first = seeded.find("Stadt", sort="newest", per_page=2, page=1)
    second = seeded.find("Stadt", sort="newest", per_page=2, page=2)
    beyond = seeded.find("Stadt", sort="newest", per_page=2, page=3)
    assert (first.total, second.total, beyond.total) == (3, 3, 3)
    assert first.pages == second.pages == 2
    assert [h.statement.id for h in first.statements] == [seeded.leipzig.id, seeded.muenster.id]
    assert [h.statement.id for h in second.statements] == [seeded.koeln.id]
    assert beyond.statements == []
    assert seeded.find("Stadt", per_page=10).pages == 1


def test_passages_per_statement(seeded: Seeded, catalog: Catalog, engine: TantivyEngine) -> None:
    many = store(
        catalog,
        engine,
        "https://example.org/many",
        [
            spoken(i * 25.0, f"Absatz {i} über die Brücke und noch viel mehr Text.")
            for i in range(8)
        ],
    )
    assert len(catalog.passages(many.id)) >= 4
    [hit] = seeded.find("Brücke").statements
    assert len(hit.passages) == 3
    [hit] = seeded.find("Brücke", passages_per_statement=1).statements
    assert len(hit.passages) == 1
    assert seeded.find("Brücke").total == 1  # statements are counted, not passages


def test_only_indexed_statements_are_found(
    seeded: Seeded, catalog: Catalog, engine: TantivyEngine
) -> None:
    for status in (Status.HIDDEN, Status.FAILED, Status.TRANSCRIBED, Status.QUEUED):
        store(
            catalog,
            engine,
            f"https://example.org/{status}",
            [spoken(0, "Ein Geheimwort der Stadt.")],
            status=status,
        )
    assert seeded.ids("Geheimwort") == []
    assert seeded.find("Stadt").total == 3

    seeded.catalog.set_status(seeded.koeln.id, Status.HIDDEN)
    assert seeded.ids("Maskenpflicht") == []
    seeded.catalog.set_status(seeded.koeln.id, Status.INDEXED)
    assert seeded.ids("Maskenpflicht") == [seeded.koeln.id]


def test_html_in_a_transcript_is_escaped(catalog: Catalog, engine: TantivyEngine) -> None:
    words = (
        Word(0.0, 0.5, " Achtung"),
        Word(0.5, 1.0, " <script>alert(1)</script>"),
        Word(1.0, 1.2, " &"),
        Word(1.2, 1.6, ' "Co."'),
    )
    segment = Segment(0.0, 1.6, "".join(w.text for w in words), words)
    statement = store(catalog, engine, "https://example.org/html", [segment])
    [hit] = search(catalog, engine, Query("alert"), None).statements
    html = hit.passages[0].snippet_html
    assert hit.statement.id == statement.id
    assert "<script>" not in html and "</script>" not in html
    assert html == (
        "Achtung <mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark> &amp; &quot;Co.&quot;"
    )
    assert hit.passages[0].snippet == 'Achtung <script>alert(1)</script> & "Co."'


ROBUST = [
    '"W"',
    "W AND",
    "AND W",
    "NEAR(W",
    "W*",
    "* W",
    "W 🎉",
    'W "',
    '"W',
    "W OR",
    "(W)",
    "W:",
    "W^",
    "W NOT",
    "{W}",
    "W -",
    "W'",
]


@pytest.mark.parametrize("template", ROBUST)
def test_odd_queries_still_find_the_word(seeded: Seeded, template: str) -> None:
    results = seeded.find(template.replace("W", "Maskenpflicht"))
    assert [h.statement.id for h in results.statements] == [seeded.koeln.id]
    assert "<mark>Maskenpflicht</mark>" in results.statements[0].passages[0].snippet_html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\t\n",
        "AND",
        "OR NOT",
        "AND OR NOT NEAR",
        "NEAR(",
        "NEAR",
        "*",
        "-",
        '"',
        '""',
        '"""',
        "()",
        "{}[]^:~",
        "🎉",
        "🎉" * 10_000,
        "x" * 10_000,
        "(" * 10_000,
        '"' * 10_000,
        "Maskenpflicht" * 800,
        "\x00",
        "\x00\x01\x02\x1b\x7f",
        "-Maskenpflicht",
    ],
)
def test_queries_without_words_return_nothing(seeded: Seeded, text: str) -> None:
    results = seeded.find(text)
    assert results.total == 0
    assert results.statements == []


def test_a_very_long_query_is_cut_at_max_query_chars(seeded: Seeded) -> None:
    padding = " " * (MAX_QUERY_CHARS - len("Maskenpflicht"))
    # what lies beyond the first MAX_QUERY_CHARS characters is not part of the query
    assert seeded.ids("Maskenpflicht" + padding + " Nirgendwo") == [seeded.koeln.id]
    assert seeded.ids("Maskenpflicht" + padding[: -len(" Nirgendwo")] + " Nirgendwo") == []
    assert seeded.find("Maskenpflicht " + "ä" * 10_000).total == 0  # "ää…" is AND-ed


def test_many_exclusions_do_not_raise(seeded: Seeded) -> None:
    text = "Maskenpflicht" + " -x" * 120  # 373 characters, below MAX_QUERY_CHARS
    assert seeded.ids(text) == [seeded.koeln.id]


def test_removing_a_statements_passages_takes_it_out_of_the_index(seeded: Seeded) -> None:
    catalog, engine = seeded.catalog, seeded.engine
    koeln = seeded.koeln.seq
    assert koeln is not None
    assert engine.held() == catalog.passage_counts()
    koeln_passages = len(catalog.passages(seeded.koeln.id))
    assert koeln_passages == 2

    with catalog.transaction():
        engine.remove([koeln])

    assert koeln not in engine.held()
    assert sum(engine.held().values()) == catalog.passage_count() - koeln_passages
    assert seeded.ids("Maskenpflicht") == []
    assert set(seeded.ids("Stadt")) == {seeded.muenster.id, seeded.leipzig.id}
    # the catalog is the truth and keeps the passages; indexing again restores the hit
    assert len(catalog.passages(seeded.koeln.id)) == koeln_passages
    index_statement(catalog, engine, seeded.koeln.id)
    assert seeded.ids("Maskenpflicht") == [seeded.koeln.id]
    assert engine.held() == catalog.passage_counts()


def test_a_takedown_hides_the_statement_and_empties_its_passages_from_the_index(
    seeded: Seeded,
) -> None:
    catalog, engine = seeded.catalog, seeded.engine
    take_down(catalog, engine, seeded.koeln.id)
    assert catalog.get(seeded.koeln.id).status == Status.HIDDEN
    assert seeded.koeln.seq not in engine.held()
    assert seeded.ids("Maskenpflicht") == []
    assert seeded.find("Stadt").total == 2
    assert seeded.find("Stadt").facets["municipality"] == {"Münster": 1, "Leipzig": 1}
    # a rebuild does not bring a hidden statement back
    rebuild(catalog, engine)
    assert seeded.koeln.seq not in engine.held()
    assert seeded.ids("Maskenpflicht") == []


def test_indexing_twice_does_not_duplicate(seeded: Seeded) -> None:
    before = seeded.engine.held()
    index_statement(seeded.catalog, seeded.engine, seeded.koeln.id)
    with seeded.catalog.transaction():
        seeded.engine.index(seeded.koeln, seeded.catalog.passages(seeded.koeln.id))
    assert seeded.engine.held() == before == seeded.catalog.passage_counts()
    assert seeded.find("Maskenpflicht").statements[0].passages[0].second == 32
    assert len(seeded.find("Maskenpflicht").statements[0].passages) == 1


def test_a_rebuild_swaps_in_a_new_generation_that_answers_alike(seeded: Seeded) -> None:
    """`rebuild` replaces `clear` and indexing again: a new index generation is built from the
    catalog, swapped in, and the one it replaces is removed; stray passages (of a statement the
    catalog no longer calls indexable) are not carried over."""
    catalog, engine = seeded.catalog, seeded.engine
    root = catalog.path.parent / "index"
    old = engine.layout.current()
    assert old is not None and old.parent == root
    queries = ["Stadt", "Maskenpflicht", "Wochenmarkt bleibt", "Masken*", '"Wochenmarkt bleibt"']
    before = {text: seeded.ids(text, sort="oldest") for text in queries}
    # failed behind the engine's back: the old index still holds its passages
    catalog.set_status(seeded.muenster.id, Status.FAILED)
    assert seeded.muenster.seq in engine.held()

    built = rebuild(catalog, engine)

    assert engine.layout.current() == root / built.name != old
    assert not old.exists()
    assert sorted(p.name for p in root.glob("g*")) == [built.name]
    assert built.statements == (seeded.koeln.seq, seeded.leipzig.seq)
    held = engine.held()
    assert seeded.muenster.seq not in held
    assert built.passages == sum(held.values())
    catalog.set_status(seeded.muenster.id, Status.INDEXED)  # visible again, but not indexed
    for text in queries:
        assert seeded.ids(text, sort="oldest") == [
            found for found in before[text] if found != seeded.muenster.id
        ], text
    assert catalog.passage_count() > sum(held.values())  # the catalog keeps every passage


def test_a_rebuild_of_an_empty_catalog_makes_an_index_that_answers_nothing(
    catalog: Catalog, engine: TantivyEngine
) -> None:
    assert not engine.ready()
    assert search(catalog, engine, Query("Stadt"), None).total == 0
    built = rebuild(catalog, engine)
    assert engine.ready() and (built.statements, built.passages) == ((), 0)
    assert engine.held() == {}
    assert search(catalog, engine, Query("Stadt"), None).total == 0


def test_engine_on_an_existing_catalog_keeps_its_index(seeded: Seeded) -> None:
    root = seeded.catalog.path.parent / "index"
    with Catalog(seeded.catalog.path) as other:
        assert search(other, TantivyEngine(other, root), Query("Maskenpflicht"), None).total == 1
    with Catalog(seeded.catalog.path, readonly=True) as reader:
        found = search(reader, TantivyEngine(reader, root), Query("Maskenpflicht"), None)
        assert [hit.id for hit in found.statements] == [seeded.koeln.id]


def test_a_read_only_catalog_without_an_index_is_refused_in_one_line(
    seeded: Seeded, tmp_path: Path
) -> None:
    with (
        Catalog(seeded.catalog.path, readonly=True) as reader,
        pytest.raises(NoIndex, match=r"no search index in .* yet: run a writing command"),
    ):
        TantivyEngine(reader, tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("text", ["geht", "s"])
def test_every_hit_marks_the_word_that_made_it(
    catalog: Catalog, engine: TantivyEngine, text: str
) -> None:
    store(
        catalog,
        engine,
        "https://example.org/apostrophe",
        [spoken(0.0, "Heute ist ein schöner Tag und so geht's weiter mit dem Markt.")],
    )
    assert search(catalog, engine, Query("geht's"), None).statements[0].passages[0].second == 2
    for hit in search(catalog, engine, Query(text), None).statements:
        for passage in hit.passages:
            assert "<mark>" in passage.snippet_html
            assert passage.second == 2  # "geht's" starts at 3.5 s


def test_a_compound_head_weighs_more_than_a_modifier(
    catalog: Catalog, engine: TantivyEngine
) -> None:
    """ "Karte" is the head of Schatzkarte but only a modifier of Kartenverkauf: the statement
    whose compound is about a map ranks first, and the whole word ranks above both."""
    modifier = store(
        catalog, engine, "o:modifier", [spoken(0.0, "Der Kartenverkauf beginnt morgen früh.")]
    )
    head = store(
        catalog, engine, "o:head", [spoken(0.0, "Jedes Kind bekommt eine Schatzkarte heute.")]
    )
    whole = store(catalog, engine, "o:whole", [spoken(0.0, "Jedes Kind bekommt eine Karte heute.")])
    ranked = [h.statement.id for h in search(catalog, engine, Query("Karte"), None).statements]
    assert ranked == [whole.id, head.id, modifier.id]


def test_a_date_less_precise_than_the_range_matches_where_it_overlaps(
    seeded: Seeded, catalog: Catalog, engine: TantivyEngine
) -> None:
    """A statement known only to be from 2026 may be from any day of it: a range within 2026
    finds it, one outside does not; it counts in the year facet but not in the trend."""
    in_2026 = store(
        catalog, engine, "https://example.org/year", [spoken(0, "Die Stadt.")], published="2026"
    )
    in_march = store(
        catalog, engine, "https://example.org/month", [spoken(0, "Die Stadt.")], published="2026-03"
    )
    day = PartialDate.parse
    ranged = seeded.ids("Stadt", date_from=day("2026-03-10"), date_to=day("2026-03-20"))
    assert set(ranged) == {in_2026.id, in_march.id}
    assert in_2026.id not in seeded.ids("Stadt", date_from=day("2027"))
    assert in_march.id not in seeded.ids("Stadt", date_to=day("2026-02-28"))
    results = seeded.find("Stadt")
    assert results.facets["year"] == {"2026": 5}
    assert results.trend == {"2026-02": 1, "2026-03": 1, "2026-04": 1, "2026-06": 1}


def test_unreadable_stored_dates_are_undated_not_errors(seeded: Seeded, catalog: Catalog) -> None:
    """Whatever string a catalog holds (written before dates were checked, or by hand), search
    reads it as no date: no error, no facet, no trend month."""
    for value in ("2021-13-01", "gestern", "", "2021-02-30", "\x1b[2J"):
        catalog.db.execute(
            "UPDATE statements SET published = ? WHERE id = ?", (value, seeded.koeln.id)
        )
        results = seeded.find("Stadt", sort="newest")
        assert [h.statement.id for h in results.statements][-1] == seeded.koeln.id
        assert results.statements[-1].statement.published is None
        assert set(results.facets["year"]) == {"2026"} and results.facets["year"]["2026"] == 2
        assert set(results.trend) == {"2026-04", "2026-06"}


def test_the_did_you_mean_vocabulary_is_read_from_the_index(
    seeded: Seeded, catalog: Catalog
) -> None:
    """The vocabulary lives in the index: what an older release left in the catalog's
    `search_vocabulary` table (here: another term for a word that was said) is not read, a
    rebuild empties that table, and the index's vocabulary is the same after the rebuild."""
    engine = seeded.engine
    vocabulary = engine.vocabulary
    assert isinstance(vocabulary, IndexVocabulary)
    letters = "abdfghiklmorstuvw"
    fresh = {first: sorted(vocabulary.starting_with(first)) for first in letters}
    assert (term("Wochenmarkt"), "Wochenmarkt", 2) in fresh["w"]
    assert (term("Maskenpflicht"), "Maskenpflicht", 1) in fresh["m"]
    catalog.db.execute("INSERT INTO search_vocabulary VALUES ('maskenpfl', 'Maskenpflichten', 1)")
    assert seeded.find("Maskenpflicht").suggestion is None  # the table is not read
    assert seeded.find("Maskenpflict").suggestion == "Maskenpflicht"

    rebuild(catalog, engine)

    assert catalog.db.execute("SELECT count(*) FROM search_vocabulary").fetchone()[0] == 0
    assert {first: sorted(vocabulary.starting_with(first)) for first in letters} == fresh
    assert seeded.find("Maskenpflicht").suggestion is None
    corrected = seeded.find("Maskenpflict")
    assert (corrected.suggestion, corrected.corrected) == ("Maskenpflicht", True)
    assert [hit.id for hit in corrected.statements] == [seeded.koeln.id]


def test_the_vocabulary_counts_passages_out_when_a_statement_is_removed(
    seeded: Seeded, catalog: Catalog
) -> None:
    vocabulary = seeded.engine.vocabulary
    assert vocabulary.passages_with(term("Wochenmarkt")) == 2
    assert vocabulary.passages_with(term("Maskenball")) == 1
    assert seeded.leipzig.seq is not None
    with catalog.transaction():
        seeded.engine.remove([seeded.leipzig.seq])
    assert vocabulary.passages_with(term("Wochenmarkt")) == 1
    assert vocabulary.passages_with(term("Maskenball")) == 0
    assert term("Maskenball") not in [found for found, _, _ in vocabulary.starting_with("m")]
    assert seeded.find("Maskenbal").suggestion is None  # nothing indexed says it any more


def test_a_takedown_takes_its_words_out_of_did_you_mean_at_once(
    seeded: Seeded, catalog: Catalog
) -> None:
    """Only the Leipzig statement says "Maskenball": a typo of it is corrected to it until the
    statement is taken down, and not a moment after, for this engine and for a reader that
    opens the catalog read-only as a server does for each request."""
    root = catalog.path.parent / "index"
    typo = seeded.find("Maskenbal")
    assert (typo.suggestion, typo.corrected) == ("Maskenball", True)
    assert [hit.id for hit in typo.statements] == [seeded.leipzig.id]
    with Catalog(catalog.path, readonly=True) as reader:
        served = TantivyEngine(reader, root)
        assert search(reader, served, Query("Maskenbal"), None).suggestion == "Maskenball"

        take_down(catalog, seeded.engine, seeded.leipzig.id)

        for engine, on in ((seeded.engine, catalog), (served, reader)):
            assert engine.vocabulary.passages_with(term("Maskenball")) == 0
            after = search(on, engine, Query("Maskenbal"), None)
            assert (after.suggestion, after.corrected, after.total) == (None, False, 0)
            # words the other statements say stay, counted without the taken-down one
            assert engine.vocabulary.passages_with(term("Wochenmarkt")) == 1
            assert search(on, engine, Query("Wochenmarkd"), None).suggestion == "Wochenmarkt"
