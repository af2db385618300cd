"""The JSON API and the plain pages over an archive ingested with the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import Archive

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(archive.settings)) as client:
        yield client


def statement_id(archive: Archive, name: str) -> str:
    return archive.outcomes[name].statement.id


def test_search_json(client: TestClient, archive: Archive) -> None:
    response = client.get("/api/search", params={"q": "Maskenpflicht"})
    assert response.status_code == 200
    body = response.json()
    ids = {s["id"] for s in body["statements"]}
    says_it = {"a.mp4", "statement.html", "c.m4a"}  # b.webm does not say it
    assert ids == {statement_id(archive, name) for name in says_it}
    assert body["total"] == len(body["statements"])
    hit = next(s for s in body["statements"] if s["id"] == statement_id(archive, "a.mp4"))
    passage = hit["passages"][0]
    assert "<mark>Maskenpflicht</mark>" in passage["snippet_html"]
    assert passage["second"] == 2  # the word is spoken at 3.1 s, the link starts 1 s before
    assert passage["link"] == f"/statements/{hit['id']}?t=2"
    assert hit["municipality"] == "Köln" and hit["published"] == "2026-02-03"


def test_search_filters_by_municipality(client: TestClient, archive: Archive) -> None:
    body = client.get("/api/search", params={"q": "Innenstadt", "municipality": "Münster"}).json()
    assert [s["id"] for s in body["statements"]] == [statement_id(archive, "b.webm")]


@pytest.mark.parametrize(
    "query",
    ['"Maskenpflicht"', "Maskenpflicht AND", "NEAR(Maskenpflicht", "Masken*", "🎉 Maskenpflicht"],
)
def test_odd_queries_still_find(client: TestClient, archive: Archive, query: str) -> None:
    body = client.get("/api/search", params={"q": query}).json()
    assert statement_id(archive, "a.mp4") in {s["id"] for s in body["statements"]}


@pytest.mark.parametrize("query", ["AND", '"', "*", "NEAR(", "-", "()", "🎉", "\x00\x1f", " "])
def test_queries_of_only_syntax_find_nothing(client: TestClient, query: str) -> None:
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_statements_page_and_detail(client: TestClient, archive: Archive) -> None:
    listing = client.get("/api/statements", params={"per_page": 2}).json()
    assert listing["total"] == len(archive.outcomes)
    assert len(listing["statements"]) == 2
    assert listing["statements"][0]["published"] == "2026-09-22"  # newest first
    detail = client.get(f"/api/statements/{statement_id(archive, 'a.mp4')}").json()
    assert detail["title"] == "a"
    first = detail["segments"][0]
    assert first["start"] < first["end"]
    assert any(w["text"] == "Maskenpflicht" for s in detail["segments"] for w in s["words"])


def test_errors_have_one_shape(client: TestClient) -> None:
    missing = client.get("/api/statements/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "no statement with id 'nope'"}
    }
    invalid = client.get("/api/search", params={"q": "x", "page": "0"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_input"
    assert "page" in invalid.json()["error"]["message"]
    unknown = client.get("/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    page = client.get("/statements/nope", headers={"accept": "text/html"})
    assert page.status_code == 404
    soup = BeautifulSoup(page.text, "html.parser")  # German, naming the path (test_security.py)
    assert soup.h1 is not None and soup.h1.text == "Nicht gefunden"
    assert soup.select_one("code.path").text == "/statements/nope"  # type: ignore[union-attr]


def test_media_is_served_with_ranges(client: TestClient, archive: Archive) -> None:
    sid = statement_id(archive, "c.m4a")
    full = client.get(f"/media/{sid}")
    assert full.status_code == 200 and full.headers["content-type"] == "audio/mp4"
    part = client.get(f"/media/{sid}", headers={"range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


def test_search_page(client: TestClient, archive: Archive) -> None:
    page = client.get("/", params={"q": "Wochenmarkt"})
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("input#q")["value"] == "Wochenmarkt"
    hits = soup.select("li.statement-hit")
    assert statement_id(archive, "a.mp4") in {h["data-id"] for h in hits}
    moment = soup.select_one(f'li[data-id="{statement_id(archive, "a.mp4")}"] a.moment')
    assert moment is not None and moment["href"].endswith("?t=7&q=Wochenmarkt")
    assert soup.select_one("span.snippet mark").text == "Wochenmarkt"


def test_search_page_escapes_the_query(client: TestClient) -> None:
    page = client.get("/", params={"q": '<script>alert(1)</script>"'})
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select("main script") == []
    assert soup.select_one("input#q")["value"] == '<script>alert(1)</script>"'


def test_statement_page_starts_player_at_t(client: TestClient, archive: Archive) -> None:
    sid = statement_id(archive, "a.mp4")
    soup = BeautifulSoup(client.get(f"/statements/{sid}", params={"t": 7}).text, "html.parser")
    player = soup.select_one("#player")  # <video> or <audio>, by what the archive keeps
    assert player is not None and player["data-start"] == "7"
    assert player["src"] == f"/media/{sid}#t=7"
    assert len(soup.select("#transcript p a.time")) >= 1


def test_openapi_docs(client: TestClient) -> None:
    docs = client.get("/docs")  # served offline: tests/api/test_docs_browser.py renders it
    assert docs.status_code == 200 and "//" not in docs.text.replace("<!doctype", "")
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/statements", "/api/statements/{statement_id}"} <= set(paths)


def test_transcript_downloads(client: TestClient, archive: Archive) -> None:
    sid = statement_id(archive, "a.mp4")
    vtt = client.get(f"/api/statements/{sid}/transcript.vtt")
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n\n00:00:0")
    assert "Maskenpflicht" in vtt.text
    assert client.get(f"/api/statements/{sid}/transcript.srt").text.startswith("1\n00:00:0")
    assert client.get(f"/api/statements/{sid}/transcript.pdf").status_code == 422
    page = BeautifulSoup(client.get(f"/statements/{sid}").text, "html.parser")
    links = {a["href"] for a in page.select("p.downloads a")}
    assert f"/api/statements/{sid}/transcript.vtt" in links


def test_search_json_has_facets_trend_and_suggestion(client: TestClient, archive: Archive) -> None:
    body = client.get("/api/search", params={"q": "Innenstadt"}).json()
    assert sum(body["facets"]["municipality"].values()) == body["total"]
    assert body["facets"]["year"] == {"2026": body["total"]}
    assert set(body["trend"]) <= {"2026-02", "2026-04", "2026-06", "2026-09"}
    typo = client.get("/api/search", params={"q": "Wochenmarkd"}).json()
    assert typo["suggestion"] == "Wochenmarkt" and typo["corrected"]
    assert statement_id(archive, "a.mp4") in {s["id"] for s in typo["statements"]}
    empty_dates = client.get("/api/search", params={"q": "Innenstadt", "from": "", "to": ""})
    assert empty_dates.json()["total"] == body["total"]
    by_year = client.get("/api/search", params={"q": "Innenstadt", "to": "2026-03"}).json()
    assert {s["published"] for s in by_year["statements"]} == {"2026-02-03"}


def test_search_page_facets_filter_and_suggest(client: TestClient, archive: Archive) -> None:
    soup = BeautifulSoup(client.get("/", params={"q": "Innenstadt"}).text, "html.parser")
    facet = soup.select_one('section[data-facet="municipality"] a[href*="M%C3%BCnster"]')
    assert facet is not None
    filtered = BeautifulSoup(client.get(facet["href"]).text, "html.parser")
    assert [h["data-id"] for h in filtered.select("li.statement-hit")] == [
        statement_id(archive, "b.webm")
    ]
    assert filtered.select_one("a.remove-filter").text.startswith("Münster")
    assert len(soup.select("figure.trend rect.bar")) >= 1
    typo = BeautifulSoup(client.get("/", params={"q": "Wochenmarkd"}).text, "html.parser")
    assert typo.select_one("p.suggestion a").text == "Wochenmarkt"
