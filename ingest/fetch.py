"""Getting media and its metadata: the only module that imports yt_dlp (also handles local files).

Files land atomically: downloads go to a work folder and are renamed into the media folder only
when complete, so a final name never holds a partial file; a copy or download that fails removes
what it wrote. Metadata from sources is checked here, where it enters: dates become
`PartialDate`s (yt-dlp's junk is dropped, a sidecar's is an error naming the file).
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yt_dlp
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import YoutubeDLError

from archive.config import language_code
from archive.dates import PartialDate, parse_date
from archive.errors import (
    DiskFull,
    FetchError,
    InvalidInput,
    MediaError,
    NotFound,
    StadtstimmeError,
    disk_full,
)
from archive.models import MediaKind
from ingest import media

log = logging.getLogger(__name__)

ByteProgress = Callable[[int, int | None], None]
# Extractors whose ids are only file stems: identify by the media URL instead.
_URL_IDENTIFIED = frozenset({"generic", "html5", "html5mediaembed"})
_NOISE = (
    re.compile(r"^ERROR:\s*"),
    re.compile(r"^\[[\w:]+\]\s*(?:[\w.-]+:\s*)?"),
    re.compile(r"\s*\(caused by .*\)\s*$", re.S),
    re.compile(r";?\s*please report this issue.*$", re.S | re.I),
    re.compile(r"\.?\s*Set --default-search.*$", re.S),
)
# A sidecar's fields: all strings (null is the same as leaving the field out).
SIDECAR_FIELDS = ("title", "municipality", "speaker", "published", "language", "page_url", "prompt")
# Caption formats our parsers read (webvtt-py, `srt`), best first; a track in no known format
# (a URL without a suffix) is read too, its format told by its content.
CAPTION_FORMATS = ("vtt", "srt")
_UNKNOWN_FORMATS = (None, "", "unknown_video")
CAPTION_LIMIT = 10 << 20  # a two-hour SRT is about 150 KB


@dataclass(frozen=True)
class CaptionTrack:
    """Captions the source publishes, not yet read: yt-dlp's `subtitles` (made by people; its
    `automatic_captions` are never taken), a page's `<track>`, or a file beside a local one."""

    name: str  # a URL or a path: named in every message about these captions
    language: str | None  # a Whisper language code; None where the source does not say
    label: str = ""  # the source's own name for the language ("de-DE", "Deutsch")
    local_path: Path | None = None
    data: str | None = None  # captions an extractor gave inline
    http_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Candidate:
    """A statement-to-be: where it comes from and what the source says about it."""

    origin: str
    title: str
    page_url: str | None = None
    media_url: str | None = None
    published: PartialDate | None = None
    duration: float | None = None
    uploader: str | None = None
    thumbnail: str | None = None
    extractor: str | None = None
    language: str | None = None  # yt-dlp's: often the channel's, not the speech's
    sidecar_language: str | None = None  # the sidecar's ('auto' asks for detection)
    municipality: str | None = None
    speaker: str | None = None
    prompt: str | None = None
    local_path: Path | None = None
    captions: tuple[CaptionTrack, ...] = ()
    info: dict[str, Any] = field(default_factory=dict, repr=False)


class TooLong(MediaError):
    """Longer than settings.max_duration: refused for good, with the reason."""

    code = "too_long"


class LiveStream(FetchError):
    """A live stream still running (or not yet begun): nothing whole to archive yet."""

    status = 409
    code = "live_stream"


class Failure(StrEnum):
    TRANSIENT = "transient"  # retried with backoff (network, timeouts, 5xx, 429, a full disk)
    PERMANENT = "permanent"  # fails at once: unsupported, 404/410, not media, removed, too long
    LATER = "later"  # a live stream still running: tried again after LIVE_RETRY


LIVE_RETRY = timedelta(hours=1)
# What sites say of a video that is gone or closed for good (yt-dlp passes their words on:
# YouTube's playability reasons "Private video", "Video unavailable. This video has been
# removed by the uploader", "This video is no longer available …"), and yt-dlp's own words for
# what it cannot use. Matched in lower case.
_GONE = (
    "private video",
    "this video is private",
    "video unavailable",
    "has been removed",
    "no longer available",
    "account associated with this video has been terminated",
    "copyright claim",
    "unsupported url",
    "no video formats found",
    "requested format is not available",
    "is a playlist or feed",
    "nothing to download",
)
# What a site says of a live event that has not begun (YouTube: "This live event will begin in
# 3 hours", "Premieres in 20 minutes"; yt-dlp's UserNotLive: "The channel is not currently live").
_NOT_YET = ("live event will begin", "premieres in", "is not currently live", "is_upcoming")
_PERMANENT_HTTP = frozenset({400, 401, 403, 404, 405, 410, 451})


