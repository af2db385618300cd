"""How a failed job is judged (ingest.fetch.classify): transient, later (a live stream) or
permanent.

Two kinds of evidence. Against the local test server, with the real yt-dlp: a 404, a 500, a
live HLS stream (a playlist without #EXT-X-ENDLIST, which yt-dlp's generic extractor reports as
`live_status: is_live`), media longer than the maximum (tests/ingest/test_worker.py). For what
only sites we cannot reach say (YouTube's "Private video", "Video unavailable. This video has
been removed by the uploader", "This live event will begin in …", a channel not live), an
extractor registered with a real YoutubeDL raises them as yt-dlp's YouTube extractor does
(`raise_no_formats(reason, expected=True)`, `UserNotLive`), and YoutubeDL wraps them in its
DownloadError as it does for every site.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import yt_dlp
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import DownloadError, UserNotLive

from archive.errors import FetchError, InvalidInput, MediaError
from ingest import fetch
from ingest.fetch import Failure, classify
from tests.conftest import Served


class SiteIE(InfoExtractor):  # type: ignore[misc]
    """Stands for a site's extractor: says what YouTube says for the video id it is given."""

    IE_NAME = "site"
    _VALID_URL = r"site:(?P<id>[\w-]+)"
    REASONS: ClassVar[dict[str, str]] = {
        "private": "Private video. Sign in if you've been granted access to this video",
        "removed": "Video unavailable. This video has been removed by the uploader",
        "unavailable": "Video unavailable",
        "upcoming": "This live event will begin in 3 hours.",
    }

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        if video_id == "notlive":
            raise UserNotLive(video_id=video_id)
        if video_id == "live":
            return {
                "id": video_id,
                "title": "Ratssitzung live",
                "live_status": "is_live",
                "is_live": True,
                "formats": [{"url": "http://127.0.0.1:9/live.m3u8", "ext": "mp4"}],
            }
        self.raise_no_formats(self.REASONS[video_id], expected=True, video_id=video_id)
        raise AssertionError("raise_no_formats raises")


def _site_error(video_id: str) -> FetchError:
    """The FetchError probe_url raises for what yt-dlp raised on this video."""
    options = {"quiet": True, "no_warnings": True, "logger": fetch._Logger()}
    with yt_dlp.YoutubeDL(options) as ydl:
        ydl.add_info_extractor(SiteIE())
        try:
            ydl.extract_info(f"site:{video_id}", download=False, ie_key="Site")
        except DownloadError as error:
            try:
                raise FetchError(f"site:{video_id}: {fetch._clean(str(error))}") from error
            except FetchError as wrapped:
                return wrapped
    raise AssertionError(f"yt-dlp raised nothing for {video_id}")


@pytest.mark.parametrize(
    ("video_id", "expected", "said"),
    [
        ("private", Failure.PERMANENT, "Private video"),
        ("removed", Failure.PERMANENT, "This video has been removed"),
        ("unavailable", Failure.PERMANENT, "Video unavailable"),
        ("upcoming", Failure.LATER, "live event will begin"),
        ("notlive", Failure.LATER, "not currently live"),
    ],
)
def test_what_sites_say_is_classified(video_id: str, expected: Failure, said: str) -> None:
    error = _site_error(video_id)
    assert said in error.message  # the reason reaches the job's last_error
    assert isinstance(error.__cause__, DownloadError)
    assert classify(error) is expected


def test_a_live_info_dict_is_recognised() -> None:
    with yt_dlp.YoutubeDL({"quiet": True, "logger": fetch._Logger()}) as ydl:
        ydl.add_info_extractor(SiteIE())
        info = ydl.sanitize_info(
            ydl.extract_info("site:live", download=False, process=False, ie_key="Site")
        )
    assert fetch.live_status(info) == "is_live"
    assert fetch.live_status({"live_status": "is_upcoming"}) == "is_upcoming"
    assert fetch.live_status({"live_status": "was_live"}) is None
    assert fetch.live_status({"live_status": "not_live", "is_live": False}) is None


def test_our_own_errors_are_classified() -> None:
    assert classify(fetch.LiveStream("x: live")) is Failure.LATER
    assert classify(fetch.TooLong("x: too long")) is Failure.PERMANENT
    assert classify(MediaError("x is not a media file")) is Failure.PERMANENT
    assert classify(InvalidInput("x: no such file")) is Failure.PERMANENT
    assert classify(TimeoutError("timed out")) is Failure.TRANSIENT
    assert classify(RuntimeError("a bug")) is Failure.TRANSIENT  # retried, MAX_ATTEMPTS in all


class _Flaky(http.server.SimpleHTTPRequestHandler):
    """Answers `/status/N/...` with HTTP N; everything else from the served folder."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            self.send_error(int(self.path.split("/")[2]))
            return
        super().do_GET()


@pytest.fixture(scope="module")
def statuses(server: Served) -> Iterator[str]:
    handler = functools.partial(_Flaky, directory=str(server.root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, Failure.PERMANENT),
        (410, Failure.PERMANENT),
        (500, Failure.TRANSIENT),
        (503, Failure.TRANSIENT),
        (429, Failure.TRANSIENT),
    ],
)
def test_http_statuses_from_the_real_yt_dlp(statuses: str, status: int, expected: Failure) -> None:
    url = f"{statuses}/status/{status}/video.mp4"
    with pytest.raises(FetchError) as caught:
        fetch.probe_url(url)
    assert url in caught.value.message and str(status) in caught.value.message
    assert classify(caught.value) is expected


def test_a_refused_connection_is_transient() -> None:
    with pytest.raises(FetchError) as caught:
        fetch.probe_url("http://127.0.0.1:9/video.mp4")  # port 9 (discard): nothing listens
    assert classify(caught.value) is Failure.TRANSIENT


def test_a_live_hls_stream_is_seen_by_the_real_yt_dlp(server: Served) -> None:
    """A media playlist without #EXT-X-ENDLIST is a live stream still running."""
    (server.root / "live-k1.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n"
        "#EXTINF:6.0,\nc.m4a\n"
    )
    with pytest.raises(fetch.LiveStream) as caught:
        fetch.probe_url(server.url("live-k1.m3u8"))
    assert "live stream that is still running" in caught.value.message
    assert server.url("live-k1.m3u8") in caught.value.message
    assert classify(caught.value) is Failure.LATER
