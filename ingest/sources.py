"""What a source lists, and `update`: queue what is new, follow titles changed at the source.

A source is told apart once, when it is added: a local folder; a URL whose body is an RSS or
Atom feed (read with feedparser); or a URL yt-dlp lists (a channel, a playlist, a page with
videos, one video's page). An update lists each active source flat, without downloading any
media, compares the listing with what the source listed before (archive.sources' source_items)
and with the catalog's origins, and queues only what is new (archive.jobs). A source that fails
(unreachable, a folder gone, a listing of nothing) is recorded as failed and the others go on.

yt-dlp and feedparser are imported inside the functions that use them: the CLI's start-up time
is measured, and `source list` needs neither.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from archive import jobs
from archive import sources as catalog_sources
from archive.catalog import Catalog
from archive.errors import FetchError, InvalidInput, StadtstimmeError
from archive.indexing import index_statement
from archive.models import Statement, Status
from archive.search import Engine
from archive.sources import Source, SourceKind
from archive.text import clean_text

log = logging.getLogger(__name__)

# What a folder holds that is media; sidecars (.json, .vtt, .srt) and everything else are not.
MEDIA_SUFFIXES = frozenset(
    [
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".mpg",
        ".mpeg",
        ".ts",
        ".mts",
        ".wmv",
        ".3gp",
        ".m4a",
        ".mp3",
        ".aac",
        ".ogg",
        ".oga",
        ".opus",
        ".flac",
        ".wav",
        ".wma",
    ]
)
# A folder's file changed less than this long ago may still be being copied onto the share: it is
# left for the next update (then its size and time are final, and it is queued once).
SETTLE_S = 5.0
FEED_LIMIT = 20 << 20  # bytes of a feed read at most; podcast feeds of years are a few MB
HTTP_TIMEOUT_S = 30.0
_FEED_TYPES = ("xml", "rss", "atom")
# yt-dlp entries that are lists themselves (a channel's tabs): listed one level further down.
_NESTED_KEYS = ("Tab", "Playlist")


@dataclass(frozen=True)
class Item:
    """One thing a source lists: the key it is remembered by, what a job ingests, its title at
    the source, and the origin its statement has where that is known without fetching."""

    key: str
    target: str
    title: str | None = None
    origin: str | None = None
    path: Path | None = None  # a folder's file: its origin is its content's hash


@dataclass
class Checked:
    """What one update did with one source."""

    source: Source
    listed: int = 0
    queued: int = 0
    known: int = 0  # new to the source, but in the archive already: not queued
    deleted: int = 0  # new to the source, but deleted from the archive (a tombstone)
    retitled: int = 0
    error: str | None = None
    job_ids: list[int] = field(default_factory=list)


# telling a source's kind


def source_key(target: str) -> tuple[str, SourceKind | None]:
    """What a source is stored by: a URL normalised (kind not yet known), or a local folder's
    absolute path (InvalidInput when it is no folder)."""
    from ingest.fetch import is_url, normalise_url

    text = target.strip()
    if not text:
        raise InvalidInput(f"empty source {target!r}: give a URL or a folder")
    if is_url(text) and not text.startswith("file://"):
        return normalise_url(text), None
    try:
        path = Path(text.removeprefix("file://")).expanduser().resolve()
        if not path.exists():
            raise InvalidInput(f"{target}: no such folder (and not a URL)")
        if not path.is_dir():
            raise InvalidInput(
                f"{target}: not a folder; a source is a feed, a channel, a playlist, a page "
                "or a folder (a single file is ingested with `stadtstimme ingest`)"
            )
    except (OSError, ValueError) as error:
        raise InvalidInput(f"{target}: cannot read ({error})") from error
    return str(path), SourceKind.FOLDER


def detect_kind(url: str) -> SourceKind:
    """A feed when the URL's body is RSS or Atom; a listing when yt-dlp lists anything there;
    else an error naming the URL (a feed that is not a feed says why)."""
    body = _download(url)
    if body is not None:
        content, content_type = body
        if _is_feed(url, content, content_type):
            return SourceKind.FEED
    try:
        listed = _listing(url)
    except FetchError as error:
        raise FetchError(
            f"{url}: neither a feed nor a channel, playlist or page yt-dlp can list "
            f"({error.message.removeprefix(url + ': ')})"
        ) from None
    if not listed:
        raise FetchError(f"{url}: lists nothing to archive (no video or audio found there)")
    from ingest.fetch import origin_for

    direct = origin_for({"extractor_key": "generic", "url": url})
    if body is not None and [item.origin for item in listed] == [direct]:
        # yt-dlp takes any file it has no extractor for as a video of its own; one that is not
        # served as audio or video is not one (a text, an image): the worker would refuse it.
        raise InvalidInput(
            f"{url}: neither a feed nor a page with videos, nor audio or video "
            f"(served as {body[1] or 'no content type'})"
        )
    return SourceKind.LISTING


def add_source(
    catalog: Catalog,
    target: str,
    *,
    municipality: str | None = None,
    speaker: str | None = None,
    language: str | None = None,
    prompt: str | None = None,
) -> tuple[Source, bool]:
    """Add a source, or return the one there is for the same URL or folder (and False)."""
    key, kind = source_key(target)
    existing = catalog_sources.find_source(catalog, key)
    if existing is not None:
        return existing, False
    if kind is None:
        kind = detect_kind(key)
    return catalog_sources.insert_source(
        catalog,
        key,
        kind,
        municipality=_text(municipality),
        speaker=_text(speaker),
        language=language,
        prompt=_text(prompt),
    )


def _text(value: str | None) -> str | None:
    return (clean_text(value) or None) if value is not None else None


# listing


def list_items(source: Source) -> list[Item]:
    """What the source lists now, each item once (the first where a listing repeats one)."""
    if source.kind is SourceKind.FOLDER:
        found = _folder(Path(source.url))
    elif source.kind is SourceKind.FEED:
        body = _download(source.url)
        if body is None:
            raise FetchError(f"{source.url}: is media now, not a feed")
        found = _feed_items(source.url, *body)
    else:
        found = _listing(source.url)
    unique: dict[str, Item] = {}
    for item in found:
        unique.setdefault(item.key, item)
    return list(unique.values())


def _download(url: str) -> tuple[bytes, str] | None:
    """The body of a URL and its content type; None for audio or video (not read: no feed)."""
    request = urllib.request.Request(url, headers={"User-Agent": "stadtstimme"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            content_type = str(response.headers.get("Content-Type") or "").lower()
            if content_type.startswith(("audio/", "video/")):
                return None
            return response.read(FEED_LIMIT), content_type
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: HTTP Error {error.code}: {error.reason}") from None
    except urllib.error.URLError as error:
        raise FetchError(f"{url}: cannot connect ({error.reason})") from None
    except (OSError, ValueError) as error:  # a timeout, a reset, a URL urllib cannot use
        raise FetchError(f"{url}: cannot read ({error})") from None


def _looks_like_xml(content: bytes, content_type: str) -> bool:
    if "html" in content_type:
        return False
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return any(kind in content_type for kind in _FEED_TYPES) or head.startswith(
        (b"<?xml", b"<rss", b"<feed", b"<rdf")
    )


def _parse_feed(url: str, content: bytes, content_type: str) -> Any:
    """The parsed feed; InvalidInput naming the URL when XML is served that is no usable feed.
    None (no error) when the body is not XML at all (an HTML page: yt-dlp's turn)."""
    import feedparser

    parsed = feedparser.parse(content, response_headers={"content-type": content_type})
    harmless = (feedparser.CharacterEncodingOverride,)
    broken = parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), harmless)
    if not parsed.get("version") or broken:
        if not _looks_like_xml(content, content_type):
            return None
        why = parsed.get("bozo_exception") if broken else "neither RSS nor Atom"
        raise InvalidInput(f"{url}: not a feed ({why})")
    if not parsed.entries and not parsed.feed.get("title"):
        raise InvalidInput(f"{url}: not a feed (no title and no entries)")
    return parsed


