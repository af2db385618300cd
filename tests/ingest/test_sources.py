"""Sources and `update` (ingest.sources), in process: real feeds read by feedparser, real pages and
media listed by yt-dlp from a local HTTP server, real folders, the real catalog and index."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive import jobs
from archive import sources as catalog_sources
from archive.catalog import Catalog
from archive.config import Settings
from archive.errors import FetchError, InvalidInput
from archive.models import Status
from archive.search import Engine, Query, search
from archive.search.engines import open_engine
from archive.sources import Source, SourceKind
from ingest.sources import add_source, update_all, update_source
from tests.archive.seed import spoken, store


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """yt-dlp hangs up once it has read what it wanted."""


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of real audio (AAC in MP4)."""
    path = tmp_path_factory.mktemp("clip") / "clip.m4a"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", path],
        check=True,
    )
    return path


class Site:
    """A folder served over HTTP, whose files a test writes and changes."""

    def __init__(self, root: Path, base: str, clip: Path) -> None:
        self.root, self.base, self.clip = root, base, clip

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def write(self, name: str, text: str) -> str:
        (self.root / name).write_text(text, encoding="utf-8")
        return self.url(name)

    def media(self, *names: str) -> None:
        for name in names:
            shutil.copy(self.clip, self.root / name)


@pytest.fixture
def site(tmp_path: Path, clip: Path) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    httpd = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Site(root, f"http://127.0.0.1:{httpd.server_address[1]}", clip)
    httpd.shutdown()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "data" / "catalog.db") as catalog:
        yield catalog


@pytest.fixture
def engine(tmp_path: Path, catalog: Catalog) -> Engine:
    return open_engine(Settings(data_dir=tmp_path / "data"), catalog)


def rss(*items: tuple[str, str, str | None]) -> str:
    """RSS 2.0: items of (guid, title, enclosure or None: then a link to a page)."""
    parts = []
    for guid, title, enclosure in items:
        media = (
            f'<enclosure url="{enclosure}" type="audio/mp4" length="16000"/>'
            if enclosure
            else f"<link>http://127.0.0.1:9/seite-{guid}.html</link>"
        )
        parts.append(f"<item><title>{title}</title><guid>{guid}</guid>{media}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Stadt Jena: Podcast</title><link>http://127.0.0.1/</link>"
        f"<description>Botschaften</description>{''.join(parts)}</channel></rss>"
    )


def atom(*items: tuple[str, str, str]) -> str:
    entries = "".join(
        f"<entry><id>{entry_id}</id><title>{title}</title><updated>2026-03-01T10:00:00Z</updated>"
        f'<link rel="alternate" href="http://127.0.0.1:9/{entry_id}.html"/>'
        f'<link rel="enclosure" type="video/mp4" href="{href}"/></entry>'
        for entry_id, title, href in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:stadt</id><title>Stadt Gera</title><updated>2026-03-01T10:00:00Z</updated>"
        f"{entries}</feed>"
    )


def add(catalog: Catalog, target: str, **settings: str) -> Source:
    source, added = add_source(catalog, target, **settings)
    assert added
    return source


def update(catalog: Catalog, engine: Engine) -> list[Any]:
    return update_all(catalog, lambda: engine)


def queued_targets(catalog: Catalog) -> list[str]:
    _, found = jobs.list_jobs(catalog, jobs.JobStatus.QUEUED)
    return sorted(job.target for job in found)


# adding: the kind told apart, the same source once


