"""The site's shell without a browser: the operator's documents (files, URLs, defaults, bad
values), the language switch and its redirect safety, the favicon, the search page's markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.pages import local_path, with_words
from api.site import BadSiteSetting, load_site
from archive.config import Settings
from tests.api.served import Seeded, seed_archive

YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_archive(tmp_path_factory.mktemp("site"))


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), follow_redirects=False)


@pytest.fixture(scope="module")
def plain(seeded: Seeded) -> Iterator[TestClient]:
    """The app with no operator settings at all."""
    with client_for(seeded.settings) as client:
        yield client


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("documents")
    (folder / "impressum.md").write_text(
        "# Impressum\n\nStadt Musterstadt, Rathausplatz 1.\n\n"
        '<script>alert("x")</script> <img src=x onerror=alert(1)>\n\n'
        "[Klick](javascript:alert(1)) [Rathaus](https://musterstadt.example/)\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def operated(seeded: Seeded, documents: Path) -> Iterator[TestClient]:
    """The app as an operator sets it up: an intro in Markdown text, the imprint from a file,
    the privacy statement a URL, no accessibility statement."""
    settings = seeded.settings.model_copy(
        update={
            "site_name": "Stimme Musterstadt",
            "site_operator": "Stadt Musterstadt",
            "intro": "Die **Video-Botschaften** der Stadt Musterstadt.",
            "imprint": str(documents / "impressum.md"),
            "privacy": "https://musterstadt.example/datenschutz",
            "report_email": "archiv@musterstadt.example",
        }
    )
    with client_for(settings) as client:
        yield client


def test_documents_from_a_file_are_rendered_without_raw_html(operated: TestClient) -> None:
    page = operated.get("/imprint")
    assert page.status_code == 200
    assert "<h1>Impressum</h1>" in page.text
    assert "Stadt Musterstadt, Rathausplatz 1." in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert 'href="javascript:' not in page.text
    assert '<a href="https://musterstadt.example/">Rathaus</a>' in page.text


def test_a_document_given_as_url_is_linked_and_redirected_to(operated: TestClient) -> None:
    home = operated.get("/")
    assert 'href="https://musterstadt.example/datenschutz"' in home.text
    assert 'href="/privacy"' not in home.text
    moved = operated.get("/privacy")
    assert moved.status_code == 307
    assert moved.headers["location"] == "https://musterstadt.example/datenschutz"


def test_the_operator_and_the_intro_are_shown(operated: TestClient) -> None:
    home = operated.get("/")
    assert "Ein Angebot von Stadt Musterstadt" in home.text
    assert "Die <strong>Video-Botschaften</strong> der Stadt Musterstadt." in home.text
    assert "<title>Stimme Musterstadt</title>" in home.text
    about = operated.get("/about")
    assert "Dieses Archiv wird betrieben von Stadt Musterstadt." in about.text
    assert 'href="mailto:archiv@musterstadt.example"' in about.text
    assert "maschinell" in about.text


def test_unset_documents_say_what_the_archive_does_and_name_the_setting(
    plain: TestClient, operated: TestClient
) -> None:
    privacy = plain.get("/privacy")
    assert privacy.status_code == 200
    assert "STADTSTIMME_PRIVACY" in privacy.text
    assert "„lang“" in privacy.text and "IP-Adresse" in privacy.text
    imprint = plain.get("/imprint")
    assert "STADTSTIMME_IMPRINT" in imprint.text
    accessibility = operated.get("/accessibility")
    assert "STADTSTIMME_ACCESSIBILITY" in accessibility.text
    assert "Untertitel" in accessibility.text and "axe-core" in accessibility.text
    assert "Tastatur" in accessibility.text
    about = plain.get("/about")
    assert "STADTSTIMME_SITE_OPERATOR" in about.text
    home = plain.get("/")
    assert "Ein Archiv der Video-Stellungnahmen" in home.text  # the default introduction


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("imprint", "{dir}/missing.md", "STADTSTIMME_IMPRINT"),
        ("privacy", "{dir}", "STADTSTIMME_PRIVACY"),
        ("accessibility", "ftp://musterstadt.example/a11y", "STADTSTIMME_ACCESSIBILITY"),
        ("imprint", "javascript:alert(1)", "STADTSTIMME_IMPRINT"),
        ("privacy", "https://", "STADTSTIMME_PRIVACY"),
        ("intro", "{dir}/missing.md", "STADTSTIMME_INTRO"),
        ("imprint", "{dir}/binary.md", "STADTSTIMME_IMPRINT"),
    ],
)
def test_a_bad_document_setting_stops_with_one_line_naming_it(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    given = value.format(dir=tmp_path)
    settings = Settings.model_validate({"data_dir": tmp_path, setting: given})
    with pytest.raises(BadSiteSetting) as raised:
        load_site(settings)
    message = raised.value.message
    assert named in message and "\n" not in message
    assert given in message or repr(given) in message


def test_intro_text_that_is_no_file_is_markdown(tmp_path: Path) -> None:
    site = load_site(Settings(data_dir=tmp_path, intro="Ein *Archiv* <b>hier</b>"))
    assert site.intro is not None and site.intro.html is not None
    assert str(site.intro.html) == "<p>Ein <em>Archiv</em> &lt;b&gt;hier&lt;/b&gt;</p>\n"


def test_the_language_switch_sets_a_cookie_and_goes_back(plain: TestClient) -> None:
    response = plain.get("/language", params={"to": "en", "next": "/?q=Markt&page=2"})
    assert response.status_code == 303
    assert response.headers["location"] == "/?q=Markt&page=2"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=en;")
    assert f"Max-Age={YEAR}" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert plain.get("/language", params={"to": "fr"}).status_code == 422
    plain.cookies.clear()


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/%0a/evil",
    ],
)
def test_the_language_switch_never_redirects_elsewhere(plain: TestClient, target: str) -> None:
    response = plain.get("/language", params={"to": "de", "next": target})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert local_path(target) in ("/", target)
    plain.cookies.clear()


def test_the_page_links_the_switch_to_the_other_language_and_back_here(plain: TestClient) -> None:
    german = plain.get("/?q=Innenstadt")
    assert 'href="/language?to=en&amp;next=/%3Fq%3DInnenstadt"' in german.text
    english = plain.get("/about", headers={"cookie": "lang=en"})
    assert 'href="/language?to=de&amp;next=/about"' in english.text


def test_favicon(plain: TestClient) -> None:
    icon = plain.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert plain.get("/static/favicon.svg").status_code == 200
    assert '<link rel="icon" href="/favicon.ico"' in plain.get("/").text


def test_the_shell_has_a_skip_link_landmarks_and_the_footer_links(plain: TestClient) -> None:
    page = plain.get("/about").text
    assert page.index('<a class="skip" href="#main">') < page.index('<main id="main"')
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in page
    for href in ("/imprint", "/privacy", "/accessibility", "/about", "/docs"):
        assert f'href="{href}"' in page
    for label in ("Impressum", "Datenschutz", "Barrierefreiheit", "Über das Archiv"):
        assert f">{label}</a>" in page
    assert "style=" not in page and "<style" not in page and "<script>" not in page


def test_results_show_german_dates_separators_and_moments_that_carry_the_query(
    plain: TestClient, seeded: Seeded
) -> None:
    page = plain.get("/", params={"q": "Innenstadt"}).text
    assert "5. März 2021 · Köln · Bürgermeisterin von Köln" in page
    assert "Januar 2022 · Münster" in page and "2020 · Leipzig" in page
    koeln = seeded.ids["koeln"]
    assert f'href="/statements/{koeln}?t=2&amp;q=Innenstadt"' in page
    assert '<h2 class="total" data-total="3">3 Stellungnahmen gefunden</h2>' in page
    assert "style=" not in page and "<script>" not in page
    assert re.search(r'<svg [^>]*role="img" aria-label="Treffer pro Monat, März 2021 bis', page)
    assert '<details class="trend-table">' in page and "<td>März 2021</td><td>1</td>" in page


def test_a_moment_link_takes_the_query_along() -> None:
    assert with_words("/statements/a?t=3", "Maske & Pflicht") == (
        "/statements/a?t=3&q=Maske+%26+Pflicht"
    )
    assert with_words("/statements/a", "x") == "/statements/a?q=x"
    assert with_words("/statements/a?t=3", " ") == "/statements/a?t=3"


def test_a_metadata_hit_says_where_it_matched_and_has_no_moment(plain: TestClient) -> None:
    page = plain.get("/", params={"q": "Bürgermeisterin"}).text
    hits = page.split('<li class="statement-hit"')[1:]
    assert len(hits) == 3
    for hit in hits:
        assert '<p class="matched">Gefunden: beim Sprecher</p>' in hit
        assert 'class="moment"' not in hit
    english = plain.get("/", params={"q": "Leipzig"}, headers={"accept-language": "en"}).text
    assert "Found: in the speaker's name, in the municipality" in english
