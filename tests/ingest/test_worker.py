"""The worker in one process: jobs through the real pipeline, the real model and yt-dlp against
the local test server; failures settled as ingest.fetch.classify judges them; the next job
fetched while the current one is transcribed; statements transcribed again."""

from __future__ import annotations

import functools
import http.server
import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from archive import corrections, jobs
from archive.catalog import Catalog
from archive.config import Settings
from archive.jobs import JobKind, JobStatus
from archive.models import Status
from archive.search import Engine
from archive.search.engines import open_engine
from archive.sources import SourceKind, insert_source
from ingest.worker import Worker
from tests.conftest import Served

pytestmark = pytest.mark.slow


class _Throttled(http.server.SimpleHTTPRequestHandler):
    """Serves the test media at `rate` bytes a second; `/fail-once/NAME` answers 500 the first
    time it is asked for, then NAME."""

    rate = 1e12
    failed: ClassVar[set[str]] = set()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/fail-once/"):
            if self.path not in self.failed:
                self.failed.add(self.path)
                self.send_error(500)
                return
            self.path = self.path.removeprefix("/fail-once")
        super().do_GET()

    def copyfile(self, source: Any, outputfile: Any) -> None:
        chunk = 16 * 1024
        while block := source.read(chunk):
            outputfile.write(block)
            time.sleep(len(block) / self.rate)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """yt-dlp's probe hangs up once it has read what it wanted; that is not an error."""


@pytest.fixture
def slow_server(server: Served) -> Iterator[tuple[str, type[_Throttled]]]:
    handler_class = type("Handler", (_Throttled,), {"failed": set()})
    handler = functools.partial(handler_class, directory=str(server.root))
    httpd = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler_class
    httpd.shutdown()


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    with Catalog(settings.catalog_path) as opened:
        yield opened


@pytest.fixture
def engine(settings: Settings, catalog: Catalog) -> Engine:
    return open_engine(settings, catalog)


def _worker(settings: Settings, catalog: Catalog, engine: Engine, model: Any, **kw: Any) -> Worker:
    return Worker(settings, catalog, engine, model, **kw)


def test_a_sources_settings_apply_and_the_jobs_options_win(
    settings: Settings, catalog: Catalog, engine: Engine, whisper_model: Any, server: Served
) -> None:
    source, _ = insert_source(
        catalog,
        "https://example.org/feed.xml",
        SourceKind.FEED,
        municipality="Köln",
        speaker="Henriette Reker",
        language="de",
        prompt="Maskenpflicht, Wochenmarkt",
    )
    job, new = jobs.enqueue(
        catalog, server.url("a.mp4"), source_id=source.id, options={"municipality": "Bonn"}
    )
    assert new
    lines: list[tuple[int, str, str]] = []
    tally = _worker(
        settings, catalog, engine, whisper_model, notify=lambda j, o, t: lines.append((j.id, o, t))
    ).run(once=True)
    assert (tally.done, tally.failed) == (1, 0)
    done = jobs.get(catalog, job.id)
    assert done is not None and done.status is JobStatus.DONE and done.statement_id
    statement = catalog.get(done.statement_id)
    assert statement.status is Status.INDEXED
    assert (statement.municipality, statement.speaker) == ("Bonn", "Henriette Reker")
    assert statement.source_id == source.id
    assert statement.language == "de"
    assert lines == [(job.id, "done", f"{statement.id}  {statement.title}")]


def test_a_missing_page_fails_at_once_naming_it(
    settings: Settings, catalog: Catalog, engine: Engine, whisper_model: Any, server: Served
) -> None:
    url = server.url("gone-k1.mp4")
    job, _ = jobs.enqueue(catalog, url)
    tally = _worker(settings, catalog, engine, whisper_model).run(once=True)
    assert (tally.done, tally.failed) == (0, 1)
    failed = jobs.get(catalog, job.id)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.attempts == 1
    assert failed.last_error is not None
    assert failed.last_error.startswith(url) and "404" in failed.last_error
    assert "\n" not in failed.last_error
    assert catalog.status_counts() == {}


