"""The working-day calendar kept in the database, shared by every instance.

The shipped arrangements (holidays_cn.json) are the base; a year an admin
loads (``hotline calendar load FILE``, ``POST /api/calendar/years``) is
stored in ``calendar_years`` and replaces the shipped one.  Each backend
keeps a built :class:`WorkingCalendar` and asks the database for the sum
of the rows' versions before using it (one read of a table of a few rows),
rebuilding only when another instance, or the CLI, loaded a year since.

Loading a year counts again the deadline of every open order that the
year touches, or that was counted on the Monday-Friday fallback: each
changed deadline is an ``order_events`` row ("deadline_recomputed").
Closed and returned orders keep theirs: a verdict once given stands.  An
open co-handling part's own deadline (加派, after its extension) is counted
again likewise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from worksheets.calendar import (
    OFFICIAL_ARRANGEMENTS,
    CalendarDataError,
    WorkingCalendar,
    YearArrangement,
    load_arrangements,
    parse_arrangements,
)
from worksheets.deadlines import Deadline, deadline_from
from worksheets.models import CalendarYear, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

OPEN = ("dispatched", "accepted")
# From this day of the year on, a missing next year is a warning for admins.
WARN_FROM = (11, 1)


def build_calendar(session: Session) -> tuple[WorkingCalendar, int]:
    """The shipped years plus the database's, and the state it reflects."""
    calendar = WorkingCalendar(load_arrangements(OFFICIAL_ARRANGEMENTS))
    state = 0
    for row in session.scalars(select(CalendarYear).order_by(CalendarYear.year)):
        entry = json.loads(row.arrangement)
        # Stored rows were validated when loaded; a later rule change must
        # not lock a city out of the year it already uses.
        calendar.add(parse_arrangements({"years": [entry]}, whole_year=False)[0])
        state += row.version
    return calendar, state


def stored_state(session: Session) -> int:
    """The sum of the rows' versions: every committed load raises it (a row
    is added, or a row's version rises past the highest), even when two
    admins load different years at once and get the same version number."""
    return int(session.scalar(select(func.coalesce(func.sum(CalendarYear.version), 0))) or 0)


def _next_version(session: Session) -> int:
    return int(session.scalar(select(func.max(CalendarYear.version))) or 0) + 1


class SharedCalendar:
    """The calendar in force, refreshed from the database when it changed.

    Thread-safe: handlers run in the database executor's threads; a
    rebuilt calendar replaces the old one whole, never mutated in place.
    """

    def __init__(self) -> None:
        self._calendar = WorkingCalendar.official()
        self._state = -1  # never seen the database yet
        self._lock = threading.Lock()

    def fresh(self, session: Session) -> WorkingCalendar:
        """The calendar as the database has it now (cheap when unchanged)."""
        state = stored_state(session)
        if state == self._state:
            return self._calendar
        with self._lock:
            if state != self._state:
                self._calendar, self._state = build_calendar(session)
        return self._calendar

    @property
    def cached(self) -> WorkingCalendar:
        """The last calendar seen, without asking the database (CLI, tests)."""
        return self._calendar


@dataclass(frozen=True)
class Recomputed:
    order_id: int
    number: str
    old_due: date | None
    new_due: date
    fallback: bool


@dataclass(frozen=True)
class LoadResult:
    years: list[int]
    version: int
    recomputed: list[Recomputed]

    def to_dict(self) -> dict[str, Any]:
        return {"years": self.years, "version": self.version, "recomputed": [
            {"order_id": r.order_id, "number": r.number,
             "old_due": r.old_due.isoformat() if r.old_due else None,
             "new_due": r.new_due.isoformat(), "fallback": r.fallback}
            for r in self.recomputed]}


def set_order_deadline(order: WorkOrder, deadline: Deadline,
                       dispatched_at: datetime | None = None) -> None:
    """Give ``order`` its deadline; ``dispatched_at``: a new dispatch it runs from."""
    order.deadline_days, order.due_date, order.due_at = (
        deadline.days, deadline.due_date, deadline.due_at)
    order.deadline_fallback = deadline.fallback
    if dispatched_at is not None:
        order.deadline_from = dispatched_at


def load_years(session: Session, data: Mapping[str, Any], *, now: datetime, tz: tzinfo,
               loaded_by: str, user_id: int | None = None) -> LoadResult:
    """Validate and store the years in ``data`` (holidays_cn.json format),
    then count open orders' deadlines again.  Raises
    :class:`CalendarDataError` naming every problem; nothing is stored then."""
    arrangements = parse_arrangements(data)
    entries = {int(e["year"]): e for e in data["years"]}
    version = _next_version(session)
    for arrangement in arrangements:
        row = session.get(CalendarYear, arrangement.year, with_for_update=True)
        if row is None:
            row = CalendarYear(year=arrangement.year)
            session.add(row)
        row.arrangement = json.dumps(dict(entries[arrangement.year]), ensure_ascii=False)
        row.source, row.version = arrangement.source, version
        row.loaded_at, row.loaded_by = now, loaded_by[:80]
    session.flush()
    calendar, _ = build_calendar(session)
    changed = recompute_open_deadlines(session, calendar, tz, now=now, user_id=user_id,
                                       years=[a.year for a in arrangements])
    return LoadResult(sorted(a.year for a in arrangements), version, changed)


