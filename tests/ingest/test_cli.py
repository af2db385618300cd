"""The `stadtstimme` command as a user runs it: real processes, real model, real catalog."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import NoCatalog
from archive.models import Status
from tests.conftest import Served

pytestmark = pytest.mark.slow
COMMAND = [sys.executable, "-m", "ingest"]


def run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_ingest_prints_id_title_duration_then_search_finds_the_moment(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    first = run(
        cli_env, "ingest", server.url("a.mp4"), "--municipality", "Köln", "--published", "2026-02"
    )
    assert first.returncode == 0, first.stderr
    line = first.stdout.strip().splitlines()[-1]
    assert line.startswith("archived: ")
    statement_id = line.split()[1]
    assert line.endswith("a  (0:12)")  # id, title (the file's stem), duration of 12.9 s
    again = run(cli_env, "ingest", server.url("a.mp4"))
    assert again.returncode == 0
    assert again.stdout.startswith(f"already archived: {statement_id}")

    found = run(cli_env, "search", "Maskenpflicht")
    assert found.returncode == 0, found.stderr
    assert "1 statement (Köln 1)" in found.stdout
    assert "2026-02, Köln" in found.stdout  # a date precise to the month
    assert "0:02" in found.stdout  # said at 3.1 s; the link starts a second before
    assert f"/statements/{statement_id}?t=2" in found.stdout
    assert "Maskenpflicht" in found.stdout

    nothing = run(cli_env, "search", "Bürgerhaushalt")
    assert nothing.returncode == 0 and "no statement says" in nothing.stdout

    with Catalog(settings.catalog_path, readonly=True) as catalog:
        passages = catalog.passage_count()
    assert passages >= 1
    rebuilt = run(cli_env, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    said = "1 passage" if passages == 1 else f"{passages} passages"
    assert rebuilt.stdout.strip() == f"reindexed 1 statement, {said}"
    assert f"/statements/{statement_id}?t=2" in run(cli_env, "search", "Maskenpflicht").stdout
    as_json = json.loads(run(cli_env, "search", "Maskenpflict", "--json").stdout)
    assert as_json["corrected"] and as_json["suggestion"] == "Maskenpflicht"
    assert as_json["facets"]["municipality"] == {"Köln": 1}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("{base}/gone.mp4", "gone.mp4: Unable to download webpage: HTTP Error 404"),
        ("{base}/novideo.html", "novideo.html: Unsupported URL"),
        ("gopher://127.0.0.1/x", "gopher://127.0.0.1/x:"),
        ("{root}/notmedia.mp4", "notmedia.mp4 is not a media file"),
        ("{root}/noaudio.mp4", "noaudio.mp4 has no audio track"),
        ("/no/such/file.mp4", "/no/such/file.mp4: no such file"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    target: str, expected: str, cli_env: dict[str, str], server: Served
) -> None:
    result = run(cli_env, "ingest", target.format(base=server.base, root=server.root))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("code", ["klingon!", "xx", "deu"])
def test_bad_language_option_is_one_line_and_stores_nothing(
    code: str, cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    """Checked against Whisper's languages where it enters, not blamed on the audio later."""
    result = run(cli_env, "ingest", str(server.root / "c.m4a"), "--language", code)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: --language: {code!r} is not a language Whisper knows: use a code such as de, "
        "en, fr, tr or 'auto'"
    )
    assert not settings.catalog_path.exists()


def test_bad_setting_is_one_line(cli_env: dict[str, str]) -> None:
    result = run(cli_env | {"STADTSTIMME_LANGUAGE": "klingon!"}, "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: bad setting: STADTSTIMME_LANGUAGE")
    assert len(result.stderr.strip().splitlines()) == 1


def test_two_processes_on_one_url_make_one_statement(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    url = server.url("b.webm")
    processes = [start(cli_env, "ingest", url) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    lines = sorted(out.strip().splitlines()[-1] for out, _ in outputs)
    ids = {re.search(r"archived: (\S+)", line).group(1) for line in lines}  # type: ignore[union-attr]
    assert lines[0].startswith("already archived: ") and lines[1].startswith("archived: ")
    assert len(ids) == 1
    with Catalog(settings.catalog_path) as catalog:
        count = catalog.db.execute("SELECT count(*) FROM statements").fetchone()[0]
    assert count == 1


def wait_for_status(path: Path, status: Status, timeout: float = 120) -> None:
    """Wait until a statement in the catalog another process writes has the status.

    Read through the project's read-only Catalog, which checks the schema version first: until
    the writer has created the catalog and committed its schema, that is NoCatalog, "not yet".
    (Querying the file directly raced the writer: "no such table: statements".) Any other
    failure, an old schema included, is raised."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with Catalog(path, readonly=True) as catalog:
                _, statements = catalog.list_statements(statuses=list(Status))
        except NoCatalog:
            statements = []
        if any(s.status == status for s in statements):
            return
        time.sleep(0.05)
    raise AssertionError(f"no statement reached {status!r}")


def test_killed_during_transcription_then_rerun_completes(
    cli_env: dict[str, str], server: Served, settings: Settings
) -> None:
    source = server.root / "long.m4a"
    process = start(cli_env, "ingest", str(source))
    wait_for_status(settings.catalog_path, Status.FETCHED)
    time.sleep(1.5)  # the model loads, transcription of 29 s of speech is under way
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    with Catalog(settings.catalog_path) as catalog:
        (statement,) = catalog.list_statements(statuses=list(Status))[1]
        assert statement.status == Status.FETCHED
        assert catalog.segments(statement.id) == []
        assert catalog.passages(statement.id) == []
    for landed in settings.media_dir.iterdir():
        assert landed.read_bytes() == source.read_bytes(), f"partial file {landed}"

    rerun = run(cli_env, "ingest", str(source))
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"archived: {statement.id}")
    with Catalog(settings.catalog_path) as catalog:
        assert catalog.get(statement.id).status == Status.INDEXED
        assert catalog.passages(statement.id)


def test_search_says_where_a_statement_matched_without_a_moment(
    settings: Settings, cli_env: dict[str, str]
) -> None:
    """A word only the title says finds the statement: the command says where, and gives the
    statement's link in place of a moment."""
    from archive.search.engines import open_engine
    from tests.archive.seed import spoken, store

    with Catalog(settings.catalog_path) as catalog:
        stored = store(
            catalog,
            open_engine(settings, catalog),
            "https://example.org/buergermeister",
            [spoken(0.0, "Heute geht es um den Haushalt der Stadt.")],
            title="Videobotschaft des Oberbürgermeisters",
        )
    found = run(cli_env, "search", "Oberbürgermeister")
    assert (found.returncode, found.stderr) == (0, "")
    lines = found.stdout.splitlines()
    assert lines[0].startswith("1 statement")
    assert lines[1].startswith("Videobotschaft des Oberbürgermeisters")
    assert lines[2].strip() == "found in the title"
    assert lines[3].strip().endswith(f"/statements/{stored.id}")