def _chain(error: BaseException) -> list[BaseException]:
    """The error and every error behind it: Python's cause and context, yt-dlp's `exc_info`
    (DownloadError, ExtractorError) and `cause` (ExtractorError)."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        exc_info = getattr(current, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1 and exc_info[1] is not None:
            pending.append(exc_info[1])
        cause = getattr(current, "cause", None)
        if isinstance(cause, BaseException):
            pending.append(cause)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return found


def classify(error: BaseException) -> Failure:
    """Whether a failed ingest is worth trying again, soon (transient), later (a live stream
    still running) or never (permanent). The one place that decides it."""
    chain = _chain(error)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, LiveStream) for e in chain) or any(s in text for s in _NOT_YET):
        return Failure.LATER
    for e in chain:
        if isinstance(e, HTTPError):
            if e.status in _PERMANENT_HTTP:
                return Failure.PERMANENT
            if e.status == 429 or e.status >= 500:
                return Failure.TRANSIENT
    if any(isinstance(e, DiskFull) for e in chain) or disk_full(error):
        return Failure.TRANSIENT  # once space is freed, it completes
    if any(isinstance(e, MediaError | InvalidInput | NotFound) for e in chain):
        return Failure.PERMANENT
    if any(s in text for s in _GONE):
        return Failure.PERMANENT
    if any(
        isinstance(e, TransportError | TimeoutError | ConnectionError | socket.gaierror)
        for e in chain
    ):
        return Failure.TRANSIENT
    if re.search(r"http error (5\d\d|429)|timed out|connection (refused|reset)", text):
        return Failure.TRANSIENT
    if re.search(r"http error (40[0-5]|410|451)", text):
        return Failure.PERMANENT
    if isinstance(error, StadtstimmeError):
        return Failure.PERMANENT  # told in its message; an operator retries after fixing it
    return Failure.TRANSIENT  # an unexpected error: tried again, MAX_ATTEMPTS in all


def live_status(info: dict[str, Any]) -> str | None:
    """'is_live' or 'is_upcoming' for a stream still running or yet to begin, else None."""
    status = info.get("live_status")
    if status in ("is_live", "is_upcoming"):
        return str(status)
    return "is_live" if info.get("is_live") is True else None


def is_url(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target))


def normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _clean(message: str) -> str:
    text = message.strip()
    for pattern in _NOISE:
        text = pattern.sub("", text)
    return text.strip() or "download failed"


class _Logger:
    """Routes yt-dlp's output to logging instead of the terminal."""

    def debug(self, message: str) -> None:
        log.debug(message)

    def info(self, message: str) -> None:
        log.debug(message)

    def warning(self, message: str) -> None:
        log.info("yt-dlp: %s", message)

    def error(self, message: str) -> None:
        log.info("yt-dlp: %s", message)


def _options(**extra: Any) -> dict[str, Any]:
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _Logger(),
        "noplaylist": True,
        "cachedir": False,
        "socket_timeout": 30,
        "retries": 3,
        "format": "bestaudio/best",
        **extra,
    }


def selection(keep: media.Keep, max_height: int) -> dict[str, Any]:
    """yt-dlp's format selection for what the archive keeps. Video: the best video of at most
    max_height lines with the best audio, merged; among those H.264/AAC first (MP4 plays in
    every browser), the resolution before the codec. Where the source has nothing that small,
    the smallest larger one (it is scaled down after). Audio and none: the audio alone."""
    if keep != "video":
        return {"format": "bestaudio/best"}
    height = f"[height<=?{max_height}]"
    return {
        "format": f"bv{height}+ba/b{height}/bv+ba/b/ba",
        "format_sort": [f"res:{max_height}", "vcodec:h264", "acodec:aac"],
        # merged into MP4 (H.264/AAC) or WebM (VP9/Opus); other mixes into Matroska, which
        # media.plan remuxes into one of the two
        "merge_output_format": "mp4/webm/mkv",
    }