def _is_feed(url: str, content: bytes, content_type: str) -> bool:
    return _parse_feed(url, content, content_type) is not None


def _enclosure(entry: Any) -> str | None:
    """A podcast-style entry's media: its first audio or video enclosure."""
    for enclosure in entry.get("enclosures") or []:
        kind = str(enclosure.get("type") or "").lower()
        if enclosure.get("href") and kind.startswith(("audio/", "video/")):
            return str(enclosure["href"])
    return None


def _feed_items(url: str, content: bytes, content_type: str) -> list[Item]:
    from ingest.fetch import normalise_url, origin_for

    parsed = _parse_feed(url, content, content_type)
    if parsed is None:
        raise InvalidInput(f"{url}: not a feed any more (an HTML page is served there)")
    items = []
    for entry in parsed.entries:
        link = _enclosure(entry) or entry.get("link")
        if not link:
            continue
        target = urljoin(url, str(link))
        # A direct media URL's origin, as the generic extractor will give it (a page's differs:
        # the job finds out, and the pipeline answers with the statement it has).
        origin = origin_for({"extractor_key": "generic", "url": target})
        key = str(entry.get("id") or "") or normalise_url(target)
        items.append(Item(key, target, _text(entry.get("title")), origin))
    return items


def _flat(url: str) -> dict[str, Any]:
    import yt_dlp
    from yt_dlp.utils import YoutubeDLError

    from ingest import fetch

    options = fetch._options(extract_flat="in_playlist", noplaylist=False)
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.sanitize_info(ydl.extract_info(url, download=False))
    except YoutubeDLError as error:
        raise FetchError(f"{url}: {fetch._clean(str(error))}") from None
    if not isinstance(info, dict):
        raise FetchError(f"{url}: lists nothing")
    return info


