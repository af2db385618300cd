"""The search page in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.api.browser import CHROMIUM, FLAGS
from tests.api.served import serve
from tests.conftest import Archive

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def base_url(archive: Archive) -> Iterator[str]:
    with serve(archive.settings) as base:
        yield base


def test_search_then_jump_to_the_moment(
    base_url: str, archive: Archive, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    statement_id = archive.outcomes["a.mp4"].statement.id
    shots = tmp_path_factory.mktemp("screenshots")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(base_url + "/")
        page.fill("input#q", "Wochenmarkt")
        page.press("input#q", "Enter")
        page.wait_for_selector("li.statement-hit")
        assert page.locator("span.snippet mark").first.inner_text() == "Wochenmarkt"
        page.screenshot(path=str(shots / "search.png"), full_page=True)
        page.locator(f'li[data-id="{statement_id}"] a.moment').first.click()
        page.wait_for_url(f"**/statements/{statement_id}?t=7*")
        page.wait_for_function("() => document.getElementById('player').readyState >= 1")
        position = page.evaluate("() => document.getElementById('player').currentTime")
        assert 6.5 <= position <= 8.5
        page.screenshot(path=str(shots / "statement.png"), full_page=True)
        browser.close()
