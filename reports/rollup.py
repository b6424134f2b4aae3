"""Daily roll-ups of calls and work orders, kept as they change.

Triggers (migration 0014) append the UTC hour of every call and order
written to ``report_dirty``.  :func:`refresh` claims the marks visible now,
recomputes the local days they fall on (one ``INSERT ... SELECT ... GROUP
BY`` per dimension, in the database) and deletes exactly the marks it
claimed, all in one transaction: a mark written meanwhile by another
transaction is not claimed and stays for the next refresh, and a crash
leaves every mark in place.  On PostgreSQL refreshes take an advisory lock,
so two instances never rebuild one day at once.

A call counts on the local day it entered, an order on the day it was
created (as ``worksheets.stats.period_stats``); the figures are those
``period_stats`` and ``department_stats`` define (NOTES.md, "counting
honestly").  The answer target (seconds) is baked into the roll-up;
``hotline reports rebuild`` recounts after it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from calls.models import Call
from reports.models import CALL_SUMS, ORDER_SUMS, CallsDaily, OrdersDaily, ReportDirty
from worksheets.models import OrderEvent, WorkOrder
from worksheets.stats import SATISFIED

log = logging.getLogger(__name__)
DIMENSIONS = ("all", "queue", "category", "agent", "department")
OFFERED = ("answered", "abandoned", "queued")
LOCK_KEY = 12_345_014  # pg_advisory_xact_lock: one refresh at a time


@dataclass(frozen=True)
class RollupConfig:
    tz: tzinfo
    target_seconds: int = 15
    order_target_minutes: int = 10

    @classmethod
    def from_settings(cls, settings: Any) -> RollupConfig:
        return cls(settings.tz, settings.service_level_seconds, settings.order_target_minutes)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends."""
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def days_of_hours(hours: Iterable[str], tz: tzinfo) -> set[date]:
    """Local days touched by UTC hours written as 'YYYY-MM-DD HH'."""
    days = set()
    for hour in hours:
        start = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        days.add(start.astimezone(tz).date())
        days.add((start + timedelta(minutes=59, seconds=59)).astimezone(tz).date())
    return days


