"""`stadtstimme source …`, `update` and `watch` as an operator runs them: real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive import jobs
from archive.catalog import Catalog
from tests.ingest import test_sources
from tests.ingest.test_sources import Site, rss

pytestmark = pytest.mark.slow
site, clip = test_sources.site, test_sources.clip  # the fixtures: a served folder, a clip
COMMAND = [sys.executable, "-m", "ingest"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {"STADTSTIMME_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=120)


def test_add_list_pause_resume_remove(site: Site, env: dict[str, str], tmp_path: Path) -> None:
    site.media("1.m4a")
    feed = site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a")))
    assert run(env, "source", "list").stdout.startswith("no sources")
    added = run(env, "source", "add", feed, "--municipality", "Jena", "--language", "DE")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added source 1 (feed) {feed}"
    again = run(env, "source", "add", feed, "--json")
    assert again.returncode == 0
    record = json.loads(again.stdout)
    assert (record["id"], record["existed"], record["language"]) == (1, True, "de")
    folder = tmp_path / "share"
    folder.mkdir()
    assert (
        run(env, "source", "add", str(folder)).stdout.strip() == f"added source 2 (folder) {folder}"
    )

    bad = run(env, "source", "add", feed + "?x=1", "--language", "klingonisch")
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("error: --language: 'klingonisch' is not a language")
    wrong = run(env, "source", "add", site.url("nichts.xml"))
    assert wrong.returncode == 1
    assert (
        wrong.stderr.strip() == f"error: {site.url('nichts.xml')}: HTTP Error 404: File not found"
    )

    assert run(env, "source", "pause", "1").stdout.strip() == f"paused source 1 (feed) {feed}"
    listed = run(env, "source", "list").stdout.splitlines()
    assert listed[0] == f"1  feed    paused  {feed}"
    assert listed[1] == "   not checked yet  municipality=Jena  language=de"
    assert listed[2] == f"2  folder  active  {folder}"
    assert run(env, "source", "resume", "1").returncode == 0
    assert not json.loads(run(env, "source", "list", "--json").stdout)[0]["paused"]
    assert run(env, "source", "remove", "2").stdout.strip() == f"removed source 2 (folder) {folder}"
    missing = run(env, "source", "remove", "2")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no source 2")
    assert [s["id"] for s in json.loads(run(env, "source", "list", "--json").stdout)] == [1]


def test_update_reports_each_source_and_fails_for_one_that_failed(
    site: Site, env: dict[str, str], tmp_path: Path
) -> None:
    site.media("1.m4a", "2.m4a")
    feed = site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a"), ("g2", "Folge 2", "2.m4a")))
    folder = tmp_path / "share"
    folder.mkdir()
    shutil.copy(site.clip, folder / "rede.m4a")
    os.utime(folder / "rede.m4a", (time.time() - 60, time.time() - 60))
    assert run(env, "source", "add", feed).returncode == 0
    assert run(env, "source", "add", str(folder)).returncode == 0

    first = run(env, "update")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"source 1 (feed) {feed}: 2 listed, 2 queued",
        f"source 2 (folder) {folder}: 1 listed, 1 queued",
    ]
    shutil.rmtree(folder)
    second = run(env, "update", "--json")
    assert second.returncode == 1
    report = json.loads(second.stdout)
    assert report["failed"] == 1
    assert [s["queued"] for s in report["sources"]] == [0, 0]
    third = run(env, "update")
    assert third.returncode == 1
    assert third.stdout.strip() == f"source 1 (feed) {feed}: 2 listed, 0 queued"
    assert third.stderr.strip() == (
        f"error: source 2 (folder) {folder}: {folder}: the folder is gone (moved, deleted, "
        "or a share not mounted)"
    )
    listed = run(env, "source", "list").stdout
    assert "last error: " + f"{folder}: the folder is gone" in listed
    with Catalog(tmp_path / "data" / "catalog.sqlite3", readonly=True) as catalog:
        assert jobs.counts(catalog)["queued"] == 3


def test_watch_updates_until_terminated(site: Site, env: dict[str, str]) -> None:
    too_often = run(env, "watch", "--every", "5s")
    assert too_often.returncode == 1
    assert too_often.stderr.strip() == "error: --every '5s': at least 10 s"
    assert run(env, "watch", "--every", "soon").stderr.strip() == (
        "error: --every 'soon': give a period such as 30s, 10m or 1h"
    )
    site.media("1.m4a")
    feed = site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a")))
    assert run(env, "source", "add", feed).returncode == 0
    process = subprocess.Popen(
        [*COMMAND, "watch", "--every", "10s"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the first update, at once
    assert line.strip() == f"source 1 (feed) {feed}: 1 listed, 1 queued"
    process.send_signal(signal.SIGTERM)
    out, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert out.strip() == "stopped"
    assert errors == ""
