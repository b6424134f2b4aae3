"""A city admin's arrangement file: what a good one gives, and errors that
name the year, the holiday and the day at fault (found by the mutation
check, tests/MUTATION.md)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from worksheets.calendar import CalendarDataError, parse_arrangements


def parse_one(entry: dict) -> object:
    [arrangement] = parse_arrangements({"years": [entry]})
    return arrangement


def test_given_the_shipped_2026_entry_then_holidays_workdays_and_source_are_exact():
    import json

    from worksheets.calendar import OFFICIAL_ARRANGEMENTS

    [entry] = [e for e in json.loads(OFFICIAL_ARRANGEMENTS.read_text(encoding="utf-8"))["years"]
               if e["year"] == 2026]
    a = parse_one(entry)
    assert (a.year, a.source) == (2026, entry["source"])
    assert date(2026, 1, 1) in a.holidays and date(2026, 10, 1) in a.holidays
    assert a.workdays == frozenset(date.fromisoformat(w["date"]) for w in entry["workdays"])
    assert not a.holidays & a.workdays


def test_given_a_year_without_lists_then_refused_naming_what_is_missing():
    missing = re.escape("2028: no 春节 (Spring Festival) holiday block")
    with pytest.raises(CalendarDataError, match=missing):
        parse_one({"year": "2028"})


@pytest.mark.parametrize(("entry", "message"), [
    ({"years": 1}, "arrangement without a valid 'year': {'years': 1}"),
    ({"year": 2027, "holidays": [{"name": "春节", "start": "2027-13-01"}]},
     "2027 holiday 春节: '2027-13-01' is not a YYYY-MM-DD date"),
    ({"year": 2027, "holidays": [{"start": "x"}]}, "2027 holiday : 'x' is not a YYYY-MM-DD date"),
    ({"year": 2027, "holidays": [{"name": "春节", "start": "2027-02-06", "end": "soon"}]},
     "2027 holiday 春节 end: 'soon' is not a YYYY-MM-DD date"),
    ({"year": 2027, "holidays": [{"name": "春节", "start": "2027-02-08", "end": "2027-02-06"}]},
     "2027 holiday 春节 ends before it starts"),
    ({"year": 2027, "holidays": [{"start": "2027-02-08", "end": "2027-02-06"}]},
     "2027 holiday  ends before it starts"),
    ({"year": 2027, "workdays": [{"name": "国庆", "date": "27-10-09"}]},
     "2027 make-up day 国庆: '27-10-09' is not a YYYY-MM-DD date"),
    ({"year": 2027, "workdays": [{"date": None}]},
     "2027 make-up day : None is not a YYYY-MM-DD date"),
    ({"year": 2027, "holidays": [{"start": "2027-02-06", "end": "2027-02-14"}],
      "workdays": [{"date": "2027-02-13"}, {"date": "2027-02-07"}]},
     "2027: days listed both as holiday and as make-up day: 2027-02-07, 2027-02-13"),
])
def test_given_a_bad_entry_then_the_error_names_it(entry, message):
    # The first problem named; more may follow, after "; ".
    with pytest.raises(CalendarDataError, match=f"^{re.escape(message)}(; |$)"):
        parse_one(entry)


def test_given_no_years_list_then_the_error_says_so():
    message = "^arrangement data needs a non-empty 'years' list$"
    with pytest.raises(CalendarDataError, match=message):
        parse_arrangements({"years": {"year": 2027}})


def test_given_a_year_without_arrangement_then_one_exact_warning(caplog):
    from worksheets.calendar import WorkingCalendar

    calendar = WorkingCalendar([])
    with caplog.at_level("WARNING", logger="worksheets.calendar"):
        assert calendar.is_working_day(date(2031, 1, 1))  # a Wednesday
        assert not calendar.is_working_day(date(2031, 1, 4))  # Saturday; no second warning
    assert [r.getMessage() for r in caplog.records] == [
        "no official holiday arrangement loaded for 2031: counting Monday-Friday as "
        "working days; load the State Council's 2031 arrangement to fix deadlines"]
