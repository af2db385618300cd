"""The embedded engine's side of searching metadata: how a title hit ranks against passages, and
an index of the previous format (passages only) that answers until a writing command rebuilds
it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tantivy

from archive.analysis import index_fields
from archive.catalog import Catalog
from archive.indexing import prepare_index
from archive.models import Status
from archive.search import Query, search
from archive.search import tantivy as engine_module
from archive.search.tantivy import TantivyEngine
from tests.search.relevance import store


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "catalog.sqlite3") as opened:
        yield opened


@pytest.fixture
def engine(catalog: Catalog, tmp_path: Path) -> TantivyEngine:
    return TantivyEngine(catalog, tmp_path / "index")


def ids(catalog: Catalog, engine: TantivyEngine, text: str) -> list[str]:
    return [hit.id for hit in search(catalog, engine, Query(text), None).statements]


def test_a_title_outranks_a_passage_that_mentions_the_word_once(
    catalog: Catalog, engine: TantivyEngine
) -> None:
    mentioned = store(
        catalog,
        engine,
        "rank:mentioned",
        ["Im Haushalt ist auch Geld für das Freibad vorgesehen, wie jedes Jahr."],
        title="Der Haushalt 2026",
    )
    titled = store(
        catalog,
        engine,
        "rank:titled",
        ["Ab Montag sind die Becken wieder geöffnet, der Eintritt bleibt gleich."],
        title="Das Freibad öffnet",
    )
    about = store(
        catalog,
        engine,
        "rank:about",
        [
            "Das Freibad wird saniert. Das Freibad bekommt ein neues Dach.",
            "Im Freibad gibt es dann auch eine Rutsche. Das Freibad öffnet im Mai.",
        ],
        title="Sanierung",
    )
    found = ids(catalog, engine, "Freibad")
    assert set(found) == {about.id, titled.id, mentioned.id}
    assert found.index(titled.id) < found.index(mentioned.id)
    assert found.index(about.id) < found.index(mentioned.id)


def test_a_word_in_every_title_does_not_push_those_statements_up(
    catalog: Catalog, engine: TantivyEngine
) -> None:
    """Its IDF among the metadata documents is low: a passage that says it ranks first."""
    said = store(
        catalog,
        engine,
        "rank:said",
        ["Die Videobotschaft von heute betrifft die Videobotschaft von morgen."],
        title="Grußwort",
    )
    titled = [
        store(catalog, engine, f"rank:t{n}", [f"Satz Nummer {n} ohne das Wort."], title=title)
        for n, title in enumerate(["Videobotschaft Eins", "Videobotschaft Zwei"])
    ]
    found = ids(catalog, engine, "Videobotschaft")
    assert found[0] == said.id
    assert set(found) == {said.id, *(s.id for s in titled)}


def _old_index(root: Path, catalog: Catalog, format_: int) -> None:
    """An index as an older release wrote it: FORMAT 3, passages only (five fields); FORMAT 4,
    passages (no dates) and metadata documents (eight fields), no statement documents."""
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", fast=True)
    builder.add_integer_field("seq", indexed=True, fast=True)
    prefixes = ("", "meta_") if format_ >= 4 else ("",)
    for prefix in prefixes:
        builder.add_text_field(f"{prefix}terms", tokenizer_name="whitespace")
        for part in ("heads", "modifiers"):
            builder.add_text_field(
                f"{prefix}{part}", tokenizer_name="whitespace", index_option="basic"
            )
    schema = builder.build()
    name = f"g{time.time_ns()}-{os.getpid()}"
    (root / name).mkdir(parents=True)
    index = tantivy.Index(schema, path=str(root / name))
    writer = index.writer(15_000_000, 1)
    rows = list(catalog.passage_texts())
    if format_ >= 4:
        for statement in catalog.statements_with([Status.INDEXED]):
            rows += engine_module.meta_rows(statement)
    for rowid, text in rows:
        fields = index_fields(text)
        doc = tantivy.Document()
        doc.add_integer("rowid", rowid)
        doc.add_integer("seq", engine_module.seq_of(rowid))
        prefix = "" if rowid >= 0 else "meta_"
        doc.add_text(f"{prefix}terms", fields.terms)
        doc.add_text(f"{prefix}heads", fields.heads)
        doc.add_text(f"{prefix}modifiers", fields.modifiers)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    (root / "current.json").write_text(json.dumps({"format": format_, "generation": name}))


def test_an_index_of_the_previous_format_answers_until_a_writing_command_rebuilds_it(
    tmp_path: Path,
) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        first = TantivyEngine(catalog, tmp_path / "first")
        statement = store(
            catalog,
            first,
            "old:format",
            ["Die Kitas öffnen am Montag wieder."],
            title="Grußwort der Oberbürgermeisterin",
            speaker="Anna Beispiel",
        )
        root = tmp_path / "index"
        _old_index(root, catalog, 3)
        engine = TantivyEngine(catalog, root)
        assert not engine.ready()  # a writing command rebuilds it
        # meanwhile it answers from its passages; metadata is not searched yet
        kita = search(catalog, engine, Query("Kita"), None).statements
        assert [hit.id for hit in kita] == [statement.id] and kita[0].matched_in == ()
        assert search(catalog, engine, Query("Grußwort"), None).total == 0
        assert engine.held() == {statement.seq: 1}
        assert engine.layout.current_format() == 3
        assert prepare_index(catalog, engine) == "built"
        assert engine.ready() and engine.layout.current_format() == engine_module.FORMAT
        titled = search(catalog, engine, Query("Grußwort"), None).statements
        assert [hit.id for hit in titled] == [statement.id]
        assert titled[0].matched_in == ("title",) and titled[0].passages == ()
        assert engine.held() == {statement.seq: 1}
        assert prepare_index(catalog, engine) == "in step"


def test_an_index_without_statement_documents_answers_until_a_writing_command_rebuilds_it(
    tmp_path: Path,
) -> None:
    """Format 4 answers every query as before, counting by statement (no statement documents,
    no dates on passages), titles included; the first writing command builds format 5."""
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        first = TantivyEngine(catalog, tmp_path / "first")
        kept = store(
            catalog,
            first,
            "old:format4",
            ["Die Kitas öffnen am Montag wieder.", "Die Kitas bleiben offen."],
            title="Grußwort der Oberbürgermeisterin",
            published="2024-03-05",
        )
        store(catalog, first, "old:other", ["Der Markt öffnet."], title="Markt", published="2025")
        root = tmp_path / "index"
        _old_index(root, catalog, 4)
        engine = TantivyEngine(catalog, root)
        assert not engine.ready() and engine.layout.current_format() == 4
        answers = {}
        for text in ("Kita", "Grußwort", "öffnen", "Kit*"):
            found = search(catalog, engine, Query(text), None)
            answers[text] = (
                found.total,
                found.facets,
                found.trend,
                [h.id for h in found.statements],
            )
        assert answers["Kita"][0] == 1 and answers["Kita"][3] == [kept.id]
        assert set(answers["Kita"][2]) == {"2024-03"}
        assert answers["Grußwort"][0] == 1 and answers["Grußwort"][2] == {}  # a title: no trend
        assert answers["öffnen"][0] == 2 and answers["öffnen"][1]["year"] == {"2024": 1, "2025": 1}
        assert prepare_index(catalog, engine) == "built"
        assert engine.ready() and engine.layout.current_format() == engine_module.FORMAT
        for text, answer in answers.items():  # the same answers from statement documents
            found = search(catalog, engine, Query(text), None)
            assert (found.total, found.facets, found.trend, [h.id for h in found.statements]) == (
                answer
            ), text
