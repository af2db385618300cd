"""/docs in a real browser (Debian's Chromium driven by Playwright): Swagger UI, served by the
app from the fastapi-offline package, renders the OpenAPI 3.1 description offline, nothing it
loads leaves 127.0.0.1, its own CSP is not violated, and axe finds nothing beyond Swagger UI's
own known violations, each named with its upstream issue."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.api.browser import CHROMIUM, FLAGS
from tests.api.served import seed_archive, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# axe rules that Swagger UI 5 itself breaks, on markup it renders (checked below to lie inside
# its `.swagger-ui` root), each with the upstream issue that tracks it.
SWAGGER_UI_VIOLATIONS = {
    # grey version stamp, URL and small text on white
    "color-contrast": "https://github.com/swagger-api/swagger-ui/issues/5247",
    # h1 title, then h3 for the tags (h2 skipped)
    "heading-order": "https://github.com/swagger-api/swagger-ui/issues/10703",
    # an operation's summary button holds the path's link and the copy button
    "nested-interactive": "https://github.com/swagger-api/swagger-ui/issues/10395",
    # the example value's <pre> scrolls but cannot take focus
    "scrollable-region-focusable": "https://github.com/swagger-api/swagger-ui/issues/9582",
    # the parameter's <select> (enum, boolean) has no label
    "select-name": "https://github.com/swagger-api/swagger-ui/issues/8092",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    seeded = seed_archive(tmp_path_factory.mktemp("docs"))
    with serve(seeded.settings) as base:
        yield base


def test_docs_render_offline_on_the_host_and_axe_finds_only_swagger_ui_issues(
    base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Route, sync_playwright

    host = urlsplit(base_url).netloc
    requested: list[str] = []
    elsewhere: list[str] = []
    refused: list[str] = []  # CSP violations Chromium reports on the console

    def only_the_host(route: Route) -> None:
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:  # there is no internet here: record it, answer nothing
            elsewhere.append(route.request.url)
            route.abort()

    shots = tmp_path_factory.mktemp("screenshots")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.route("**/*", only_the_host)
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        response = page.goto(base_url + "/docs")
        assert response is not None and response.status == 200
        operation = page.locator("#operations-search-search")
        operation.wait_for(timeout=30_000)
        assert "/api/search" in operation.inner_text()
        described = page.request.get(base_url + "/openapi.json").json()["paths"]
        operations = sum(len(methods) for methods in described.values())
        assert page.locator(".opblock").count() == operations  # every operation of the API
        operation.locator(".opblock-summary-control").click()  # open one: its parameters too
        page.locator("#operations-search-search .parameters").wait_for()
        page.screenshot(path=str(shots / "docs.png"), full_page=True)

        results = Axe().run(page)
        violations = results.response["violations"]
        unexpected = []
        for violation in violations:
            targets = [node["target"][0] for node in violation["nodes"]]
            inside = [
                page.locator(target).first.evaluate("e => e.closest('.swagger-ui') !== null")
                for target in targets
            ]
            if violation["id"] not in SWAGGER_UI_VIOLATIONS or not all(inside):
                unexpected.append((violation["id"], violation["help"], targets[:3]))
        favicon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
        browser.close()

    assert unexpected == [], unexpected
    assert elsewhere == [] and all(urlsplit(url).netloc == host for url in requested)
    assert refused == []
    assert {
        f"{base_url}/docs/assets/swagger-ui-bundle.js",
        f"{base_url}/docs/assets/swagger-ui.css",
        f"{base_url}/docs/start.js",
        f"{base_url}/openapi.json",
    } <= set(requested)
    assert favicon == f"{base_url}/docs/assets/favicon.png"
