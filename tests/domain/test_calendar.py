"""China's working-day calendar: shipped arrangements, counting, fallback, extra years."""

from __future__ import annotations

import json
import logging
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from worksheets.calendar import OFFICIAL_ARRANGEMENTS, CalendarDataError, WorkingCalendar

# Statutory holiday days per year (全国年节及纪念日放假办法): 11 until 2024,
# 13 from 2025.  With make-up days, every arrangement keeps
# working days == days - weekend days - statutory days.
EXPECTED_WORKING_DAYS = {2024: 366 - 104 - 11, 2025: 365 - 104 - 13, 2026: 365 - 104 - 13}


def working_days_in_year(calendar: WorkingCalendar, year: int) -> int:
    return calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))


def dates(start: str, end: str) -> list[date]:
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_given_shipped_year_when_counting_working_days_then_matches_statutory_total(
    calendar: WorkingCalendar, year: int
) -> None:
    assert working_days_in_year(calendar, year) == EXPECTED_WORKING_DAYS[year]


def test_given_official_calendar_then_2024_to_2026_are_loaded(calendar: WorkingCalendar) -> None:
    assert {2024, 2025, 2026} <= calendar.years


def test_given_2025_national_day_and_mid_autumn_then_eight_days_off_and_two_makeup_days(
    calendar: WorkingCalendar,
) -> None:
    assert all(not calendar.is_working_day(d) for d in dates("2025-10-01", "2025-10-08"))
    assert calendar.is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert calendar.is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    assert calendar.is_working_day(date(2025, 9, 30))
    assert calendar.is_working_day(date(2025, 10, 9))
    assert not calendar.is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_given_2026_spring_festival_then_nine_days_off_and_saturday_makeups(
    calendar: WorkingCalendar,
) -> None:
    assert all(not calendar.is_working_day(d) for d in dates("2026-02-15", "2026-02-23"))
    assert calendar.is_working_day(date(2026, 2, 14))
    assert calendar.is_working_day(date(2026, 2, 28))
    assert calendar.is_working_day(date(2026, 2, 24))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2024-02-04", True), ("2024-02-09", True), ("2024-02-18", True), ("2024-02-12", False),
        ("2024-05-11", True), ("2024-09-14", True), ("2024-10-12", True), ("2024-10-07", False),
        ("2025-01-01", False), ("2025-01-26", True), ("2025-01-28", False), ("2025-02-08", True),
        ("2025-04-27", True), ("2025-06-02", False),
        ("2026-01-02", False), ("2026-01-04", True), ("2026-04-06", False), ("2026-05-09", True),
        ("2026-06-19", False), ("2026-09-20", True), ("2026-09-25", False), ("2026-10-10", True),
        ("2026-11-30", True), ("2026-11-29", False),
    ],
)
def test_given_official_arrangement_when_asking_a_day_then_answer_follows_notice(
    calendar: WorkingCalendar, day: str, working: bool
) -> None:
    assert calendar.is_working_day(date.fromisoformat(day)) is working


def test_given_day_before_holiday_when_adding_one_working_day_then_skips_holiday(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert calendar.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert calendar.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert calendar.add_working_days(date(2026, 2, 13), 0) == date(2026, 2, 13)
    assert calendar.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)


def test_given_random_dates_then_between_inverts_add(calendar: WorkingCalendar) -> None:
    rng = random.Random(12345)
    for _ in range(300):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1090))
        n = rng.randrange(-15, 16)
        assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


def test_given_year_without_data_then_weekends_only_and_one_warning_per_year(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkingCalendar.official()
    with caplog.at_level(logging.WARNING, logger="worksheets.calendar"):
        assert calendar.is_working_day(date(2027, 1, 1))  # a Friday: no data, so working
        assert not calendar.is_working_day(date(2027, 1, 2))
        calendar.add_working_days(date(2027, 1, 4), 30)
        assert calendar.is_working_day(date(2028, 1, 3))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "2027" in warnings[0] and "2028" in warnings[1]


def write_year(path: Path, year: int, holidays: list[dict[str, str]],
               workdays: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps({"years": [
        {"year": year, "source": "test", "holidays": holidays, "workdays": workdays}
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


FIXTURE_2027 = Path(__file__).resolve().parents[1] / "fixtures" / "calendar" / "2027-test.json"


def test_given_extra_file_when_loaded_then_next_year_follows_it(
    caplog: pytest.LogCaptureFixture
) -> None:
    calendar = WorkingCalendar.official(extra_files=[FIXTURE_2027])
    with caplog.at_level(logging.WARNING, logger="worksheets.calendar"):
        assert not calendar.is_working_day(date(2027, 1, 1))
        assert calendar.is_working_day(date(2027, 1, 31))  # Sunday, 调休上班
    assert 2027 in calendar.years
    assert not caplog.records


def test_given_file_for_loaded_year_when_loaded_then_it_replaces_that_year(tmp_path: Path) -> None:
    calendar = WorkingCalendar.official()
    shipped = next(y for y in json.loads(OFFICIAL_ARRANGEMENTS.read_text(encoding="utf-8"))
                   ["years"] if y["year"] == 2026)
    # A corrected 2026: National Day 1-5 October without make-up days (still 13 days off).
    holidays = [h for h in shipped["holidays"] if h["name"] != "国庆节"] + [
        {"name": "国庆节", "start": "2026-10-01", "end": "2026-10-05"}]
    workdays = [w for w in shipped["workdays"] if w["name"] != "国庆节"]
    with pytest.raises(CalendarDataError, match="statutory days off are 13"):
        calendar.load_file(write_year(tmp_path / "short.json", 2026, holidays[:-1], workdays))
    assert not calendar.is_working_day(date(2026, 10, 6))  # refused: 2026 unchanged
    calendar.load_file(write_year(tmp_path / "2026.json", 2026, holidays, workdays))
    assert calendar.is_working_day(date(2026, 10, 6))  # Tuesday, no longer a holiday
    assert not calendar.is_working_day(date(2026, 10, 10))  # make-up day gone
    assert not calendar.is_working_day(date(2025, 10, 8))  # other years untouched


def test_given_makeup_day_on_a_weekday_then_file_is_refused(tmp_path: Path) -> None:
    bad = write_year(tmp_path / "bad.json", 2027, [], [{"name": "x", "date": "2027-01-05"}])
    with pytest.raises(CalendarDataError, match="not a Saturday or Sunday"):
        WorkingCalendar().load_file(bad)


def test_given_day_both_off_and_on_then_file_is_refused(tmp_path: Path) -> None:
    bad = write_year(tmp_path / "bad.json", 2027,
                     [{"name": "x", "start": "2027-01-09", "end": "2027-01-10"}],
                     [{"name": "x", "date": "2027-01-09"}])
    with pytest.raises(CalendarDataError, match="both as holiday and as make-up"):
        WorkingCalendar().load_file(bad)


def test_given_unreadable_file_then_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="cannot read"):
        WorkingCalendar().load_file(broken)
    with pytest.raises(CalendarDataError, match="not a YYYY-MM-DD"):
        WorkingCalendar().load_file(write_year(tmp_path / "d.json", 2027,
                                               [{"name": "x", "start": "2027-13-01"}], []))
