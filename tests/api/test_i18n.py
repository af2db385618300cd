"""Languages: every string of the pages is translated into German and English, and a page is
in the language the cookie or the browser asks for, German otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api import i18n
from api.app import create_app
from api.templating import date_long
from archive.dates import PartialDate
from tests.api.served import seed_archive

ROOT = Path(__file__).parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


Texts = tuple[str, ...]


def catalogue(language: str) -> dict[Texts, Texts]:
    """msgid (and plural) -> translations, each as a tuple."""
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return {
            tuple([m.id] if isinstance(m.id, str) else m.id): tuple(
                [m.string or ""] if isinstance(m.string, str | None) else m.string
            )
            for m in read_po(po, locale=language)
            if m.id
        }


def extracted() -> set[str]:
    """Every msgid the code and the templates use now (as `make messages` extracts them)."""
    method_map = [("api/**.py", "python"), ("api/templates/**.html", "jinja2")]
    options = {"api/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options
    ):
        found.add(message if isinstance(message, str) else str(message[0]))
    return found


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_string_has_a_translation(language: str) -> None:
    messages = catalogue(language)
    missing = sorted(extracted() - {key[0] for key in messages})
    assert not missing, f"not in the {language} catalogue (run make messages): {missing}"
    empty = sorted(key[0] for key, values in messages.items() if not all(values))
    assert not empty, f"untranslated in {language}: {empty}"
    for keys, values in messages.items():
        given = {name for key in keys for name in PLACEHOLDER.findall(key)}
        for text in values:  # a translation uses the placeholders its msgid gives, and no other
            used = set(PLACEHOLDER.findall(text))
            assert used <= given and given - {"num"} <= used, (keys, text)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    seeded = seed_archive(tmp_path_factory.mktemp("i18n"))
    with TestClient(create_app(seeded.settings)) as client:
        yield client


GERMAN = ("Zum Inhalt springen", "In den Stellungnahmen suchen", "Impressum")
ENGLISH = ("Skip to content", "Search the statements", "Imprint")


@pytest.mark.parametrize(
    ("headers", "cookies", "language"),
    [
        ({}, {}, "de"),
        ({"accept-language": "en-GB,en;q=0.9"}, {}, "en"),
        ({"accept-language": "fr-FR, en;q=0.5, de;q=0.8"}, {}, "de"),
        ({"accept-language": "fr-FR"}, {}, "de"),
        ({}, {"lang": "en"}, "en"),
        ({"accept-language": "en"}, {"lang": "de"}, "de"),
        ({}, {"lang": "xx"}, "de"),
    ],
)
def test_a_page_is_in_the_language_asked_for(
    client: TestClient, headers: dict[str, str], cookies: dict[str, str], language: str
) -> None:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    for path in ("/", "/?q=Innenstadt", "/about", "/privacy"):
        page = client.get(path, headers=headers)
        assert page.status_code == 200
        assert f'<html lang="{language}">' in page.text
        assert page.headers["content-language"] == language
        expected, other = (GERMAN, ENGLISH) if language == "de" else (ENGLISH, GERMAN)
        assert expected[0] in page.text and other[0] not in page.text
        assert "Cookie" in page.headers["vary"]
    client.cookies.clear()


def test_the_switch_makes_the_next_page_english(client: TestClient) -> None:
    client.cookies.clear()
    switched = client.get("/language", params={"to": "en", "next": "/?q=Innenstadt"})
    assert switched.url.path == "/" and switched.url.query == b"q=Innenstadt"
    assert '<html lang="en">' in switched.text and "3 statements found" in switched.text
    client.cookies.clear()


def test_dates_in_each_language() -> None:
    token = i18n.using("de")
    try:
        assert date_long(PartialDate(2026, 2, 3)) == "3. Februar 2026"
        assert date_long("2026-02") == "Februar 2026"
        assert date_long("2026") == "2026"
        assert date_long("gestern") == ""
    finally:
        i18n.reset(token)
    token = i18n.using("en")
    try:
        assert date_long(PartialDate(2026, 2, 3)) == "3 February 2026"
    finally:
        i18n.reset(token)
