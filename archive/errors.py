"""One small tree of errors a user may see: each carries an HTTP status, a code and a message.

The API answers them as `{"error": {"code", "message"}}`, the CLI prints the message on one line.
Anything else is a bug and is logged, never shown as a traceback to a user.
"""

from __future__ import annotations

import errno
import sqlite3

_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(error: BaseException) -> bool:
    """Whether the error comes from a full file system: an OSError saying so, SQLite's "database
    or disk is full", or either behind the errors that wrap them (yt-dlp keeps the original in
    `exc_info`, Python in `__cause__` and `__context__`)."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "disk is full" in str(current)
        ):
            return True
        exc_info = getattr(current, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1 and exc_info[1] is not None:
            pending.append(exc_info[1])
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


class StadtstimmeError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StadtstimmeError):
    status = 404
    code = "not_found"


class InvalidInput(StadtstimmeError):
    status = 422
    code = "invalid_input"


class FetchError(StadtstimmeError):
    status = 502
    code = "fetch_failed"


class MediaError(StadtstimmeError):
    status = 422
    code = "not_media"


class TranscriptionError(StadtstimmeError):
    status = 500
    code = "transcription_failed"


class DiskFull(StadtstimmeError):
    """The data directory's file system has no room for what a stage must write."""

    status = 507
    code = "disk_full"


class ModelUnavailable(StadtstimmeError):
    status = 503
    code = "model_unavailable"


class Busy(StadtstimmeError):
    status = 409
    code = "busy"


class Unauthorized(StadtstimmeError):
    status = 401
    code = "unauthorized"


class DataDirReadOnly(StadtstimmeError):
    """A command that must write met a data directory it cannot write."""

    status = 503
    code = "read_only"


class CatalogUnavailable(StadtstimmeError):
    """A read-only open found no catalog it can read as it is."""

    status = 503
    code = "catalog_unavailable"


class NoCatalog(CatalogUnavailable):
    """No catalog yet: no file, or one that a writer has created but not yet set up."""


class CatalogNeedsMigration(CatalogUnavailable):
    """The catalog is older than this program; only a command that writes migrates it."""


class TakenDown(StadtstimmeError):
    """The statement was deleted by an operator: its tombstone keeps ingest and update from
    bringing it back."""

    status = 410
    code = "taken_down"
