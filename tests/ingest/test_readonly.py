"""A read-only archive is searchable and servable; commands that write say it is read-only.

The data directory is a real read-only bind mount (the tests run as root). Where mounting is
not possible the tests are skipped, saying why, except under CI=true, where they must run.
Missing and empty archives: the commands that read say where they looked and create nothing.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.catalog import MIGRATIONS, Catalog, _statements
from archive.config import Settings
from archive.errors import CatalogNeedsMigration, DataDirReadOnly, NoCatalog
from archive.search.fts import FtsEngine
from tests.archive.seed import spoken, store
from tests.ingest.archives import (
    COMMAND,
    Seeded,
    environment,
    files_under,
    one_error_line,
    run,
    seed,
)

pytestmark = pytest.mark.slow  # real processes


@dataclass(frozen=True)
class ReadOnly:
    source: Path  # the directory, writable
    mount: Path  # the same directory through a read-only bind mount


def _mount_problem(source: Path, mount: Path) -> str | None:
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("mount") is None:
        return "no mount command"
    bind = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if bind.returncode:
        return f"mount --bind failed: {bind.stderr.decode().strip()}"
    remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], capture_output=True)
    if remount.returncode:
        subprocess.run(["umount", str(mount)], check=False)
        return f"remount,ro failed: {remount.stderr.decode().strip()}"
    return None


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[ReadOnly]:
    source, mount = tmp_path / "source", tmp_path / "mount"
    source.mkdir()
    mount.mkdir()
    problem = _mount_problem(source, mount)
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the read-only tests, but cannot mount: {problem}")
        pytest.skip(f"cannot make a read-only bind mount: {problem}")
    try:
        with pytest.raises(OSError) as refused:
            (mount / "probe").touch()
        assert refused.value.errno == errno.EROFS
        yield ReadOnly(source, mount)
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def seeded(read_only: ReadOnly) -> tuple[ReadOnly, Seeded]:
    return read_only, seed(read_only.source)


def test_read_only_archive_answers_search_list_and_export(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    ro, ids = seeded
    before = files_under(ro.source)
    env = environment(ro.mount)

    found = run(env, "search", "Maskenpflicht")
    assert (found.returncode, found.stderr) == (0, "")
    assert "1 statement (Köln 1)" in found.stdout
    assert f"/statements/{ids.indexed}?t=" in found.stdout

    listed = run(env, "list")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert ids.indexed in listed.stdout and ids.failed in listed.stdout

    exported = run(env, "export", ids.indexed, "--format", "vtt")
    assert (exported.returncode, exported.stderr) == (0, "")
    assert exported.stdout.startswith("WEBVTT") and "Maskenpflicht" in exported.stdout

    assert files_under(ro.source) == before  # no log, no -wal, no folders


def test_read_only_archive_sees_what_a_writer_elsewhere_has_committed(
    seeded: tuple[ReadOnly, Seeded],
) -> None:
    """A writer on the writable side keeps its WAL open: the read-only side must read it."""
    ro, _ = seeded
    with Catalog(ro.source / "catalog.sqlite3") as writer:
        store(
            writer,
            FtsEngine(writer),
            "https://stadt.example/videos/3",
            [spoken(0.0, "Der Wochenmarkt findet wieder statt")],
            title="Wochenmarkt",
        )
        assert (ro.source / "catalog.sqlite3-wal").stat().st_size > 0
        found = run(environment(ro.mount), "search", "Wochenmarkt")
    assert (found.returncode, found.stderr) == (0, "")
    assert "Wochenmarkt" in found.stdout and "1 statement" in found.stdout


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
    assert (rebuilt.returncode, rebuilt.stdout.strip()) == (0, "reindexed 0 statements")
    assert "holds no statements yet" in one_error_line(run(environment(data), "list"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_serve_answers_from_a_read_only_archive(seeded: tuple[ReadOnly, Seeded]) -> None:
    ro, ids = seeded
    before = files_under(ro.source)
    port = _free_port()
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env=environment(ro.mount),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()
            try:
                status, body = _get(f"{base}/api/search?q=Maskenpflicht")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
        assert status == 200
        results = json.loads(body)
        assert results["total"] == 1
        assert results["statements"][0]["id"] == ids.indexed
        status, page = _get(f"{base}/?q=Maskenpflicht")
        assert status == 200 and f"/statements/{ids.indexed}" in page
        status, page = _get(f"{base}/statements/{ids.indexed}")
        assert status == 200 and "Maskenpflicht" in page
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr
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


def test_empty_catalog_is_named_like_a_missing_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Catalog(data / "catalog.sqlite3") as catalog:
        FtsEngine(catalog)
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