@dataclass(frozen=True)
class Kept:
    """A file landed in the media folder, and what it holds."""

    path: Path
    kind: MediaKind


def _date(info: dict[str, Any]) -> PartialDate | None:
    """When the source says the statement was published; what is not a calendar date is logged
    and passed over (a source's junk must not stop an ingest, nor be stored)."""
    for key in ("release_date", "upload_date"):
        value = info.get(key)
        if value is None:
            continue
        text = str(value)
        try:
            if not re.fullmatch(r"\d{8}", text):
                raise ValueError("expected YYYYMMDD")
            return PartialDate.parse(f"{text[:4]}-{text[4:6]}-{text[6:]}")
        except ValueError as error:
            log.info("ignoring yt-dlp's %s %r: %s", key, value, error)
    for key in ("release_timestamp", "timestamp"):
        stamp = info.get(key)
        if stamp is None:
            continue
        try:
            if isinstance(stamp, bool) or not isinstance(stamp, int | float):
                raise ValueError("not a number")
            return PartialDate.of(datetime.fromtimestamp(stamp, UTC).date())
        except (ValueError, OverflowError, OSError) as error:
            log.info("ignoring yt-dlp's %s %r: %s", key, stamp, error)
    year = info.get("release_year")
    if year is not None:
        try:
            if isinstance(year, bool) or not isinstance(year, int):
                raise ValueError("not a year")
            return PartialDate(year)
        except ValueError as error:
            log.info("ignoring yt-dlp's release_year %r: %s", year, error)
    return None


def _tag_code(value: object) -> str | None:
    """A language tag ('de', 'de-DE') as a code Whisper knows; None for no tag or 'auto';
    ValueError for a tag Whisper does not know."""
    if not isinstance(value, str) or not value.strip():
        return None
    code = language_code(re.split(r"[-_]", value.strip(), maxsplit=1)[0])
    return None if code == "auto" else code


def _language(value: object) -> str | None:
    """A source's language tag as a code Whisper knows, or None (logged)."""
    try:
        return _tag_code(value)
    except ValueError:
        log.info("ignoring the source's language %r: not a language Whisper knows", value)
        return None


def _media_url(info: dict[str, Any]) -> str | None:
    if info.get("url"):
        return str(info["url"])
    formats = info.get("requested_formats") or info.get("formats") or []
    return str(formats[-1]["url"]) if formats and formats[-1].get("url") else None


def origin_for(info: dict[str, Any]) -> str:
    """The unique origin of a remote statement (ARCHITECTURE.md, 'The data')."""
    extractor = str(info.get("extractor_key") or info.get("extractor") or "generic").lower()
    if extractor in _URL_IDENTIFIED or not info.get("id"):
        media = _media_url(info) or info.get("webpage_url") or info.get("original_url")
        digest = hashlib.sha256(normalise_url(str(media)).encode()).hexdigest()
        return f"url:{digest[:32]}"
    return f"{extractor}:{info['id']}"


def probe_url(url: str) -> Candidate:
    """Ask yt-dlp what is at the URL, without downloading the media."""
    if not is_url(url):
        raise InvalidInput(f"{url}: not a URL")
    try:
        with yt_dlp.YoutubeDL(_options()) as ydl:
            raw = ydl.extract_info(url, download=False)
            info = ydl.sanitize_info(raw)
    except YoutubeDLError as error:
        raise FetchError(f"{url}: {_clean(str(error))}") from error
    except Exception as error:
        raise _unreadable(url, error) from error
    if not isinstance(info, dict):
        raise FetchError(f"{url}: nothing to download")
    if info.get("_type") == "playlist":
        count = len(info.get("entries") or [])
        raise FetchError(f"{url}: is a playlist or feed of {count} entries, not one statement")
    live = live_status(info)
    if live is not None:
        what = "has not begun yet" if live == "is_upcoming" else "is still running"
        raise LiveStream(f"{url}: a live stream that {what}; it is tried again later")
    title = str(info.get("title") or info.get("id") or url)
    if info.get("extractor") == "html5":
        # The html5 extractor numbers a page's media: "Page title (1)"; the page title is ours.
        title = re.sub(r" \(\d+\)$", "", title)
    return Candidate(
        origin=origin_for(info),
        title=title,
        page_url=str(info.get("webpage_url") or url),
        media_url=_media_url(info),
        published=_date(info),
        duration=float(info["duration"]) if info.get("duration") else None,
        uploader=info.get("uploader") or info.get("channel"),
        thumbnail=info.get("thumbnail"),
        extractor=str(info.get("extractor_key") or info.get("extractor") or "").lower() or None,
        language=_language(info.get("language")),
        captions=caption_tracks(info),
        info=info,
    )


