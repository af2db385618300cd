"""An archive as the release before tantivy left it: the catalog holds the SQLite FTS5 index
(`passage_terms`) and the did-you-mean counts (`search_vocabulary`), and there is no
`<data_dir>/index`. Commands that only read answer from the FTS5 index and create nothing; the
first writing command builds the tantivy index, which answers the same statements, and drops the
FTS5 tables; a server keeps answering all along. Real catalogs, real `stadtstimme` processes."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive.analysis import analyse_text
from archive.catalog import Catalog
from archive.config import Settings
from archive.indexing import rebuild
from archive.models import Status, Transcript
from archive.passages import build_passages
from archive.search import Query, search
from archive.search.engines import open_engine
from archive.search.fts import LEGACY_SCHEMA, LegacyFtsEngine
from archive.search.vocabulary import CatalogVocabulary, spelled_terms
from archive.stops import STOP_ENV
from tests.archive.seed import new_statement, spoken
from tests.conftest import Served
from tests.ingest.archives import (
    environment,
    files_under,
    read_only_mount,
    run,
    serving,
)

pytestmark = pytest.mark.slow  # real processes

LEGACY_ENGINE = "FTS5 of an older release (read-only until a writing command)"
# key: (what was said, municipality, published, status)
STATEMENTS: dict[str, tuple[list[str], str, str, Status]] = {
    "koeln": (
        ["Die Maskenpflicht gilt ab Montag in der Innenstadt.", "Vielen Dank."],
        "Köln",
        "2021-03-05",
        Status.INDEXED,
    ),
    "muenster": (
        ["Der Wochenmarkt in der Innenstadt öffnet wieder."],
        "Münster",
        "2022-01",
        Status.INDEXED,
    ),
    "leipzig": (
        [
            "Der Wochenmarkt zieht um und bleibt im Winter am Rathaus der Stadt.",
            "Der Maskenball fällt dieses Jahr aus.",
        ],
        "Leipzig",
        "2020",
        Status.INDEXED,
    ),
    "bonn": (
        ["Das Schwimmbad am Rathaus öffnet im Sommer wieder."],
        "Bonn",
        "2023-05-01",
        Status.INDEXED,
    ),
    # taken down in the older release: hidden, its passages removed from the FTS5 index
    "hidden": (
        ["Das Geheimtreffen im Rathaus bleibt unter uns."],
        "Kiel",
        "2023-06-01",
        Status.HIDDEN,
    ),
}
# query -> the statements it finds, newest first
EXPECTED: dict[str, list[str]] = {
    "Wochenmarkt": ["muenster", "leipzig"],
    "Innenstadt": ["muenster", "koeln"],
    "Masken": ["koeln", "leipzig"],  # the modifier of Maskenpflicht and Maskenball
    "Schwimm*": ["bonn"],
    '"Wochenmarkt in der Innenstadt"': ["muenster"],
    "Rathaus -Schwimmbad": ["leipzig"],
    "Rathaus": ["bonn", "leipzig"],
    "Geheimtreffen": [],
}


@dataclass
class Legacy:
    data: Path
    ids: dict[str, str]  # key -> statement id
    passages: int  # of the indexed statements


def legacy_archive(data: Path) -> Legacy:
    """A catalog as the release before tantivy wrote it: statements stored as the pipeline
    stores them, their passages in the FTS5 table made with LEGACY_SCHEMA (terms, heads and
    modifiers of archive.analysis, joined by spaces, row id = the passage's) and counted into
    `search_vocabulary`, as that release's engine did; no tantivy index."""
    data.mkdir(parents=True, exist_ok=True)
    ids: dict[str, str] = {}
    indexed_passages = 0
    with Catalog(data / "catalog.sqlite3") as catalog:
        catalog.db.execute(LEGACY_SCHEMA)
        vocabulary = CatalogVocabulary(catalog)
        for key, (said, municipality, published, status) in STATEMENTS.items():
            statement = new_statement(
                catalog,
                f"https://stadt.example/{key}",
                title=f"Botschaft aus {municipality}",
                municipality=municipality,
                published=published,
            )
            segments = [spoken(30.0 * n, text) for n, text in enumerate(said)]
            passages = build_passages(statement.id, segments)
            transcript = Transcript("de", segments[-1].end, tuple(segments))
            catalog.save_transcript(statement.id, transcript, passages, None)
            with catalog.transaction():
                stored = catalog.passages(statement.id)
                if status == Status.INDEXED:
                    for rowid, passage in stored:
                        analysed = analyse_text(passage.text)
                        catalog.db.execute(
                            "INSERT INTO passage_terms (rowid, terms, heads, modifiers) "
                            "VALUES (?, ?, ?, ?)",
                            (
                                rowid,
                                " ".join(analysed.terms),
                                " ".join(analysed.heads),
                                " ".join(analysed.modifiers),
                            ),
                        )
                    vocabulary.add(spelled_terms(passage.text) for _, passage in stored)
                    indexed_passages += len(stored)
                catalog.set_status(statement.id, status)
            ids[key] = statement.id
        failed = new_statement(catalog, "https://stadt.example/failed", title="Kaputt")
        catalog.set_status(failed.id, Status.FAILED, "cannot decode audio")
        assert catalog.has_fts_index()
    assert not (data / "index").exists()
    return Legacy(data, ids, indexed_passages)


@pytest.fixture
def legacy(tmp_path: Path) -> Legacy:
    return legacy_archive(tmp_path / "data")


def fts_tables(catalog_path: Path) -> list[str]:
    """The FTS5 table and its shadow tables, where the catalog still has them."""
    with Catalog(catalog_path, readonly=True) as catalog:
        rows = catalog.db.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'passage_terms%' ORDER BY name"
        )
        return [str(row[0]) for row in rows]


