"""The operator's part of the site: its name, who runs it, the introduction and the documents
(Impressum, Datenschutz, Barrierefreiheit), each a link elsewhere or a Markdown file shown here.

Read and checked once, at start (`load_site`): a file that is missing or unreadable, or a value
that is neither an http(s) URL nor a file, stops the start with one line naming the setting and
the value. Markdown is rendered with raw HTML disabled and only safe link schemes (markdown-it's
defaults), so an operator's file cannot put script into a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request

from archive.config import Settings
from archive.errors import StadtstimmeError

DocumentName = Literal["imprint", "privacy", "accessibility"]
DOCUMENTS: tuple[DocumentName, ...] = ("imprint", "privacy", "accessibility")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
MAX_DOCUMENT_BYTES = 1_000_000

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]+:", re.IGNORECASE)
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("table")


class BadSiteSetting(StadtstimmeError):
    """A site setting that names no URL and no readable Markdown file."""


@dataclass(frozen=True)
class Document:
    """A link to the operator's own page (`url`), or Markdown rendered here (`html`)."""

    url: str | None = None
    html: Markup | None = None


@dataclass(frozen=True)
class Site:
    name: str
    operator: str | None
    intro: Document | None
    imprint: Document | None
    privacy: Document | None
    accessibility: Document | None
    report_email: str | None

    def document(self, name: DocumentName) -> Document | None:
        document: Document | None = getattr(self, name)
        return document


def render_markdown(text: str) -> Markup:
    """Markdown as HTML; raw HTML in it is shown as text, javascript: links are not links."""
    return Markup(_markdown.render(text))  # markdown-it escaped it (html=False)


def _setting(name: str) -> str:
    return f"STADTSTIMME_{name.upper()}"


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if not parts.netloc or any(c.isspace() or c in "<>\"'" for c in value):
        raise BadSiteSetting(f"{_setting(name)}: {value!r} is not a valid http(s) URL")
    return value


def _file(name: str, value: str) -> Markup:
    path = Path(value).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BadSiteSetting(
            f"{_setting(name)}: cannot read the Markdown file {str(path)!r} ({reason}); "
            "give an http(s) URL or the path of a readable Markdown file"
        ) from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BadSiteSetting(
            f"{_setting(name)}: {str(path)!r} is over {MAX_DOCUMENT_BYTES} bytes; "
            "is it a Markdown file?"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadSiteSetting(
            f"{_setting(name)}: {str(path)!r} is not UTF-8 text; give a Markdown file"
        ) from None
    return render_markdown(text)


def document(name: str, value: str | None, text_allowed: bool = False) -> Document | None:
    """What a setting names: None when unset, a link for an http(s) URL, else a Markdown file
    read now. With `text_allowed` (the intro), a value that is no file and does not look like a
    file's path is Markdown text itself."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.lower().startswith(("http://", "https://")):
        return Document(url=_url(name, value))
    looks_like_path = value.lower().endswith(MARKDOWN_SUFFIXES) or (
        "\n" not in value and " " not in value and "/" in value
    )
    if text_allowed and not looks_like_path and not Path(value).expanduser().is_file():
        return Document(html=render_markdown(value))
    if _SCHEME.match(value):  # ftp:, javascript:, mailto: … (a drive letter is one letter)
        raise BadSiteSetting(
            f"{_setting(name)}: {value!r} is neither an http(s) URL nor a Markdown file"
        )
    return Document(html=_file(name, value))


def load_site(settings: Settings) -> Site:
    """The site as the settings describe it; BadSiteSetting (one line) for a bad value."""
    return Site(
        name=settings.site_name,
        operator=(settings.site_operator or "").strip() or None,
        intro=document("intro", settings.intro, text_allowed=True),
        imprint=document("imprint", settings.imprint),
        privacy=document("privacy", settings.privacy),
        accessibility=document("accessibility", settings.accessibility),
        report_email=settings.report_email,
    )


def site_of(request: Request) -> Site:
    """The site the app loaded at start (create_app: a bad setting stops the start there)."""
    site: Site = request.app.state.site
    return site
