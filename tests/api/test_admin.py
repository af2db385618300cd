"""The admin API on a seeded archive: the token gate on every route, and each action's effect
on what the public sees (search, the statement's JSON, its page, its media) at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from api.app import create_app
from archive.catalog import Catalog
from archive.jobs import JobKind, enqueue, fail
from archive.models import Status
from tests.api.served import Seeded, seed_archive

TOKEN = "s3cret-tökén"  # not ASCII: compared as bytes
RIGHT: dict[str, Any] = {"Authorization": f"Bearer {TOKEN}".encode()}  # sent as UTF-8
WRONG = {"Authorization": "Bearer s3cret-token"}

# Every admin route: method, path (KOELN: a statement's id; JOB, SOURCE: ids made by `prepare`),
# JSON body.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/admin/sources", None),
    ("POST", "/api/admin/sources", {"url": "FOLDER", "municipality": "Köln"}),
    ("POST", "/api/admin/sources/SOURCE/pause", None),
    ("POST", "/api/admin/sources/SOURCE/resume", None),
    ("DELETE", "/api/admin/sources/SOURCE", None),
    ("POST", "/api/admin/jobs", {"url": "https://example.org/neu", "municipality": "Köln"}),
    ("GET", "/api/admin/jobs?status=failed", None),
    ("POST", "/api/admin/jobs/JOB/retry", None),
    ("GET", "/api/admin/statements/KOELN", None),
    ("PATCH", "/api/admin/statements/KOELN", {"title": "Neuer Titel"}),
    ("POST", "/api/admin/statements/KOELN/hide", None),
    ("POST", "/api/admin/statements/KOELN/unhide", None),
    ("DELETE", "/api/admin/statements/KOELN?reason=Persönlichkeitsrecht", None),
    ("POST", "/api/admin/statements/KOELN/retranscribe", {"model": "small"}),
    ("GET", "/api/admin/statements/KOELN/corrections", None),
    ("POST", "/api/admin/statements/KOELN/corrections", {"start": 0.4, "end": 1.0, "text": "X"}),
    ("GET", "/api/admin/tombstones", None),
    ("DELETE", "/api/admin/tombstones/KOELN", None),
]


def prepare(seeded: Seeded, folder: Path) -> dict[str, str]:
    """What the routes act on: a failed job, a source, a hidden statement, a tombstone."""
    from archive.admin import delete, hide
    from archive.search.engines import open_engine
    from archive.sources import SourceKind, insert_source

    with Catalog(seeded.settings.catalog_path) as catalog:
        job, _ = enqueue(catalog, "https://example.org/kaputt")
        fail(catalog, job.id, "HTTP 404")
        source, _ = insert_source(catalog, "https://example.org/feed.xml", SourceKind.FEED)
        engine = open_engine(seeded.settings, catalog)
        hide(catalog, engine, seeded.ids["leipzig"])
        delete(catalog, engine, seeded.settings.media_dir, seeded.ids["failed"], "Test")
    return {
        "KOELN": seeded.ids["koeln"],
        "JOB": str(job.id),
        "SOURCE": str(source.id),
        "FOLDER": str(folder),
    }


def filled(text: str, names: dict[str, str]) -> str:
    for name, value in names.items():
        text = text.replace(name, value)
    return text


def call(
    client: TestClient,
    route: tuple[str, str, dict[str, Any] | None],
    names: dict[str, str],
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Any:
    method, path, body = route
    url = filled(path, names) + query
    if route[1] == "/api/admin/tombstones/KOELN":  # the deleted one
        url = url.replace(names["KOELN"], names["FAILED"])
    if route[1].endswith("/unhide"):
        url = url.replace(names["KOELN"], names["LEIPZIG"])
    json = {k: filled(v, names) if isinstance(v, str) else v for k, v in (body or {}).items()}
    return client.request(method, url, headers=headers, json=json if body else None)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[TestClient, Seeded, dict[str, str]]]:
    seeded = seed_archive(tmp_path / "data")
    folder = tmp_path / "folder"
    folder.mkdir()
    names = prepare(seeded, folder)
    names |= {"FAILED": seeded.ids["failed"], "LEIPZIG": seeded.ids["leipzig"]}
    settings = seeded.settings.model_copy(update={"admin_token": TOKEN})
    with TestClient(create_app(settings)) as client:
        yield client, Seeded(settings, seeded.ids), names


def catalog_state(seeded: Seeded) -> tuple[object, ...]:
    with Catalog(seeded.settings.catalog_path, readonly=True) as catalog:
        tables = ("statements", "jobs", "sources", "tombstones", "corrections", "segments")
        return tuple(  # every row of the tables an admin route may change
            [tuple(row) for row in catalog.db.execute(f"SELECT * FROM {table} ORDER BY 1")]
            for table in tables
        )


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_wants_the_right_token_in_the_header(
    seeded: tuple[TestClient, Seeded, dict[str, str]], route: tuple[str, str, dict[str, Any] | None]
) -> None:
    client, archive, names = seeded
    before = catalog_state(archive)
    refusals = {
        "no token": call(client, route, names),
        "wrong token": call(client, route, names, WRONG),
        "basic auth": call(client, route, names, {"Authorization": "Basic czNjcmV0"}),
        "token in the query": call(client, route, names, query=_query(route, "token")),
        "access_token in the query": call(
            client, route, names, RIGHT, query=_query(route, "access_token")
        ),
    }
    for case, response in refusals.items():
        assert response.status_code == 401, (case, response.text)
        assert response.headers["www-authenticate"] == "Bearer", case
        assert response.json()["error"]["code"] == "unauthorized", case
    assert "send it in the header" in refusals["token in the query"].json()["error"]["message"]
    assert "send it in the header" in refusals["access_token in the query"].text
    assert catalog_state(archive) == before  # nothing changed
    right = call(client, route, names, RIGHT)
    assert right.status_code == 200, right.text
    assert right.headers["content-type"] == "application/json"


def _query(route: tuple[str, str, dict[str, Any] | None], name: str) -> str:
    joiner = "&" if "?" in route[1] else "?"
    return f"{joiner}{name}={TOKEN}"


def test_without_a_token_configured_the_admin_api_is_off(tmp_path: Path) -> None:
    seeded = seed_archive(tmp_path / "data")
    with TestClient(create_app(seeded.settings)) as client:
        for method, path, _ in ROUTES:
            url = path.replace("KOELN", seeded.ids["koeln"]).replace("JOB", "1")
            response = client.request(method, url.replace("SOURCE", "1"), headers=RIGHT)
            assert response.status_code in (404, 405), (method, path)
            assert response.json()["error"]["code"] in ("not_found", "method_not_allowed")
        schema = client.get("/openapi.json").json()
        assert not [p for p in schema["paths"] if p.startswith("/api/admin")]
        assert "AdminToken" not in schema.get("components", {}).get("securitySchemes", {})


def test_with_a_token_the_admin_api_is_documented_with_its_scheme(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, _, _ = seeded
    schema = client.get("/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/admin")
        for method in operations
    }
    assert len(documented) == len(ROUTES)
    assert schema["components"]["securitySchemes"]["AdminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The archive's admin token (STADTSTIMME_ADMIN_TOKEN), in the "
        "Authorization header.",
    }
    patch = schema["paths"]["/api/admin/statements/{statement_id}"]["patch"]
    assert patch["security"] == [{"AdminToken": []}]
    assert "401" in patch["responses"]


def public_sees(client: TestClient, statement_id: str) -> dict[str, int]:
    """What the public gets for a statement: search, the JSON, the page, the media."""
    search = client.get("/api/search", params={"q": "Maskenpflicht"}).json()
    return {
        "search": sum(s["id"] == statement_id for s in search["statements"]),
        "json": client.get(f"/api/statements/{statement_id}").status_code,
        "page": client.get(f"/statements/{statement_id}").status_code,
        "media": client.get(f"/media/{statement_id}").status_code,
        "feed": int(f"/statements/{statement_id}" in client.get("/feeds/statements.atom").text),
    }


SEEN = {"search": 1, "json": 200, "page": 200, "media": 200, "feed": 1}
GONE = {"search": 0, "json": 404, "page": 404, "media": 404, "feed": 0}


def test_hide_and_delete_are_gone_from_search_api_page_and_media_at_once(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, archive, _ = seeded
    koeln = archive.ids["koeln"]
    assert public_sees(client, koeln) == SEEN
    hidden = client.post(f"/api/admin/statements/{koeln}/hide", headers=RIGHT).json()
    assert hidden["status"] == "hidden"
    assert public_sees(client, koeln) == GONE
    assert client.post(f"/api/admin/statements/{koeln}/unhide", headers=RIGHT).status_code == 200
    assert public_sees(client, koeln) == SEEN
    media = archive.settings.media_dir / "koeln.m4a"
    deleted = client.delete(f"/api/admin/statements/{koeln}", headers=RIGHT)
    assert deleted.json()["origin"] == "https://example.org/koeln"
    assert public_sees(client, koeln) == GONE
    assert not media.exists()
    again = client.delete(f"/api/admin/statements/{koeln}", headers=RIGHT)
    assert again.status_code == 404
    tombstones = client.get("/api/admin/tombstones", headers=RIGHT).json()
    assert koeln in {t["statement_id"] for t in tombstones}
    readmitted = client.delete(f"/api/admin/tombstones/{koeln}", headers=RIGHT)
    assert readmitted.json()["statement_id"] == koeln
    assert client.delete(f"/api/admin/tombstones/{koeln}", headers=RIGHT).status_code == 404


def test_a_correction_shows_in_search_json_and_page_at_once(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, archive, _ = seeded
    muenster = archive.ids["muenster"]  # "Der Wochenmarkt in der Innenstadt öffnet wieder."
    page = BeautifulSoup(client.get(f"/statements/{muenster}").text, "html.parser")
    assert "von der Stadt korrigiert" not in page.select(".notice")[0].get_text()
    body = {"start": 0.4, "end": 0.95, "text": "Bauernmarkt"}
    done = client.post(f"/api/admin/statements/{muenster}/corrections", headers=RIGHT, json=body)
    assert done.json() | {"id": 0, "made_at": ""} == {
        "id": 0,
        "start": 0.5,
        "end": 0.9,
        "text": "Bauernmarkt",
        "made_at": "",
    }
    search = client.get("/api/search", params={"q": "Bauernmarkt"}).json()
    assert [s["id"] for s in search["statements"]] == [muenster]
    words = client.get(f"/api/statements/{muenster}").json()["segments"][0]["words"]
    assert words[1]["text"] == "Bauernmarkt"
    assert (words[1]["start"], words[1]["end"]) == (0.5, 0.9)
    for language, notice in (
        ("de", "Abschrift von der Stadt korrigiert."),
        ("en", "Transcript corrected by the city."),
    ):
        wanted = {"Accept-Language": language}
        html = client.get(f"/statements/{muenster}", headers=wanted).text
        text = BeautifulSoup(html, "html.parser").select(".notice")[0].get_text()
        assert notice in text, text
    listed = client.get(f"/api/admin/statements/{muenster}/corrections", headers=RIGHT).json()
    assert [c["text"] for c in listed] == ["Bauernmarkt"]
    assert client.get(f"/api/admin/statements/{muenster}", headers=RIGHT).json()["corrected"]


def test_bad_input_is_a_422_naming_it_and_changes_nothing(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, archive, _ = seeded
    koeln = archive.ids["koeln"]
    before = catalog_state(archive)
    cases = [
        ("PATCH", f"/api/admin/statements/{koeln}", {"published": "2021-02-30"}, "published"),
        ("PATCH", f"/api/admin/statements/{koeln}", {"title": " "}, "title"),
        ("PATCH", f"/api/admin/statements/{koeln}", {"language": "xx"}, "language"),
        (
            "POST",
            f"/api/admin/statements/{koeln}/corrections",
            {"start": 9, "end": 1, "text": "x"},
            "start",
        ),
        (
            "POST",
            f"/api/admin/statements/{koeln}/corrections",
            {"start": 50, "end": 60, "text": "x"},
            "no word",
        ),
        (
            "POST",
            f"/api/admin/statements/{koeln}/corrections",
            {"start": "x", "end": 1, "text": "x"},
            "start",
        ),
        ("POST", "/api/admin/jobs", {"url": "file:///etc/passwd"}, "url"),
        ("POST", f"/api/admin/statements/{koeln}/retranscribe", {"language": "xx"}, "language"),
    ]
    for method, url, body, named in cases:
        response = client.request(method, url, json=body, headers=RIGHT)
        assert response.status_code == 422, (url, body, response.text)
        assert named in response.json()["error"]["message"], response.text
    assert client.get("/api/admin/jobs?status=nope", headers=RIGHT).status_code == 422
    assert client.post("/api/admin/jobs/999/retry", headers=RIGHT).status_code == 404
    assert catalog_state(archive) == before


def test_edit_reindexes_at_once_and_records_the_fields(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, archive, _ = seeded
    koeln = archive.ids["koeln"]
    body = {"title": "Sondersitzung des Rates", "published": "2021-04"}
    edited = client.patch(f"/api/admin/statements/{koeln}", headers=RIGHT, json=body).json()
    assert edited["edited"] == ["published", "title"]
    search = client.get("/api/search", params={"q": "Sondersitzung"}).json()
    assert [s["id"] for s in search["statements"]] == [koeln]
    assert client.get(f"/api/statements/{koeln}").json()["published"] == "2021-04"


def test_queue_retry_and_retranscribe_make_jobs(
    seeded: tuple[TestClient, Seeded, dict[str, str]],
) -> None:
    client, archive, names = seeded
    queued = client.post("/api/admin/jobs", headers=RIGHT, json={"url": "https://example.org/a"})
    assert queued.json()["status"] == "queued" and queued.json()["new"] is True
    again = client.post("/api/admin/jobs", headers=RIGHT, json={"url": "https://example.org/a"})
    assert again.json()["id"] == queued.json()["id"] and again.json()["new"] is False
    failed = client.get("/api/admin/jobs", params={"status": "failed"}, headers=RIGHT).json()
    assert [(j["id"], j["last_error"]) for j in failed["jobs"]] == [(int(names["JOB"]), "HTTP 404")]
    retried = client.post(f"/api/admin/jobs/{names['JOB']}/retry", headers=RIGHT).json()
    assert retried["status"] == "queued" and retried["attempts"] == 0
    koeln = archive.ids["koeln"]
    body = {"model": "small", "language": "de", "discard_corrections": True}
    job = client.post(f"/api/admin/statements/{koeln}/retranscribe", headers=RIGHT, json=body)
    assert job.json()["kind"] == str(JobKind.RETRANSCRIBE) and job.json()["target"] == koeln
    assert job.json()["options"] == body
    with Catalog(archive.settings.catalog_path, readonly=True) as catalog:
        assert catalog.get(koeln).status == Status.INDEXED  # queued, not yet run


def test_sources_add_pause_resume_remove(
    seeded: tuple[TestClient, Seeded, dict[str, str]], tmp_path: Path
) -> None:
    client, _, names = seeded
    body = {"url": names["FOLDER"], "municipality": "Köln"}
    added = client.post("/api/admin/sources", headers=RIGHT, json=body).json()
    assert (added["kind"], added["municipality"], added["added"]) == ("folder", "Köln", True)
    twice = client.post("/api/admin/sources", headers=RIGHT, json=body).json()
    assert (twice["id"], twice["added"]) == (added["id"], False)  # one source
    source = added["id"]
    assert client.post(f"/api/admin/sources/{source}/pause", headers=RIGHT).json()["paused"]
    resumed = client.post(f"/api/admin/sources/{source}/resume", headers=RIGHT).json()
    assert resumed["paused"] is False
    listed = client.get("/api/admin/sources", headers=RIGHT).json()
    assert added["id"] in {s["id"] for s in listed}
    assert client.delete(f"/api/admin/sources/{source}", headers=RIGHT).status_code == 200
    assert client.delete(f"/api/admin/sources/{source}", headers=RIGHT).status_code == 404