def answers(env: dict[str, str], legacy: Legacy, queries: list[str]) -> dict[str, list[str]]:
    """What `stadtstimme search --json` finds for each query, newest first, as statement keys;
    checking on the way that totals, facets and snippets agree with the statements found."""
    keys = {statement_id: key for key, statement_id in legacy.ids.items()}
    found: dict[str, list[str]] = {}
    for query in queries:
        result = run(env, "search", query, "--json", "--sort", "newest", "--limit", "100")
        assert (result.returncode, result.stderr) == (0, ""), query
        results = json.loads(result.stdout)
        statements = results["statements"]
        assert results["total"] == len(statements), query
        assert sum(results["facets"]["municipality"].values()) == len(statements), query
        for hit in statements:
            assert hit["passages"] and all("<mark>" in p["snippet_html"] for p in hit["passages"])
        found[query] = [keys.get(hit["id"], hit["id"]) for hit in statements]
    return found


def status_of(env: dict[str, str]) -> dict[str, Any]:
    result = run(env, "status", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def typo_answer(env: dict[str, str]) -> dict[str, Any]:
    result = run(env, "search", "Maskenpflict", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    found: dict[str, Any] = json.loads(result.stdout)
    return found


# (a), (b): reading an older archive


def test_search_answers_from_the_older_release_index_and_creates_nothing(legacy: Legacy) -> None:
    env = environment(legacy.data)
    before = files_under(legacy.data)

    assert answers(env, legacy, [*EXPECTED]) == EXPECTED
    corrected = typo_answer(env)  # did-you-mean from the catalog's search_vocabulary
    assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
    assert [hit["id"] for hit in corrected["statements"]] == [legacy.ids["koeln"]]
    text = run(env, "search", "Maskenpflicht")
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout.splitlines()[0] == "1 statement (Köln 1)"
    assert f"/statements/{legacy.ids['koeln']}?t=0" in text.stdout

    assert not (legacy.data / "index").exists()
    # nothing but what SQLite's WAL mode needs to read the catalog
    created = files_under(legacy.data) - before
    assert created <= {Path("catalog.sqlite3-wal"), Path("catalog.sqlite3-shm")}, created
    assert fts_tables(legacy.data / "catalog.sqlite3")[0] == "passage_terms"


def test_a_read_only_mount_of_an_older_archive_is_searchable(tmp_path: Path) -> None:
    legacy = legacy_archive(tmp_path / "source")
    before = files_under(legacy.data)
    with read_only_mount(legacy.data, tmp_path / "mount") as mount:
        env = environment(mount)
        assert answers(env, legacy, ["Wochenmarkt", "Masken", "Schwimm*"]) == {
            query: EXPECTED[query] for query in ("Wochenmarkt", "Masken", "Schwimm*")
        }
        assert status_of(env)["engine"] == LEGACY_ENGINE
        refused = run(env, "reindex")
        assert refused.returncode == 1
        assert f"data directory {mount} is read-only" in refused.stderr
    assert files_under(legacy.data) == before
    assert fts_tables(legacy.data / "catalog.sqlite3")[0] == "passage_terms"


def test_status_names_the_older_release_fts5_index(legacy: Legacy) -> None:
    env = environment(legacy.data)
    figures = status_of(env)
    assert figures["engine"] == LEGACY_ENGINE
    assert figures["index_bytes"] > 0  # the FTS5 tables' pages in the catalog file
    assert figures["statements"] == {"failed": 1, "hidden": 1, "indexed": 4}
    assert not (legacy.data / "index").exists()
    text = run(env, "status")
    assert text.returncode == 0
    assert f"search index    {LEGACY_ENGINE}, " in text.stdout


# (c): the first writing command builds the tantivy index


def test_reindex_builds_the_tantivy_index_and_drops_the_fts5_tables(legacy: Legacy) -> None:
    env = environment(legacy.data)
    queries = [*EXPECTED]
    before = answers(env, legacy, queries)
    assert before == EXPECTED
    assert fts_tables(legacy.data / "catalog.sqlite3")[0] == "passage_terms"

    rebuilt = run(env, "reindex")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == f"reindexed 4 statements, {legacy.passages} passages"
    assert fts_tables(legacy.data / "catalog.sqlite3") == []
    assert (legacy.data / "index" / "current.json").is_file()
    with Catalog(legacy.data / "catalog.sqlite3", readonly=True) as catalog:
        assert not catalog.has_fts_index()
        assert catalog.db.execute("SELECT count(*) FROM search_vocabulary").fetchone()[0] == 0
        assert catalog.status_counts() == {
            Status.INDEXED: 4,
            Status.HIDDEN: 1,
            Status.FAILED: 1,
        }
    figures = status_of(env)
    assert figures["engine"] == "tantivy" and figures["index_bytes"] > 0
    assert answers(env, legacy, queries) == before
    corrected = typo_answer(env)  # did-you-mean now from the index
    assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
    assert [hit["id"] for hit in corrected["statements"]] == [legacy.ids["koeln"]]

    again = run(env, "reindex")  # a second rebuild finds no FTS5 tables, and needs none
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"reindexed 4 statements, {legacy.passages} passages"
    assert answers(env, legacy, queries[:3]) == {query: before[query] for query in queries[:3]}


def test_an_ingest_builds_the_tantivy_index_first_then_adds_its_statement(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    legacy = legacy_archive(settings.data_dir)
    env = cli_env
    queries = [*EXPECTED]
    before = answers(env, legacy, queries)
    assert before == EXPECTED
    assert run(env, "search", "Gastronomie").stdout.startswith("no statement says")

    ingested = run(env, "ingest", str(server.root / "c.m4a"), "--municipality", "Halle")

    assert ingested.returncode == 0, ingested.stderr
    line = ingested.stdout.strip().splitlines()[-1]
    assert line.startswith("archived: ")
    added = line.split()[1]
    assert "built the search index: " in ingested.stderr
    assert fts_tables(settings.catalog_path) == []
    assert (settings.data_dir / "index" / "current.json").is_file()
    assert status_of(env)["engine"] == "tantivy"
    # the older statements are found as before; the new one (tests/media.py's SPEECH_C, which
    # says "Maskenpflicht") may be found besides
    after = answers(env, legacy, queries)
    assert {query: [k for k in keys if k != added] for query, keys in after.items()} == before
    found = run(env, "search", "Gastronomie")
    assert found.returncode == 0, found.stderr
    assert "1 statement (Halle 1)" in found.stdout
    assert f"/statements/{added}?t=" in found.stdout
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        assert catalog.get(added).status == Status.INDEXED
        assert catalog.status_counts()[Status.INDEXED] == 5


def test_an_ingest_whose_target_fails_has_built_the_tantivy_index_all_the_same(
    legacy: Legacy,
) -> None:
    """Preparing the index is the first thing a writing command does, before its targets."""
    env = environment(legacy.data)
    before = answers(env, legacy, ["Wochenmarkt", "Masken"])
    missing = legacy.data.parent / "no-such-file.mp4"
    failed = run(env, "ingest", str(missing))
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == f"error: {missing}: no such file"
    assert fts_tables(legacy.data / "catalog.sqlite3") == []
    assert (legacy.data / "index" / "current.json").is_file()
    assert status_of(env)["engine"] == "tantivy"
    assert answers(env, legacy, ["Wochenmarkt", "Masken"]) == before


def test_the_built_message_counts_the_passages_the_new_index_holds(legacy: Legacy) -> None:
    failed = run(environment(legacy.data), "ingest", str(legacy.data.parent / "none.mp4"))
    assert failed.returncode == 1
    built = [line for line in failed.stderr.splitlines() if line.startswith("built the")]
    assert built == [f"built the search index: {legacy.passages} passages"]


@pytest.mark.parametrize(
    ("point", "engine"), [("rebuild:built", LEGACY_ENGINE), ("rebuild:swapped", "tantivy")]
)
def test_an_upgrade_killed_midway_answers_and_the_next_reindex_completes_it(
    legacy: Legacy, point: str, engine: str
) -> None:
    """Killed (SIGKILL) before the new index answers, the FTS5 index goes on answering; killed
    after, the new one answers. Either way searches find the same, and `reindex` finishes."""
    env = environment(legacy.data)
    killed = run(env | {STOP_ENV: point}, "reindex")
    assert killed.returncode == -signal.SIGKILL
    assert status_of(env)["engine"] == engine
    assert answers(env, legacy, [*EXPECTED]) == EXPECTED
    rebuilt = run(env, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == f"reindexed 4 statements, {legacy.passages} passages"
    assert fts_tables(legacy.data / "catalog.sqlite3") == []
    assert status_of(env)["engine"] == "tantivy"
    assert answers(env, legacy, [*EXPECTED]) == EXPECTED
    assert [p.name for p in (legacy.data / "index").glob("g*")] == [
        json.loads((legacy.data / "index" / "current.json").read_text())["generation"]
    ]


def test_the_next_writing_command_drops_the_fts5_tables_a_killed_upgrade_left(
    legacy: Legacy,
) -> None:
    env = environment(legacy.data)
    killed = run(env | {STOP_ENV: "rebuild:swapped"}, "reindex")
    assert killed.returncode == -signal.SIGKILL
    assert fts_tables(legacy.data / "catalog.sqlite3")[0] == "passage_terms"
    failed = run(env, "ingest", str(legacy.data.parent / "none.mp4"))  # prepares the index
    assert failed.returncode == 1 and "no such file" in failed.stderr
    assert fts_tables(legacy.data / "catalog.sqlite3") == []


def test_a_search_that_chose_the_fts5_index_before_the_upgrade_still_answers(
    legacy: Legacy,
) -> None:
    """What a server's request does when the upgrade happens between choosing its engine and
    searching: deterministic here, a race of a few milliseconds in a server."""
    settings = Settings(data_dir=legacy.data)
    with Catalog(settings.catalog_path, readonly=True) as reader:
        engine = open_engine(settings, reader)
        assert isinstance(engine, LegacyFtsEngine)
        with Catalog(settings.catalog_path) as writer:
            rebuild(writer, open_engine(settings, writer))
        assert fts_tables(settings.catalog_path) == []
        found = search(reader, engine, Query("Wochenmarkt", sort="newest"), None)
        assert [hit.id for hit in found.statements] == [
            legacy.ids[key] for key in EXPECTED["Wochenmarkt"]
        ]


# (d): a server keeps answering while the archive is upgraded


@dataclass
class Answer:
    at: float
    query: str
    status: int
    ids: list[str] | None  # None when the response was not a search result
    body: str


@dataclass
class Asking:
    """Searches sent to a server, one after another, from a thread, until stopped."""

    base: str
    queries: list[str]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def ask(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                query = self.queries[n % len(self.queries)]
                n += 1
                params = urllib.parse.urlencode({"q": query, "sort": "newest", "per_page": 50})
                try:
                    response = client.get(f"/api/search?{params}")
                except httpx.HTTPError as error:
                    self.answers.append(Answer(time.monotonic(), query, 0, None, repr(error)))
                    continue
                ids = None
                if response.status_code == 200:
                    ids = [hit["id"] for hit in response.json()["statements"]]
                self.answers.append(
                    Answer(time.monotonic(), query, response.status_code, ids, response.text)
                )


def test_a_served_search_keeps_answering_during_and_after_the_upgrade(legacy: Legacy) -> None:
    env = environment(legacy.data)
    queries = ["Wochenmarkt", "Masken", "Schwimm*", '"Wochenmarkt in der Innenstadt"']
    expected = {query: [legacy.ids[key] for key in EXPECTED[query]] for query in queries}
    with serving(env) as base:
        asking = Asking(base, queries)
        thread = threading.Thread(target=asking.ask, daemon=True)
        thread.start()
        try:
            while len(asking.answers) < 20:  # answered from the FTS5 index
                assert thread.is_alive()
                time.sleep(0.05)
            began = time.monotonic()
            rebuilt = run(env, "reindex")
            ended = time.monotonic()
            assert rebuilt.returncode == 0, rebuilt.stderr
            assert fts_tables(legacy.data / "catalog.sqlite3") == []
            during = len(asking.answers)
            while len(asking.answers) < during + 20:  # answered from the tantivy index
                assert thread.is_alive()
                time.sleep(0.05)
        finally:
            asking.stop.set()
            thread.join(timeout=60)
        assert not thread.is_alive()

        failed = [a for a in asking.answers if a.status != 200 or a.ids != expected[a.query]]
        assert failed == [], [(a.query, a.status, a.ids, a.body[:300]) for a in failed[:5]]
        assert [a for a in asking.answers if a.at < began], "no search before the upgrade"
        assert [a for a in asking.answers if began <= a.at <= ended], "none during it"
        assert [a for a in asking.answers if a.at > ended], "none after it"
        # the server now answers from the tantivy index, did-you-mean included
        params = urllib.parse.urlencode({"q": "Maskenpflict"})
        corrected = httpx.get(f"{base}/api/search?{params}", timeout=30).json()
        assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
        assert [hit["id"] for hit in corrected["statements"]] == [legacy.ids["koeln"]]
    assert status_of(env)["engine"] == "tantivy"
