"""Dates as people and sources give them: precise to the year, the month or the day.

A date is checked once, where it enters (CLI options, sidecars, yt-dlp metadata, feeds, API
parameters), into a `PartialDate`; nothing downstream meets a string it cannot handle. The
catalog stores its canonical form (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`), whose string order is the
calendar order, and `PartialDate.stored` reads back any string a catalog may hold without
failing.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import total_ordering

from archive.errors import InvalidInput

MIN_YEAR = 1000  # four digits, so that the stored form sorts as the calendar does
MAX_YEAR = 9999
FORMS = "YYYY, YYYY-MM or YYYY-MM-DD"
_FORM = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)


@total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A calendar date precise to the year, the month or the day; ordered as its stored form
    ("2021" < "2021-01" < "2021-01-05" < "2021-02")."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year {self.year} is out of range")
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.month is not None:
            date(self.year, self.month, 1 if self.day is None else self.day)  # 2021-13, 2021-02-30

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """`YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real calendar date; ValueError otherwise."""
        found = _FORM.fullmatch(text)
        if not found:
            raise ValueError(f"expected {FORMS}")
        year, month, day = (int(part) if part else None for part in found.groups())
        assert year is not None
        try:
            return cls(year, month, day)
        except ValueError as error:
            raise ValueError(f"not a calendar date ({error})") from None

    @classmethod
    def of(cls, day: date) -> PartialDate:
        return cls(day.year, day.month, day.day)

    @classmethod
    def stored(cls, value: object) -> PartialDate | None:
        """What a catalog holds, read without failing: None for anything that is not a date."""
        if not isinstance(value, str):
            return None
        try:
            return cls.parse(value)
        except ValueError:
            return None

    @property
    def first(self) -> date:
        """The first day the date may name."""
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last(self) -> date:
        """The last day the date may name."""
        if self.month is None:
            return date(self.year, 12, 31)
        return date(
            self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1]
        )

    @property
    def month_key(self) -> str | None:
        """`YYYY-MM` when the date names a month (what the trend counts), else None."""
        return f"{self.year:04d}-{self.month:02d}" if self.month else None

    def overlaps(self, low: PartialDate | None, high: PartialDate | None) -> bool:
        """Whether the date may fall in the range from `low`'s first day to `high`'s last."""
        return (low is None or self.last >= low.first) and (high is None or self.first <= high.last)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key < other._key

    @property
    def _key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text


def parse_date(value: str, field: str) -> PartialDate:
    """A date that enters from outside; ValueError naming the field and the value otherwise."""
    try:
        return PartialDate.parse(value)
    except ValueError as error:
        raise ValueError(f"{field} {value!r}: {error}") from None


def date_option(value: str | None, field: str) -> PartialDate | None:
    """A date a person gives (a command-line option, an API parameter): None when not given,
    InvalidInput naming the field and the value when it is no date."""
    if value is None:
        return None
    try:
        return parse_date(value, field)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
