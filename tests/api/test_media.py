"""Media as the archive keeps it (settings.keep=video, the default): videos served as video with
HTTP Range, audio as audio, and a poster still of each video. Over the session's archive,
ingested through the real pipeline (a.mp4 and b.webm are videos, c.m4a is audio)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import pytest
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


@pytest.mark.parametrize(
    ("name", "media_type", "kind"),
    [
        ("a.mp4", "video/mp4", "video"),
        ("b.webm", "video/webm", "video"),
        ("c.m4a", "audio/mp4", "audio"),
    ],
)
def test_media_is_served_as_what_is_kept_with_ranges(
    client: TestClient, archive: Archive, name: str, media_type: str, kind: str
) -> None:
    sid = statement_id(archive, name)
    whole = (archive.server.root / name).read_bytes()  # kept as it is: fit to play
    full = client.get(f"/media/{sid}")
    assert full.status_code == 200 and full.headers["content-type"] == media_type
    assert full.content == whole
    part = client.get(f"/media/{sid}", headers={"range": "bytes=100-1099"})
    assert part.status_code == 206 and part.headers["content-type"] == media_type
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    assert part.content == whole[100:1100]
    tail = client.get(f"/media/{sid}", headers={"range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole[-500:]
    detail = client.get(f"/api/statements/{sid}").json()
    assert detail["media"] == f"/media/{sid}" and detail["media_kind"] == kind


@pytest.mark.parametrize("name", ["a.mp4", "b.webm"])
def test_a_video_has_a_poster(client: TestClient, archive: Archive, name: str) -> None:
    sid = statement_id(archive, name)
    assert client.get(f"/api/statements/{sid}").json()["poster"] == f"/media/{sid}/poster.jpg"
    response = client.get(f"/media/{sid}/poster.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with av.open(io.BytesIO(response.content), mode="r") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (160, 120)  # the video's size: below 480 px


def test_no_poster_is_a_json_404(client: TestClient, archive: Archive) -> None:
    sid = statement_id(archive, "c.m4a")
    assert client.get(f"/api/statements/{sid}").json()["poster"] is None
    response = client.get(f"/media/{sid}/poster.jpg")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": f"statement {sid!r} has no poster"}
    }
    unknown = client.get("/media/nope/poster.jpg")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "no statement with id 'nope'"


def test_openapi_documents_the_poster(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    media_types = paths["/media/{statement_id}"]["get"]["responses"]["200"]["content"]
    assert {"video/mp4", "video/webm", "audio/mp4"} <= set(media_types)
    poster = paths["/media/{statement_id}/poster.jpg"]["get"]["responses"]
    assert set(poster["200"]["content"]) == {"image/jpeg"}
    assert poster["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
