"""Atom feeds (RFC 4287) of the statements newest in the archive: all of them, and one
municipality's, for feed readers and for anyone who follows a city without searching.

Newest first by when a statement entered the archive (created_at), at most MAX_ENTRIES; only
statements the public sees (indexed), so that a takedown leaves the feeds with the catalog's
commit. Ids are `urn:uuid:`s derived from the statement id (RFC 4122 name-based): stable, valid
without a domain, and unchanged when the site moves to another public URL, so that a reader
never shows an entry twice. The XML is built by ElementTree, which escapes; text from sources is
cleaned of what XML 1.0 cannot hold.

A municipality without statements gets an empty, valid feed rather than a 404: a reader may
subscribe before a city's first statement, and a takedown of a city's only statement must not
turn its feed into an error.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import CatalogDep, SettingsDep
from archive.catalog import Catalog
from archive.config import Settings
from archive.models import Statement, Status
from archive.search import statement_link
from archive.text import clean_text

router = APIRouter(include_in_schema=False)

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
MAX_ENTRIES = 50
SUMMARY_CHARS = 300
EPOCH = "1970-01-01T00:00:00Z"  # the `updated` of a feed whose scope never held a statement
# One namespace for the ids, so that they differ from any other uuid5 of the same names.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://stadtstimme.invalid/atom")
# What XML 1.0 cannot hold even escaped: C0 controls but tab and newline, surrogates, U+FFFE/F.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ET.register_namespace("", ATOM)


def _text(value: str, *, one_line: bool = True) -> str:
    return _NOT_XML.sub("", clean_text(value, one_line=one_line))


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = _text(text)
    return element


def _instant(stamp: str | None) -> str:
    """A catalog time stamp (ISO 8601) as an Atom date: RFC 3339 in UTC, to the second."""
    if not stamp:
        return EPOCH
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:  # the catalog writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _urn(name: str) -> str:
    return uuid.uuid5(NAMESPACE, name).urn


def _absolute(request: Request, settings: Settings, path: str) -> str:
    """A link: under the public URL when one is set, else under the URL the request came to."""
    base = settings.public_url or str(request.base_url).rstrip("/")
    return base + path


def _newest(catalog: Catalog, municipality: str | None) -> list[Statement]:
    where, params = ("AND municipality = ?", (municipality,)) if municipality else ("", ())
    rows = catalog.db.execute(
        f"SELECT id FROM statements WHERE status = ? {where} "
        "ORDER BY created_at DESC, seq DESC LIMIT ?",
        (str(Status.INDEXED), *params, MAX_ENTRIES),
    ).fetchall()
    ids = [row[0] for row in rows]
    found = catalog.statements_by_id(ids)
    return [found[i] for i in ids if i in found]


def _last_change(catalog: Catalog, municipality: str | None) -> str:
    """When anything in the feed's scope last changed, hidden statements included: a takedown
    changes the feed too."""
    where, params = ("WHERE municipality = ?", (municipality,)) if municipality else ("", ())
    row = catalog.db.execute(f"SELECT max(updated_at) FROM statements {where}", params).fetchone()
    return _instant(row[0])


def _summary(catalog: Catalog, statement_id: str) -> str:
    """The start of the transcript, plain text, cut at a word."""
    rows = catalog.db.execute(
        "SELECT text FROM passages WHERE statement_id = ? ORDER BY position LIMIT 3",
        (statement_id,),
    ).fetchall()
    text = _text(" ".join(str(row[0]) for row in rows))
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0] or text[:SUMMARY_CHARS]
    return cut.rstrip(" ,;:.-") + " …"


def _entry(
    feed: ET.Element, catalog: Catalog, statement: Statement, request: Request, settings: Settings
) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", _urn(f"statement:{statement.id}"))
    _add(entry, "title", statement.title or statement.id, type="text")
    _add(entry, "updated", _instant(statement.updated_at or statement.created_at))
    date = statement.published
    if date is not None and date.day is not None and date.month is not None:
        # Only a date known to the day is an instant; a year or a month is not.
        _add(entry, "published", f"{date.year:04d}-{date.month:02d}-{date.day:02d}T00:00:00Z")
    link = statement_link(statement.id, None, None)
    _add(entry, "link", rel="alternate", type="text/html", href=_absolute(request, settings, link))
    author = _add(entry, "author")
    _add(author, "name", statement.speaker or statement.municipality or settings.site_name)
    if statement.municipality:
        municipality = _text(statement.municipality)
        _add(entry, "category", term=municipality, label=municipality)
    summary = _summary(catalog, statement.id)
    if summary:
        _add(entry, "summary", summary, type="text")


def build_feed(
    catalog: Catalog, request: Request, settings: Settings, municipality: str | None
) -> bytes:
    """The feed as UTF-8 XML, with its declaration."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    site = settings.site_name
    if municipality is None:
        scope, page = "statements", "/"
        _add(feed, "title", site, type="text")
        self_path = "/feeds/statements.atom"
    else:
        scope, page = (
            f"municipality:{municipality}",
            "/?" + urlencode({"municipality": municipality}),
        )
        _add(feed, "title", f"{site}: {municipality}", type="text")
        self_path = f"/feeds/municipalities/{quote(municipality, safe='')}.atom"
    _add(feed, "id", _urn(f"feed:{scope}"))
    _add(feed, "updated", _last_change(catalog, municipality))
    _add(
        feed,
        "link",
        rel="self",
        type="application/atom+xml",
        href=_absolute(request, settings, self_path),
    )
    _add(feed, "link", rel="alternate", type="text/html", href=_absolute(request, settings, page))
    author = _add(feed, "author")  # for entries without one of their own, and an empty feed
    _add(author, "name", settings.site_operator or site)
    _add(feed, "generator", "Stadtstimme")
    for statement in _newest(catalog, municipality):
        _entry(feed, catalog, statement, request, settings)
    xml: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml


def _atom(content: bytes) -> Response:
    # Revalidated each time: a takedown must leave every copy of the feed at once.
    return Response(content, media_type=MEDIA_TYPE, headers={"cache-control": "no-cache"})


@router.get("/feeds/statements.atom")
def all_statements(request: Request, catalog: CatalogDep, settings: SettingsDep) -> Response:
    """The newest statements of the whole archive."""
    return _atom(build_feed(catalog, request, settings, None))


# :path, so that a name with a slash ("Frankfurt/Oder") has a feed too.
@router.get("/feeds/municipalities/{name:path}.atom")
def municipality_statements(
    name: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
) -> Response:
    """The newest statements of one municipality (an empty feed for one without any)."""
    return _atom(build_feed(catalog, request, settings, name))
