"""Settings fail fast on bad values and name the data directory's parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from archive.config import WHISPER_LANGUAGES, Settings, language_code


def test_environment_is_read_with_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STADTSTIMME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STADTSTIMME_LANGUAGE", "EN")
    monkeypatch.setenv("STADTSTIMME_PUBLIC_URL", "https://stadtstimme.example/")
    settings = Settings()
    assert settings.catalog_path == tmp_path / "catalog.sqlite3"
    assert settings.index_dir == tmp_path / "index"
    assert settings.language == "en"
    assert settings.public_url == "https://stadtstimme.example"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", "deutsch"),
        ("language", "d3"),
        ("language", "xx"),
        ("public_url", "ftp://x"),
        ("cpu_threads", -1),
    ],
)
def test_bad_values_fail_fast(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({field: value})


def test_prepare_makes_the_folders(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new")
    settings.prepare()
    assert all(p.is_dir() for p in (settings.media_dir, settings.models_dir, settings.work_dir))


def test_whisper_languages_are_faster_whispers() -> None:
    """The copy that spares every command importing faster-whisper is its current list."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(_LANGUAGE_CODES) == WHISPER_LANGUAGES


@pytest.mark.parametrize(
    ("given", "code"),
    [("de", "de"), ("EN", "en"), (" haw ", "haw"), ("yue", "yue"), ("auto", "auto")],
)
def test_language_code_takes_whispers_codes(given: str, code: str) -> None:
    assert language_code(given) == code


@pytest.mark.parametrize("given", ["xx", "deu", "german", "", "d3"])
def test_language_code_refuses_what_whisper_does_not_know(given: str) -> None:
    with pytest.raises(ValueError, match=f"{given!r} is not a language Whisper knows"):
        language_code(given)