def recompute_open_deadlines(session: Session, calendar: WorkingCalendar, tz: tzinfo, *,
                             now: datetime, user_id: int | None,
                             years: list[int]) -> list[Recomputed]:
    """Count again the deadline of each open order that ``years`` touch or
    that rests on the fallback; one history row per changed deadline.  The
    own deadline of an open co-handling part (加派, after its extension) is
    counted again too, in the order's history (not in the list returned:
    the order's deadline is not the part's)."""
    first = date(min(years), 1, 1)
    stmt = select(WorkOrder).where(
        WorkOrder.status.in_(OPEN), WorkOrder.deadline_from.is_not(None),
        WorkOrder.deadline_days.is_not(None),
        or_(WorkOrder.deadline_fallback.is_(True), WorkOrder.due_date >= first),
    ).order_by(WorkOrder.id).with_for_update()
    changes: list[Recomputed] = []
    for order in session.scalars(stmt):
        deadline = _counted_again(order, calendar, tz, years)
        if deadline is None:
            continue
        old = order.due_date
        set_order_deadline(order, deadline)
        if old != deadline.due_date:
            _log_recomputed(session, order.id, order.department_id, old, deadline, years,
                            now=now, user_id=user_id)
            changes.append(Recomputed(order.id, order.number, old, deadline.due_date,
                                      deadline.fallback))
    parts = select(OrderPart).join(WorkOrder, WorkOrder.id == OrderPart.order_id).where(
        OrderPart.status.in_(OPEN), WorkOrder.status.in_((*OPEN, "answered")),
        OrderPart.deadline_from.is_not(None), OrderPart.deadline_days.is_not(None),
        or_(OrderPart.deadline_fallback.is_(True), OrderPart.due_date >= first),
    ).order_by(OrderPart.id).with_for_update(of=OrderPart)
    for part in session.scalars(parts):
        deadline = _counted_again(part, calendar, tz, years)
        if deadline is None:
            continue
        old = part.due_date
        part.deadline_days, part.due_date, part.due_at = (
            deadline.days, deadline.due_date, deadline.due_at)
        part.deadline_fallback = deadline.fallback
        if old != deadline.due_date:
            _log_recomputed(session, part.order_id, part.department_id, old, deadline, years,
                            now=now, user_id=user_id, what="co-handling part ")
    session.flush()
    return changes


def _counted_again(row: WorkOrder | OrderPart, calendar: WorkingCalendar, tz: tzinfo,
                   years: list[int]) -> Deadline | None:
    """The deadline of an order or a part counted again, if ``years`` or the
    fallback touch it and it changes; else None."""
    assert row.deadline_from is not None and row.deadline_days is not None
    start = row.deadline_from.astimezone(tz).date()
    due = row.due_date or start
    if not row.deadline_fallback and not any(start.year <= y <= due.year for y in years):
        return None
    deadline = deadline_from(row.deadline_from, row.deadline_days, calendar, tz)
    if deadline.due_date == row.due_date and deadline.fallback == row.deadline_fallback:
        return None
    return deadline


def _log_recomputed(session: Session, order_id: int, department_id: int | None,
                    old: date | None, deadline: Deadline, years: list[int], *, now: datetime,
                    user_id: int | None, what: str = "") -> None:
    session.add(OrderEvent(
        order_id=order_id, at=now, kind="deadline_recomputed", user_id=user_id,
        department_id=department_id,
        detail=f"{what}due {old} -> {deadline.due_date}: working-day calendar "
               f"{', '.join(map(str, years))} loaded"
               + (" (still partly on the Monday-Friday fallback)" if deadline.fallback
                  else "")))


def year_summary(calendar: WorkingCalendar, year: int) -> dict[str, Any]:
    """What ``hotline calendar show`` and the admin page print for a year."""
    arrangement: YearArrangement | None = calendar.arrangement(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    working = calendar.working_days_between(first - timedelta(days=1), last)
    return {
        "year": year, "loaded": arrangement is not None,
        "basis": "arrangement" if arrangement is not None else "fallback (Monday-Friday)",
        "source": arrangement.source if arrangement else "",
        "holidays": sorted(d.isoformat() for d in arrangement.holidays) if arrangement else [],
        "workdays": sorted(d.isoformat() for d in arrangement.workdays) if arrangement else [],
        "working_days": working,
        "names": {d.isoformat(): n for d, n in arrangement.names} if arrangement else {},
    }


def calendar_warnings(calendar: WorkingCalendar, today: date) -> list[str]:
    """From 1 November, next year's arrangement missing is a warning."""
    problems = []
    if today.year not in calendar.years:
        problems.append(f"no working-day arrangement for {today.year}: deadlines assume "
                        "Monday-Friday; load the State Council's notice")
    if (today.month, today.day) >= WARN_FROM and today.year + 1 not in calendar.years:
        problems.append(f"the {today.year + 1} working-day arrangement is not loaded: orders "
                        f"due in {today.year + 1} assume Monday-Friday and are flagged; load "
                        "the State Council's notice as soon as it is published")
    return problems


def stored_years(session: Session) -> list[dict[str, Any]]:
    return [{"year": r.year, "source": r.source, "version": r.version,
             "loaded_at": r.loaded_at.isoformat(), "loaded_by": r.loaded_by}
            for r in session.scalars(select(CalendarYear).order_by(CalendarYear.year))]


__all__ = ["CalendarDataError", "SharedCalendar", "load_years", "set_order_deadline"]