def _listing(url: str, depth: int = 0) -> list[Item]:
    """What yt-dlp lists at the URL, flat (nothing downloaded): a playlist's entries, or the one
    video of a video's page."""
    from ingest.fetch import normalise_url, origin_for

    info = _flat(url)
    if info.get("_type") != "playlist":
        target = str(info.get("webpage_url") or url)
        return [Item(normalise_url(target), target, _text(info.get("title")), origin_for(info))]
    items: list[Item] = []
    for entry in _entries(info):
        target = str(entry.get("url") or entry.get("webpage_url") or "")
        if not target:
            continue
        ie_key = str(entry.get("ie_key") or "")
        if depth == 0 and ie_key.endswith(_NESTED_KEYS) and entry.get("_type") == "url":
            items += _listing(target, depth + 1)
            continue
        described = {"extractor_key": ie_key or "generic", "id": entry.get("id"), "url": target}
        items.append(
            Item(normalise_url(target), target, _text(entry.get("title")), origin_for(described))
        )
    return items


def _entries(info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in info.get("entries") or []:
        if isinstance(entry, dict):
            yield entry


def _folder(folder: Path) -> list[Item]:
    """A folder's media files, in and below it (hidden ones not), polled: network shares tell no
    one of changes. A file is known by its path, size and time: replaced by another, it is new."""
    if not folder.is_dir():
        raise FetchError(f"{folder}: the folder is gone (moved, deleted, or a share not mounted)")
    items = []
    settled = time.time() - SETTLE_S
    try:
        for path in sorted(_walk(folder)):
            stat = path.stat()
            if path.suffix.lower() not in MEDIA_SUFFIXES or stat.st_mtime > settled:
                continue
            key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
            items.append(Item(key, str(path), None, None, path))
    except OSError as error:
        raise FetchError(f"{folder}: cannot read ({error.strerror or error})") from None
    return items


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, onerror=_raise):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (Path(root) / name for name in files if not name.startswith("."))


def _raise(error: OSError) -> None:
    raise error


# update


def job_options(item: Item) -> dict[str, Any]:
    """The ingest request's options for an item: the source's title. The source's settings
    (municipality, speaker, language, prompt) the worker takes from the source when it runs the
    job (ingest.worker.request_for), so that they apply to every statement from it."""
    return {"title": item.title} if item.title is not None else {}


