"""What the archive keeps of a statement's media (settings.keep): the video (browser-playable, at
most max_height lines, with a poster still), only the audio, or nothing once it is transcribed.
Real yt-dlp against the local server, real FFmpeg, the real model and catalog; every kept file
is checked with ffprobe."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import av
import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Statement, Status
from archive.search import Query, StatementView, search
from archive.search.engines import open_engine
from ingest import fetch
from ingest.pipeline import POSTER_SUFFIX, Pipeline, Request
from tests import media
from tests.conftest import Served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Speech ("Am Bahnhof gilt weiter die Maskenpflicht", about 8 s) under a portrait 1080p
    video (black for 2 s), as H.264/AAC MP4; and under a 240-line MPEG-4 Part 2 video in
    Matroska, which no browser plays."""
    work = tmp_path_factory.mktemp("keep")
    speech = media.build_speech(media.SPEECH_C, work, "speech", lead=1.0, gap=1.0)
    return {
        "tall": media.framed_video(speech, work / "Rede hochkant.mp4").path,
        "mkv": media.framed_video(speech, work / "Rede.mkv", size="320x240", codec="mpeg4").path,
    }


def keeping(settings: Settings, keep: str) -> Settings:
    return settings.model_copy(update={"keep": keep})


def ingest(settings: Settings, target: str, model: Any) -> Statement:
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=model)
        outcome = pipeline.ingest(Request(target))
        return catalog.get(outcome.statement.id)


def served(server: Served, source: Path, tmp_path: Path) -> str:
    """The file served under a name of this test's own (each test is a new statement)."""
    name = f"{tmp_path.name}{source.suffix}"
    shutil.copyfile(source, server.root / name)
    return server.url(name)


def local(source: Path, tmp_path: Path) -> str:
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    return str(copy)


def target_for(where: str, source: Path, server: Served, tmp_path: Path) -> str:
    return served(server, source, tmp_path) if where == "url" else local(source, tmp_path)