def caption_tracks(info: dict[str, Any]) -> tuple[CaptionTrack, ...]:
    """The caption tracks yt-dlp found (its `subtitles`, never `automatic_captions`): for each
    language the first entry in a format we read."""
    subtitles = info.get("subtitles")
    tracks: list[CaptionTrack] = []
    for label, entries in (subtitles if isinstance(subtitles, dict) else {}).items():
        if not isinstance(entries, list):
            continue
        readable = [e for e in entries if isinstance(e, dict) and (e.get("url") or e.get("data"))]
        ranked = [e for ext in CAPTION_FORMATS for e in readable if e.get("ext") == ext]
        ranked += [e for e in readable if e.get("ext") in _UNKNOWN_FORMATS]
        if not ranked:
            continue
        entry = ranked[0]
        headers = entry.get("http_headers")
        tracks.append(
            CaptionTrack(
                name=str(entry.get("url") or f"{info.get('webpage_url')} ({label} captions)"),
                language=_caption_language(label),
                label=str(label),
                data=entry["data"] if isinstance(entry.get("data"), str) else None,
                http_headers=dict(headers) if isinstance(headers, dict) else {},
            )
        )
    return tuple(tracks)


def _caption_language(label: object) -> str | None:
    """A track's language tag ("de", "de-DE") as a Whisper code; None for a label that is not
    a tag (a page's `<track label="Deutsch">`)."""
    try:
        return _tag_code(label)
    except ValueError:
        return None


