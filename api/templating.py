"""Jinja2 templates (autoescaped), the filters the pages use, and render() in the request's
language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from api import i18n
from api.site import site_of
from archive.dates import PartialDate
from archive.export import timecode

# English dates as written in Europe ("3 February 2026"), not the US form Babel's "en" gives.
DATE_LOCALES = {"de": "de_DE", "en": "en_GB"}

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)


def date_long(value: PartialDate | str | None) -> str:
    """A date as people write it in the page's language: "3. Februar 2026", "Februar 2026",
    "2026" (German); "3 February 2026" (English); empty when unknown. A stored string
    (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) is read as the catalog reads it; anything else is empty."""
    if isinstance(value, str):
        value = PartialDate.stored(value)
    if value is None:
        return ""
    language = i18n.current()
    if value.month is None:
        return str(value.year)
    if value.day is None:
        return format_date(
            date(value.year, value.month, 1), "LLLL y", locale=DATE_LOCALES[language]
        )
    return format_date(
        date(value.year, value.month, value.day), "long", locale=DATE_LOCALES[language]
    )


templates.env.filters["timecode"] = timecode
templates.env.filters["date_long"] = date_long


def month_short(period: str) -> str:
    """A trend period ("2021-03" or "2021") as a short axis label ("Feb. 2021"); a year as
    itself."""
    value = PartialDate.stored(period)
    if value is None or value.month is None:
        return period
    return format_date(
        date(value.year, value.month, 1), "MMM y", locale=DATE_LOCALES[i18n.current()]
    )


def month_long(period: str) -> str:
    """A trend period in full: "März 2021", or the year."""
    return date_long(period)


templates.env.filters["month_short"] = month_short
templates.env.filters["month_long"] = month_long


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The template rendered in the request's language (`lang` in its context), which the
    response also names in Content-Language and varies by; `site` (api.site.Site) and
    `site_name` are in every page's context, for the shell."""
    language = i18n.language_of(request)
    site = site_of(request)
    token = i18n.using(language)
    try:
        response = templates.TemplateResponse(
            request,
            name,
            {"lang": language, "site_name": site.name, "site": site, **context},
            status_code=status_code,
            headers=dict(headers or {}),
        )
    finally:
        i18n.reset(token)
    response.headers["content-language"] = language
    response.headers["vary"] = "Accept-Language, Cookie"
    return response
