"""Security headers on every response, autoescaping, compression (never of media), and the error
pages in one language: on a seeded archive (no model), through the app in process."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import DOCS_CSP, PAGE_CSP, create_app
from api.templating import templates
from archive.catalog import Catalog
from archive.search.engines import open_engine
from tests.api.served import MEDIA_BYTES, Seeded, seed_archive
from tests.archive.seed import spoken, store

HOSTILE_TITLE = '<script>alert("title")</script><img src=x onerror=alert(1)>'
HOSTILE_SPEECH = "Der Wochenmarkt <script>alert(2)</script> <img src=y onerror=alert(3)> öffnet"


@dataclass(frozen=True)
class Site:
    seeded: Seeded
    hostile: str  # the id of a statement whose title and transcript hold markup
    app: FastAPI


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    seeded = seed_archive(tmp_path_factory.mktemp("security"))
    with Catalog(seeded.settings.catalog_path) as catalog:
        engine = open_engine(seeded.settings, catalog)
        hostile = store(
            catalog,
            engine,
            "https://example.org/hostile",
            [spoken(0.0, HOSTILE_SPEECH)],
            title=HOSTILE_TITLE,
            municipality="Köln",
        )
    app = create_app(seeded.settings)

    @app.get("/boom-for-the-test")
    def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    return Site(seeded, hostile.id, app)


@pytest.fixture(scope="module")
def client(site: Site) -> Iterator[TestClient]:
    # raise_server_exceptions=False: the 500 is answered as a browser would see it
    with TestClient(site.app, raise_server_exceptions=False) as client:
        yield client


def assert_secured(response: httpx.Response, csp: str = PAGE_CSP) -> None:
    assert response.headers["content-security-policy"] == csp, response.request.url
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


# --- headers -------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient, site: Site
) -> None:
    koeln = site.seeded.ids["koeln"]
    answers = {
        "search page": client.get("/", params={"q": "Innenstadt"}),
        "statement page": client.get(f"/statements/{koeln}"),
        "search JSON": client.get("/api/search", params={"q": "Innenstadt"}),
        "statement JSON": client.get(f"/api/statements/{koeln}"),
        "captions": client.get(f"/api/statements/{koeln}/transcript.vtt"),
        "stylesheet": client.get("/static/style.css"),
        "media": client.get(f"/media/{koeln}"),
        "media range": client.get(f"/media/{koeln}", headers={"range": "bytes=0-9"}),
        "404 page": client.get("/nothing-here"),
        "404 JSON": client.get("/api/nothing-here"),
        "422 JSON": client.get("/api/search", params={"page": "0"}),
        "405 page": client.post("/", headers={"accept": "text/html"}),
        "openapi": client.get("/openapi.json"),
        "500 page": client.get("/boom-for-the-test"),
    }
    expected = {
        "search page": 200,
        "statement page": 200,
        "search JSON": 200,
        "statement JSON": 200,
        "captions": 200,
        "stylesheet": 200,
        "media": 200,
        "media range": 206,
        "404 page": 404,
        "404 JSON": 404,
        "422 JSON": 422,
        "405 page": 405,
        "openapi": 200,
        "500 page": 500,
    }
    assert {name: r.status_code for name, r in answers.items()} == expected
    for response in answers.values():
        assert_secured(response)


def test_the_docs_have_their_own_policy_that_stays_on_the_host(client: TestClient) -> None:
    for path in ("/docs", "/docs/start.js", "/docs/assets/swagger-ui-bundle.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secured(response, DOCS_CSP)
    for directive in DOCS_CSP.split("; "):
        sources = directive.split()[1:]
        assert all(s.startswith("'") or s == "data:" for s in sources), directive  # no host


def test_the_page_policy_allows_no_inline_code_and_one_third_party() -> None:
    directives = dict(d.split(" ", 1) for d in PAGE_CSP.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    hosts = {s for d in directives.values() for s in d.split() if "://" in s}
    assert hosts == {"https://www.youtube-nocookie.com"}


# --- escaping ------------------------------------------------------------------------------


def test_templates_autoescape(client: TestClient) -> None:
    autoescape = templates.env.autoescape
    assert callable(autoescape) and autoescape("error.html") is True
    page = client.get("/%3Cscript%3Ealert(1)%3C/script%3E")  # the path, shown on the 404 page
    assert page.status_code == 404
    assert "<script>alert(1)</script>" not in page.text
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("code.path").get_text() == "/<script>alert(1)</script>"  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["search", "statement"])
def test_markup_in_a_title_and_a_transcript_is_shown_as_text(
    client: TestClient, site: Site, where: str
) -> None:
    if where == "search":
        page = client.get("/", params={"q": "Wochenmarkt"})
    else:
        page = client.get(f"/statements/{site.hostile}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    scripts = [s for s in soup.find_all("script") if not s.get("src")]
    assert scripts == []  # no inline script at all, hostile or ours
    assert soup.find("img", attrs={"onerror": True}) is None
    assert HOSTILE_TITLE in soup.get_text()  # the title, as text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text


# --- compression ---------------------------------------------------------------------------


def test_pages_and_json_are_compressed_above_a_kilobyte(client: TestClient) -> None:
    gz = {"accept-encoding": "gzip"}
    page = client.get("/", params={"q": "Innenstadt"}, headers=gz)
    api = client.get("/api/search", params={"q": "Innenstadt"}, headers=gz)
    for response in (page, api):
        assert response.headers["content-encoding"] == "gzip"
        assert int(response.headers["content-length"]) < len(response.content)  # decoded here
    tiny = client.get("/api/nothing-here", headers=gz)
    assert "content-encoding" not in tiny.headers  # under a kilobyte
    plain = client.get("/api/search", params={"q": "Innenstadt"}, headers={"accept-encoding": ""})
    assert "content-encoding" not in plain.headers
    assert plain.json()["statements"] == api.json()["statements"]


def test_media_is_never_compressed_and_ranges_keep_their_bytes(site: Site) -> None:
    koeln = site.seeded.ids["koeln"]
    whole = bytes(range(256)) * (MEDIA_BYTES // 256)
    # a raw transport: httpx would decode a gzip body, hiding a compressed 206
    transport = httpx.ASGITransport(app=site.app)

    async def fetch(headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as raw:
            return await raw.get(f"/media/{koeln}", headers=headers)

    import anyio

    part = anyio.run(fetch, {"range": "bytes=100-1099", "accept-encoding": "gzip"})
    assert part.status_code == 206
    assert "content-encoding" not in part.headers
    assert part.headers["content-range"] == f"bytes 100-1099/{MEDIA_BYTES}"
    assert part.content == whole[100:1100]
    full = anyio.run(fetch, {"accept-encoding": "gzip"})
    assert full.status_code == 200 and "content-encoding" not in full.headers
    assert full.content == whole
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(full.content)


# --- error pages in one language -----------------------------------------------------------

GERMAN = {404: "Nicht gefunden", 405: "Methode nicht erlaubt", 422: "Ungültige Eingabe"}
ENGLISH = {404: "Not found", 405: "Method not allowed", 422: "Invalid input"}
# the API's English messages, which a page must not show
API_PROSE = (
    "no statement with id",
    "nothing at /",
    "is not allowed on",
    "is not a",
    "Input should",
)


def error_page(response: httpx.Response) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html")
    soup = BeautifulSoup(response.text, "html.parser")
    for prose in API_PROSE:
        assert prose not in soup.get_text(), prose
    return soup


@pytest.mark.parametrize(
    ("language", "headings", "other"),
    [("de", GERMAN, ENGLISH), ("en", ENGLISH, GERMAN)],
)
def test_error_pages_speak_the_page_language_and_name_the_input(
    client: TestClient, language: str, headings: dict[int, str], other: dict[int, str]
) -> None:
    headers = {"accept-language": language, "accept": "text/html"}
    missing = client.get("/statements/nope", headers=headers)
    invalid = client.get("/", params={"q": "x", "from": "2021-13-01"}, headers=headers)
    not_a_number = client.get("/", params={"page": "many"}, headers=headers)
    posted = client.post("/", headers=headers)
    for response, status in ((missing, 404), (invalid, 422), (not_a_number, 422), (posted, 405)):
        assert response.status_code == status
        soup = error_page(response)
        assert soup.html is not None and soup.html["lang"] == language
        assert response.headers["content-language"] == language
        assert soup.h1 is not None and soup.h1.get_text() == headings[status]
        assert other[status] not in soup.get_text()
    assert error_page(missing).select_one("code.path").get_text() == "/statements/nope"  # type: ignore[union-attr]
    assert [c.get_text() for c in error_page(invalid).select("ul.inputs code")] == [
        "from",
        "2021-13-01",
    ]
    assert [c.get_text() for c in error_page(not_a_number).select("ul.inputs code")] == [
        "page",
        "many",
    ]
    allowed = "Erlaubte Methoden: GET" if language == "de" else "Allowed methods: GET"
    assert allowed in error_page(posted).get_text()


def test_the_api_keeps_its_english_error_shape(client: TestClient) -> None:
    missing = client.get("/api/statements/nope", headers={"accept-language": "de"})
    assert missing.json() == {
        "error": {"code": "not_found", "message": "no statement with id 'nope'"}
    }
    invalid = client.get("/api/search", params={"from": "2021-13-01"})
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "invalid_input" and "2021-13-01" in error["message"]
    assert error["message"].startswith("from")


@pytest.mark.parametrize(
    ("language", "heading"), [("de", "Interner Fehler"), ("en", "Internal error")]
)
def test_an_unexpected_error_is_one_language_without_a_traceback(
    client: TestClient, language: str, heading: str
) -> None:
    response = client.get("/boom-for-the-test", headers={"accept-language": language})
    assert response.status_code == 500
    soup = error_page(response)
    assert soup.h1 is not None and soup.h1.get_text() == heading
    for leak in ("Traceback", "RuntimeError", "secret detail", "internal error; it has been"):
        assert leak not in response.text
    assert (ENGLISH if language == "de" else GERMAN)[404] not in response.text
    as_json = client.get("/boom-for-the-test", headers={"accept": "application/json"})
    assert as_json.json() == {
        "error": {"code": "internal", "message": "internal error; it has been logged"}
    }
