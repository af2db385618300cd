"""Dates precise to the year, the month or the day: parsed once where they enter, read back
from any string a catalog may hold without failing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.dates import PartialDate, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021", PartialDate(2021)),
        ("2021-03", PartialDate(2021, 3)),
        ("2024-02-29", PartialDate(2024, 2, 29)),
    ],
)
def test_the_three_forms_keep_their_precision(text: str, expected: PartialDate) -> None:
    parsed = PartialDate.parse(text)
    assert parsed == expected
    assert str(parsed) == text


@pytest.mark.parametrize(
    "text",
    [
        "2021-13-01",
        "2021-13",
        "2026-13",
        "2021-02-30",
        "2023-02-29",
        "2021-13-99",
        "2021-00",
        "2021-01-00",
        "0999",
        "gestern",
        "",
        " 2021",
        "2021-1-5",
        "3. Februar 2026",
        "\uff12\uff10\uff12\uff11",  # full-width digits
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.parse(text)
    assert PartialDate.stored(text) is None


def test_the_error_names_the_field_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"--published '2021-13-01': not a calendar date"):
        parse_date("2021-13-01", "--published")
    with pytest.raises(ValueError, match=r"from 'gestern': expected YYYY, YYYY-MM or YYYY-MM-DD"):
        parse_date("gestern", "from")


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2021", date(2021, 1, 1), date(2021, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2021-03-05", date(2021, 3, 5), date(2021, 3, 5)),
    ],
)
def test_a_date_spans_the_days_it_may_name(text: str, first: date, last: date) -> None:
    parsed = PartialDate.parse(text)
    assert (parsed.first, parsed.last) == (first, last)


def test_a_date_matches_every_range_it_overlaps() -> None:
    year = PartialDate(2021)
    assert year.overlaps(PartialDate(2021, 12, 31), None)
    assert year.overlaps(None, PartialDate(2021, 1, 1))
    assert year.overlaps(PartialDate(2021, 6), PartialDate(2021, 6))
    assert not year.overlaps(PartialDate(2022), None)
    assert not year.overlaps(None, PartialDate(2020, 12, 31))
    assert PartialDate(2021, 3, 5).overlaps(None, None)


def test_only_a_date_that_names_a_month_has_a_month_key() -> None:
    assert PartialDate(2021).month_key is None
    assert PartialDate(2021, 3).month_key == "2021-03"
    assert PartialDate(2021, 3, 5).month_key == "2021-03"


def partial_dates() -> st.SearchStrategy[PartialDate]:
    day = st.dates(date(1000, 1, 1), date(9999, 12, 31))
    return st.one_of(
        day.map(PartialDate.of),
        day.map(lambda d: PartialDate(d.year, d.month)),
        day.map(lambda d: PartialDate(d.year)),
    )


@given(partial_dates(), partial_dates())
def test_order_is_the_order_of_the_stored_form(a: PartialDate, b: PartialDate) -> None:
    assert (a < b) == (str(a) < str(b))
    assert PartialDate.parse(str(a)) == a


@given(st.one_of(st.text(), st.integers(), st.none(), st.binary(), st.floats()))
def test_reading_back_never_fails(value: object) -> None:
    found = PartialDate.stored(value)
    assert found is None or str(found) == value