def test_a_server_error_is_retried_after_a_backoff_then_done(
    settings: Settings,
    catalog: Catalog,
    engine: Engine,
    whisper_model: Any,
    slow_server: tuple[str, type[_Throttled]],
) -> None:
    base, _ = slow_server
    job, _ = jobs.enqueue(catalog, f"{base}/fail-once/c.m4a")
    worker = _worker(settings, catalog, engine, whisper_model)
    assert worker.run(once=True).postponed == 1
    waiting = jobs.get(catalog, job.id)
    assert waiting is not None and waiting.status is JobStatus.QUEUED
    assert waiting.last_error is not None and "500" in waiting.last_error
    assert waiting.not_before is not None
    due = datetime.fromisoformat(waiting.not_before) - datetime.now(UTC)
    assert timedelta(seconds=20) < due <= timedelta(seconds=jobs.BACKOFF_S)
    # not due yet: the next run leaves it
    assert _worker(settings, catalog, engine, whisper_model).run(once=True).done == 0
    # the backoff over (time passes: the job is made due), it is done
    catalog.db.execute("UPDATE jobs SET not_before = NULL WHERE id = ?", (job.id,))
    assert _worker(settings, catalog, engine, whisper_model).run(once=True).done == 1
    done = jobs.get(catalog, job.id)
    assert done is not None and done.status is JobStatus.DONE and done.attempts == 2
    assert catalog.get(str(done.statement_id)).status is Status.INDEXED


def test_a_live_stream_is_skipped_and_tried_again_in_an_hour(
    settings: Settings, catalog: Catalog, engine: Engine, whisper_model: Any, server: Served
) -> None:
    (server.root / "live-k1w.m3u8").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nc.m4a\n"  # no #EXT-X-ENDLIST: live
    )
    job, _ = jobs.enqueue(catalog, server.url("live-k1w.m3u8"))
    assert _worker(settings, catalog, engine, whisper_model).run(once=True).postponed == 1
    later = jobs.get(catalog, job.id)
    assert later is not None and later.status is JobStatus.QUEUED
    assert later.last_error is not None and "live stream" in later.last_error
    assert later.not_before is not None
    due = datetime.fromisoformat(later.not_before) - datetime.now(UTC)
    assert timedelta(minutes=59) < due <= timedelta(hours=1)
    assert catalog.status_counts() == {}


def test_media_longer_than_the_maximum_is_refused(
    tmp_path: Path, model_dir: Path, whisper_model: Any, server: Served
) -> None:
    """A URL whose length the probe does not know: refused once downloaded, the file removed.
    A local file: its length is known before anything is copied; nothing is recorded."""
    settings = Settings(data_dir=tmp_path / "data", model=str(model_dir), max_duration=5)
    settings.prepare()
    with Catalog(settings.catalog_path) as catalog:
        remote, _ = jobs.enqueue(catalog, server.url("a.mp4"))
        local, _ = jobs.enqueue(catalog, str(server.root / "b.webm"))
        engine = open_engine(settings, catalog)
        tally = _worker(settings, catalog, engine, whisper_model).run(once=True)
        assert (tally.done, tally.failed) == (0, 2)
        for job, name in ((remote, server.url("a.mp4")), (local, str(server.root / "b.webm"))):
            found = jobs.get(catalog, job.id)
            assert found is not None and found.status is JobStatus.FAILED
            assert found.last_error is not None
            assert found.last_error.startswith(f"{name}: 0:00:1")
            assert "longer than the maximum of 0:00:05" in found.last_error
        assert catalog.status_counts() == {Status.FAILED: 1}  # the URL's, fetched to be measured
        assert list(settings.media_dir.iterdir()) == []


