"""The Atom feeds, read by feedparser (a real feed client) over HTTP from the served app: valid
Atom, the public statements newest first, titles with markup kept as text, a takedown gone at
once, one municipality's feed, and the pages that announce them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from archive.catalog import Catalog
from archive.indexing import take_down
from archive.search.engines import open_engine
from tests.api.served import Seeded, seed_archive, serve
from tests.archive.seed import spoken, store

TRICKY = "<b>Rat & \"Bürger\"</b> 'heute' <script>alert(1)</script>"


@dataclass(frozen=True)
class Site:
    base: str
    seeded: Seeded


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    seeded = seed_archive(tmp_path / "data")
    with serve(seeded.settings) as base:
        yield Site(base, seeded)


def read(url: str) -> Any:
    feed = feedparser.parse(url)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.status == 200
    return feed


def add(site: Site, key: str, municipality: str, **metadata: str) -> str:
    """A statement stored as the pipeline stores it; its id."""
    settings = site.seeded.settings
    with Catalog(settings.catalog_path) as catalog:
        stored = store(
            catalog,
            open_engine(settings, catalog),
            f"https://example.org/{key}",
            [spoken(0.0, "Der Haushalt für das nächste Jahr steht fest.")],
            municipality=municipality,
            **metadata,
        )
    return stored.id


def test_the_feed_holds_the_public_statements_newest_first(site: Site) -> None:
    ids = site.seeded.ids
    time.sleep(1.1)  # created_at a later second than the seeded ones
    newest = add(site, "haushalt", "Köln", speaker="Kämmerer", published="2026-02-03")
    feed = read(f"{site.base}/feeds/statements.atom")

    assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert feed.feed.title == "Stadtstimme"
    assert feed.feed.id.startswith("urn:uuid:")
    assert {link.rel: link.href for link in feed.feed.links}["self"] == (
        f"{site.base}/feeds/statements.atom"
    )
    links = [entry.link for entry in feed.entries]
    # The failed statement is not public; the newest statement comes first.
    shown = [ids["koeln"], ids["muenster"], ids["leipzig"]]
    assert len(links) == 4
    assert links[0] == f"{site.base}/statements/{newest}"
    assert sorted(links[1:]) == sorted(f"{site.base}/statements/{i}" for i in shown)
    assert not any(ids["failed"] in link for link in links)

    first = feed.entries[0]
    assert first.author == "Kämmerer"
    assert [tag.term for tag in first.tags] == ["Köln"]
    assert first.summary == "Der Haushalt für das nächste Jahr steht fest."
    assert first.published_parsed[:3] == (2026, 2, 3)
    assert first.updated_parsed is not None
    by_link = {entry.link: entry for entry in feed.entries}
    leipzig = by_link[f"{site.base}/statements/{ids['leipzig']}"]
    assert "published" not in leipzig  # known only to the year: no instant to give
    assert leipzig.author == "Bürgermeisterin von Leipzig"

    # Every link opens the statement's page; ids are the same at the next fetch.
    for link in links:
        assert httpx.get(link).status_code == 200
    again = read(f"{site.base}/feeds/statements.atom")
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]
    assert len({e.id for e in feed.entries}) == 4


def test_titles_with_markup_and_control_characters_stay_text(site: Site) -> None:
    statement_id = add(site, "markup", "Bonn", title=TRICKY)
    # An older catalog may hold what the cleaning at entry now removes, e.g. a control character.
    with Catalog(site.seeded.settings.catalog_path) as catalog:
        catalog.db.execute(
            "UPDATE statements SET speaker = ? WHERE id = ?",
            ("Amt\x01 für\x1b[2J <Bürger>", statement_id),
        )
    feed = read(f"{site.base}/feeds/statements.atom")
    entry = next(e for e in feed.entries if e.link.endswith(statement_id))
    assert entry.title == TRICKY
    assert entry.title_detail.type == "text/plain"
    assert entry.author == "Amt für <Bürger>"
    raw = httpx.get(f"{site.base}/feeds/statements.atom").text
    assert "<script>" not in raw and "&lt;script&gt;" in raw


def test_a_hidden_statement_leaves_the_feeds_at_once(site: Site) -> None:
    koeln = site.seeded.ids["koeln"]
    link = f"{site.base}/statements/{koeln}"
    before = read(f"{site.base}/feeds/statements.atom")
    assert link in [e.link for e in before.entries]
    time.sleep(1.1)  # the feed's `updated` is to the second
    settings = site.seeded.settings
    with Catalog(settings.catalog_path) as catalog:
        take_down(catalog, open_engine(settings, catalog), koeln)
    after = read(f"{site.base}/feeds/statements.atom")
    assert link not in [e.link for e in after.entries]
    assert len(after.entries) == len(before.entries) - 1
    assert after.feed.updated_parsed > before.feed.updated_parsed
    city = read(f"{site.base}/feeds/municipalities/K%C3%B6ln.atom")
    assert city.entries == []


def test_a_municipality_has_a_feed_of_its_own(site: Site) -> None:
    add(site, "frankfurt", "Frankfurt/Oder")
    koeln = read(f"{site.base}/feeds/municipalities/K%C3%B6ln.atom")
    assert koeln.feed.title == "Stadtstimme: Köln"
    assert [e.link for e in koeln.entries] == [f"{site.base}/statements/{site.seeded.ids['koeln']}"]
    assert koeln.feed.id != read(f"{site.base}/feeds/statements.atom").feed.id
    slashed = read(f"{site.base}/feeds/municipalities/Frankfurt%2FOder.atom")
    assert [tag.term for e in slashed.entries for tag in e.tags] == ["Frankfurt/Oder"]
    # A municipality without statements (yet): an empty feed a reader may subscribe to.
    empty = read(f"{site.base}/feeds/municipalities/Nirgendwo.atom")
    assert empty.entries == [] and empty.feed.title == "Stadtstimme: Nirgendwo"
    too_long = httpx.get(f"{site.base}/feeds/municipalities/{'x' * 201}.atom")
    assert too_long.status_code == 422


def test_at_most_50_entries(site: Site) -> None:
    for n in range(48):
        add(site, f"viele-{n}", "Bonn")
    feed = read(f"{site.base}/feeds/statements.atom")
    assert len(feed.entries) == 50
    assert len(read(f"{site.base}/feeds/municipalities/Bonn.atom").entries) == 48


def test_links_use_the_public_url_when_one_is_set(tmp_path: Path) -> None:
    seeded = seed_archive(tmp_path / "data")
    settings = seeded.settings.model_copy(update={"public_url": "https://archiv.example.de"})
    with serve(settings) as base:
        feed = read(f"{base}/feeds/statements.atom")
    assert all(e.link.startswith("https://archiv.example.de/statements/") for e in feed.entries)
    assert feed.feed.links[0].href == "https://archiv.example.de/feeds/statements.atom"


def test_the_pages_announce_the_feeds(site: Site) -> None:
    page = httpx.get(f"{site.base}/").text
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml" href="/feeds/statements.atom"', page
    )
    assert page.count('<a href="/feeds/statements.atom"') == 2  # after the latest, and the footer
    filtered = httpx.get(f"{site.base}/", params={"q": "Innenstadt", "municipality": "Köln"}).text
    city = "/feeds/municipalities/K%C3%B6ln.atom"
    assert f'<link rel="alternate" type="application/atom+xml" href="{city}"' in filtered
    assert f'<a href="{city}" type="application/atom+xml">' in filtered
    english = httpx.get(f"{site.base}/about", headers={"accept-language": "en"}).text
    assert "New statements (Atom feed)" in english
    assert httpx.get(f"{site.base}{city}").status_code == 200


def test_the_feeds_are_not_in_the_openapi_description(site: Site) -> None:
    paths = httpx.get(f"{site.base}/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/feeds")]
