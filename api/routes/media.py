"""GET /media/{id}: the archived video or audio of a statement (with range requests, for
seeking); GET /media/{id}/poster.jpg: a still of its video."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

from api.deps import CatalogDep, SettingsDep, visible_statement
from api.schemas import errors
from archive.errors import NotFound

router = APIRouter(tags=["media"])
# The type of a file by its suffix, for what the statement keeps (Statement.media_kind): the
# same WebM or MP4 container holds a video, or only audio.
MEDIA_TYPES = {
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
}
VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm"}
OTHER_MEDIA = "application/octet-stream"
JPEG = "image/jpeg"
BINARY = {"schema": {"type": "string", "format": "binary"}}
CONTENT = {
    media_type: BINARY
    for media_type in sorted({*MEDIA_TYPES.values(), *VIDEO_TYPES.values(), OTHER_MEDIA})
}
# first-last, first-, -suffix (RFC 9110 14.1.1); positions of up to 18 digits, which int() reads
RANGE_SPEC = re.compile(r"(\d{1,18})-(\d{0,18})|-(\d{1,18})")
RANGE_FORMS = "bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX, comma-separated"


def check_range(header: str, size: int) -> None:
    """Raise the error a Range header earns, so that what Starlette serves is never refused by it
    in a shape of its own: 400 unless it is a list of byte ranges, 416 when one of them starts
    beyond the file (Starlette answers 416 then, though RFC 9110 would serve the others)."""
    unit, _, ranges = header.partition("=")
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    given = header if len(header) <= 100 else header[:100] + "…"
    malformed = HTTPException(400, f"Range {given!r}: expected {RANGE_FORMS}")
    if unit.strip().lower() != "bytes" or not specs:
        raise malformed
    for spec in specs:
        found = RANGE_SPEC.fullmatch(spec)
        if found is None:
            raise malformed
        first, last, suffix = found.groups()
        if first is not None and last and int(last) < int(first):
            raise malformed
        start = int(first) if first is not None else max(size - int(suffix), 0)
        if start >= size:
            raise HTTPException(
                416,
                f"Range {given!r}: the media has {size} bytes",
                headers={"Content-Range": f"bytes */{size}"},
            )


@router.get(
    "/media/{statement_id}",
    operation_id="get_media",
    response_class=FileResponse,
    responses=errors(400, 404, 416, 422)
    | {
        200: {"description": "The whole file.", "content": CONTENT},
        206: {
            "description": "The byte ranges a `Range` header asked for (several as "
            "multipart/byteranges).",
            "content": CONTENT | {"multipart/byteranges": BINARY},
        },
    },
)
def media(
    statement_id: str, request: Request, catalog: CatalogDep, settings: SettingsDep
) -> FileResponse:
    """The statement's archived video or audio (`media_kind` in the statement says which).
    Send `Range: bytes=FIRST-LAST` to seek."""
    statement = visible_statement(catalog, statement_id)
    path, found = _file(settings.media_dir, statement.media_file)
    if found is None:
        raise NotFound(f"statement {statement_id!r} has no archived media")
    suffix = path.suffix.lower()
    types = VIDEO_TYPES if statement.media_kind == "video" else MEDIA_TYPES
    media_type = types.get(suffix, OTHER_MEDIA)
    response = FileResponse(path, media_type=media_type, stat_result=found)
    requested = request.headers.get("range")
    if_range = request.headers.get("if-range")
    validators = (response.headers["etag"], response.headers["last-modified"])
    if requested is not None and (if_range is None or if_range in validators):
        check_range(requested, int(response.headers["content-length"]))
    return response


def _file(folder: Path, name: str | None) -> tuple[Path, os.stat_result | None]:
    """The file a statement names in the media folder, and its stat; None where there is no
    regular file by that name."""
    path = folder / (name or "")
    try:
        found = path.stat() if name else None
    except OSError:
        found = None
    return path, found if found is not None and stat.S_ISREG(found.st_mode) else None


@router.get(
    "/media/{statement_id}/poster.jpg",
    operation_id="get_poster",
    response_class=FileResponse,
    responses=errors(404, 422)
    | {200: {"description": "A still of the archived video (JPEG).", "content": {JPEG: BINARY}}},
)
def poster(statement_id: str, catalog: CatalogDep, settings: SettingsDep) -> FileResponse:
    """A still of the statement's archived video, at most 480 px wide (`poster` in the
    statement); 404 where the archive keeps no video of it."""
    statement = visible_statement(catalog, statement_id)
    path, found = _file(settings.media_dir, statement.poster_file)
    if found is None:
        raise NotFound(f"statement {statement_id!r} has no poster")
    return FileResponse(path, media_type=JPEG, stat_result=found)
