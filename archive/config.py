"""Settings, read once from the environment (prefix STADTSTIMME_) and failing fast on bad values."""

from __future__ import annotations

import errno
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from archive.errors import DataDirReadOnly, InvalidInput

DEFAULT_MODEL = "base"
# The languages Whisper knows, as faster-whisper lists them (faster_whisper.tokenizer.
# _LANGUAGE_CODES; a test keeps the two equal). Copied, not imported: importing faster-whisper
# takes seconds, and every command checks a language.
_WHISPER_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
    "haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr "
    "ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg "
    "th tk tl tr tt uk ur uz vi yi yo zh yue"
)
WHISPER_LANGUAGES: tuple[str, ...] = tuple(_WHISPER_CODES.split())
_WHISPER_LANGUAGES = frozenset(WHISPER_LANGUAGES)


def language_code(value: str) -> str:
    """A spoken-language code Whisper knows ('de', 'en', 'haw', …) or 'auto'; ValueError else."""
    code = value.strip().lower()
    if code != "auto" and code not in _WHISPER_LANGUAGES:
        raise ValueError(
            f"{value!r} is not a language Whisper knows: use a code such as de, en, fr, tr "
            "or 'auto'"
        )
    return code


def language_option(value: str | None, field: str) -> str | None:
    """A language a person gives (an option, an API field), checked where it enters: None when
    not given, InvalidInput naming the field and the value when Whisper does not know it."""
    if value is None:
        return None
    try:
        return language_code(value)
    except ValueError as error:
        raise InvalidInput(f"{field}: {error}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STADTSTIMME_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("stadtstimme")))
    model: str = DEFAULT_MODEL
    language: str = "de"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0)
    # Whisper also transcribes a statement whose source publishes captions, to report the WER
    # between the two (the captions stay the transcript). Off: Whisper is the slow part.
    whisper_with_captions: bool = False
    meili_url: str | None = None
    meili_key: str | None = None
    public_url: str | None = None
    admin_token: str | None = None

    # What the archive keeps of each statement's media: the video (at most max_height lines),
    # only its audio, or nothing (the page then links to, or embeds on a click, the original).
    keep: Literal["video", "audio", "none"] = "video"
    # A statement longer than this (seconds) is refused, with the reason (issue 10).
    max_duration: float = Field(default=4 * 3600, gt=0)
    max_height: int = Field(default=720, ge=144, le=4320)

    # The public site, as the operator sets it. Each of intro, imprint, privacy and
    # accessibility is an http(s) URL to link to, or the path of a Markdown file the site shows
    # (read once at start; a missing file stops the start, naming it). intro may also be
    # Markdown text itself.
    site_name: str = "Stadtstimme"
    site_operator: str | None = None  # who runs the archive, named on every page
    intro: str | None = None
    imprint: str | None = None  # Impressum
    privacy: str | None = None  # Datenschutzerklärung
    accessibility: str | None = None  # Erklärung zur Barrierefreiheit
    report_email: str | None = None  # where readers report an error in a transcript (mailto)
    files_origin: str | None = None  # where local files came from, linked where no page_url is

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return language_code(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"public_url must start with http:// or https://, not {value!r}")
        return value.rstrip("/")

    @field_validator("report_email")
    @classmethod
    def _report_email(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        address = value.strip().removeprefix("mailto:")
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or any(c in address for c in " <>\"'?&"):
            raise ValueError(f"report_email must be an e-mail address, not {value!r}")
        return address

    @field_validator("files_origin")
    @classmethod
    def _files_origin(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"files_origin must start with http:// or https://, not {value!r}")
        return value

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        """The embedded search index (tantivy), unless meili_url names a Meilisearch server."""
        return self.data_dir / "index"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "stadtstimme.log"

    def writable(self) -> bool:
        """Whether the data directory exists and this process may write in it (and its catalog).

        os.access answers False on a read-only mount even for root."""
        if not os.access(self.data_dir, os.W_OK | os.X_OK):
            return False
        return not self.catalog_path.exists() or os.access(self.catalog_path, os.W_OK)

    def prepare(self) -> None:
        """Create the data directory's folders, for a command that writes. DataDirReadOnly, in
        one line, when the directory cannot be written."""
        try:
            for folder in (self.data_dir, self.media_dir, self.models_dir, self.work_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise DataDirReadOnly(
                    f"data directory {self.data_dir} is read-only ({error.strerror}: "
                    f"{error.filename}); this command writes to it"
                ) from None
            raise
        if not self.writable():
            raise DataDirReadOnly(
                f"data directory {self.data_dir} is read-only; this command writes to it"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