def test_an_rss_feed_with_enclosures_is_a_feed_whose_update_queues_new_items_only(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    site.media("1.m4a", "2.m4a", "3.m4a")
    items = [("g1", "Folge 1", "1.m4a"), ("g2", "Folge 2", "2.m4a"), ("g3", "Seite", None)]
    feed = site.write("feed.xml", rss(*items))
    source = add(catalog, feed, municipality="Jena")
    assert (source.kind, source.municipality) == (SourceKind.FEED, "Jena")

    [first] = update(catalog, engine)
    assert (first.listed, first.queued, first.error) == (3, 3, None)
    # enclosures resolved against the feed's URL; an entry without one: its link
    assert queued_targets(catalog) == sorted(
        [site.url("1.m4a"), site.url("2.m4a"), "http://127.0.0.1:9/seite-g3.html"]
    )
    one = jobs.get(catalog, first.job_ids[0])
    assert one is not None and one.source_id == source.id and one.options == {"title": "Folge 1"}

    [second] = update(catalog, engine)
    assert (second.listed, second.queued) == (3, 0)

    site.write("feed.xml", rss(*items, ("g4", "Folge 4", "4.m4a")))
    [third] = update(catalog, engine)
    assert (third.listed, third.queued) == (4, 1)
    assert len(queued_targets(catalog)) == 4
    checked = catalog_sources.get_source(catalog, source.id)
    assert checked.checked_at and checked.last_error is None


def test_an_atom_feed_with_enclosure_links_is_a_feed(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    feed = site.write(
        "atom.xml", atom(("urn:1", "Haushalt", "v1.mp4"), ("urn:2", "Ampel", "v2.mp4"))
    )
    assert add(catalog, feed).kind is SourceKind.FEED
    [checked] = update(catalog, engine)
    assert checked.queued == 2
    assert queued_targets(catalog) == [site.url("v1.mp4"), site.url("v2.mp4")]


def test_a_page_with_several_videos_is_a_listing_of_each(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    site.media("a.m4a", "b.m4a")
    page = site.write(
        "videos.html",
        "<!doctype html><html><head><title>Videos der Stadt</title></head><body>"
        '<video controls src="a.m4a"></video><video controls src="b.m4a"></video></body></html>',
    )
    assert add(catalog, page, speaker="Bürgermeisterin").kind is SourceKind.LISTING
    [checked] = update(catalog, engine)
    assert (checked.listed, checked.queued) == (2, 2)
    assert queued_targets(catalog) == [site.url("a.m4a"), site.url("b.m4a")]
    assert update(catalog, engine)[0].queued == 0


def test_a_single_video_page_is_a_listing_of_one(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    site.media("a.m4a")
    page = site.write(
        "one.html",
        "<!doctype html><html><head><title>Eine Botschaft</title></head><body>"
        '<video controls src="a.m4a"></video></body></html>',
    )
    assert add(catalog, page).kind is SourceKind.LISTING
    assert update(catalog, engine)[0].queued == 1
    assert queued_targets(catalog) == [page]


def test_the_same_source_added_twice_is_one_source(site: Site, catalog: Catalog) -> None:
    site.media("1.m4a")
    site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a")))
    first = add(catalog, site.url("feed.xml"))
    spelled = site.url("feed.xml").replace("http://127.0.0.1", "HTTP://127.0.0.1") + "#oben"
    again, added = add_source(catalog, spelled, municipality="Anders")
    assert not added and again == first
    folder = Path(site.root)
    one = add(catalog, str(folder))
    again, added = add_source(catalog, f"{folder}/../{folder.name}/")
    assert not added and again == one and one.url == str(folder)
    assert len(catalog_sources.list_sources(catalog)) == 2


# bad input


def test_a_source_that_lists_nothing_is_refused_naming_it(site: Site, catalog: Catalog) -> None:
    page = site.write("text.html", "<html><head><title>Nur Text</title></head><p>Text</p></html>")
    with pytest.raises(FetchError, match=rf"^{page}: neither a feed nor a channel"):
        add_source(catalog, page)
    plain = site.write("notes.txt", "kein Video")
    with pytest.raises(InvalidInput, match=rf"^{plain}: neither a feed nor a page with videos"):
        add_source(catalog, plain)
    with pytest.raises(FetchError, match=rf"^{site.url('gone.xml')}: HTTP Error 404"):
        add_source(catalog, site.url("gone.xml"))
    assert catalog_sources.list_sources(catalog) == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('<?xml version="1.0"?><rss version="2.0"><channel><title>Halb', r"no element found"),
        ('<?xml version="1.0"?><note><to>Rat</to></note>', r"neither RSS nor Atom"),
    ],
)
def test_a_feed_that_is_not_a_feed_is_refused_naming_it(
    site: Site, catalog: Catalog, body: str, why: str
) -> None:
    url = site.write("feed.xml", body)
    with pytest.raises(InvalidInput, match=rf"^{url}: not a feed \(.*{why}"):
        add_source(catalog, url)
    assert catalog_sources.list_sources(catalog) == []


def test_a_feed_that_breaks_or_empties_later_fails_its_update_alone(
    site: Site, catalog: Catalog, engine: Engine, tmp_path: Path
) -> None:
    site.media("1.m4a")
    feed = add(catalog, site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a"))))
    folder = tmp_path / "share"
    folder.mkdir()
    shutil.copy(site.clip, folder / "rede.m4a")
    os.utime(folder / "rede.m4a", (time.time() - 60, time.time() - 60))
    share = add(catalog, str(folder))

    site.write("feed.xml", rss())
    by_id = {c.source.id: c for c in update(catalog, engine)}
    assert by_id[feed.id].error == f"{feed.url}: lists nothing"
    assert by_id[share.id].error is None and by_id[share.id].queued == 1
    assert catalog_sources.get_source(catalog, feed.id).last_error == f"{feed.url}: lists nothing"

    site.write("feed.xml", "<html><body>Wartungsarbeiten</body></html>")  # served as XML
    [broken, _] = update(catalog, engine)
    assert broken.error == f"{feed.url}: not a feed (neither RSS nor Atom)"

    site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a")))
    [fixed, _] = update(catalog, engine)
    assert (fixed.error, fixed.queued) == (None, 1)
    assert catalog_sources.get_source(catalog, feed.id).last_error is None


def test_a_folder_that_disappears_fails_its_update_and_the_others_go_on(
    site: Site, catalog: Catalog, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    share = add(catalog, str(folder))
    site.media("1.m4a")
    feed = add(catalog, site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a"))))
    folder.rmdir()
    by_id = {c.source.id: c for c in update(catalog, engine)}
    assert by_id[share.id].error == (
        f"{folder}: the folder is gone (moved, deleted, or a share not mounted)"
    )
    assert by_id[feed.id].queued == 1
    assert catalog_sources.get_source(catalog, share.id).last_error == by_id[share.id].error
    with pytest.raises(InvalidInput, match=rf"^{folder}: no such folder"):
        add_source(catalog, str(folder))


def test_a_folder_lists_its_media_by_path_size_and_time(
    site: Site, catalog: Catalog, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "share"
    (folder / "2026" / ".hidden").mkdir(parents=True)
    old = time.time() - 60
    names = ["rede.m4a", "2026/rat.MP4", "2026/.partial.m4a", "2026/.hidden/x.m4a"]
    for name in names:
        shutil.copy(site.clip, folder / name)
    for sidecar in ["rede.json", "rede.de.vtt", "rede.srt", "liesmich.txt"]:
        (folder / sidecar).write_text("{}")
    for path in folder.rglob("*"):
        os.utime(path, (old, old))
    source = add(catalog, str(folder))
    assert source.kind is SourceKind.FOLDER

    assert update(catalog, engine)[0].queued == 2
    assert queued_targets(catalog) == [str(folder / "2026/rat.MP4"), str(folder / "rede.m4a")]
    assert update(catalog, engine)[0].queued == 0

    # a file replaced by another (its size and time differ) is new; one being copied waits
    with open(folder / "rede.m4a", "ab") as handle:
        handle.write(b"\0" * 10)
    os.utime(folder / "rede.m4a", (old + 1, old + 1))
    shutil.copy(site.clip, folder / "neu.m4a")  # written just now: may still be growing
    again = update(catalog, engine)[0]
    assert (again.listed, again.queued, again.known) == (2, 0, 0)  # rede's job is still queued
    items = catalog_sources.source_items(catalog, source.id)
    assert len(items) == 3  # rat, rede before and rede after
    os.utime(folder / "neu.m4a", (old, old))
    assert update(catalog, engine)[0].queued == 1


def test_what_the_archive_has_or_deleted_is_not_queued(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    site.media("1.m4a", "2.m4a", "3.m4a")
    feed = site.write(
        "feed.xml",
        rss(("g1", "Folge 1", "1.m4a"), ("g2", "Folge 2", "2.m4a"), ("g3", "Folge 3", "3.m4a")),
    )
    from ingest.fetch import origin_for

    kept = store(catalog, engine, origin_for({"url": site.url("1.m4a")}), [spoken(0, "Hallo")])
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO tombstones (origin, statement_id, title, deleted_at) VALUES (?, ?, ?, ?)",
            (origin_for({"url": site.url("2.m4a")}), "gone", "Folge 2", "2026-01-01"),
        )
    add(catalog, feed)
    [checked] = update(catalog, engine)
    assert (checked.queued, checked.known, checked.deleted) == (1, 1, 1)
    assert queued_targets(catalog) == [site.url("3.m4a")]
    assert catalog.get(kept.id).title == kept.title  # not renamed: it was not listed before


def test_a_paused_source_is_not_checked(site: Site, catalog: Catalog, engine: Engine) -> None:
    site.media("1.m4a")
    source = add(catalog, site.write("feed.xml", rss(("g1", "Folge 1", "1.m4a"))))
    catalog_sources.pause_source(catalog, source.id)
    assert update(catalog, engine) == []
    assert queued_targets(catalog) == []
    catalog_sources.pause_source(catalog, source.id, False)
    assert update(catalog, engine)[0].queued == 1


# titles at the source


def titled(catalog: Catalog, engine: Engine, words: str) -> list[str]:
    return [hit.id for hit in search(catalog, engine, Query(words), None).statements]


def test_a_feed_whose_items_change_their_titles_retitles_its_statements(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    from ingest.fetch import origin_for

    site.media("1.m4a", "2.m4a", "3.m4a")
    names = {"g1": "Wochenmarkt", "g2": "Haushaltsrede", "g3": "Baustelle"}
    feed = site.write("feed.xml", rss(*[(g, t, f"{g[1]}.m4a") for g, t in names.items()]))
    source = add(catalog, feed)
    assert update(catalog, engine)[0].queued == 3
    # the worker made two of them (the statements as the pipeline would claim them)
    made = {
        g: store(
            catalog,
            engine,
            origin_for({"url": site.url(f"{g[1]}.m4a")}),
            [spoken(0, "Guten Tag")],
            title=names[g],
        )
        for g in ("g1", "g2")
    }
    for g, statement in made.items():
        job = next(j for j in jobs.list_jobs(catalog)[1] if j.target.endswith(f"{g[1]}.m4a"))
        jobs.finish(catalog, job.id, statement.id)
    catalog.update(made["g2"].id, title="Rede zum Haushalt", edited="title")  # by an operator
    assert titled(catalog, engine, "Wochenmarkt") == [made["g1"].id]

    renamed = {"g1": "Marktplatz", "g2": "Stadthaushalt", "g3": "Umleitung"}
    site.write("feed.xml", rss(*[(g, t, f"{g[1]}.m4a") for g, t in renamed.items()]))
    [checked] = update(catalog, engine)
    assert (checked.queued, checked.retitled) == (0, 1)
    assert catalog.get(made["g1"].id).title == "Marktplatz"  # the same statement, renamed
    assert titled(catalog, engine, "Marktplatz") == [made["g1"].id]  # and re-indexed
    assert titled(catalog, engine, "Wochenmarkt") == []
    assert catalog.get(made["g2"].id).title == "Rede zum Haushalt"  # the operator's title kept
    waiting = next(j for j in jobs.list_jobs(catalog)[1] if j.target.endswith("3.m4a"))
    assert waiting.status is jobs.JobStatus.QUEUED
    assert waiting.options == {"title": "Umleitung"}  # made with the new title when it runs
    items = catalog_sources.source_items(catalog, source.id)
    assert {items[g].title for g in names} == set(renamed.values())
    assert update(catalog, engine)[0].retitled == 0
    assert catalog.get(made["g1"].id).status is Status.INDEXED


def test_a_statement_whose_job_runs_takes_the_new_title_at_the_next_update(
    site: Site, catalog: Catalog, engine: Engine
) -> None:
    from ingest.fetch import origin_for

    site.media("1.m4a")
    source = add(catalog, site.write("feed.xml", rss(("g1", "Alt", "1.m4a"))))
    update(catalog, engine)
    running = jobs.claim(catalog, "elsewhere:1")
    assert running is not None
    site.write("feed.xml", rss(("g1", "Neu", "1.m4a")))
    assert update_source(catalog, source, lambda: engine).retitled == 0
    assert catalog_sources.source_items(catalog, source.id)["g1"].title == "Alt"
    statement = store(catalog, engine, origin_for({"url": site.url("1.m4a")}), [], title="Alt")
    jobs.finish(catalog, running.id, statement.id)
    assert update_source(catalog, source, lambda: engine).retitled == 1
    assert catalog.get(statement.id).title == "Neu"
