"""Dates at the HTTP boundary, and no stored value can hang or break a page: a real
`stadtstimme serve` process over a catalog whose published column holds arbitrary strings."""

from __future__ import annotations

import html
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.routes.pages import (
    MAX_BAR_WIDTH,
    MAX_LABELS,
    MAX_MONTH_BARS,
    scale_step,
    trend_bars,
    trend_chart,
)
from archive.catalog import Catalog
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import spoken, store

TIMEOUT = 10.0


@dataclass
class Served:
    base: str
    catalog_path: Path
    ids: list[str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("served-dates")
    with Catalog(data / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, data / "index")
        ids = [
            store(
                catalog,
                engine,
                f"https://example.org/{n}",
                [spoken(0, "Die Stadt öffnet den Wochenmarkt."), spoken(40, "Die Stadt dankt.")],
                municipality=place,
                published=published,
            ).id
            for n, (place, published) in enumerate(
                [("Köln", "2021-03-01"), ("Bonn", "2022-01"), ("Kiel", "2023")]
            )
        ]
    port = free_port()
    env = os.environ | {"STADTSTIMME_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "ingest", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/statements", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"stadtstimme serve did not start: {server.communicate()[1]}")
        time.sleep(0.2)
    try:
        yield Served(base, data / "catalog.sqlite3", ids)
    finally:
        server.terminate()
        server.wait(10)


def routes(ids: list[str]) -> list[str]:
    first = ids[0]
    return [
        "/",
        "/?q=Stadt",
        "/?q=Stadt&sort=newest",
        "/?q=Stadt&sort=oldest",
        "/?q=Stadt&from=2021&to=2023-06",
        "/?q=Wochenmarkt&from=2022-01-01",
        "/api/search?q=Stadt",
        "/api/search?q=Stadt&sort=newest",
        "/api/search?q=Stadt&sort=oldest&from=2000",
        "/api/statements",
        f"/api/statements/{first}",
        f"/api/statements/{first}/transcript.vtt",
        f"/statements/{first}",
        f"/statements/{first}?t=40",
    ]


stored_values = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24),
    st.from_regex(r"\d{4}(-\d{1,3}(-\d{1,3})?)?", fullmatch=True),
    st.sampled_from(["2021-13-01", "2021-02-30", "gestern", "2021", "", "1000-01", "9999-12"]),
)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(stored_values, min_size=3, max_size=3))
def test_no_stored_date_makes_a_route_fail_or_hang(served: Served, values: list[object]) -> None:
    with sqlite3.connect(served.catalog_path, timeout=10) as db:
        db.executemany(
            "UPDATE statements SET published = ? WHERE id = ?", zip(values, served.ids, strict=True)
        )
    with httpx.Client(base_url=served.base, timeout=TIMEOUT) as client:
        for route in routes(served.ids):
            response = client.get(route)
            assert response.status_code < 500, (route, values, response.text[:300])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("route", "named"),
    [
        ("/api/search?q=Stadt&from=2021-02-30", "from '2021-02-30'"),
        ("/api/search?q=Stadt&from=2021-13", "from '2021-13'"),
        ("/api/search?q=Stadt&to=gestern", "to 'gestern'"),
        # the page names it in the page's language: the parameter and the value, no English
        ("/?q=Stadt&from=2026-13", "<code>from</code> = <code>2026-13</code>"),
    ],
)
def test_an_invalid_date_parameter_is_a_422_naming_it(
    served: Served, route: str, named: str
) -> None:
    response = httpx.get(served.base + route, timeout=TIMEOUT)
    assert response.status_code == 422
    assert named in (response.text if named.startswith("<") else html.unescape(response.text))


@given(st.dictionaries(st.text(max_size=12), st.integers(-5, 10**6), max_size=20))
def test_trend_bars_take_any_keys_and_stay_bounded(trend: dict[str, int]) -> None:
    bars = trend_bars(trend)
    assert len(bars) <= 9000
    assert all(0 <= height <= 1 for _, _, height in bars)


def test_trend_bars_fill_the_months_between_and_skip_what_names_no_month() -> None:
    bars = trend_bars({"2021-11": 2, "2022-02": 4, "2021": 9, "2021-13": 5, "gest": 1})
    assert [(month, count) for month, count, _ in bars] == [
        ("2021-11", 2),
        ("2021-12", 0),
        ("2022-01", 0),
        ("2022-02", 4),
    ]
    assert bars[-1][2] == 1.0


def test_trend_bars_over_many_years_are_years() -> None:
    bars = trend_bars({"1000-01": 1, "9999-12": 2})
    assert len(bars) == 9000 and bars[0][:2] == ("1000", 1) and bars[-1][:2] == ("9999", 2)
    assert len(trend_bars({"2000-01": 1, "2009-12": 1})) == MAX_MONTH_BARS


def test_a_single_month_is_one_narrow_bar_on_a_labelled_scale() -> None:
    chart = trend_chart(trend_bars({"2021-03": 3}))
    assert chart is not None
    (bar,) = chart.bars
    assert bar.width == MAX_BAR_WIDTH < (chart.right - chart.left) / 4
    assert bar.y == chart.top and bar.y + bar.height == chart.base  # the peak reaches the top
    assert [tick.value for tick in chart.ticks] == [0, 1, 2, 3]
    assert chart.ticks[0].y == chart.base and chart.ticks[-1].y == chart.top
    assert [b.period for b in chart.labelled] == ["2021-03"] and chart.monthly


def test_many_months_are_thinned_on_the_axis_and_stay_inside_the_chart() -> None:
    chart = trend_chart(trend_bars({"2015-01": 40, "2019-12": 7, "2017-06": 95}))
    assert chart is not None and len(chart.bars) == 60
    assert len(chart.labelled) <= MAX_LABELS
    assert chart.labelled[0].period == "2015-01"
    assert all(chart.left <= b.x and b.x + b.width <= chart.right for b in chart.bars)
    assert [tick.value for tick in chart.ticks] == [0, 50, 100]  # round steps above the peak
    peak = next(b for b in chart.bars if b.count == 95)
    assert chart.top < peak.y < chart.base


def test_years_are_labelled_as_years() -> None:
    chart = trend_chart(trend_bars({"2000-01": 1, "2012-12": 1}))
    assert chart is not None and not chart.monthly and chart.bars[0].period == "2000"


def test_no_trend_draws_no_chart_and_scale_steps_are_round() -> None:
    assert trend_chart(trend_bars({})) is None
    assert [scale_step(peak) for peak in (1, 3, 4, 7, 30, 95, 1000)] == [1, 1, 2, 5, 10, 50, 500]