def _sum(condition: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _key(column: Any) -> Any:
    return func.coalesce(cast(column, String), "-")


def _stamp(day: date) -> list[Any]:
    week = day - timedelta(days=day.weekday())
    return [literal(day), literal(week), literal(day.replace(day=1))]


def _call_dimensions() -> dict[str, Any]:
    department = func.coalesce(WorkOrder.department_id, Call.department_id)
    return {"all": literal("*"), "queue": _key(Call.queue), "category": _key(Call.category),
            "agent": _key(Call.agent_id), "department": _key(department)}


def _rebuild_calls(session: Session, day: date, config: RollupConfig) -> None:
    start, end = day_bounds(day, config.tz)
    answered = Call.outcome == "answered"
    sums = [func.count(), _sum(Call.outcome.in_(OFFERED)), _sum(answered),
            _sum(Call.outcome == "abandoned"), _sum(Call.outcome.not_in(OFFERED)),
            _sum(answered & (func.coalesce(Call.hold_seconds, 0) <= config.target_seconds)),
            _sum(answered, func.coalesce(Call.hold_seconds, 0)),
            _sum(answered & Call.talk_seconds.is_not(None), Call.talk_seconds),
            _sum(answered & Call.talk_seconds.is_not(None))]
    session.execute(delete(CallsDaily).where(CallsDaily.day == day))
    columns = ["day", "week", "month", "dim", "key", *CALL_SUMS]
    for dim, key in _call_dimensions().items():
        query = select(*_stamp(day), literal(dim), key, *sums).select_from(Call).where(
            Call.entered_at >= start, Call.entered_at < end)
        if dim == "department":  # calls that reached no department are left out
            query = query.outerjoin(WorkOrder, WorkOrder.call_id == Call.id).where(
                func.coalesce(WorkOrder.department_id, Call.department_id).is_not(None))
        query = query.group_by(key) if dim != "all" else query.having(func.count() > 0)
        session.execute(insert(CallsDaily).from_select(columns, query))


def _seconds_between(session: Session, earlier: Any, later: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def _order_dimensions() -> dict[str, Any]:
    return {"all": literal("*"), "queue": _key(Call.queue), "category": _key(WorkOrder.category),
            "agent": _key(WorkOrder.agent_id), "department": _key(WorkOrder.department_id)}


def _rebuild_orders(session: Session, day: date, config: RollupConfig, now: datetime) -> bool:
    """Recount one day's orders; True when drafts were too young to judge
    (the day must be counted again once they are)."""
    start, end = day_bounds(day, config.tz)
    target = timedelta(minutes=config.order_target_minutes)
    submitted = WorkOrder.submitted_at.is_not(None)
    closed = submitted & (WorkOrder.status == "closed")
    dispatched = submitted & WorkOrder.answered_on_call.is_(False)
    old_enough = WorkOrder.created_at < now - target
    quick = submitted & (_seconds_between(session, WorkOrder.created_at, WorkOrder.submitted_at)
                         <= target.total_seconds())
    sums = [func.count(), _sum(submitted), _sum(closed),
            # on time by the department's answer (统一答复: the review's date is the hotline's)
            _sum(closed & or_(WorkOrder.due_at.is_(None), func.coalesce(
                WorkOrder.answered_at, WorkOrder.closed_at) <= WorkOrder.due_at)),
            _sum(dispatched), _sum(dispatched & (WorkOrder.returns > 0)),
            _sum(WorkOrder.satisfaction.is_not(None)), _sum(WorkOrder.satisfaction.in_(SATISFIED)),
            _sum(WorkOrder.survey_answer.is_not(None)),
            _sum(WorkOrder.survey_answer.in_(SATISFIED)), _sum(quick),
            _sum(submitted | old_enough), _sum(~submitted & old_enough), literal(0), literal(0)]
    # A call closed without an order (a prank, silence) is counted apart, as
    # period_stats does: it is neither submitted nor a 10-minute miss.
    in_day = (WorkOrder.created_at >= start, WorkOrder.created_at < end,
              WorkOrder.status != "no_order")
    session.execute(delete(OrdersDaily).where(OrdersDaily.day == day))
    columns = ["day", "week", "month", "dim", "key", *ORDER_SUMS]
    for dim, key in _order_dimensions().items():
        query = select(*_stamp(day), literal(dim), key, *sums).select_from(WorkOrder).where(
            *in_day)
        if dim == "queue":
            query = query.outerjoin(Call, Call.id == WorkOrder.call_id)
        if dim == "department":  # a duplicate merged (并案) counts with the order it joined
            query = query.where(WorkOrder.department_id.is_not(None),
                                WorkOrder.merged_into_id.is_(None))
        query = query.group_by(key) if dim != "all" else query.having(func.count() > 0)
        session.execute(insert(OrdersDaily).from_select(columns, query))
    _department_returns(session, day, in_day)
    young = session.scalar(select(func.count()).select_from(WorkOrder).where(
        *in_day, ~submitted, ~old_enough))
    return bool(young)


def _department_returns(session: Session, day: date, in_day: tuple[Any, ...]) -> None:
    """department_stats' return rate: orders a department sent back (退回),
    and those it holds again, by the department that returned them."""
    returned_by = OrderEvent.department_id
    rows = session.execute(select(
        returned_by, func.count(distinct(OrderEvent.order_id)),
        func.count(distinct(case((returned_by == WorkOrder.department_id, OrderEvent.order_id)))),
    ).join(WorkOrder, WorkOrder.id == OrderEvent.order_id).where(
        OrderEvent.kind == "returned", returned_by.is_not(None), *in_day,
        WorkOrder.merged_into_id.is_(None),
        WorkOrder.submitted_at.is_not(None), WorkOrder.answered_on_call.is_(False),
    ).group_by(returned_by)).all()
    for department, n_returned, back in rows:
        where = and_(OrdersDaily.day == day, OrdersDaily.dim == "department",
                     OrdersDaily.key == str(department))
        done = session.execute(update(OrdersDaily).where(where).values(
            returned_by=n_returned, came_back=back))
        if not done.rowcount:  # type: ignore[attr-defined]
            week, month = day - timedelta(days=day.weekday()), day.replace(day=1)
            zeros = {name: 0 for name in ORDER_SUMS}
            session.execute(insert(OrdersDaily).values(
                day=day, week=week, month=month, dim="department", key=str(department),
                **{**zeros, "returned_by": n_returned, "came_back": back}))


def _lock(session: Session, wait: bool = True) -> bool:
    """Take the refresh lock for this transaction (PostgreSQL; SQLite has one
    writer anyway); without ``wait``, False when another refresh holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}))


@dataclass(frozen=True)
class Refreshed:
    days: int  # day roll-ups recounted
    pending: int  # days still marked (left for the next refresh)


def _pending(session: Session, tz: tzinfo) -> dict[tuple[str, date], set[str]]:
    """(kind, local day) -> the marked hours that touch it, unclaimed."""
    wanted: dict[tuple[str, date], set[str]] = {}
    for kind, hour in session.execute(select(ReportDirty.kind, ReportDirty.hour).where(
            ReportDirty.taken_at.is_(None)).distinct()):
        for day in days_of_hours([hour], tz):
            wanted.setdefault((kind, day), set()).add(hour)
    return wanted


def refresh(session: Session, config: RollupConfig, now: datetime,
            max_days: int = 31, wait: bool = True) -> Refreshed:
    """Recount the days whose calls or orders changed since the last refresh,
    the newest ``max_days`` (calls and orders counted apart) first.  Without
    ``wait`` (a request), nothing is recounted while another refresh runs."""
    if not _lock(session, wait):
        return Refreshed(0, len(_pending(session, config.tz)))
    wanted = _pending(session, config.tz)
    chosen = sorted(wanted, key=lambda kind_day: kind_day[1], reverse=True)[:max_days]
    hours: dict[str, set[str]] = {}
    for kind, day in chosen:
        hours.setdefault(kind, set()).update(wanted[(kind, day)])
    for kind, claimed in hours.items():
        listed = sorted(claimed)
        for i in range(0, len(listed), 500):
            session.execute(update(ReportDirty).where(
                ReportDirty.taken_at.is_(None), ReportDirty.kind == kind,
                ReportDirty.hour.in_(listed[i:i + 500])).values(taken_at=now))
    call_days = days_of_hours(hours.get("c", ()), config.tz)
    order_days = days_of_hours(hours.get("o", ()), config.tz)
    for day in sorted(call_days):
        _rebuild_calls(session, day, config)
    again = [day for day in sorted(order_days) if _rebuild_orders(session, day, config, now)]
    session.execute(delete(ReportDirty).where(ReportDirty.taken_at == now))
    for day in again:  # drafts not yet judged: count the day again later
        start, _ = day_bounds(day, config.tz)
        session.add(ReportDirty(kind="o", hour=start.strftime("%Y-%m-%d %H")))
    return Refreshed(len(call_days) + len(order_days), max(len(wanted) - len(chosen), 0))


def rebuild(db: Any, first: datetime, last: datetime, config: RollupConfig | None = None,
            now: datetime | None = None) -> int:
    """Recount every local day from ``first`` to ``last`` (one transaction a
    day): after the answer target changed, or after a bulk load."""
    config = config or RollupConfig(UTC)
    now = now or datetime.now(UTC)
    day, stop = first.astimezone(config.tz).date(), last.astimezone(config.tz).date()
    count = 0
    while day <= stop:
        def one(session: Session, d: date = day) -> None:
            _lock(session)
            _rebuild_calls(session, d, config)
            _rebuild_orders(session, d, config, now)
        db.call(one)
        day += timedelta(days=1)
        count += 1
    return count


async def refresh_job(deps: Any, every: float = 60.0) -> None:
    """Runs for the process's life: keeps the roll-ups close to the rows (a
    month of days a round, rounds back to back while days are left, as
    after an upgrade), so that the refresh a report makes before answering
    has only today's changes to count.  Safe on every instance (refreshes
    take turns on PostgreSQL's lock)."""
    config = RollupConfig.from_settings(deps.settings)
    while True:
        await asyncio.sleep(every)
        try:
            while (await deps.db.run(lambda s: refresh(s, config, deps.clock.now()))).pending:
                pass
        except Exception:  # the next round tries again; the marks are still there
            log.exception("reports: refreshing the roll-ups failed")
