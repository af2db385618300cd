"""No query string, however odd, makes search raise: hypothesis against 10,000 indexed passages
in the embedded tantivy engine, built as a rebuild builds it (archive.indexing.rebuild)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.catalog import Catalog, statement_id_for
from archive.dates import PartialDate
from archive.indexing import rebuild
from archive.models import Passage, Segment, Statement, Status, Transcript, Word
from archive.search import Engine, Query, search
from archive.search.tantivy import TantivyEngine

PASSAGES = 10_000
VOCABULARY = [
    "Maskenpflicht",
    "Innenstadt",
    "Bahnhof",
    "Wochenmarkt",
    "Gutschein",
    "Kita",
    "Öffnung",
    "Bürgermeister",
    "Straße",
    "Krankenhäusern",
    "Pflegekräfte",
    "Gastronomie",
    "Haushalt",
    "Schulen",
    "Nahverkehr",
    "Umleitung",
    "Baustelle",
    "und",
    "die",
    "der",
    "das",
    "in",
    "am",
    "ab",
    "mit",
    "für",
    "wir",
    "Sie",
    "bitte",
    "ab",
    "Montag",
    "wieder",
    "geöffnet",
    "geschlossen",
    "Stadt",
    "Neuinfektionen",
    "Abstand",
    "Förde",
    "Strände",
    "Karneval",
    "Hitze",
    "Wasser",
    "Rathaus",
    "Schatzkarte",
    "NEAR",
    "AND",
    "OR",
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, Engine]]:
    path: Path = tmp_path_factory.mktemp("properties") / "catalog.sqlite3"
    rng = random.Random(7)
    with Catalog(path) as catalog:
        engine = TantivyEngine(catalog, path.parent / "index")
        for number in range(PASSAGES // 20):
            origin = f"property:{number}"
            statement = catalog.claim(
                Statement(
                    id=statement_id_for(origin),
                    origin=origin,
                    title=f"Statement {number}",
                    municipality=rng.choice(["Köln", "Bonn", "Kiel"]),
                    published=PartialDate(2000 + rng.randint(15, 26), rng.randint(1, 9)),
                )
            )
            passages = []
            for position in range(20):
                text = [rng.choice(VOCABULARY) for _ in range(rng.randint(50, 110))]
                words = tuple(Word(i * 0.4, i * 0.4 + 0.3, " " + w) for i, w in enumerate(text))
                passages.append(Passage(statement.id, position, 0.0, len(text) * 0.4, words))
            segments = tuple(Segment(p.start, p.end, p.text, p.words) for p in passages)
            transcript = Transcript("de", 600.0, segments)
            catalog.save_transcript(statement.id, transcript, passages, None)
        # A rebuild indexes anew, one at a time, what changed in the second it began.
        time.sleep(1.05 - time.time() % 1)
        built = rebuild(catalog, engine)
        assert built.passages == PASSAGES == catalog.passage_count()
        assert catalog.status_counts() == {Status.INDEXED: PASSAGES // 20}
        yield catalog, engine


ODD = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from("\"*-()^:{}[]+~ ANDORNEAR\x00\x1b\t\n\\'🎉"), max_size=60),
    st.lists(
        st.sampled_from([*VOCABULARY, '"', "*", "-", "(", ")", "NEAR(", "AND"]), max_size=12
    ).map(" ".join),
    st.builds(lambda n: "a" * n, st.integers(1000, 10_000)),
    st.builds(lambda w: f'"{w}', st.sampled_from(VOCABULARY)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ODD, sort=st.sampled_from(["relevance", "newest", "oldest"]), page=st.integers(1, 3))
def test_no_query_raises(archive: tuple[Catalog, Engine], text: str, sort: str, page: int) -> None:
    catalog, engine = archive
    results = search(catalog, engine, Query(text, sort=sort, page=page), None)  # type: ignore[arg-type]
    assert results.total >= len(results.statements)
    for hit in results.statements:
        assert hit.passages or hit.matched_in  # a moment, or a match in title, speaker, place


def test_a_common_word_is_found_with_facets_and_trend(archive: tuple[Catalog, Engine]) -> None:
    catalog, engine = archive
    results = search(catalog, engine, Query("Maskenpflicht"), None)
    assert results.total == PASSAGES // 20
    assert sum(results.facets["municipality"].values()) == results.total
    assert sum(results.trend.values()) >= PASSAGES * 0.5
