"""Sidecars (`<stem>.json` beside a local file): a JSON object of string fields, checked where it
is read. What is wrong is an InvalidInput naming the file and the field, and nothing is stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.config import Settings
from archive.dates import PartialDate
from archive.errors import InvalidInput
from archive.models import Status
from archive.search.engines import open_engine
from ingest import fetch
from ingest.pipeline import Pipeline, Request
from tests.conftest import Served
from tests.ingest.archives import run


@pytest.fixture
def rede(tmp_path: Path, server: Served) -> Path:
    """A real media file with a sidecar to be written beside it."""
    path = tmp_path / "rede.m4a"
    shutil.copyfile(server.root / "c.m4a", path)
    return path


def write_sidecar(media: Path, content: object) -> Path:
    sidecar = media.with_suffix(".json")
    sidecar.write_text(content if isinstance(content, str) else json.dumps(content))
    return sidecar


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([], "expected a JSON object, not an array"),
        ('"Rede"', "expected a JSON object, not a string"),
        ("3", "expected a JSON object, not a number"),
        ("null", "expected a JSON object, not null"),
        ({"title": ["Rede"]}, "field 'title' must be a string, not an array"),
        ({"speaker": 3}, "field 'speaker' must be a string, not a number"),
        ({"municipality": {"name": "Köln"}}, "field 'municipality' must be a string"),
        ({"published": 2021}, "field 'published' must be a string, not a number"),
        ({"language": True}, "field 'language' must be a string, not a boolean"),
        ({"page_url": 1.5}, "field 'page_url' must be a string"),
        ({"prompt": ["Köln"]}, "field 'prompt' must be a string"),
        ({"published": "gestern"}, "published 'gestern': expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"published": "2021-13-01"}, "published '2021-13-01': not a calendar date"),
        ({"published": "2021-02-30"}, "published '2021-02-30': not a calendar date"),
        ({"language": "xx"}, "language: 'xx'"),
        ({"page_url": "javascript:alert(1)"}, "page_url 'javascript:alert(1)': expected an http"),
        ({"page_url": "ftp://example.org/rede"}, "page_url 'ftp://example.org/rede'"),
        ({"page_url": "https://"}, "page_url 'https://'"),
        ("[" * 100_000, "not readable JSON"),
        ("{'title': 'Rede'}", "not readable JSON"),
    ],
)
def test_bad_sidecar_names_the_file_and_the_field(
    content: object, expected: str, rede: Path, tmp_path: Path
) -> None:
    sidecar = write_sidecar(rede, content)
    with pytest.raises(InvalidInput) as caught:
        fetch.probe_file(rede)
    message = caught.value.message
    assert message.startswith(f"{sidecar}: "), message
    assert expected in message
    assert "\n" not in message

    settings = Settings(data_dir=tmp_path / "data")
    with Catalog(settings.catalog_path) as catalog:
        pipeline = Pipeline(settings, catalog, open_engine(settings, catalog))
        with pytest.raises(InvalidInput):
            pipeline.ingest(Request(str(rede)))
        assert catalog.list_statements(statuses=list(Status)) == (0, [])
    assert list(settings.media_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2021", PartialDate(2021)),
        ("2021-05", PartialDate(2021, 5)),
        ("2024-02-29", PartialDate(2024, 2, 29)),
        (None, None),
    ],
)
def test_sidecar_dates_keep_their_precision(
    published: str | None, expected: PartialDate | None, rede: Path
) -> None:
    write_sidecar(rede, {"published": published, "unknown field": [1, 2], "title": "Rede"})
    candidate = fetch.probe_file(rede)
    assert candidate.published == expected
    assert candidate.title == "Rede"


def test_sidecar_language_and_page_url_are_taken(rede: Path) -> None:
    write_sidecar(rede, {"language": " EN ", "page_url": "https://www.koeln.de/rede"})
    candidate = fetch.probe_file(rede)
    assert (candidate.sidecar_language, candidate.page_url) == ("en", "https://www.koeln.de/rede")
    assert candidate.language is None  # yt-dlp's language, kept apart from the sidecar's


@pytest.mark.slow
def test_cli_says_it_in_one_line(rede: Path, cli_env: dict[str, str]) -> None:
    sidecar = write_sidecar(rede, {"published": "gestern", "speaker": "Henriette Reker"})
    done = run(cli_env, "ingest", str(rede))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {sidecar}: published 'gestern': expected YYYY, YYYY-MM or YYYY-MM-DD"
    )
    write_sidecar(rede, [{"title": "Rede"}])
    done = run(cli_env, "ingest", str(rede))
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {sidecar}: expected a JSON object, not an array"
