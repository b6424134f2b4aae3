"""China's official working-day calendar, for work-order deadlines.

A day is a working day unless it is a public holiday (放假) or a weekend
that is not a make-up working day (调休上班).  The State Council publishes
each year's arrangement in the autumn of the year before; the arrangements
for 2024-2026 ship in ``holidays_cn.json`` beside this module, and an
admin adds later years with :meth:`WorkingCalendar.load_file` (same
format) as soon as the notice is out.

A year without an arrangement does not stop the hotline: it falls back to
"Monday to Friday are working days" and logs one warning per year.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OFFICIAL_ARRANGEMENTS = Path(__file__).resolve().with_name("holidays_cn.json")


class CalendarDataError(ValueError):
    """An arrangement file is malformed or contradicts itself."""


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement: days off and make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


def _parse_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarDataError(f"{where}: {value!r} is not a YYYY-MM-DD date") from exc


def _parse_year(entry: Mapping[str, Any]) -> YearArrangement:
    try:
        year = int(entry["year"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarDataError(f"arrangement without a valid 'year': {entry!r}") from exc
    holidays: set[date] = set()
    for block in entry.get("holidays", []):
        start = _parse_date(block.get("start"), f"{year} holiday {block.get('name', '')}")
        end = _parse_date(block.get("end", block.get("start")), f"{year} holiday end")
        if end < start:
            raise CalendarDataError(
                f"{year} holiday {block.get('name', '')} ends before it starts"
            )
        day = start
        while day <= end:
            holidays.add(day)
            day += timedelta(days=1)
    workdays: set[date] = set()
    for item in entry.get("workdays", []):
        day = _parse_date(item.get("date"), f"{year} make-up day {item.get('name', '')}")
        # A make-up day only means something on a weekend; a weekday here
        # is almost certainly a typo in the file.
        if day.weekday() < 5:
            raise CalendarDataError(f"{year} make-up day {day} is not a Saturday or Sunday")
        workdays.add(day)
    clash = holidays & workdays
    if clash:
        days = ", ".join(str(d) for d in sorted(clash))
        raise CalendarDataError(f"{year}: days listed both as holiday and as make-up day: {days}")
    source = str(entry.get("source", ""))
    return YearArrangement(year, frozenset(holidays), frozenset(workdays), source)


def parse_arrangements(data: Mapping[str, Any]) -> list[YearArrangement]:
    """Parse the JSON structure of ``holidays_cn.json`` (``{"years": [...]}``)."""
    years = data.get("years")
    if not isinstance(years, list):
        raise CalendarDataError("arrangement data needs a 'years' list")
    return [_parse_year(entry) for entry in years]


def load_arrangements(path: str | Path) -> list[YearArrangement]:
    """Read an arrangement file in the format of ``holidays_cn.json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalendarDataError(f"cannot read holiday arrangements from {path}: {exc}") from exc
    return parse_arrangements(data)


class WorkingCalendar:
    """Answers "is this a working day" and counts working days.

    Dates are local (Asia/Shanghai) calendar dates.  Safe to share between
    threads once built; adding years while others read is not guarded.
    """

    def __init__(self, arrangements: Iterable[YearArrangement] = ()) -> None:
        self._years: dict[int, YearArrangement] = {}
        self._holidays: set[date] = set()
        self._workdays: set[date] = set()
        self._warned: set[int] = set()
        self._warn_lock = threading.Lock()
        for arrangement in arrangements:
            self.add(arrangement)

    @classmethod
    def official(cls, extra_files: Iterable[str | Path] = ()) -> WorkingCalendar:
        """The shipped 2024-2026 arrangements plus any extra files (later ones win)."""
        calendar = cls(load_arrangements(OFFICIAL_ARRANGEMENTS))
        for path in extra_files:
            calendar.load_file(path)
        return calendar

    @classmethod
    def default(cls) -> WorkingCalendar:
        """The shipped official arrangements only."""
        return cls.official()

    def add(self, arrangement: YearArrangement) -> None:
        """Add a year's arrangement, replacing any earlier one for that year."""
        old = self._years.pop(arrangement.year, None)
        if old is not None:
            self._holidays -= old.holidays
            self._workdays -= old.workdays
        self._years[arrangement.year] = arrangement
        self._holidays |= arrangement.holidays
        self._workdays |= arrangement.workdays

    def load_file(self, path: str | Path) -> list[int]:
        """Add every year in an arrangement file; returns the years loaded."""
        arrangements = load_arrangements(path)
        for arrangement in arrangements:
            self.add(arrangement)
        return [a.year for a in arrangements]

    @property
    def years(self) -> frozenset[int]:
        """The years with an official arrangement loaded."""
        return frozenset(self._years)

    def _check_year(self, year: int) -> None:
        if year in self._years or year in self._warned:
            return
        with self._warn_lock:
            if year in self._warned:
                return
            self._warned.add(year)
        log.warning(
            "no official holiday arrangement loaded for %d: counting Monday-Friday as "
            "working days; load the State Council's %d arrangement to fix deadlines",
            year, year,
        )

    def is_working_day(self, day: date) -> bool:
        """True on a working day: a weekday that is no holiday, or a make-up day."""
        self._check_year(day.year)
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after ``start`` (``start`` itself never counts).

        ``n == 0`` returns ``start``; a negative ``n`` counts backwards.
        """
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        day = start
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days from ``a`` to ``b``, ``a`` not counted, ``b`` counted.

        Negative when ``b`` is before ``a``.  The inverse of
        :meth:`add_working_days`: ``working_days_between(d, add_working_days(d, n)) == n``.
        """
        sign = 1 if b >= a else -1
        step = timedelta(days=sign)
        count = 0
        day = a
        while day != b:
            day += step
            if self.is_working_day(day):
                count += 1
        return sign * count