def update_source(catalog: Catalog, source: Source, engine: Callable[[], Engine]) -> Checked:
    """List one source and queue what is new; follow titles changed at the source. A failure is
    recorded on the source and returned, never raised."""
    checked = Checked(source)
    try:
        items = list_items(source)
        if not items:
            raise FetchError(f"{source.url}: lists nothing")
        checked.listed = len(items)
        seen = catalog_sources.source_items(catalog, source.id)
        for item in items:
            before = seen.get(item.key)
            if before is None:
                _add(catalog, source, item, checked)
            elif item.title and item.title != before.title:
                checked.retitled += _retitle(catalog, source, item, before, engine)
    except StadtstimmeError as error:
        checked.error = error.message
    except Exception as error:  # a source's surprise must not stop the others
        log.exception("update of source %s failed", source.id)
        checked.error = f"{source.url}: unexpected {type(error).__name__}: {error}"
    catalog_sources.checked(catalog, source.id, checked.error)
    return checked


def update_all(
    catalog: Catalog, engine: Callable[[], Engine], stop: Callable[[], bool] = lambda: False
) -> list[Checked]:
    """Check every active source once (stopping between sources when `stop()` says so)."""
    results = []
    for source in catalog_sources.list_sources(catalog, active_only=True):
        if stop():
            break
        results.append(update_source(catalog, source, engine))
    return results


def _origin(item: Item) -> str | None:
    if item.origin is not None or item.path is None:
        return item.origin
    from ingest.fetch import sha256_file

    try:
        return f"sha256:{sha256_file(item.path)}"
    except OSError as error:
        raise FetchError(f"{item.path}: cannot read ({error.strerror or error})") from None


def _add(catalog: Catalog, source: Source, item: Item, checked: Checked) -> None:
    """A new item: queued, unless the archive has it or deleted it; remembered either way, in
    the transaction that queues it."""
    origin = _origin(item)
    statement = catalog.find_by_origin(origin) if origin else None
    with catalog.transaction():
        job_id = None
        if origin and catalog_sources.is_tombstoned(catalog, origin):
            checked.deleted += 1
        elif statement is not None and statement.status != Status.FAILED:
            checked.known += 1
        else:
            job, new = jobs.enqueue(
                catalog, item.target, source_id=source.id, options=job_options(item)
            )
            job_id = job.id
            if new:
                checked.queued += 1
                checked.job_ids.append(job.id)
        catalog_sources.record_item(catalog, source.id, item.key, item.title, job_id)


def _statement(catalog: Catalog, item: Item, job_id: int | None) -> Statement | None:
    job = jobs.get(catalog, job_id) if job_id is not None else None
    if job is not None and job.statement_id:
        found = catalog.find(job.statement_id)
        if found is not None:
            return found
    origin = _origin(item)
    return catalog.find_by_origin(origin) if origin else None


def _retitle(
    catalog: Catalog,
    source: Source,
    item: Item,
    before: catalog_sources.SourceItem,
    engine: Callable[[], Engine],
) -> int:
    """The source renamed an item: its statement takes the new title (re-indexed: titles are
    searched) unless an operator edited the title. A statement not made yet gets it through its
    queued job; while the job runs, the change waits for the next update. 1 if retitled."""
    statement = _statement(catalog, item, before.job_id)
    changed = 0
    if statement is None:
        job = jobs.get(catalog, before.job_id) if before.job_id is not None else None
        if job is not None and job.status == jobs.JobStatus.RUNNING:
            return 0
        if job is not None and job.status == jobs.JobStatus.QUEUED:
            with catalog.transaction() as db:
                db.execute(
                    "UPDATE jobs SET options = json_set(options, '$.title', ?) "
                    "WHERE id = ? AND status = 'queued'",
                    (item.title, job.id),
                )
    elif "title" not in (statement.edited or "").split(","):
        catalog.update(statement.id, title=item.title)
        if statement.status == Status.INDEXED:
            index_statement(catalog, engine(), statement.id)
        changed = 1
    catalog_sources.record_item(catalog, source.id, item.key, item.title, before.job_id)
    return changed
