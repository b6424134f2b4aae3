"""China's official working-day calendar, for work-order deadlines.

A day is a working day unless it is a public holiday (放假) or a weekend
that is not a make-up working day (调休上班).  The State Council publishes
each year's arrangement in the autumn of the year before; the arrangements
for 2024-2026 ship in ``holidays_cn.json`` beside this module, and an
admin adds later years with :meth:`WorkingCalendar.load_file` (same
format) as soon as the notice is out.

A year without an arrangement does not stop the hotline: it falls back to
"Monday to Friday are working days" and logs one warning per year; a
deadline counted over such a year says so (``Deadline.fallback``), the
order is flagged and recomputed when the year is loaded
(worksheets/calendar_store.py keeps loaded years in the database).
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
    """An arrangement file is malformed or contradicts itself; ``problems``
    names every problem found, not only the first."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


# Statutory days off a year (全国年节及纪念日放假办法): 11 until 2024, 13 from
# 2025 (春节 and 劳动节 one more each).  A whole year's arrangement gives
# exactly these, net of make-up days: weekday holidays - make-up days.
STATUTORY_DAYS_OFF = {2024: 11}
STATUTORY_DAYS_OFF_FROM_2025 = 13
# Days every arrangement must give off (元旦, 劳动节, 国庆节) and a block
# every one must name (春节 moves with the moon).
FIXED_HOLIDAYS = ((1, 1, "元旦 New Year's Day"), (5, 1, "劳动节 Labour Day"),
                  (10, 1, "国庆节 National Day"))


def statutory_days_off(year: int) -> int:
    return STATUTORY_DAYS_OFF.get(year, 11 if year < 2025 else STATUTORY_DAYS_OFF_FROM_2025)


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement: days off and make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""
    # What the notice calls each day (元旦, 春节...; a make-up day by its holiday).
    names: tuple[tuple[date, str], ...] = ()