def test_the_next_job_is_fetched_while_the_current_one_is_transcribed(
    settings: Settings,
    catalog: Catalog,
    engine: Engine,
    whisper_model: Any,
    server: Served,
    slow_server: tuple[str, type[_Throttled]],
) -> None:
    base, handler = slow_server
    names = ["a.mp4", "b.webm", "c.m4a"]
    handler.rate = min((server.root / n).stat().st_size for n in names) / 2.0  # 2 s at least
    for name in names:
        jobs.enqueue(catalog, f"{base}/{name}")
    tally = _worker(settings, catalog, engine, whisper_model).run(once=True)
    assert tally.done == 3
    by = {(e.job_id, e.stage): e for e in tally.events}
    ids = sorted({e.job_id for e in tally.events})
    for current, following in itertools.pairwise(ids):
        work, ahead = by[(current, "work")], by[(following, "fetch")]
        assert ahead.ended - ahead.began > 1.0  # throttled: the fetch takes its time
        overlap = min(work.ended, ahead.ended) - max(work.began, ahead.began)
        shorter = min(work.ended - work.began, ahead.ended - ahead.began)
        assert overlap > 0.8 * shorter, (current, following, tally.events)
    # without prefetch the stages follow one another
    for name in names:
        jobs.enqueue(catalog, f"{base}/{name}?again")
    tally = _worker(settings, catalog, engine, whisper_model, prefetch=False).run(once=True)
    assert tally.done == 3
    stages = sorted(tally.events, key=lambda e: e.began)
    assert [e.stage for e in stages] == ["fetch", "work"] * 3
    assert all(a.ended <= b.began for a, b in itertools.pairwise(stages))


def test_retranscribing_keeps_corrections_unless_told_to_discard_them(
    settings: Settings, catalog: Catalog, engine: Engine, whisper_model: Any, server: Served
) -> None:
    job, _ = jobs.enqueue(catalog, server.url("a.mp4"))
    worker = _worker(settings, catalog, engine, whisper_model)
    worker.run(once=True)
    statement_id = str((jobs.get(catalog, job.id) or job).statement_id)
    first = catalog.segments(statement_id)[0]
    word = first.words[1]
    corrections.correct(
        catalog, engine, statement_id, corrections.checked(word.start, word.end, "Stadtstimme")
    )
    assert "Stadtstimme" in catalog.segments(statement_id)[0].text

    again, _ = jobs.enqueue(
        catalog, statement_id, kind=JobKind.RETRANSCRIBE, options={"discard_corrections": False}
    )
    assert _worker(settings, catalog, engine, whisper_model).run(once=True).done == 1
    assert (jobs.get(catalog, again.id) or again).status is JobStatus.DONE
    assert "Stadtstimme" in catalog.segments(statement_id)[0].text
    assert catalog.get(statement_id).status is Status.INDEXED

    jobs.enqueue(
        catalog, statement_id, kind=JobKind.RETRANSCRIBE, options={"discard_corrections": True}
    )
    assert _worker(settings, catalog, engine, whisper_model).run(once=True).done == 1
    assert "Stadtstimme" not in catalog.segments(statement_id)[0].text
    assert corrections.corrections(catalog, statement_id) == []
    assert catalog.get(statement_id).status is Status.INDEXED


def test_retranscribing_without_kept_media_refetches_or_fails_with_the_reason(
    tmp_path: Path, model_dir: Path, whisper_model: Any, server: Served
) -> None:
    settings = Settings(data_dir=tmp_path / "data", model=str(model_dir), keep="none")
    settings.prepare()
    shutil.copyfile(server.root / "c.m4a", server.root / "k1-vanishing.m4a")
    with Catalog(settings.catalog_path) as catalog:
        engine = open_engine(settings, catalog)
        job, _ = jobs.enqueue(catalog, server.url("k1-vanishing.m4a"))
        _worker(settings, catalog, engine, whisper_model).run(once=True)
        statement_id = str((jobs.get(catalog, job.id) or job).statement_id)
        assert catalog.get(statement_id).media_file is None  # keep=none

        refetched, _ = jobs.enqueue(catalog, statement_id, kind=JobKind.RETRANSCRIBE)
        assert _worker(settings, catalog, engine, whisper_model).run(once=True).done == 1
        assert (jobs.get(catalog, refetched.id) or refetched).status is JobStatus.DONE

        (server.root / "k1-vanishing.m4a").unlink()
        gone, _ = jobs.enqueue(catalog, statement_id, kind=JobKind.RETRANSCRIBE)
        assert _worker(settings, catalog, engine, whisper_model).run(once=True).failed == 1
        failed = jobs.get(catalog, gone.id)
        assert failed is not None and failed.status is JobStatus.FAILED
        assert failed.last_error is not None
        assert f"statement {statement_id}: no media kept" in failed.last_error
        assert "404" in failed.last_error
        assert catalog.get(statement_id).status is Status.INDEXED  # still searchable
        assert list(settings.work_dir.glob("retranscribe-*")) == []
