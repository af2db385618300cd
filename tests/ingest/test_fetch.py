"""yt-dlp against a local HTTP server: what it reads, how statements are identified, errors."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from archive.dates import PartialDate
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
    ).path
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
        '{"title": "Rede", "municipality": "Köln", "published": "2026-01-02", "speaker": null,'
        ' "recorded_by": 3}'
    )
    candidate = fetch.probe_file(media)
    assert candidate.origin == "sha256:" + fetch.sha256_file(media)
    assert (candidate.title, candidate.municipality, candidate.published) == (
        "Rede",
        "Köln",
        PartialDate(2026, 1, 2),
    )
    assert candidate.speaker is None


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"release_date": "20210315", "upload_date": "20220101"}, PartialDate(2021, 3, 15)),
        ({"upload_date": "20211301", "timestamp": 1615766400}, PartialDate(2021, 3, 15)),
        ({"upload_date": "20210230"}, None),
        ({"upload_date": 20210315}, PartialDate(2021, 3, 15)),
        ({"timestamp": 1e20}, None),
        ({"timestamp": -1e20}, None),
        ({"timestamp": float("nan")}, None),
        ({"timestamp": 253402343999}, None),  # 10000-01-01 in UTC: not a four-digit year
        ({"timestamp": True}, None),
        ({"release_year": 2021}, PartialDate(2021)),
    ],
)
def test_dates_from_yt_dlp_are_checked_and_junk_is_dropped(
    info: dict[str, Any], expected: PartialDate | None
) -> None:
    assert fetch._date(info) == expected


class _LastModified(http.server.SimpleHTTPRequestHandler):
    """Serves files with the Last-Modified header the query asks for (`?lm=...`): yt-dlp takes a
    direct link's date from it."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_header(self, keyword: str, value: str) -> None:
        if keyword == "Last-Modified":
            value = parse_qs(urlsplit(self.path).query).get("lm", [value])[0]
        super().send_header(keyword, value)


@pytest.fixture(scope="module")
def dated(server: Served) -> Iterator[str]:
    handler = functools.partial(_LastModified, directory=str(server.root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/c.m4a"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("last_modified", "expected"),
    [
        ("Mon, 15 Mar 2021 10:00:00 GMT", PartialDate(2021, 3, 15)),
        ("Mon, 01 Jan 0999 00:00:00 GMT", None),  # yt-dlp makes upload_date "9990101" of it
        ("Fri, 31 Dec 9999 23:59:59 -1200", None),  # a timestamp in the year 10000
    ],
)
def test_real_yt_dlp_dates_from_a_server(
    last_modified: str, expected: PartialDate | None, dated: str
) -> None:
    candidate = fetch.probe_url(f"{dated}?lm={quote(last_modified)}")
    assert candidate.published == expected


def test_yt_dlp_failing_on_a_date_is_one_fetch_error(dated: str) -> None:
    """yt-dlp itself raises ValueError on this one: a fetch error naming the URL, no crash."""
    url = f"{dated}?lm={quote('Mon, 1 Jan 1000 00:00:00 +1400')}"
    with pytest.raises(FetchError) as caught:
        fetch.probe_url(url)
    assert caught.value.message.startswith(f"{url}: yt-dlp cannot read what the source sends")
    assert "\n" not in caught.value.message


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        fetch.probe_file(tmp_path / "nope.mp4")