def _parse_date(value: Any, where: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a YYYY-MM-DD date")
        return None


def _items(year: int, entry: Mapping[str, Any], key: str,
           problems: list[str]) -> list[Mapping[str, Any]]:
    """The objects of ``entry[key]``; anything else is a problem."""
    items = entry.get(key, [])
    if not isinstance(items, list):
        problems.append(f"{year}: '{key}' must be a list")
        return []
    good = [item for item in items if isinstance(item, Mapping)]
    problems.extend(f"{year}: {key} entry {item!r} is not an object"
                    for item in items if not isinstance(item, Mapping))
    return good


def _holiday_days(year: int, entry: Mapping[str, Any], problems: list[str]) -> dict[date, str]:
    """Every day off, named by its block; a day in two blocks is a problem."""
    days: dict[date, str] = {}
    for block in _items(year, entry, "holidays", problems):
        name = str(block.get("name", ""))
        start = _parse_date(block.get("start"), f"{year} holiday {name}", problems)
        end = _parse_date(block.get("end", block.get("start")), f"{year} holiday {name} end",
                          problems)
        if start is None or end is None:
            continue
        if end < start:
            problems.append(f"{year} holiday {name} ends before it starts")
            continue
        if (end - start).days > 15:
            problems.append(f"{year} holiday {name} is {(end - start).days + 1} days long")
            continue
        day = start
        while day <= end:
            if day in days:
                problems.append(f"{year}: {day} is listed twice as a holiday "
                                f"({days[day]} and {name})")
            days[day] = name
            day += timedelta(days=1)
    return days


def _makeup_days(year: int, entry: Mapping[str, Any], problems: list[str]) -> dict[date, str]:
    days: dict[date, str] = {}
    for item in _items(year, entry, "workdays", problems):
        name = str(item.get("name", ""))
        day = _parse_date(item.get("date"), f"{year} make-up day {name}", problems)
        if day is None:
            continue
        # A make-up day only means something on a weekend; a weekday here
        # is almost certainly a typo in the file.
        if day.weekday() < 5:
            problems.append(f"{year} make-up day {day} is not a Saturday or Sunday")
        if day in days:
            problems.append(f"{year}: make-up day {day} is listed twice")
        days[day] = name
    return days


def _check_whole_year(year: int, holidays: dict[date, str], workdays: dict[date, str],
                      problems: list[str]) -> None:
    """The arrangement is the whole year's, not a part of it."""
    outside = sorted(d for d in (*holidays, *workdays) if d.year != year)
    if outside:
        problems.append(f"{year}: dates outside {year}: " + ", ".join(map(str, outside)))
    for month, day, name in FIXED_HOLIDAYS:
        if date(year, month, day) not in holidays:
            problems.append(f"{year}: {date(year, month, day)} ({name}) is not a holiday")
    if not any("春节" in name or "spring" in name.lower() for name in holidays.values()):
        problems.append(f"{year}: no 春节 (Spring Festival) holiday block")
    net = sum(1 for d in holidays if d.weekday() < 5) - len(workdays)
    expected = statutory_days_off(year)
    if net != expected:
        problems.append(f"{year}: weekday holidays minus make-up days is {net}, the statutory "
                        f"days off are {expected}; is a holiday or make-up day missing?")


def _parse_year(entry: Mapping[str, Any], problems: list[str],
                whole_year: bool) -> YearArrangement | None:
    try:
        year = int(entry["year"])
    except (KeyError, TypeError, ValueError):
        problems.append(f"arrangement without a valid 'year': {str(entry)[:80]}")
        return None
    if not 2000 <= year <= 2100:
        problems.append(f"year {year} is out of range")
        return None
    holidays = _holiday_days(year, entry, problems)
    workdays = _makeup_days(year, entry, problems)
    clash = sorted(set(holidays) & set(workdays))
    if clash:
        days = ", ".join(str(d) for d in clash)
        problems.append(f"{year}: days listed both as holiday and as make-up day: {days}")
    if whole_year:
        _check_whole_year(year, holidays, workdays, problems)
    source = str(entry.get("source", ""))
    names = tuple(sorted((d, n) for d, n in {**holidays, **workdays}.items() if n))
    return YearArrangement(year, frozenset(holidays), frozenset(workdays), source, names)


def parse_arrangements(data: Mapping[str, Any], *,
                       whole_year: bool = True) -> list[YearArrangement]:
    """Parse the JSON structure of ``holidays_cn.json`` (``{"years": [...]}``).

    Raises :class:`CalendarDataError` naming every problem: bad dates, a
    date listed twice, a day both off and on, a make-up day on a weekday,
    a year given twice, and (``whole_year``) an arrangement that is not the
    whole year's (dates of another year, 元旦/劳动节/国庆节 or 春节 missing,
    days off not adding up to the statutory total).
    """
    years = data.get("years") if isinstance(data, Mapping) else None
    if not isinstance(years, list) or not years:
        raise CalendarDataError("arrangement data needs a non-empty 'years' list")
    problems: list[str] = []
    parsed: list[YearArrangement] = []
    for entry in years:
        if not isinstance(entry, Mapping):
            problems.append(f"arrangement {entry!r} is not an object")
            continue
        arrangement = _parse_year(entry, problems, whole_year)
        if arrangement is None:
            continue
        if any(a.year == arrangement.year for a in parsed):
            problems.append(f"{arrangement.year} is given twice")
        parsed.append(arrangement)
    if problems:
        raise CalendarDataError("; ".join(problems), problems)
    return parsed


def read_arrangement_file(path: str | Path) -> Any:
    """The JSON of an arrangement file (not yet checked)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalendarDataError(f"cannot read holiday arrangements from {path}: {exc}") from exc


def load_arrangements(path: str | Path, *, whole_year: bool = True) -> list[YearArrangement]:
    """Read an arrangement file in the format of ``holidays_cn.json``."""
    return parse_arrangements(read_arrangement_file(path), whole_year=whole_year)


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

    def arrangement(self, year: int) -> YearArrangement | None:
        return self._years.get(year)

    def covers(self, first: date, last: date) -> bool:
        """True when every year from ``first`` to ``last`` has its arrangement
        loaded: counting over those days rests on no fallback."""
        return all(y in self._years for y in range(first.year, last.year + 1))

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
