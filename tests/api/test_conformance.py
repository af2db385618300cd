"""The API as a client meets it over HTTP, on a real uvicorn server over a seeded archive: one
error shape everywhere (media and Range errors too), `Allow` on 405, an OpenAPI description
that documents them, and one result type for the page, the API and the CLI's `--json`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from archive.catalog import Catalog
from archive.export import StatementDetail
from archive.search import Query, Results, search
from archive.search.engines import open_engine
from tests.api.served import MEDIA_BYTES, Seeded, seed_archive, serve

COMMAND = [sys.executable, "-m", "ingest"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_archive(tmp_path_factory.mktemp("conformance"))


@pytest.fixture(scope="module")
def http(seeded: Seeded) -> Iterator[httpx.Client]:
    with serve(seeded.settings) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, str]:
    """The error a response carries, checked to be in the one documented shape."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    error: dict[str, str] = body["error"]
    return error


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["*/*", "text/html", "audio/*"])
def test_media_of_an_unknown_statement_is_a_json_404(http: httpx.Client, accept: str) -> None:
    response = http.get("/media/nope", headers={"accept": accept})
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "no statement with id 'nope'"}


@pytest.mark.parametrize("key", ["leipzig", "failed"])
def test_media_not_there_is_a_json_404(http: httpx.Client, seeded: Seeded, key: str) -> None:
    response = http.get(f"/media/{seeded.ids[key]}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert seeded.ids[key] in error_of(response)["message"]


@pytest.mark.parametrize(
    "header",
    [
        *("bytes", "bytes=", "bytes=x", "bytes=1-x", "bytes=5-2", "bytes=0-1,,x", "bytes=0 - 1"),
        *("items=0-1", "0-99", "bytes=" + "9" * 5000 + "-"),
    ],
)
def test_a_malformed_range_is_a_json_400(http: httpx.Client, seeded: Seeded, header: str) -> None:
    response = http.get(f"/media/{seeded.ids['koeln']}", headers={"range": header})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert f"Range '{header[:50]}" in error["message"] and "bytes=FIRST-LAST" in error["message"]


@pytest.mark.parametrize(
    "header", [f"bytes={MEDIA_BYTES}-", f"bytes={MEDIA_BYTES + 10}-{MEDIA_BYTES + 20}", "bytes=-0"]
)
def test_an_unsatisfiable_range_is_a_json_416(
    http: httpx.Client, seeded: Seeded, header: str
) -> None:
    response = http.get(f"/media/{seeded.ids['koeln']}", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{MEDIA_BYTES}"
    error = error_of(response)
    assert error["code"] == "range_not_satisfiable"
    assert repr(header) in error["message"] and str(MEDIA_BYTES) in error["message"]


@pytest.mark.parametrize(
    ("header", "first", "length"),
    [("bytes=0-99", 0, 100), ("bytes=-10", MEDIA_BYTES - 10, 10), ("bytes=4000-", 4000, 96)],
)
def test_satisfiable_ranges_are_served(
    http: httpx.Client, seeded: Seeded, header: str, first: int, length: int
) -> None:
    response = http.get(f"/media/{seeded.ids['koeln']}", headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-type"] == "audio/mp4"
    whole = bytes(range(256)) * (MEDIA_BYTES // 256)
    assert response.content == whole[first : first + length]


def test_several_ranges_and_a_stale_if_range(http: httpx.Client, seeded: Seeded) -> None:
    url = f"/media/{seeded.ids['muenster']}"
    several = http.get(url, headers={"range": "bytes=0-0, 10-19"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges")
    stale = http.get(url, headers={"range": f"bytes={MEDIA_BYTES}-", "if-range": '"old"'})
    assert stale.status_code == 200 and len(stale.content) == MEDIA_BYTES  # RFC 9110 13.1.5


@pytest.mark.parametrize(
    ("method", "path"),
    [("TRACE", "/api/search"), ("POST", "/api/statements"), ("DELETE", "/media/x")],
)
def test_405_says_what_is_allowed(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert method in error["message"] and path in error["message"]


def test_405_on_a_page_says_what_is_allowed(http: httpx.Client) -> None:
    page = http.post("/", headers={"accept": "text/html"})
    assert page.status_code == 405 and page.headers["allow"] == "GET"
    assert page.headers["content-type"].startswith("text/html")


def test_an_invalid_parameter_names_itself_and_its_value(http: httpx.Client) -> None:
    response = http.get("/api/statements", params={"per_page": "many"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert error["message"].startswith("per_page 'many': ")


def test_an_unknown_path_names_itself(http: httpx.Client) -> None:
    response = http.get("/api/nothing-here")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "nothing at /api/nothing-here"}


# --- the OpenAPI description ----------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(http: httpx.Client) -> dict[str, Any]:
    description: dict[str, Any] = http.get("/openapi.json").json()
    return description


def test_openapi_documents_the_errors_of_media(openapi: dict[str, Any]) -> None:
    responses = openapi["paths"]["/media/{statement_id}"]["get"]["responses"]
    assert {"200", "206", "400", "404", "416"} <= set(responses)
    for status in ("400", "404", "416"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, status
    assert "audio/mp4" in responses["200"]["content"]
    assert "multipart/byteranges" in responses["206"]["content"]


def test_openapi_documents_every_error_in_the_one_shape(openapi: dict[str, Any]) -> None:
    errors = [
        (path, status, response)
        for path, operations in openapi["paths"].items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5"))
    ]
    assert len(errors) >= 10
    for path, status, response in errors:
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, status)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_openapi_describes_the_result_types(openapi: dict[str, Any]) -> None:
    def schema_of(path: str) -> dict[str, Any]:
        response = openapi["paths"][path]["get"]["responses"]["200"]
        reference: dict[str, Any] = response["content"]["application/json"]["schema"]
        return reference

    assert schema_of("/api/search") == {"$ref": "#/components/schemas/Results"}
    assert schema_of("/api/statements/{statement_id}") == {
        "$ref": "#/components/schemas/StatementDetail"
    }
    schemas = openapi["components"]["schemas"]
    assert set(schemas["Results"]["properties"]) == set(Results.model_fields)
    assert set(schemas["StatementDetail"]["properties"]) == set(StatementDetail.model_fields)


# --- one result type ------------------------------------------------------------------------


def without_timing(results: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in results.items() if key != "took_ms"}


def cli(seeded: Seeded, *args: str) -> str:
    env = os.environ | {"STADTSTIMME_DATA_DIR": str(seeded.settings.data_dir)}
    run = subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_api_answers_the_search_type(http: httpx.Client, seeded: Seeded) -> None:
    body = http.get("/api/search", params={"q": "Innenstadt"}).json()
    assert Results.model_validate(body).model_dump(mode="json") == body
    with Catalog(seeded.settings.catalog_path) as catalog:
        engine = open_engine(seeded.settings, catalog)
        found = search(catalog, engine, Query("Innenstadt"), seeded.settings.public_url)
    assert without_timing(found.model_dump(mode="json")) == without_timing(body)
    assert {hit["id"] for hit in body["statements"]} == {
        seeded.ids[key] for key in ("koeln", "muenster", "leipzig")
    }
    published = {hit["id"]: hit["published"] for hit in body["statements"]}
    assert published[seeded.ids["leipzig"]] == "2020"  # as precise as known, a string
    assert published[seeded.ids["muenster"]] == "2022-01"


def test_the_cli_prints_the_search_type(http: httpx.Client, seeded: Seeded) -> None:
    printed = Results.model_validate_json(cli(seeded, "search", "--json", "Innenstadt"))
    api = http.get("/api/search", params={"q": "Innenstadt"}).json()
    assert [hit.id for hit in printed.statements] == [hit["id"] for hit in api["statements"]]
    assert printed.facets == api["facets"] and printed.trend == api["trend"]


def test_the_page_shows_the_search_type(http: httpx.Client) -> None:
    api = http.get("/api/search", params={"q": "Innenstadt"}).json()
    page = BeautifulSoup(http.get("/", params={"q": "Innenstadt"}).text, "html.parser")
    shown = []
    for hit in page.select("li.statement-hit"):
        title = hit.select_one("h2 a, h3 a")  # the heading level follows the page around it
        assert title is not None
        moments = [(str(a["href"]), int(str(a["data-second"]))) for a in hit.select("a.moment")]
        snippets = [s.decode_contents() for s in hit.select("span.snippet")]
        shown.append((str(hit["data-id"]), str(title["href"]), moments, snippets))
    assert shown == [
        (
            hit["id"],
            hit["link"],
            # the page's moments also carry the words, for the statement page to highlight
            [(p["link"] + "&q=Innenstadt", p["second"]) for p in hit["passages"]],
            [p["snippet_html"] for p in hit["passages"]],
        )
        for hit in api["statements"]
    ]


def test_the_cli_exports_the_statement_type(http: httpx.Client, seeded: Seeded) -> None:
    sid = seeded.ids["muenster"]
    printed = StatementDetail.model_validate_json(cli(seeded, "export", sid, "--format", "json"))
    assert printed.model_dump(mode="json") == http.get(f"/api/statements/{sid}").json()
    assert printed.published == "2022-01" and printed.segments[0].words[0].text == "Der"