def ffprobe(path: Path) -> dict[str, dict[str, Any]]:
    """The file's first stream of each type (`video` excludes cover art), as ffprobe reads it."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    kinds: dict[str, dict[str, Any]] = {"format": found["format"]}
    for stream in found["streams"]:
        if not stream.get("disposition", {}).get("attached_pic"):
            kinds.setdefault(stream["codec_type"], stream)
    return kinds


def searchable(settings: Settings, statement: Statement) -> None:
    """Indexed, and found by a word it says."""
    assert statement.status == Status.INDEXED and statement.error is None
    with Catalog(settings.catalog_path) as catalog:
        results = search(catalog, open_engine(settings, catalog), Query("Bahnhof"), None)
    assert statement.id in {hit.statement.id for hit in results.statements}


def check_poster(settings: Settings, statement: Statement) -> None:
    """A JPEG at most 480 px wide, of the video's shape, and not a black frame."""
    assert statement.poster_file == f"{statement.id}{POSTER_SUFFIX}"
    poster = settings.media_dir / statement.poster_file
    with av.open(str(poster)) as container:
        assert container.format.name in ("image2", "jpeg_pipe", "mjpeg")
        frame = next(container.decode(video=0))
        assert container.streams.video[0].codec_context.name == "mjpeg"
    assert 0 < frame.width <= 480 and frame.height > frame.width  # portrait, as the video
    brightness = float(frame.to_ndarray(format="gray").mean())
    assert brightness > 40, f"the poster is (nearly) black: mean {brightness:.0f}"
    assert not [p for p in settings.media_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where", ["url", "file"])
def test_keep_video_scales_a_tall_video_to_720_lines_with_a_poster(
    where: str,
    made: dict[str, Path],
    settings: Settings,
    server: Served,
    whisper_model: Any,
    tmp_path: Path,
) -> None:
    target = target_for(where, made["tall"], server, tmp_path)
    statement = ingest(settings, target, whisper_model)
    assert statement.media_kind == "video" and statement.media_file == f"{statement.id}.mp4"
    kept = ffprobe(settings.media_dir / statement.media_file)
    assert kept["video"]["codec_name"] == "h264" and kept["video"]["height"] == 720
    assert kept["video"]["width"] in (404, 406)  # 608 x 1080 scaled, to an even width
    assert kept["audio"]["codec_name"] == "aac"
    assert float(kept["format"]["duration"]) == pytest.approx(8.1, abs=0.5)
    check_poster(settings, statement)
    searchable(settings, statement)
    view = StatementView.of(statement, None)
    assert view.media == f"/media/{statement.id}" and view.media_kind == "video"
    assert view.poster == f"/media/{statement.id}/poster.jpg"


def test_keep_video_keeps_a_fit_video_as_it_is(
    settings: Settings, server: Served, whisper_model: Any, tmp_path: Path
) -> None:
    """H.264/AAC in MP4 at 120 lines: byte for byte the file, as a video."""
    source = local(server.root / "a.mp4", tmp_path)
    statement = ingest(settings, source, whisper_model)
    assert statement.media_kind == "video"
    kept = settings.media_dir / str(statement.media_file)
    assert kept.read_bytes() == Path(source).read_bytes()
    assert statement.poster_file is not None


def test_keep_video_transcodes_what_no_browser_plays(
    made: dict[str, Path], settings: Settings, whisper_model: Any, tmp_path: Path
) -> None:
    statement = ingest(settings, local(made["mkv"], tmp_path), whisper_model)
    assert statement.media_kind == "video" and statement.media_file == f"{statement.id}.mp4"
    kept = ffprobe(settings.media_dir / statement.media_file)
    assert kept["video"]["codec_name"] == "h264" and kept["video"]["height"] == 240
    assert kept["audio"]["codec_name"] == "aac"  # copied, not encoded again
    assert statement.poster_file is not None
    searchable(settings, statement)


@pytest.mark.parametrize("where", ["url", "file"])
def test_keep_video_keeps_audio_of_an_audio_file(
    where: str, settings: Settings, server: Served, whisper_model: Any, tmp_path: Path
) -> None:
    source = server.root / "c.m4a"
    target = target_for(where, source, server, tmp_path)
    statement = ingest(settings, target, whisper_model)
    assert statement.media_kind == "audio" and statement.poster_file is None
    kept = settings.media_dir / str(statement.media_file)
    assert kept.read_bytes() == source.read_bytes()
    assert "video" not in ffprobe(kept)
    assert StatementView.of(statement, None).poster is None


@pytest.mark.parametrize("where", ["url", "file"])
def test_keep_audio_keeps_the_audio_stream_only(
    where: str,
    made: dict[str, Path],
    settings: Settings,
    server: Served,
    whisper_model: Any,
    tmp_path: Path,
) -> None:
    target = target_for(where, made["tall"], server, tmp_path)
    statement = ingest(keeping(settings, "audio"), target, whisper_model)
    assert statement.media_kind == "audio" and statement.poster_file is None
    assert statement.media_file == f"{statement.id}.m4a"
    kept = ffprobe(settings.media_dir / statement.media_file)
    assert "video" not in kept and kept["audio"]["codec_name"] == "aac"
    with av.open(str(made["tall"])) as source:
        packets = sum(1 for p in source.demux(audio=0) if p.size)
    with av.open(str(settings.media_dir / statement.media_file)) as copy:
        assert sum(1 for p in copy.demux(audio=0) if p.size) == packets  # copied, not re-encoded
    assert [p.name for p in settings.media_dir.iterdir()] == [statement.media_file]
    searchable(settings, statement)


@pytest.mark.parametrize("where", ["url", "file"])
def test_keep_none_leaves_no_media_yet_a_searchable_statement(
    where: str,
    made: dict[str, Path],
    settings: Settings,
    server: Served,
    whisper_model: Any,
    tmp_path: Path,
) -> None:
    target = target_for(where, made["tall"], server, tmp_path)
    statement = ingest(keeping(settings, "none"), target, whisper_model)
    assert (statement.media_file, statement.media_kind, statement.poster_file) == (None,) * 3
    assert list(settings.media_dir.iterdir()) == []
    searchable(settings, statement)
    view = StatementView.of(statement, None)
    assert view.media is None and view.media_kind is None and view.poster is None
    if where == "url":
        assert view.page_url == target


class Stages:
    """A reporter that notes the stages the pipeline runs."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def stage(self, name: str, total: float | None) -> None:
        self.names.append(name)

    def advance(self, done: float, total: float | None) -> None:
        pass

    def message(self, text: str) -> None:
        pass


def test_keep_none_finishes_after_a_crash_between_dropping_and_recording(
    settings: Settings, server: Served, whisper_model: Any, tmp_path: Path
) -> None:
    """Killed after the media was removed, before the catalog said so: the rerun finishes,
    without fetching the media again."""
    none = keeping(settings, "none")
    url = served(server, server.root / "c.m4a", tmp_path)
    with Catalog(none.catalog_path) as catalog:
        pipeline = Pipeline(none, catalog, open_engine(none, catalog), model=whisper_model)
        pipeline.stages = [s for s in pipeline.stages if s[0] in ("fetch", "transcribe")]
        first = pipeline.ingest(Request(url)).statement
        assert first.status == Status.TRANSCRIBED and first.media_kind is None
        (none.media_dir / str(first.media_file)).unlink()
        stages = Stages()
        rerun = Pipeline(none, catalog, open_engine(none, catalog), stages, whisper_model)
        statement = catalog.get(rerun.ingest(Request(url)).statement.id)
    assert stages.names == ["probe", "drop media", "index"]
    assert statement.id == first.id and statement.media_file is None
    assert list(none.media_dir.iterdir()) == []
    searchable(none, statement)


def test_a_poster_that_cannot_be_made_does_not_fail_the_ingest(
    settings: Settings,
    server: Served,
    whisper_model: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No ffmpeg command on this machine (a video kept as it is needs none, PyAV reads it)."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    statement = ingest(settings, local(server.root / "a.mp4", tmp_path), whisper_model)
    assert statement.status == Status.INDEXED and statement.media_kind == "video"
    assert statement.poster_file is None
    assert [p.suffix for p in settings.media_dir.iterdir()] == [".mp4"]
    assert f"no poster for {statement.id}" in caplog.text


def formats_info(*heights: int) -> dict[str, Any]:
    """What an extractor reports of a site with separate video and audio formats: H.264 and
    VP9 video at each height, AAC and Opus audio."""
    formats: list[dict[str, Any]] = [
        {"format_id": "a-aac", "ext": "m4a", "vcodec": "none", "acodec": "mp4a.40.2", "abr": 128},
        {"format_id": "a-opus", "ext": "webm", "vcodec": "none", "acodec": "opus", "abr": 160},
    ]
    for height in heights:
        for codec, ext in (("avc1.4d401f", "mp4"), ("vp9", "webm")):
            formats.append(
                {
                    "format_id": f"{height}-{ext}",
                    "ext": ext,
                    "vcodec": codec,
                    "acodec": "none",
                    "height": height,
                    "width": height * 16 // 9,
                    "tbr": height * 3,
                }
            )
    for entry in formats:
        entry["url"] = f"http://127.0.0.1:9/{entry['format_id']}"
    return {
        "id": "rede",
        "title": "Rede",
        "extractor": "test",
        "extractor_key": "Test",
        "webpage_url": "http://127.0.0.1:9/rede",
        "formats": formats,
    }


@pytest.mark.parametrize(
    ("keep", "max_height", "heights", "chosen", "ext"),
    [
        ("video", 720, (1080, 720, 480), "720-mp4+a-aac", "mp4"),
        ("video", 480, (1080, 720, 480), "480-mp4+a-aac", "mp4"),
        ("video", 720, (2160, 1080), "1080-mp4+a-aac", "mp4"),  # none small enough: scaled after
        ("audio", 720, (1080, 720), "a-opus", "webm"),
        ("none", 720, (1080, 720), "a-opus", "webm"),
    ],
)
def test_yt_dlp_chooses_formats_for_what_is_kept(
    keep: str, max_height: int, heights: tuple[int, ...], chosen: str, ext: str
) -> None:
    """yt-dlp's own format selection, on the formats a site reports (nothing is downloaded)."""
    import yt_dlp

    options = fetch._options(**fetch.selection(keep, max_height))  # type: ignore[arg-type]
    with yt_dlp.YoutubeDL(options) as ydl:
        result = ydl.process_ie_result(formats_info(*heights), download=False)
    assert (result["format_id"], result["ext"]) == (chosen, ext)
