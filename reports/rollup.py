"""Daily roll-ups of calls and work orders, kept as they change.

Triggers (migration 0014; 0018 for ``order_parts``) append the UTC hour of
every call and order written to ``report_dirty`` (a 加派 part marks its
order's hour).  :func:`refresh` claims the marks visible now,
recomputes the local days they fall on (one ``INSERT ... SELECT ... GROUP
BY`` per dimension, in the database) and deletes exactly the marks it
claimed, all in one transaction: a mark written meanwhile by another
transaction is not claimed and stays for the next refresh, and a crash
leaves every mark in place.  On PostgreSQL refreshes take an advisory lock,
so two instances never rebuild one day at once.

Every row carries the counting that wrote it: ``formula`` is
:data:`FORMULA`, bumped whenever what a roll-up counts changes.  A release
from before migration 0023 (which added the column) writes NULL there, and
one with an older counting its older number; besides the marked days, a
refresh recounts every day (newest first, ``max_days`` a round, calls and
orders apart) that has a row of a NULL or older formula, found through
the index on ``formula, day`` (:func:`stale_days`: no row to read in the
steady state).  So while an
old instance still runs during an upgrade, the marks it claims and the
days it recounts its own way are counted again by this release, and once
the last old instance stops the figures are this release's with no
``hotline reports rebuild``.  A newer counting's rows are left alone: the
newer release recounts what this one writes beside it.

A call counts on the local day it entered, an order on the day it was
created (as ``worksheets.stats.period_stats``); the figures are those
``period_stats`` and ``department_stats`` define (NOTES.md, "counting
honestly").  The answer target (seconds) is baked into the roll-up;
``hotline reports rebuild`` recounts after it changes.  The sums are the
SQL expressions of ``worksheets.stats`` (``call_sums``, ``order_sums``,
``department_returns``, ``part_sums``), never written again here.

Per department, an order counts for the department holding it (the lead)
and for each department holding a 加派 co-handling part of it.  A part
counts toward that department's ``orders``, ``submitted`` and
``dispatched`` (received) while it is not dropped; ``closed`` when the
part is answered and the hotline has closed the order; ``closed_on_time``
when the part was answered by the order's deadline; ``returned_by`` when
the department returned the part, and ``came_back`` (and ``returned``)
while it still holds the part it returned; and toward the report's
``overdue_now`` (as of the request, ``worksheets.lifecycle.open_work``)
while the part is still open past the deadline on an order not yet
closed.  The 回访 verdict (``rated``, ``satisfied``), the caller's survey
and the agent's 10-minute target are the lead's only: the lead's answer
is the reply to the citizen.
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
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session

from calls.models import Call
from reports.models import CALL_SUMS, ORDER_SUMS, CallsDaily, OrdersDaily, ReportDirty
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart
from worksheets.stats import (
    call_sums,
    department_returns,
    dispatched_orders,
    order_sums,
    part_sums,
)

log = logging.getLogger(__name__)
DIMENSIONS = ("all", "queue", "category", "agent", "department")
LOCK_KEY = 12_345_014  # pg_advisory_xact_lock: one refresh at a time
# The counting a roll-up row was written with (its ``formula`` column): bump
# it whenever what the roll-ups count changes, so that every day counted the
# older way is counted again by the next refresh.  1: "queued" calls are not
# offered; 加派 parts count in department rows (0018).
FORMULA = 1
STAMP = ("day", "week", "month", "formula")


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


def _key(column: Any) -> Any:
    return func.coalesce(cast(column, String), "-")


def _stamp(day: date) -> dict[str, Any]:
    """The values of :data:`STAMP` for a row of ``day``."""
    week = day - timedelta(days=day.weekday())
    return {"day": day, "week": week, "month": day.replace(day=1), "formula": FORMULA}


def _stamped(day: date) -> list[Any]:
    """:func:`_stamp` as the first columns of an ``INSERT ... SELECT``."""
    stamp = _stamp(day)
    return [literal(stamp[name]) for name in STAMP]


def _call_dimensions() -> dict[str, Any]:
    department = func.coalesce(WorkOrder.department_id, Call.department_id)
    return {"all": literal("*"), "queue": _key(Call.queue), "category": _key(Call.category),
            "agent": _key(Call.agent_id), "department": _key(department)}


def _rebuild_calls(session: Session, day: date, config: RollupConfig) -> None:
    start, end = day_bounds(day, config.tz)
    sums = call_sums(config.target_seconds)
    session.execute(delete(CallsDaily).where(CallsDaily.day == day))
    columns = [*STAMP, "dim", "key", *CALL_SUMS]
    for dim, key in _call_dimensions().items():
        query = select(*_stamped(day), literal(dim), key,
                       *(sums[n] for n in CALL_SUMS)).select_from(Call).where(
            Call.entered_at >= start, Call.entered_at < end)
        if dim == "department":  # calls that reached no department are left out
            query = query.outerjoin(WorkOrder, WorkOrder.call_id == Call.id).where(
                func.coalesce(WorkOrder.department_id, Call.department_id).is_not(None))
        query = query.group_by(key) if dim != "all" else query.having(func.count() > 0)
        session.execute(insert(CallsDaily).from_select(columns, query))


def _order_dimensions() -> dict[str, Any]:
    return {"all": literal("*"), "queue": _key(Call.queue), "category": _key(WorkOrder.category),
            "agent": _key(WorkOrder.agent_id), "department": _key(WorkOrder.department_id)}


def _rebuild_orders(session: Session, day: date, config: RollupConfig, now: datetime) -> bool:
    """Recount one day's orders; True when drafts were too young to judge
    (the day must be counted again once they are)."""
    start, end = day_bounds(day, config.tz)
    sums = order_sums(session, now, config.order_target_minutes)
    # A call closed without an order (a prank, silence) is counted apart, as
    # period_stats does: it is neither submitted nor a 10-minute miss.
    in_day = (WorkOrder.created_at >= start, WorkOrder.created_at < end,
              WorkOrder.status != "no_order")
    session.execute(delete(OrdersDaily).where(OrdersDaily.day == day))
    columns = [*STAMP, "dim", "key", *ORDER_SUMS]
    for dim, key in _order_dimensions().items():
        query = select(*_stamped(day), literal(dim), key,
                       *(sums.get(n, literal(0)) for n in ORDER_SUMS)).select_from(
            WorkOrder).where(*in_day)
        if dim == "queue":
            query = query.outerjoin(Call, Call.id == WorkOrder.call_id)
        if dim == "department":  # a duplicate merged (并案) counts with the order it joined
            query = query.where(WorkOrder.department_id.is_not(None),
                                WorkOrder.merged_into_id.is_(None))
        query = query.group_by(key) if dim != "all" else query.having(func.count() > 0)
        session.execute(insert(OrdersDaily).from_select(columns, query))
    _department_extras(session, day, (*in_day, *dispatched_orders()))
    young = session.scalar(select(func.count()).select_from(WorkOrder).where(
        *in_day, WorkOrder.submitted_at.is_(None),
        WorkOrder.created_at >= now - timedelta(minutes=config.order_target_minutes)))
    return bool(young)


# A 加派 part's sums (worksheets.stats.part_sums) go into the department row's
# columns: received is an order dispatched to (and accepted by) the department.
PART_COLUMNS = {"received": ("orders", "submitted", "dispatched"), "closed": ("closed",),
                "closed_on_time": ("closed_on_time",), "returned_by": ("returned_by",),
                "came_back": ("came_back", "returned")}


def _department_extras(session: Session, day: date, orders: tuple[Any, ...]) -> None:
    """What the department rows hold beyond the lead's sums:
    department_stats' returns (orders a department sent back, and those it
    holds again) and its 加派 parts."""
    for department, n_returned, back in session.execute(department_returns(*orders)):
        _add(session, day, department, {"returned_by": n_returned, "came_back": back})
    sums = part_sums(None)
    for department, *values in session.execute(select(
            OrderPart.department_id, *sums.values()).join(
            WorkOrder, WorkOrder.id == OrderPart.order_id).where(*orders).group_by(
            OrderPart.department_id)):
        _add(session, day, department, {column: int(value) for name, value in zip(
            sums, values, strict=True) for column in PART_COLUMNS[name]})


def _add(session: Session, day: date, department: int, values: dict[str, int]) -> None:
    """Add ``values`` to one department's row of ``day`` (made when missing)."""
    where = and_(OrdersDaily.day == day, OrdersDaily.dim == "department",
                 OrdersDaily.key == str(department))
    done = session.execute(update(OrdersDaily).where(where).values(
        {getattr(OrdersDaily, n): getattr(OrdersDaily, n) + v for n, v in values.items()}))
    if not done.rowcount:  # type: ignore[attr-defined]
        zeros = {name: 0 for name in ORDER_SUMS}
        session.execute(insert(OrdersDaily).values(
            **_stamp(day), dim="department", key=str(department), **{**zeros, **values}))


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
    """(kind, local day) -> the marked hours that touch it, unclaimed; and
    the days with rows of a NULL or older formula (no hours)."""
    wanted: dict[tuple[str, date], set[str]] = {}
    for kind, hour in session.execute(select(ReportDirty.kind, ReportDirty.hour).where(
            ReportDirty.taken_at.is_(None)).distinct()):
        for day in days_of_hours([hour], tz):
            wanted.setdefault((kind, day), set()).add(hour)
    for kind, table in (("c", CallsDaily), ("o", OrdersDaily)):
        for day in session.scalars(stale_days(table)):
            wanted.setdefault((kind, day), set())
    return wanted


def stale_days(table: Any) -> Any:
    """The days of ``table`` with a row of a NULL or older formula: two
    searches of its ``formula, day`` index (with an OR, SQLite would scan
    the table), nothing read in the steady state."""
    return union(select(table.day).where(table.formula.is_(None)),
                 select(table.day).where(table.formula < FORMULA))


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
    for kind, day in chosen:  # a day counted the older way may have no mark
        (call_days if kind == "c" else order_days).add(day)
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
