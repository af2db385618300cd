"""The public pages: a search form with results, and a statement page whose player starts at t.

They call the same functions as the JSON API and are templates over their results.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CatalogDep, EngineDep, SearchQueryDep
from api.templating import render
from archive import search as searching
from archive.dates import PartialDate
from archive.models import Statement

router = APIRouter(include_in_schema=False)


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
    return render(
        request,
        "search.html",
        {
            "q": query.text,
            "query": query,
            "results": results,
            "recent": recent,
            "trend": trend_bars(results.trend) if results else [],
            "link": lambda **changes: search_link(query, **changes),
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