def read_captions(track: CaptionTrack) -> str:
    """The text of a caption track: downloaded (through yt-dlp, with the headers the extractor
    gave) or read from its file. UTF-8, else Windows-1252 (older German SRT files). FetchError
    naming the track when it cannot be had."""
    if track.data is not None:
        return track.data
    try:
        if track.local_path is not None:
            with open(track.local_path, "rb") as handle:
                raw = handle.read(CAPTION_LIMIT + 1)
        else:
            request = yt_dlp.networking.Request(track.name, headers=track.http_headers)
            with yt_dlp.YoutubeDL(_options()) as ydl, ydl.urlopen(request) as response:
                raw = response.read(CAPTION_LIMIT + 1)
    except (YoutubeDLError, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise FetchError(
            f"{track.name}: cannot read the captions ({_clean(str(reason))})"
        ) from None
    if len(raw) > CAPTION_LIMIT:
        raise FetchError(f"{track.name}: larger than {CAPTION_LIMIT >> 20} MB; not captions")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.info("%s: not UTF-8; read as Windows-1252", track.name)
        return raw.decode("cp1252", errors="replace")


def download(
    candidate: Candidate,
    work: Path,
    media_dir: Path,
    name: str,
    progress: ByteProgress | None = None,
    *,
    keep: media.Keep = "video",
    max_height: int = 720,
) -> Kept:
    """Download what the archive keeps of the candidate (`selection`), made fit to serve
    (`media.plan`).

    DiskFull when the file system has no room for it; what was downloaded is removed then, as
    after any failure."""
    source = candidate.media_url or candidate.page_url or "the media"
    size = candidate.info.get("filesize") or candidate.info.get("filesize_approx")
    expected = int(size) if isinstance(size, int | float) and size > 0 else None
    seen: dict[str, int | None] = {"done": 0, "total": expected}

    def hook(status: dict[str, Any]) -> None:
        if status.get("status") in ("downloading", "finished"):
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            seen["done"] = int(status.get("downloaded_bytes") or 0)
            seen["total"] = int(total) if total else seen["total"]
            if progress:
                progress(seen["done"] or 0, int(total) if total else None)

    options = _options(
        outtmpl={"default": str(work / "media.%(ext)s")},
        progress_hooks=[hook],
        overwrites=True,
        **selection(keep, max_height),
    )
    try:
        _make_work(work, expected)
        with yt_dlp.YoutubeDL(options) as ydl:
            result = ydl.process_ie_result(dict(candidate.info), download=True)
    except (YoutubeDLError, OSError) as error:
        shutil.rmtree(work, ignore_errors=True)
        if disk_full(error):
            raise _disk_full("download", source, work, seen["total"], seen["done"]) from None
        if isinstance(error, OSError):
            raise FetchError(
                f"fetch: cannot download {source} into {work.parent} ({error.strerror or error})"
            ) from error
        raise FetchError(f"{candidate.page_url}: {_clean(str(error))}") from error
    except Exception as error:
        shutil.rmtree(work, ignore_errors=True)
        raise _unreadable(source, error) from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    downloads = result.get("requested_downloads") or []
    path = Path(downloads[0]["filepath"]) if downloads else None
    if path is None or not path.is_file():
        shutil.rmtree(work, ignore_errors=True)
        raise FetchError(f"{candidate.page_url}: the download produced no file")
    return _keep(path, path, work, media_dir, name, keep, max_height, source)


def _keep(
    source: Path,
    staged: Path | None,
    work: Path,
    media_dir: Path,
    name: str,
    keep: media.Keep,
    max_height: int,
    label: str,
) -> Kept:
    """Land what the archive keeps of `source`: `staged` (a whole copy or download of it in
    the work folder) where it is fit as it is, else what FFmpeg makes of it (media.plan) in
    the work folder. None for `staged`: the source is outside the work folder, copied then.
    DiskFull where the disk fills; the work folder is removed after any failure."""
    how = media.plan(media.streams(source), keep, max_height)
    verb = "convert" if how.args else "copy"
    needed: int | None = None
    try:
        if staged is None:
            needed = None if how.args else source.stat().st_size
            _make_work(work, needed)
        if how.args:
            converted = work / f"kept{how.suffix}"
            media.convert(source, converted, how, label)
            if staged is not None:
                staged.unlink()  # its room is wanted more than the file
            staged = converted
        elif staged is None:
            staged = work / f"media{source.suffix}"
            shutil.copyfile(source, staged)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        if disk_full(error):
            raise _disk_full(verb, label, work, needed) from None
        raise FetchError(
            f"fetch: cannot {verb} {label} into {work.parent} ({error.strerror or error})"
        ) from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Kept(_land(staged, media_dir, name), how.kind)


def _unreadable(url: str, error: Exception) -> FetchError:
    """yt-dlp itself failed on what a source sent (a date it cannot convert, say): logged with
    its traceback, and told in one line."""
    log.error("yt-dlp failed on %s", url, exc_info=error)
    return FetchError(
        f"{url}: yt-dlp cannot read what the source sends ({type(error).__name__}: {error})"
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _disk_full(
    verb: str, source: str, work: Path, needed: int | None, written: int | None = None
) -> DiskFull:
    """The one-line error, once the partial file is removed (so that `free` counts its space,
    which the catalog needs next to record the failure)."""
    shutil.rmtree(work, ignore_errors=True)
    try:
        free = _megabytes(shutil.disk_usage(work.parent).free)
    except OSError:
        free = "unknown"
    if needed:
        need = f"needs {_megabytes(needed)}"
    elif written:
        need = f"needs more than the {_megabytes(written)} written"
    else:
        need = "needs more space"
    return DiskFull(
        f"fetch: no space left to {verb} {source} into {work.parent} ({need}, {free} free); "
        "free some space and ingest it again"
    )


def _make_work(work: Path, needed: int | None) -> None:
    """An empty work folder, with room for `needed` bytes where that is known."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if needed and shutil.disk_usage(work).free < needed:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(work))


def _land(path: Path, media_dir: Path, name: str) -> Path:
    media_dir.mkdir(parents=True, exist_ok=True)
    final = media_dir / f"{name}{path.suffix.lower()}"
    os.replace(path, final)
    return final


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def probe_file(path: Path) -> Candidate:
    """A local media file: identified by its content; metadata from a `<stem>.json` beside it."""
    try:
        if not path.exists():
            raise InvalidInput(f"{path}: no such file")
        if path.is_dir():
            raise InvalidInput(f"{path}: is a directory; give a media file or a URL")
        if not path.is_file():
            raise InvalidInput(f"{path}: not a regular file; give a media file or a URL")
        origin = f"sha256:{sha256_file(path)}"
        local = path.resolve()
    except (OSError, ValueError) as error:  # a name too long, a NUL byte, no permission
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise InvalidInput(f"{path}: cannot read ({reason})") from error
    candidate = Candidate(origin=origin, title=path.stem, local_path=local, extractor="file")
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        _apply_sidecar(candidate, sidecar)
    candidate.captions = local_caption_tracks(path)
    return candidate


def local_caption_tracks(path: Path) -> tuple[CaptionTrack, ...]:
    """Caption files beside a local media file: `<stem>.vtt` or `.srt` (language not said), or
    `<stem>.<language>.vtt` (as yt-dlp names them). A file whose middle part is not a language
    tag belongs to other media (`talk.final.srt` to `talk.final.mp4`), not to `talk.mp4`."""
    tracks: list[CaptionTrack] = []
    try:
        siblings = sorted(path.parent.glob(f"{glob.escape(path.stem)}.*"))
    except OSError as error:
        log.info("cannot look for captions beside %s: %s", path, error)
        return ()
    for sibling in siblings:
        ext = sibling.suffix.lower().lstrip(".")
        if ext not in CAPTION_FORMATS or not sibling.is_file():
            continue
        middle = sibling.name[len(path.stem) : -len(sibling.suffix)].lstrip(".")
        language = _caption_language(middle) if middle else None
        if middle and language is None:
            continue
        tracks.append(CaptionTrack(str(sibling), language, middle, local_path=sibling))
    # Within a language, VTT before SRT, as for a remote source.
    tracks.sort(key=lambda t: (t.label, CAPTION_FORMATS.index(Path(t.name).suffix.lower()[1:])))
    return tuple(tracks)


SIDECAR_LIMIT = 1 << 20


def _apply_sidecar(candidate: Candidate, sidecar: Path) -> None:
    """Metadata from a sidecar: a JSON object whose known fields are strings (or null); unknown
    fields are ignored. InvalidInput naming the file and the field otherwise."""
    try:
        if sidecar.stat().st_size > SIDECAR_LIMIT:
            raise InvalidInput(f"{sidecar}: larger than {SIDECAR_LIMIT // 1024} KB; not a sidecar")
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise InvalidInput(f"{sidecar}: not readable JSON ({error})") from error
    if not isinstance(meta, dict):
        raise InvalidInput(f"{sidecar}: expected a JSON object, not {_json_kind(meta)}")
    for key in SIDECAR_FIELDS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(
                f"{sidecar}: field {key!r} must be a string, not {_json_kind(value)}"
            )
    values: dict[str, str] = {k: meta[k] for k in SIDECAR_FIELDS if meta.get(k) is not None}
    if values.get("title", "").strip():
        candidate.title = values["title"]
    for key in ("municipality", "speaker", "prompt"):
        if key in values:
            setattr(candidate, key, values[key])
    if "published" in values:
        try:
            candidate.published = parse_date(values["published"], "published")
        except ValueError as error:
            raise InvalidInput(f"{sidecar}: {error}") from None
    if "language" in values:
        try:
            code = language_code(values["language"])
        except ValueError as error:
            raise InvalidInput(f"{sidecar}: language: {error}") from None
        candidate.sidecar_language = code
    if "page_url" in values:
        url = values["page_url"].strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise InvalidInput(
                f"{sidecar}: page_url {values['page_url']!r}: expected an http:// or https:// URL"
            )
        candidate.page_url = url


def _json_kind(value: object) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kinds |= {list: "an array", dict: "an object", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def copy_file(
    candidate: Candidate,
    work: Path,
    media_dir: Path,
    name: str,
    *,
    keep: media.Keep = "video",
    max_height: int = 720,
) -> Kept:
    """Keep a local file in the archive: the file itself where it is fit as it is (copied to a
    work folder first, then renamed into place), else what FFmpeg makes of it (`media.plan`),
    written to the work folder first too.

    DiskFull, before anything is written where the file system has too little room for a copy,
    or when it fills while copying or converting; what was written is removed then, as after
    any failure."""
    source = candidate.local_path
    assert source is not None
    return _keep(source, None, work, media_dir, name, keep, max_height, str(source))
