"""Settings, read once from the environment (prefix STADTSTIMME_) and failing fast on bad values."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "base"


def language_code(value: str) -> str:
    """A spoken-language code as Whisper takes it ('de', 'en', …) or 'auto'; ValueError else."""
    code = value.strip().lower()
    if code != "auto" and not (2 <= len(code) <= 3 and code.isalpha()):
        raise ValueError(f"language must be a code like 'de' or 'auto', not {value!r}")
    return code


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STADTSTIMME_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("stadtstimme")))
    model: str = DEFAULT_MODEL
    language: str = "de"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0)
    meili_url: str | None = None
    meili_key: str | None = None
    public_url: str | None = None
    admin_token: str | None = None

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

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def prepare(self) -> None:
        """Create the data directory's folders."""
        for folder in (self.data_dir, self.media_dir, self.models_dir, self.work_dir):
            folder.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
