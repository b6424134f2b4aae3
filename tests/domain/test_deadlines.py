"""Deadlines in working days across the official holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from worksheets.calendar import WorkingCalendar
from worksheets.deadlines import Deadline, DeadlineError, deadline_for, extend_deadline

from .conftest import local


def due(calendar: WorkingCalendar, tz: ZoneInfo, category: str, complexity: str | None,
        submitted: datetime) -> Deadline:
    return deadline_for(category, complexity, submitted, calendar, tz)


@pytest.mark.parametrize(
    ("category", "complexity", "submitted", "days", "due_date"),
    [
        # Tuesday before the 2025 National Day / Mid-Autumn break (Oct 1-8 off).
        ("consult", None, local(2025, 9, 30, 10, 0), 2, date(2025, 10, 10)),
        ("help", "ordinary", local(2025, 9, 30, 10, 0), 3, date(2025, 10, 11)),  # make-up Sat
        # Friday: Sunday 28 Sep is a make-up working day and counts.
        ("complaint", None, local(2025, 9, 26, 16, 0), 10, date(2025, 10, 16)),
        ("help", "complex", local(2025, 9, 26, 16, 0), 5, date(2025, 10, 10)),
        # Dispatched during the holiday: counting starts after it.
        ("report", None, local(2025, 10, 3, 9, 0), 10, date(2025, 10, 21)),
        # Dispatched on the make-up Saturday: that day does not count either.
        ("help", "ordinary", local(2025, 10, 11, 9, 0), 3, date(2025, 10, 15)),
        # Spring Festival 2026: Feb 15-23 off, Feb 14 and 28 (Saturdays) worked.
        ("suggest", None, local(2026, 2, 13, 11, 0), 10, date(2026, 3, 5)),
        ("consult", None, local(2026, 2, 13, 11, 0), 2, date(2026, 2, 24)),
        ("consult", None, local(2026, 2, 12, 11, 0), 2, date(2026, 2, 14)),
        # An ordinary week.
        ("help", "ordinary", local(2026, 11, 27, 15, 0), 3, date(2026, 12, 2)),
    ],
)
def test_given_category_and_dispatch_time_then_due_end_of_nth_working_day(
    calendar: WorkingCalendar, tz: ZoneInfo, category: str, complexity: str | None,
    submitted: datetime, days: int, due_date: date,
) -> None:
    deadline = due(calendar, tz, category, complexity, submitted)
    assert deadline.days == days
    assert deadline.due_date == due_date
    assert deadline.due_at == datetime(due_date.year, due_date.month, due_date.day,
                                       23, 59, 59, tzinfo=tz)
    assert deadline.due_at.utcoffset() == UTC.utcoffset(None)


def test_given_dispatch_just_after_local_midnight_then_local_date_is_the_dispatch_day(
    calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    # 16:30 UTC on Friday 13 Feb is 00:30 on Saturday 14 Feb in Baoji, a
    # make-up working day that, as the dispatch day, does not count.
    deadline = due(calendar, tz, "consult", None, datetime(2026, 2, 13, 16, 30, tzinfo=UTC))
    assert deadline.due_date == date(2026, 2, 25)
    assert deadline.due_at == datetime(2026, 2, 25, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("category", "complexity", "message"),
    [
        ("help", None, "needs complexity"),
        ("help", "urgent", "needs complexity"),
        ("complaint", "complex", "help orders only"),
        ("praise", None, "unknown category"),
    ],
)
def test_given_bad_classification_then_deadline_error(
    calendar: WorkingCalendar, tz: ZoneInfo, category: str, complexity: str | None, message: str
) -> None:
    with pytest.raises(DeadlineError, match=message):
        due(calendar, tz, category, complexity, local(2026, 3, 2, 9, 0))


def test_given_naive_time_then_refused(calendar: WorkingCalendar, tz: ZoneInfo) -> None:
    with pytest.raises(ValueError, match="aware"):
        due(calendar, tz, "consult", None, datetime(2026, 3, 2, 9, 0))


def test_given_complex_help_when_extended_then_extra_days_after_old_due_date_once(
    calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    first = due(calendar, tz, "help", "complex", local(2025, 9, 26, 16, 0))
    assert first.due_date == date(2025, 10, 10)
    extended = extend_deadline(first, category="help", complexity="complex", extra_days=5,
                               calendar=calendar, tz=tz)
    # Oct 11 (make-up Saturday), 13, 14, 15, 16.
    assert extended == Deadline(10, date(2025, 10, 16), local(2025, 10, 16, 23, 59, 59))
    with pytest.raises(DeadlineError, match="already been extended"):
        extend_deadline(extended, category="help", complexity="complex", extra_days=1,
                        calendar=calendar, tz=tz)


@pytest.mark.parametrize(
    ("category", "complexity", "extra", "message"),
    [
        ("help", "ordinary", 2, "only complex help"),
        ("complaint", None, 2, "only complex help"),
        ("help", "complex", 6, "1 to 5"),
        ("help", "complex", 0, "1 to 5"),
    ],
)
def test_given_extension_out_of_rules_then_refused(
    calendar: WorkingCalendar, tz: ZoneInfo, category: str, complexity: str | None,
    extra: int, message: str,
) -> None:
    current = due(calendar, tz, "help", "complex", local(2026, 3, 2, 9, 0))
    with pytest.raises(DeadlineError, match=message):
        extend_deadline(current, category=category, complexity=complexity, extra_days=extra,
                        calendar=calendar, tz=tz)


def test_given_complex_help_when_extended_by_one_day_then_next_working_day(
    calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    first = due(calendar, tz, "help", "complex", local(2025, 9, 26, 16, 0))
    one = extend_deadline(first, category="help", complexity="complex", extra_days=1,
                          calendar=calendar, tz=tz)
    # The day after Friday Oct 10 is Saturday Oct 11, a make-up working day.
    assert one == Deadline(6, date(2025, 10, 11), local(2025, 10, 11, 23, 59, 59))
    assert one.due_at.tzinfo is UTC and first.due_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, tz: due(c, tz, "praise", None, local(2026, 3, 2)),
         "unknown category 'praise'; expected one of help, complaint, report, consult, suggest"),
        (lambda c, tz: due(c, tz, "help", None, local(2026, 3, 2)),
         "a help order needs complexity 'ordinary' or 'complex'"),
        (lambda c, tz: due(c, tz, "consult", None, datetime(2026, 3, 2)),
         "submitted_at must be timezone-aware"),
        (lambda c, tz: extend_deadline(due(c, tz, "help", "ordinary", local(2026, 3, 2)),
                                       category="help", complexity="ordinary", extra_days=1,
                                       calendar=c, tz=tz),
         "only complex help orders can be extended"),
        (lambda c, tz: extend_deadline(Deadline(6, date(2026, 3, 10), local(2026, 3, 10)),
                                       category="help", complexity="complex", extra_days=1,
                                       calendar=c, tz=tz),
         "this order's deadline has already been extended once"),
    ],
)
def test_refusals_say_exactly_why(calendar: WorkingCalendar, tz: ZoneInfo, call, message) -> None:
    with pytest.raises((DeadlineError, ValueError)) as caught:
        call(calendar, tz)
    assert str(caught.value) == message
