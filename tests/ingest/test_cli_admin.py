"""The admin commands as an operator runs them: real `stadtstimme` processes on a real catalog
(seeded in code, or ingested with the real model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Status
from tests.api.served import seed_archive
from tests.conftest import Served
from tests.ingest.test_cli import run

pytestmark = pytest.mark.slow


def said(env: dict[str, str], query: str) -> list[str]:
    found = run(env, "search", "--json", "--", query)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    return [] if results["corrected"] else [s["id"] for s in results["statements"]]


def test_hide_unhide_edit_correct_retranscribe(cli_env: dict[str, str], settings: Settings) -> None:
    koeln = seed_archive(settings.data_dir).ids["koeln"]
    assert koeln in said(cli_env, "Maskenpflicht")

    hidden = run(cli_env, "hide", koeln, "--json")
    assert hidden.returncode == 0, hidden.stderr
    assert json.loads(hidden.stdout)["status"] == "hidden"
    assert koeln not in said(cli_env, "Maskenpflicht")
    shown = run(cli_env, "unhide", koeln)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"shown: {koeln}  ") and "(indexed)" in shown.stdout
    assert koeln in said(cli_env, "Maskenpflicht")

    edited = run(cli_env, "edit", koeln, "--title", "Sondersitzung", "--speaker", "", "--json")
    assert edited.returncode == 0, edited.stderr
    record = json.loads(edited.stdout)
    assert (record["title"], record["speaker"], record["edited"]) == (
        "Sondersitzung",
        None,
        "speaker,title",
    )
    assert said(cli_env, "Sondersitzung") == [koeln]

    # "Die Maskenpflicht gilt …": the word at 0.5-0.9 s
    fixed = run(
        cli_env, "correct", koeln, "--start", "0.4", "--end", "1", "--text", "Ausgangssperre"
    )
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.strip() == f"corrected: {koeln}  0.50-0.90 s  Ausgangssperre"
    assert said(cli_env, "Ausgangssperre") == [koeln]
    exported = run(cli_env, "export", koeln, "--format", "json")
    words = json.loads(exported.stdout)["segments"][0]["words"]
    assert (words[1]["text"], words[1]["start"], words[1]["end"]) == ("Ausgangssperre", 0.5, 0.9)

    queued = run(
        cli_env, "retranscribe", koeln, "--model", "small", "--language", "en",
        "--discard-corrections", "--json",
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    job = json.loads(queued.stdout)
    assert (job["kind"], job["target"], job["new"]) == ("retranscribe", koeln, True)
    assert job["options"] == {"model": "small", "language": "en", "discard_corrections": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("edit", "KOELN", "--published", "2021-02-30"),
            "error: --published '2021-02-30': not a calendar date",
        ),
        (("edit", "KOELN"), "error: nothing to edit"),
        (
            ("correct", "KOELN", "--start", "9", "--end", "1", "--text", "x"),
            "error: --start 9 and --end 1: need 0 <= start < end",
        ),
        (
            ("correct", "KOELN", "--start", "50", "--end", "60", "--text", "x"),
            "error: no word is said between 50 s and 60 s",
        ),
        (("hide", "nope"), "error: no statement with id 'nope'"),
        (("readmit", "https://example.org/nope"), "error: no deleted statement"),
        (("retranscribe", "KOELN", "--language", "xx"), "error: --language: 'xx'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli_env: dict[str, str], settings: Settings, args: tuple[str, ...], message: str
) -> None:
    koeln = seed_archive(settings.data_dir).ids["koeln"]
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        before = catalog.get(koeln), catalog.segments(koeln)
    done = run(cli_env, *(koeln if a == "KOELN" else a for a in args))
    assert done.returncode == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        assert (catalog.get(koeln), catalog.segments(koeln)) == before


def test_a_deleted_file_is_refused_by_ingest_until_readmitted(
    cli_env: dict[str, str], settings: Settings, server: Served, tmp_path: Path
) -> None:
    clip = tmp_path / "rede.m4a"
    shutil.copy(server.root / "c.m4a", clip)
    first = run(cli_env, "ingest", str(clip), "--json", "--quiet")
    assert first.returncode == 0, first.stderr
    statement = json.loads(first.stdout)
    media = settings.media_dir / statement["media_file"]
    assert media.is_file()

    deleted = run(cli_env, "delete", statement["id"], "--reason", "Widerruf", "--json")
    assert deleted.returncode == 0, deleted.stderr
    tombstone = json.loads(deleted.stdout)
    assert (tombstone["statement_id"], tombstone["reason"]) == (statement["id"], "Widerruf")
    assert tombstone["origin"].startswith("sha256:")
    assert not media.exists()
    listed = run(cli_env, "list", "--json")
    assert statement["id"] not in {s["id"] for s in json.loads(listed.stdout or "[]")}

    refused = run(cli_env, "ingest", str(clip))
    assert refused.returncode == 1
    assert "was deleted from the archive" in refused.stderr
    assert "stadtstimme readmit" in refused.stderr

    readmitted = run(cli_env, "readmit", tombstone["origin"])
    assert readmitted.returncode == 0, readmitted.stderr
    assert readmitted.stdout.startswith("re-admitted: sha256:")
    again = run(cli_env, "ingest", str(clip), "--json", "--quiet")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["id"] == statement["id"]
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        assert catalog.get(statement["id"]).status == Status.INDEXED
