"""Settings fail fast on bad values and name the data directory's parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from archive.config import Settings


def test_environment_is_read_with_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STADTSTIMME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STADTSTIMME_LANGUAGE", "EN")
    monkeypatch.setenv("STADTSTIMME_PUBLIC_URL", "https://stadtstimme.example/")
    settings = Settings()
    assert settings.catalog_path == tmp_path / "catalog.sqlite3"
    assert settings.language == "en"
    assert settings.public_url == "https://stadtstimme.example"


@pytest.mark.parametrize(
    ("field", "value"),
    [("language", "deutsch"), ("language", "d3"), ("public_url", "ftp://x"), ("cpu_threads", -1)],
)
def test_bad_values_fail_fast(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({field: value})


def test_prepare_makes_the_folders(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new")
    settings.prepare()
    assert all(p.is_dir() for p in (settings.media_dir, settings.models_dir, settings.work_dir))
