"""A read-only archive is searchable and servable; commands that write say it is read-only.

The data directory is a real read-only bind mount (the tests run as root). Where mounting is
not possible the tests are skipped, saying why, except under CI=true, where they must run.
Missing and empty archives: the commands that read say where they looked and create nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import MIGRATIONS, Catalog, _statements
from archive.config import Settings
from archive.errors import CatalogNeedsMigration, DataDirReadOnly, NoCatalog
from archive.indexing import rebuild, take_down
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import spoken, store
from tests.ingest.archives import (
    Seeded,
    environment,
    files_under,
    one_error_line,
    read_only_mount,
    run,
    seed,
    serving,
)

pytestmark = pytest.mark.slow  # real processes


@dataclass(frozen=True)
class ReadOnly:
    source: Path  # the directory, writable
    mount: Path  # the same directory through a read-only bind mount


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[ReadOnly]:
    source, mount = tmp_path / "source", tmp_path / "mount"
    source.mkdir()
    with read_only_mount(source, mount):
        yield ReadOnly(source, mount)


@pytest.fixture
def seeded(read_only: ReadOnly) -> tuple[ReadOnly, Seeded]:
    return read_only, seed(read_only.source)


def test_read_only_archive_answers_search_list_and_export(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    """The archive holds a tantivy index (tantivy takes a lock file beside its meta.json even to
    read): the engine reads it through a private directory of links, and writes nothing."""
    ro, ids = seeded
    assert (ro.source / "index" / "current.json").is_file()
    before = files_under(ro.source)
    env = environment(ro.mount)

    found = run(env, "search", "Maskenpflicht")
    assert (found.returncode, found.stderr) == (0, "")
    assert "1 statement (Köln 1)" in found.stdout
    assert f"/statements/{ids.indexed}?t=" in found.stdout

    typo = run(env, "search", "Maskenpflict", "--json")  # did-you-mean, read from the index
    assert (typo.returncode, typo.stderr) == (0, "")
    corrected = json.loads(typo.stdout)
    assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
    assert [s["id"] for s in corrected["statements"]] == [ids.indexed]

    figures = run(env, "status", "--json")
    assert (figures.returncode, figures.stderr) == (0, "")
    assert json.loads(figures.stdout)["engine"] == "tantivy"
    assert json.loads(figures.stdout)["index_bytes"] > 0

    listed = run(env, "list")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert ids.indexed in listed.stdout and ids.failed in listed.stdout

    exported = run(env, "export", ids.indexed, "--format", "vtt")
    assert (exported.returncode, exported.stderr) == (0, "")
    assert exported.stdout.startswith("WEBVTT") and "Maskenpflicht" in exported.stdout

    assert files_under(ro.source) == before  # no log, no -wal, no folders, no index lock


def test_a_read_only_search_leaves_nothing_in_the_temporary_directory(
    seeded: tuple[ReadOnly, Seeded], tmp_path: Path
) -> None:
    """Every read-only search (a cron job, a script) must not leave its directory of links
    to the index behind."""
    ro, _ = seeded
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    found = run(environment(ro.mount, TMPDIR=str(scratch)), "search", "Maskenpflicht")
    assert (found.returncode, found.stderr) == (0, "")
    assert "1 statement (Köln 1)" in found.stdout
    assert files_under(scratch) == set()


def test_read_only_archive_sees_what_a_writer_elsewhere_has_committed(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    """A writer on the writable side keeps its WAL open and commits to the index: the read-only
    side must read both."""
    ro, ids = seeded
    with Catalog(ro.source / "catalog.sqlite3") as writer:
        store(
            writer,
            TantivyEngine(writer, ro.source / "index"),
            "https://stadt.example/videos/3",
            [spoken(0.0, "Der Flohmarkt findet wieder statt")],
            title="Flohmarkt",
        )
        assert (ro.source / "catalog.sqlite3-wal").stat().st_size > 0
        found = run(environment(ro.mount), "search", "Flohmarkt")
        assert (found.returncode, found.stderr) == (0, "")
        assert "Flohmarkt" in found.stdout and "1 statement" in found.stdout
        # a takedown committed on the writable side is gone from the read-only side's search
        take_down(writer, TantivyEngine(writer, ro.source / "index"), ids.indexed)
        gone = run(environment(ro.mount), "search", "Maskenpflicht")
    assert (gone.returncode, gone.stderr) == (0, "")
    assert "no statement says 'Maskenpflicht'" in gone.stdout


@pytest.mark.parametrize("args", [["reindex"], ["ingest", "/srv/video.mp4"]])
def test_writing_commands_say_the_data_directory_is_read_only(
    seeded: tuple[ReadOnly, Seeded], args: list[str]
) -> None:
    ro, _ = seeded
    result = run(environment(ro.mount), *args)
    assert result.returncode == 1
    assert one_error_line(result).startswith(f"error: data directory {ro.mount} is read-only")


def test_prepare_names_a_read_only_data_directory(read_only: ReadOnly) -> None:
    with pytest.raises(DataDirReadOnly, match=f"data directory {read_only.mount} is read-only"):
        Settings(data_dir=read_only.mount).prepare()


def _catalog_of_schema(path: Path, version: int) -> None:
    """A catalog as an older release made it: the first `version` migrations only."""
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        for script in MIGRATIONS[:version]:
            assert isinstance(script, str)
            for statement in _statements(script):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
    db.close()


@pytest.mark.parametrize("args", [["list"], ["search", "Maske"], ["export", "x"], ["serve"]])
def test_read_only_command_does_not_migrate_an_old_catalog(
    read_only: ReadOnly, args: list[str]
) -> None:
    _catalog_of_schema(read_only.source / "catalog.sqlite3", 2)
    line = one_error_line(run(environment(read_only.mount), *args))
    assert "needs migrating from schema version 2" in line
    assert "`stadtstimme reindex` first" in line
    with sqlite3.connect(read_only.source / "catalog.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_writing_command_migrates_what_a_read_only_one_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _catalog_of_schema(data / "catalog.sqlite3", 2)
    assert "needs migrating" in one_error_line(run(environment(data), "list"))
    rebuilt = run(environment(data), "reindex")
    assert (rebuilt.returncode, rebuilt.stdout.strip()) == (0, "reindexed 0 statements, 0 passages")
    assert "holds no statements yet" in one_error_line(run(environment(data), "list"))


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def _search(base: str, query: str) -> dict[str, Any]:
    status, body = _get(f"{base}/api/search?{urllib.parse.urlencode({'q': query})}")
    assert status == 200
    found: dict[str, Any] = json.loads(body)
    return found


def test_serve_answers_from_a_read_only_archive(seeded: tuple[ReadOnly, Seeded]) -> None:
    ro, ids = seeded
    assert (ro.source / "index" / "current.json").is_file()
    before = files_under(ro.source)
    with serving(environment(ro.mount), "/api/search?q=Maskenpflicht") as base:
        results = _search(base, "Maskenpflicht")
        assert results["total"] == 1
        assert results["statements"][0]["id"] == ids.indexed
        corrected = _search(base, "Maskenpflict")
        assert (corrected["suggestion"], corrected["corrected"]) == ("Maskenpflicht", True)
        assert [s["id"] for s in corrected["statements"]] == [ids.indexed]
        status, page = _get(f"{base}/?q=Maskenpflicht")
        assert status == 200 and f"/statements/{ids.indexed}" in page
        status, page = _get(f"{base}/statements/{ids.indexed}")
        assert status == 200 and "Maskenpflicht" in page
    assert files_under(ro.source) == before


def test_serve_on_a_read_only_archive_follows_what_a_writer_commits(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    """The server reads the index through links made when it opened it: segments a writer on
    the writable side commits later, and its deletes, show in the next search."""
    ro, ids = seeded
    with serving(environment(ro.mount), "/api/search?q=Maskenpflicht") as base:
        assert _search(base, "Flohmarkt")["total"] == 0
        with Catalog(ro.source / "catalog.sqlite3") as writer:
            engine = TantivyEngine(writer, ro.source / "index")
            added = store(
                writer,
                engine,
                "https://stadt.example/videos/3",
                [spoken(0.0, "Der Flohmarkt findet wieder statt")],
                title="Flohmarkt",
            )
            found = _search(base, "Flohmarkt")
            assert [s["id"] for s in found["statements"]] == [added.id]
            assert _search(base, "Flohmarkd")["suggestion"] == "Flohmarkt"
            take_down(writer, engine, ids.indexed)
            assert _search(base, "Maskenpflicht")["total"] == 0
            assert _search(base, "Maskenpflict")["suggestion"] is None
            assert _search(base, "Flohmarkt")["total"] == 1


def test_a_read_only_archive_without_a_search_index_says_so_in_one_line(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    """No index and no FTS5 table of an older release: the commands that search refuse in one
    line and point at the command that builds it; list and export need no index."""
    ro, ids = seeded
    shutil.rmtree(ro.source / "index")
    before = files_under(ro.source)
    env = environment(ro.mount)
    for args in (["search", "Maskenpflicht"], ["status"], ["serve", "--port", "0"]):
        result = run(env, *args)
        assert result.returncode == 1, args
        line = one_error_line(result)
        assert f"there is no search index in {ro.mount / 'index'} yet" in line, line
        assert "`stadtstimme reindex` first" in line, line
    listed = run(env, "list")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert ids.indexed in listed.stdout
    exported = run(env, "export", ids.indexed)
    assert (exported.returncode, exported.stderr) == (0, "")
    assert "Maskenpflicht" in exported.stdout
    assert files_under(ro.source) == before


# missing and empty archives: no mount needed


@pytest.mark.parametrize(
    "args", [["search", "Maskenpflicht"], ["list"], ["export", "abc"], ["serve"]]
)
def test_missing_archive_is_named_and_nothing_is_created(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "nowhere"
    line = one_error_line(run(environment(data), *args))
    assert line == (
        f"error: the archive in {data} holds no statements yet (add some with `stadtstimme "
        "ingest`, or set STADTSTIMME_DATA_DIR to the archive's directory)"
    )
    assert not data.exists()


def test_fresh_machine_search_creates_no_user_data_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = environment(None, HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"))
    line = one_error_line(run(env, "search", "Maskenpflicht"))
    assert f"the archive in {home}/.local/share/stadtstimme holds no statements yet" in line
    assert files_under(home) == set()


@pytest.mark.parametrize("indexed", [False, True], ids=["no-index", "empty-index"])
def test_empty_catalog_is_named_like_a_missing_one(tmp_path: Path, indexed: bool) -> None:
    data = tmp_path / "data"
    with Catalog(data / "catalog.sqlite3") as catalog:
        if indexed:  # as `stadtstimme reindex` leaves an empty archive
            rebuild(catalog, TantivyEngine(catalog, data / "index"))
    assert (data / "index" / "current.json").is_file() == indexed
    for args in (["search", "Maske"], ["list"], ["export", "abc"]):
        assert f"the archive in {data} holds no statements yet" in one_error_line(
            run(environment(data), *args)
        )


def test_a_catalog_being_set_up_reads_as_none_yet_and_an_old_one_does_not(tmp_path: Path) -> None:
    """What a reader meets while a writer creates the catalog is "not yet", never a missing
    table; a catalog of an older schema is no "not yet" but a migration to make."""
    path = tmp_path / "catalog.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        with pytest.raises(NoCatalog):
            Catalog(path, readonly=True)
        writer.execute("BEGIN IMMEDIATE")
        first = MIGRATIONS[0]
        assert isinstance(first, str)
        for statement in _statements(first):
            writer.execute(statement)
        writer.execute("PRAGMA user_version = 1")
        with pytest.raises(NoCatalog):  # not committed yet
            Catalog(path, readonly=True)
        writer.execute("COMMIT")
        with pytest.raises(CatalogNeedsMigration, match="from schema version 1"):
            Catalog(path, readonly=True)
    finally:
        writer.close()
