"""Getting media and its metadata: the only module that imports yt_dlp (also handles local files).

Files land atomically: downloads go to a work folder and are renamed into the media folder only
when complete, so a final name never holds a partial file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yt_dlp
from yt_dlp.utils import YoutubeDLError

from archive.errors import FetchError, InvalidInput

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


@dataclass
class Candidate:
    """A statement-to-be: where it comes from and what the source says about it."""

    origin: str
    title: str
    page_url: str | None = None
    media_url: str | None = None
    published: str | None = None
    duration: float | None = None
    uploader: str | None = None
    thumbnail: str | None = None
    extractor: str | None = None
    language: str | None = None
    municipality: str | None = None
    speaker: str | None = None
    prompt: str | None = None
    local_path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict, repr=False)


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


def _date(info: dict[str, Any]) -> str | None:
    for key in ("release_date", "upload_date"):
        value = info.get(key)
        if isinstance(value, str) and re.fullmatch(r"\d{8}", value):
            return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    stamp = info.get("release_timestamp") or info.get("timestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, UTC).date().isoformat()
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
    if not isinstance(info, dict):
        raise FetchError(f"{url}: nothing to download")
    if info.get("_type") == "playlist":
        count = len(info.get("entries") or [])
        raise FetchError(f"{url}: is a playlist or feed of {count} entries, not one statement")
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
        language=info.get("language"),
        info=info,
    )


def download(
    candidate: Candidate,
    work: Path,
    media_dir: Path,
    name: str,
    progress: ByteProgress | None = None,
) -> Path:
    """Download the candidate's audio (or whole media where there is no audio-only format)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    def hook(status: dict[str, Any]) -> None:
        if progress and status.get("status") in ("downloading", "finished"):
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            progress(int(status.get("downloaded_bytes") or 0), int(total) if total else None)

    options = _options(
        outtmpl={"default": str(work / "media.%(ext)s")},
        progress_hooks=[hook],
        overwrites=True,
    )
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            result = ydl.process_ie_result(dict(candidate.info), download=True)
    except YoutubeDLError as error:
        raise FetchError(f"{candidate.page_url}: {_clean(str(error))}") from error
    downloads = result.get("requested_downloads") or []
    path = Path(downloads[0]["filepath"]) if downloads else None
    if path is None or not path.is_file():
        raise FetchError(f"{candidate.page_url}: the download produced no file")
    return _land(path, media_dir, name)


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
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    if not path.is_file():
        raise InvalidInput(f"{path}: not a file")
    try:
        origin = f"sha256:{sha256_file(path)}"
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read ({error.strerror})") from error
    candidate = Candidate(
        origin=origin, title=path.stem, local_path=path.resolve(), extractor="file"
    )
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InvalidInput(f"{sidecar}: not readable JSON ({error})") from error
        candidate.title = str(meta.get("title") or candidate.title)
        for key in ("published", "municipality", "speaker", "language", "page_url", "prompt"):
            if isinstance(meta.get(key), str):
                setattr(candidate, key, meta[key])
    return candidate


def copy_file(candidate: Candidate, work: Path, media_dir: Path, name: str) -> Path:
    """Copy a local file into the archive: to a work folder first, then renamed into place."""
    assert candidate.local_path is not None
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    staged = work / f"media{candidate.local_path.suffix}"
    shutil.copyfile(candidate.local_path, staged)
    return _land(staged, media_dir, name)
