"""GET /media/{id}: the archived audio of a statement (with range requests, for seeking)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import CatalogDep, SettingsDep
from api.routes.statements import visible_statement
from archive.errors import NotFound

router = APIRouter(tags=["media"])
MEDIA_TYPES = {
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
}


@router.get("/media/{statement_id}", response_class=FileResponse)
def media(statement_id: str, catalog: CatalogDep, settings: SettingsDep) -> FileResponse:
    statement = visible_statement(catalog, statement_id)
    path = settings.media_dir / (statement.media_file or "")
    if not statement.media_file or not path.is_file():
        raise NotFound(f"statement {statement_id!r} has no archived media")
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type)
