"""Work-order deadlines in working days (DOMAIN.md, "Work orders").

consultation 2; help ordinary 3, help complex 5 (one extension of at most
5 more); suggestion, complaint, report 10.  A deadline runs from dispatch:
the dispatch day never counts, and the order is due at the end (23:59:59
local time) of the Nth working day after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from worksheets.calendar import WorkingCalendar

CATEGORIES: tuple[str, ...] = ("help", "complaint", "report", "consult", "suggest")
COMPLEXITIES: tuple[str, ...] = ("ordinary", "complex")
DEADLINE_DAYS: dict[tuple[str, str | None], int] = {
    ("consult", None): 2,
    ("help", "ordinary"): 3,
    ("help", "complex"): 5,
    ("suggest", None): 10,
    ("complaint", None): 10,
    ("report", None): 10,
}
MAX_EXTENSION_DAYS = 5
# Departments are warned when this share of their time is used (the 80 % warning).
WARN_SHARE = 0.8
# The last second of the local day.  Whole seconds, so the value reads the
# same in every database and in every report ("due 2025-10-13 23:59:59").
END_OF_DAY = time(23, 59, 59)


class DeadlineError(ValueError):
    """A category/complexity without a deadline rule, or a refused extension."""


@dataclass(frozen=True)
class Deadline:
    """``days`` working days, due at ``due_at`` (aware, UTC), the end of local ``due_date``.

    ``fallback``: some day counted lies in a year without a loaded
    arrangement (Monday-Friday assumed), so the date may move once the
    year is loaded."""

    days: int
    due_date: date
    due_at: datetime
    fallback: bool = False


def deadline_days(category: str, complexity: str | None) -> int:
    """Working days allowed for an order; complexity is required for help and only for help."""
    if category not in CATEGORIES:
        expected = ", ".join(CATEGORIES)
        raise DeadlineError(f"unknown category {category!r}; expected one of {expected}")
    if category == "help" and complexity not in COMPLEXITIES:
        raise DeadlineError("a help order needs complexity 'ordinary' or 'complex'")
    if category != "help" and complexity is not None:
        raise DeadlineError(f"complexity applies to help orders only, not to {category!r}")
    return DEADLINE_DAYS[(category, complexity)]


def end_of_local_day(day: date, tz: tzinfo) -> datetime:
    """23:59:59 local time on ``day``, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(UTC)


def deadline_for(
    category: str,
    complexity: str | None,
    submitted_at: datetime,
    calendar: WorkingCalendar,
    tz: tzinfo,
) -> Deadline:
    """The deadline of an order dispatched at ``submitted_at`` (aware).

    The local date of dispatch (in ``tz``) does not count, even when it is
    a working day; an order dispatched on a holiday starts counting on the
    first working day after it.
    """
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    days = deadline_days(category, complexity)
    return deadline_from(submitted_at, days, calendar, tz)


def deadline_from(dispatched_at: datetime, days: int, calendar: WorkingCalendar,
                  tz: tzinfo) -> Deadline:
    """``days`` working days from a dispatch at ``dispatched_at`` (aware).

    An extended order's deadline is this with its extended ``days``: N more
    working days after the Mth working day is the (M+N)th."""
    dispatch_day = dispatched_at.astimezone(tz).date()
    due_date = calendar.add_working_days(dispatch_day, days)
    fallback = not calendar.covers(dispatch_day + timedelta(days=1), due_date)
    return Deadline(days, due_date, end_of_local_day(due_date, tz), fallback)


def extend_deadline(
    current: Deadline,
    *,
    category: str,
    complexity: str | None,
    extra_days: int,
    calendar: WorkingCalendar,
    tz: tzinfo,
) -> Deadline:
    """Extend a complex help order by 1-5 working days past its current due date.

    Allowed once: ``current.days`` must still be the base 5 days (an order
    already extended has more), so the stored ``deadline_days`` is enough
    to refuse a second extension.  Approval by a supervisor is the
    caller's business.
    """
    if category != "help" or complexity != "complex":
        raise DeadlineError("only complex help orders can be extended")
    base = deadline_days(category, complexity)
    if current.days != base:
        raise DeadlineError("this order's deadline has already been extended once")
    if not 1 <= extra_days <= MAX_EXTENSION_DAYS:
        raise DeadlineError(
            f"an extension is 1 to {MAX_EXTENSION_DAYS} working days, not {extra_days}"
        )
    due_date = calendar.add_working_days(current.due_date, extra_days)
    fallback = current.fallback or not calendar.covers(current.due_date, due_date)
    return Deadline(current.days + extra_days, due_date, end_of_local_day(due_date, tz),
                    fallback)
