"""Corrections of a transcript by the city: words replaced in a time span, timings kept,
searchable at once, applied again to a new transcript."""

from __future__ import annotations

import pytest

from archive.catalog import Catalog
from archive.corrections import (
    apply,
    checked,
    correct,
    corrections,
    discard,
    has_corrections,
    reapply,
)
from archive.errors import InvalidInput
from archive.indexing import index_statement
from archive.models import Status, Transcript
from archive.passages import build_passages
from archive.search import Query, search
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import spoken, store

# words at 0.0, 0.5, 1.0, … (each 0.4 s): "Die"=0.0, "Maskenflicht"=0.5, "gilt"=1.0, …
SAID = "Die Maskenflicht gilt ab Montag in der Innenstadt."


def found(catalog: Catalog, engine: TantivyEngine, text: str) -> list[str]:
    """The statements that say it (not those of a did-you-mean shown instead)."""
    results = search(catalog, engine, Query(text), None)
    return [] if results.corrected else [s.id for s in results.statements]


@pytest.fixture
def statement_id(catalog: Catalog, engine: TantivyEngine) -> str:
    segments = [spoken(0.0, SAID), spoken(30.0, "Vielen Dank für Ihre Geduld.")]
    return store(catalog, engine, "https://example.org/koeln", segments).id


def test_a_correction_keeps_the_timings_and_is_found_at_once(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    assert found(catalog, engine, "Maskenpflicht") == []
    done = correct(catalog, engine, statement_id, checked(0.4, 0.95, "Maskenpflicht"))
    assert (done.start, done.end) == (0.5, 0.9)  # the replaced word's own span
    words = catalog.segments(statement_id)[0].words
    assert [w.text for w in words][:3] == [" Die", " Maskenpflicht", " gilt"]
    corrected = words[1]
    assert (corrected.start, corrected.end, corrected.probability) == (0.5, 0.9, 1.0)
    assert words[0].start == 0.0 and words[2].start == 1.0  # the others untouched
    assert catalog.get(statement_id).status == Status.INDEXED
    assert found(catalog, engine, "Maskenpflicht") == [statement_id]  # re-indexed at once
    assert found(catalog, engine, "Maskenflicht") == []
    assert has_corrections(catalog, statement_id)
    assert [c.text for c in corrections(catalog, statement_id)] == ["Maskenpflicht"]


def test_new_words_share_the_span_by_their_length(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    # "gilt ab" (1.0-1.4, 1.5-1.9) -> three words over 1.0-1.9, shares by length 4:2:6
    correct(catalog, engine, statement_id, checked(1.0, 1.9, "gilt ab sofort"))
    words = catalog.segments(statement_id)[0].words
    new = words[2:5]
    assert [w.text for w in new] == [" gilt", " ab", " sofort"]
    assert [w.start for w in new] == [1.0, 1.3, 1.45]
    assert new[-1].end == 1.9
    assert all(w.probability == 1.0 for w in new)
    assert words[5].text == " Montag" and words[5].start == 2.0
    text = catalog.segments(statement_id)[0].text
    assert text == "Die Maskenflicht gilt ab sofort Montag in der Innenstadt."


def test_a_correction_across_segments_and_an_empty_text_removing_words(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    # "Innenstadt." (3.5-3.9) and "Vielen" (30.0-30.4): no word is timed across the pause
    correct(catalog, engine, statement_id, checked(3.3, 30.6, "Innenstadt. Herzlichen"))
    first, second = catalog.segments(statement_id)
    assert first.text.endswith("in der Innenstadt.")
    assert (first.words[-1].start, first.words[-1].end) == (3.5, 3.9)
    assert second.text == "Herzlichen Dank für Ihre Geduld."
    assert (second.words[0].start, second.words[0].end) == (30.0, 30.4)
    assert (second.start, second.end) == (30.0, 32.4)  # the segment keeps its times
    correct(catalog, engine, statement_id, checked(32.0, 32.4, ""))
    assert catalog.segments(statement_id)[1].text == "Herzlichen Dank für Ihre"
    assert found(catalog, engine, "Geduld") == []


@pytest.mark.parametrize(
    ("start", "end", "text", "message"),
    [
        (5.0, 4.0, "x", "need 0 <= start < end"),
        (-1.0, 4.0, "x", "need 0 <= start < end"),
        (10.0, 20.0, "x", "no word is said between 10 s and 20 s"),
        (0.0, 1.0, "x" * 2001, "at most 2000 characters"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(
    catalog: Catalog,
    engine: TantivyEngine,
    statement_id: str,
    start: float,
    end: float,
    text: str,
    message: str,
) -> None:
    before = catalog.segments(statement_id)
    with pytest.raises(InvalidInput, match=message):
        correct(catalog, engine, statement_id, checked(start, end, text))
    assert catalog.segments(statement_id) == before
    assert not has_corrections(catalog, statement_id)


def test_a_hidden_statement_stays_hidden_when_corrected(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    catalog.set_status(statement_id, Status.HIDDEN)
    correct(catalog, engine, statement_id, checked(0.4, 0.95, "Maskenpflicht"))
    assert catalog.get(statement_id).status == Status.HIDDEN
    assert found(catalog, engine, "Maskenpflicht") == []


def test_reapply_after_a_new_transcript(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    correct(catalog, engine, statement_id, checked(0.4, 0.95, "Maskenpflicht"))
    correct(catalog, engine, statement_id, checked(29.9, 30.3, "Herzlichen"))
    # A new transcript (another model): the same words slightly shifted, the error back.
    segments = (spoken(0.1, SAID), spoken(30.1, "Vielen Dank für Ihre Geduld."))
    passages = build_passages(statement_id, segments)
    catalog.save_transcript(statement_id, Transcript("de", 33.0, segments), passages, None)
    assert reapply(catalog, statement_id) == 2
    assert catalog.get(statement_id).status == Status.TRANSCRIBED  # the caller indexes
    index_statement(catalog, engine, statement_id)
    first, second = catalog.segments(statement_id)
    assert first.words[1].text == " Maskenpflicht"
    assert (first.words[1].start, first.words[1].end) == (0.6, 1.0)  # the new word's timing
    assert second.text.startswith("Herzlichen Dank")
    assert found(catalog, engine, "Maskenpflicht") == [statement_id]
    assert discard(catalog, statement_id) == 2
    assert reapply(catalog, statement_id) == 0


def test_reapply_skips_a_correction_the_new_transcript_has_no_words_for(
    catalog: Catalog, engine: TantivyEngine, statement_id: str
) -> None:
    correct(catalog, engine, statement_id, checked(30.4, 30.9, "Herzlichen"))
    segments = (spoken(0.0, SAID),)  # the new transcript ends before 30 s
    catalog.save_transcript(
        statement_id, Transcript("de", 5.0, segments), build_passages(statement_id, segments), None
    )
    assert reapply(catalog, statement_id, engine) == 0
    assert len(corrections(catalog, statement_id)) == 1  # kept for a later transcript


def test_apply_spreads_a_segment_without_word_timings() -> None:
    from archive.models import Segment

    captions = [Segment(0.0, 2.0, "Die Maskenflicht gilt")]
    changed, done = apply(captions, checked(0.7, 1.3, "Maskenpflicht"))
    assert changed[0].text.strip() == "Die Maskenpflicht gilt"
    assert (done.start, done.end) == pytest.approx((2 / 3, 4 / 3))
