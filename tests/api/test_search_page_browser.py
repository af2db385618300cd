"""The search page and the site's shell in a real browser (Debian's Chromium, Playwright): axe,
no request leaving 127.0.0.1, the whole search without JavaScript, results as you type with it,
the phone layout, hostile titles shown as text. Screenshots go to the test's output folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.search.engines import open_engine
from tests.api.browser import CHROMIUM, FLAGS
from tests.api.served import serve
from tests.archive.seed import spoken, store

pytestmark = [pytest.mark.slow, pytest.mark.browser]
HOSTILE = '<script>window.__xss = 1</script><img src="/x" onerror="window.__xss = 2"> Bericht'
PLACES = ("Köln", "Bonn", "Kiel")
PAGE_WEIGHT_LIMIT = 100 * 1024


@dataclass
class Site:
    base: str
    ids: list[str]
    hostile: str
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Fourteen statements that say "Innenstadt" (two result pages), one of them with a title
    that is markup; an operator with an imprint in Markdown."""
    data = tmp_path_factory.mktemp("search-page")
    imprint = data / "impressum.md"
    imprint.write_text("# Impressum\n\nStadt Musterstadt\n\n## Kontakt\n\nRathausplatz 1\n")
    settings = Settings(
        data_dir=data,
        site_operator="Stadt Musterstadt",
        imprint=str(imprint),
        report_email="archiv@musterstadt.example",
    )
    settings.prepare()
    ids = []
    with Catalog(settings.catalog_path) as catalog:
        engine = open_engine(settings, catalog)
        for n in range(14):
            place = PLACES[n % 3]
            stored = store(
                catalog,
                engine,
                f"https://example.org/{n}",
                [
                    spoken(0.0, f"Guten Tag aus {place}."),
                    spoken(12.0, f"Die Innenstadt bekommt {n + 2} neue Bänke und Bäume."),
                ],
                title=HOSTILE if n == 5 else f"Botschaft {n} aus {place}",
                municipality=place,
                speaker=f"Oberbürgermeisterin von {place}",
                published=f"{2021 + n % 3}-{n % 12 + 1:02d}-0{n % 9 + 1}",
            )
            ids.append(stored.id)
    with serve(settings) as base:
        yield Site(base, ids, ids[5], tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def watch(page: Any) -> list[str]:
    """Every URL the page requests, to check that none leaves 127.0.0.1."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    return requested


def foreign(requested: list[str]) -> list[str]:
    return [url for url in requested if urlsplit(url).hostname != "127.0.0.1"]


def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize(
    ("name", "path", "status"),
    [
        ("search", "/", 200),
        ("results", "/?q=Innenstadt", 200),
        ("results-page-2", "/?q=Innenstadt&page=2&sort=newest", 200),
        ("about", "/about", 200),
        ("imprint", "/imprint", 200),
        ("privacy", "/privacy", 200),
        ("accessibility", "/accessibility", 200),
        ("results-en", "/?q=Innenstadt&municipality=K%C3%B6ln", 200),
        ("error-404", "/statements/nowhere", 404),
        ("error-422", "/?q=Innenstadt&from=2026-13", 422),
        ("error-404-en", "/nowhere", 404),
    ],
)
def test_pages_pass_axe_and_request_nothing_elsewhere(
    site: Site, browser: Any, name: str, path: str, status: int
) -> None:
    context = browser.new_context(locale="en-GB" if name.endswith("-en") else "de-DE")
    if name.endswith("-en"):
        context.set_extra_http_headers({"accept-language": "en"})
    page = context.new_page()
    requested = watch(page)
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    response = page.goto(site.base + path)
    assert response is not None and response.status == status
    page.wait_for_load_state("networkidle")
    for summary in page.locator("details summary").all():
        summary.click()  # axe checks the trend's table too
    assert axe_violations(page) == []
    page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)
    assert foreign(requested) == []
    # among them, any CSP refusal of an inline script or style; an error page's own status is
    # reported as one, and only that is expected
    own_status = f"Failed to load resource: the server responded with a status of {status} "
    assert [e for e in errors if not (status != 200 and e.startswith(own_status))] == []
    context.close()


def test_search_filter_sort_paginate_and_open_a_moment_without_javascript(
    site: Site, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    requested = watch(page)
    page.goto(site.base + "/")
    page.fill("#q", "Innenstadt")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=Innenstadt*")
    assert page.locator("h2.total").get_attribute("data-total") == "14"
    assert page.locator("li.statement-hit").count() == 10
    page.screenshot(path=str(site.shots / "nojs-results.png"), full_page=True)

    page.locator('[data-facet="municipality"] a', has_text="Köln").click()
    page.wait_for_url("**municipality=K%C3%B6ln*")
    metas = page.locator("li.statement-hit p.meta").all_inner_texts()
    assert len(metas) == 5 and all(" · Köln · " in meta for meta in metas)
    page.locator("a.remove-filter").click()
    page.wait_for_url(lambda url: "municipality" not in url)

    page.select_option("#sort", "oldest")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**sort=oldest*")
    years = [meta.split(" · ")[0][-4:] for meta in page.locator("p.meta").all_inner_texts()]
    assert years == sorted(years) and years[0] == "2021"

    page.click("a[rel=next]")
    page.wait_for_url("**page=2*")
    assert page.locator("li.statement-hit").count() == 4
    assert "Seite 2 von 2" in page.locator("nav.pages").inner_text()

    moment = page.locator("a.moment").first
    href = moment.get_attribute("href")
    assert href is not None
    moment.click()
    page.wait_for_url("**/statements/**")
    link = urlsplit(page.url)
    assert parse_qs(link.query)["q"] == ["Innenstadt"] and parse_qs(link.query)["t"] == ["11"]
    assert page.locator("h1").count() == 1
    assert foreign(requested) == []
    context.close()


def test_results_as_you_type(site: Site, browser: Any) -> None:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    requested = watch(page)
    page.goto(site.base + "/")
    searches_before = len([u for u in requested if "/?q=" in u])
    page.locator("#q").press_sequentially("Innenstadt", delay=40)
    page.wait_for_selector("li.statement-hit")
    page.wait_for_function("() => document.getElementById('search-status').textContent !== ''")
    assert page.locator("#search-status").inner_text() == "14 Stellungnahmen gefunden"
    assert urlsplit(page.url).query == "q=Innenstadt"  # the URL is the search's, shareable
    fetched = [u for u in requested if "/?q=" in u][searches_before:]
    assert 1 <= len(fetched) <= 2, fetched  # debounced: not a request per key
    assert page.locator("#q").evaluate("element => element === document.activeElement")

    page.select_option("#sort", "newest")
    page.wait_for_function("() => location.search.includes('sort=newest')")
    page.wait_for_function(
        "() => document.querySelector('li.statement-hit p.meta').textContent.includes('2023')"
    )
    page.screenshot(path=str(site.shots / "as-you-type.png"), full_page=True)
    assert foreign(requested) == []
    context.close()


def test_the_phone_layout(site: Site, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, locale="de-DE"
    )
    page = context.new_page()
    for path, name in (
        ("/?q=Innenstadt&from=2021&to=2023", "phone-results"),
        ("/about", "phone-about"),
    ):
        page.goto(site.base + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{path} overflows: {width}px"
        page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)
    page.goto(site.base + "/?q=Innenstadt")
    for field in ("from", "to", "sort"):
        label = page.locator(f'label[for="{field}"]').bounding_box()
        control = page.locator(f"#{field}").bounding_box()
        assert label is not None and control is not None
        assert abs(label["x"] - control["x"]) < 2, field  # the label sits over its field
        assert 0 <= control["y"] - (label["y"] + label["height"]) < 8, field
    chart = page.locator("figure.trend svg").bounding_box()
    assert chart is not None and chart["width"] <= 375
    context.close()


def test_a_title_that_is_markup_is_shown_as_text(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/?q=Innenstadt&municipality=Kiel")
    hit = page.locator(f'li[data-id="{site.hostile}"] h3')
    assert hit.inner_text() == HOSTILE
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("li.statement-hit img[onerror], li.statement-hit script").count() == 0
    page.goto(site.base + "/")
    assert page.locator(f'a[href="/statements/{site.hostile}"]').inner_text() == HOSTILE
    assert page.evaluate("() => window.__xss") is None
    context.close()


def test_page_weight(site: Site, browser: Any) -> None:
    """The results page with everything it loads (HTML, CSS, JS, icons), without media."""
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body())))
    page.goto(site.base + "/?q=Innenstadt")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    print(f"page weight of /?q=Innenstadt: {total} bytes in {len(sizes)} responses: {sizes}")
    assert any(url.endswith("/static/style.css") for url in sizes)
    assert total <= PAGE_WEIGHT_LIMIT
    context.close()
