"""yt-dlp against a local HTTP server: what it reads, how statements are identified, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.errors import FetchError, InvalidInput
from ingest import fetch
from tests.conftest import Served


def test_direct_media_url_is_identified_by_its_url(server: Served) -> None:
    candidate = fetch.probe_url(server.url("a.mp4"))
    assert candidate.extractor == "generic"
    assert candidate.origin.startswith("url:")
    assert candidate.media_url == server.url("a.mp4")
    assert fetch.probe_url(server.url("a.mp4") + "#ignored").origin == candidate.origin


def test_html_page_with_video(server: Served) -> None:
    candidate = fetch.probe_url(server.url("statement.html"))
    assert candidate.media_url == server.url("embedded.mp4")
    assert candidate.origin == fetch.probe_url(server.url("embedded.mp4")).origin
    assert candidate.page_url == server.url("statement.html")


def test_download_lands_atomically(server: Served, tmp_path: Path) -> None:
    candidate = fetch.probe_url(server.url("c.m4a"))
    progress: list[tuple[int, int | None]] = []
    landed = fetch.download(
        candidate,
        tmp_path / "work",
        tmp_path / "media",
        "abc",
        lambda d, t: progress.append((d, t)),
    )
    assert landed == tmp_path / "media" / "abc.m4a"
    assert landed.read_bytes() == (server.root / "c.m4a").read_bytes()
    assert not list((tmp_path / "work").glob("*"))
    assert progress and progress[-1][0] == landed.stat().st_size


def test_origin_rules() -> None:
    youtube = {"extractor_key": "Youtube", "id": "dQw4w9WgXcQ"}
    assert fetch.origin_for(youtube) == "youtube:dQw4w9WgXcQ"
    generic = {"extractor_key": "Generic", "id": "video", "url": "HTTP://Example.org/v.mp4?b=2&a=1"}
    same = {"extractor_key": "Generic", "id": "other", "url": "http://example.org/v.mp4?a=1&b=2"}
    assert fetch.origin_for(generic) == fetch.origin_for(same)
    assert fetch.origin_for(generic).startswith("url:")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("gopher://127.0.0.1/statement", "gopher://127.0.0.1/statement"),
        ("/missing.mp4", "not a URL"),
    ],
)
def test_unusable_targets(target: str, message: str) -> None:
    with pytest.raises((FetchError, InvalidInput), match=message):
        fetch.probe_url(target)


def test_404_names_the_url(server: Served) -> None:
    url = server.url("gone.mp4")
    with pytest.raises(FetchError) as caught:
        fetch.probe_url(url)
    assert caught.value.message.startswith(url)
    assert "404" in caught.value.message
    assert "Traceback" not in caught.value.message


def test_page_without_video(server: Served) -> None:
    with pytest.raises(FetchError, match=r"novideo\.html.*[Uu]nsupported"):
        fetch.probe_url(server.url("novideo.html"))


def test_local_file_metadata_from_sidecar(tmp_path: Path) -> None:
    media = tmp_path / "rede.m4a"
    media.write_bytes(b"content")
    (tmp_path / "rede.json").write_text(
        '{"title": "Rede", "municipality": "Köln", "published": "2026-01-02", "speaker": 3}'
    )
    candidate = fetch.probe_file(media)
    assert candidate.origin == "sha256:" + fetch.sha256_file(media)
    assert (candidate.title, candidate.municipality, candidate.published) == (
        "Rede",
        "Köln",
        "2026-01-02",
    )
    assert candidate.speaker is None


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        fetch.probe_file(tmp_path / "nope.mp4")
