"""The public pages around the search: the search page, the about page, the operator's
documents (Impressum, Datenschutz, Barrierefreiheit), the language switch and the favicon.

They call the same functions as the JSON API and are templates over their results.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api import i18n
from api.deps import CatalogDep, EngineDep, SearchQueryDep
from api.site import DocumentName, site_of
from api.templating import render
from archive import search as searching
from archive.dates import PartialDate
from archive.models import Statement

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent.parent / "static"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
FACETS_SHOWN = 10


@router.get("/")
def home(
    request: Request,
    query: SearchQueryDep,
    catalog: CatalogDep,
    engine: EngineDep,
) -> Response:
    results = None
    recent: list[Statement] = []
    if query.text.strip():
        results = searching.search(catalog, engine, query, None)
    else:
        _, recent = catalog.list_statements(limit=20)
    # The moments open the statement with the words that found them, to highlight there.
    said = (
        results.suggestion if results and results.corrected and results.suggestion else query.text
    )
    return render(
        request,
        "search.html",
        {
            "q": query.text,
            "query": query,
            "results": results,
            "recent": recent,
            "chart": trend_chart(trend_bars(results.trend)) if results else None,
            "facets_shown": FACETS_SHOWN,
            "link": lambda **changes: search_link(query, **changes),
            "moment_link": lambda link: with_words(link, said),
        },
    )


def search_link(query: searching.Query, **changes: object) -> str:
    """This page's URL for the query with some parameters changed (None removes one)."""
    params = {
        "q": query.text,
        "municipality": query.municipality,
        "speaker": query.speaker,
        "from": query.date_from,
        "to": query.date_to,
        "sort": None if query.sort == "relevance" else query.sort,
        "page": None if query.page == 1 else query.page,
    } | changes
    return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def with_words(link: str, words: str) -> str:
    """A moment's link that also carries the query (`q`), which the statement page highlights."""
    if not words.strip():
        return link
    return link + ("&" if "?" in link else "?") + urlencode({"q": words})


@router.get("/about")
def about(request: Request) -> Response:
    return render(request, "about.html", {})


def _document(request: Request, name: DocumentName) -> Response:
    """The operator's document: a redirect to its URL, the Markdown file it gave, or the
    built-in text that says what the archive does and which setting the operator has not set."""
    document = site_of(request).document(name)
    if document is not None and document.url is not None:
        return RedirectResponse(document.url, status_code=307)
    return render(
        request,
        "document.html",
        {"name": name, "document": document, "setting": f"STADTSTIMME_{name.upper()}"},
    )


@router.get("/imprint")
def imprint(request: Request) -> Response:
    return _document(request, "imprint")


@router.get("/privacy")
def privacy(request: Request) -> Response:
    return _document(request, "privacy")


@router.get("/accessibility")
def accessibility(request: Request) -> Response:
    return _document(request, "accessibility")


def local_path(value: str) -> str:
    """`value` when it is a path on this site, else "/": the switch never redirects elsewhere
    ("//host", "/\\host", "https://host", control characters browsers drop are all refused)."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


@router.get("/language")
def switch_language(
    request: Request,
    to: Annotated[i18n.Language, Query(description="de or en")],
    target: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    """Remember the language in the `lang` cookie (a year) and go back to the page (only ever
    a page of this site). A plain link, so the switch works without JavaScript."""
    response = RedirectResponse(local_path(target), status_code=303)
    response.set_cookie(
        i18n.COOKIE,
        to,
        max_age=LANGUAGE_COOKIE_SECONDS,
        path="/",
        samesite="lax",
        httponly=True,
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    return FileResponse(
        STATIC / "favicon.ico",
        media_type="image/x-icon",
        headers={"cache-control": "public, max-age=86400"},
    )


MAX_MONTH_BARS = 120  # beyond ten years, a bar per year


def trend_bars(trend: dict[str, int]) -> list[tuple[str, int, float]]:
    """(period, passages, height 0..1) for every month, or over ten years every year, from the
    first to the last with hits. Keys that name no month are left out, so that no value an
    engine returns can stretch or break the chart."""
    counts: Counter[tuple[int, int]] = Counter()
    for key, passages in trend.items():
        date = PartialDate.stored(key)
        if date is not None and date.month is not None and passages > 0:
            counts[(date.year, date.month)] += passages
    if not counts:
        return []
    (year, month), last = min(counts), max(counts)
    if (last[0] - year) * 12 + last[1] - month >= MAX_MONTH_BARS:
        years: Counter[int] = Counter()
        for (y, _), passages in counts.items():
            years[y] += passages
        periods = [(str(y), years[y]) for y in range(year, last[0] + 1)]
    else:
        periods = []
        while (year, month) <= last:
            periods.append((f"{year:04d}-{month:02d}", counts[(year, month)]))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    peak = max(passages for _, passages in periods)
    return [(period, passages, passages / peak) for period, passages in periods]


# The trend chart's drawing, in the SVG's own units (it scales to the page's width).
CHART_WIDTH = 480
CHART_HEIGHT = 180
CHART_LEFT = 40  # room for the y scale's labels
CHART_RIGHT = 8
CHART_TOP = 12
CHART_BOTTOM = 26  # room for the month labels
MAX_BAR_WIDTH = 36  # a single month is a bar, not the whole width
MAX_LABELS = 4  # month labels on the x axis; more would overlap on a phone


@dataclass(frozen=True)
class Bar:
    period: str  # YYYY-MM, or YYYY over ten years
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class TrendChart:
    bars: list[Bar]
    ticks: list[Tick]  # the y scale: 0 and a few round values up to the top
    labelled: list[Bar]  # the bars whose period the x axis names
    monthly: bool
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    right: int = CHART_WIDTH - CHART_RIGHT
    top: int = CHART_TOP
    base: int = CHART_HEIGHT - CHART_BOTTOM  # the x axis


def scale_step(peak: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) dividing 0..peak into three parts at most."""
    wanted = max(peak / 3, 1.0)
    power = 10 ** math.floor(math.log10(wanted))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= wanted)


def trend_chart(bars: list[tuple[str, int, float]]) -> TrendChart | None:
    """The trend drawn with axes: bars no wider than MAX_BAR_WIDTH, a y scale with round
    ticks, and at most MAX_LABELS periods named on the x axis, evenly spaced."""
    if not bars:
        return None
    peak = max(count for _, count, _ in bars)
    step = scale_step(peak)
    top_value = math.ceil(peak / step) * step
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    base = CHART_HEIGHT - CHART_BOTTOM
    slot = plot_width / len(bars)
    width = min(MAX_BAR_WIDTH, slot * 0.8)
    drawn = []
    for n, (period, count, _) in enumerate(bars):
        height = plot_height * count / top_value
        drawn.append(
            Bar(
                period,
                count,
                x=round(CHART_LEFT + n * slot + (slot - width) / 2, 2),
                y=round(base - height, 2),
                width=round(width, 2),
                height=round(height, 2),
            )
        )
    ticks = [
        Tick(value, round(base - plot_height * value / top_value, 2))
        for value in range(0, top_value + 1, step)
    ]
    every = math.ceil(len(bars) / MAX_LABELS)
    return TrendChart(
        bars=drawn,
        ticks=ticks,
        labelled=drawn[::every],
        monthly=len(bars[0][0]) > 4,
    )
