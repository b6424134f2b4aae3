"""The floor's figures from the database, one query per kind for every
queue, agent or department at once (never one per console).

Today is the local day (``HOTLINE_TZ``).  Service level follows NOTES.md:
answered within the target seconds (15, GB/T 33358-2016) over calls offered
to a queue (answered + abandoned); calls that end in the IVR are not offered,
and a caller still waiting is offered once the call ends.  The sums are
``worksheets.stats.call_sums`` and overdue is ``worksheets.lifecycle``'s,
as in the reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from agents.models import AgentStatePeriod
from calls.models import Call
from worksheets.lifecycle import OPEN_ORDER, open_work, overdue_at, part_due_at
from worksheets.models import CallbackTask, Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart
from worksheets.stats import call_rates, call_sums

OPEN_ORDERS = ("dispatched", "accepted")
DUE_SOON = timedelta(hours=24)
LISTED = 50  # orders named in a list (the counts are complete)


@dataclass(frozen=True)
class Day:
    """A local day's bounds in UTC-aware datetimes."""

    local: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, now: datetime, tz: tzinfo) -> Day:
        local = now.astimezone(tz).date()
        return cls.for_date(local, tz)

    @classmethod
    def for_date(cls, local: date, tz: tzinfo) -> Day:
        start = datetime.combine(local, time(0), tz)
        end = datetime.combine(local + timedelta(days=1), time(0), tz)
        return cls(local, start, end)

    def hours(self) -> list[datetime]:
        return [self.start + timedelta(hours=h) for h in range(25)]


def _n(value: Any) -> int:
    return int(value or 0)


def _call_rows(s: Session, group: Any, sl_seconds: int,
               *where: Any) -> Iterator[tuple[Any, dict[str, int]]]:
    """``call_sums`` (worksheets.stats: the reports' definitions) per ``group``."""
    sums = call_sums(sl_seconds)
    for key, *values in s.execute(select(group, *sums.values()).where(*where).group_by(group)):
        yield key, dict(zip(sums, map(_n, values), strict=True))


def queue_figures(s: Session, day: Day, sl_seconds: int) -> dict[str, dict[str, Any]]:
    """Per queue, today: answered, abandoned, offered, service level, ASA,
    AHT (talk), abandon rate."""
    out: dict[str, dict[str, Any]] = {}
    for queue, sums in _call_rows(s, Call.queue, sl_seconds, Call.queue.is_not(None),
                                  Call.entered_at >= day.start, Call.entered_at < day.end):
        rates = call_rates(sums)
        out[queue] = {"answered": sums["answered"], "abandoned": sums["abandoned"],
                      "offered": sums["offered"], "service_level": rates["service_level"],
                      "abandon_rate": rates["abandon_rate"], "asa": rates["asa_seconds"],
                      "aht": rates["aht_seconds"]}
    return out


def callbacks_pending(s: Session) -> dict[str, int]:
    rows = s.execute(select(CallbackTask.queue, func.count())
                     .where(CallbackTask.status.in_(("open", "calling")))
                     .group_by(CallbackTask.queue))
    return {queue or "": _n(n) for queue, n in rows}


def queued_since(s: Session, uniqueids: list[str]) -> dict[str, datetime]:
    """When callers the model has waiting joined their queue, from their records
    (for those who joined before this backend started)."""
    if not uniqueids:
        return {}
    rows = s.execute(select(Call.uniqueid, Call.queued_at, Call.entered_at)
                     .where(Call.uniqueid.in_(uniqueids)))
    return {u: q or e for u, q, e in rows}


def agent_figures(s: Session, day: Day, now: datetime) -> dict[int, dict[str, Any]]:
    """Per agent, today: calls answered, talk and pause seconds (periods
    clamped to the day; the open one counts up to now)."""
    out: dict[int, dict[str, Any]] = {}

    def of(agent_id: int) -> dict[str, Any]:
        return out.setdefault(agent_id, {"calls_today": 0, "talk_seconds": 0,
                                         "pause_seconds": 0})

    for agent_id, n in s.execute(
            select(Call.agent_id, func.count()).where(
                Call.agent_id.is_not(None), Call.outcome == "answered",
                Call.answered_at >= day.start, Call.answered_at < day.end)
            .group_by(Call.agent_id)):
        if agent_id is not None:
            of(agent_id)["calls_today"] = _n(n)
    periods = s.execute(
        select(AgentStatePeriod.agent_id, AgentStatePeriod.state, AgentStatePeriod.started_at,
               AgentStatePeriod.ended_at)
        .where(AgentStatePeriod.state.in_(("on_call", "paused")),
               AgentStatePeriod.started_at < min(now, day.end),
               or_(AgentStatePeriod.ended_at.is_(None), AgentStatePeriod.ended_at > day.start)))
    for agent_id, state, started, ended in periods:
        seconds = (min(ended or now, now, day.end) - max(started, day.start)).total_seconds()
        key = "talk_seconds" if state == "on_call" else "pause_seconds"
        of(agent_id)[key] += max(round(seconds), 0)
    return out


def order_figures(s: Session, now: datetime, target_minutes: int) -> dict[str, Any]:
    """Drafts past the target, orders due within a day, overdue by department."""
    late = now - timedelta(minutes=target_minutes)
    drafts = s.execute(select(WorkOrder.id, WorkOrder.number, WorkOrder.agent_id,
                              WorkOrder.created_at)
                       .where(WorkOrder.status == "draft", WorkOrder.created_at <= late)
                       .order_by(WorkOrder.created_at).limit(LISTED)).all()
    n_drafts = s.scalar(select(func.count()).select_from(WorkOrder).where(
        WorkOrder.status == "draft", WorkOrder.created_at <= late))
    # Work owed by a lead or a 加派 part (lifecycle.open_work): an order its
    # lead answered is still overdue while a part of it is open (督办).
    work = open_work()
    overdue, due_soon = work.c.due_at < now, and_(work.c.due_at >= now,
                                                  work.c.due_at < now + DUE_SOON)
    by_dept = s.execute(
        select(work.c.department_id, Department.name,
               func.count(distinct(case((overdue, work.c.order_id)))),
               func.count(distinct(case((due_soon, work.c.order_id)))))
        .join(Department, Department.id == work.c.department_id, isouter=True)
        .where(work.c.due_at < now + DUE_SOON)
        .group_by(work.c.department_id, Department.name)
        .order_by(Department.name))
    departments = [{"department_id": d, "department": name or "", "overdue": _n(o),
                    "due_soon": _n(soon)} for d, name, o, soon in by_dept]
    soon_ids = select(work.c.order_id).where(due_soon)
    soon = s.execute(select(WorkOrder.id, WorkOrder.number, WorkOrder.department_id,
                            WorkOrder.due_at)
                     .where(WorkOrder.id.in_(soon_ids)).order_by(WorkOrder.due_at, WorkOrder.id)
                     .limit(LISTED)).all()
    n_soon = s.scalar(select(func.count(distinct(work.c.order_id))).where(due_soon))
    n_overdue = s.scalar(select(func.count()).select_from(WorkOrder).where(overdue_at(now)))
    return {
        "drafts_late": _n(n_drafts),
        "drafts": [{"order_id": i, "number": n, "agent_id": a, "created_at": c.isoformat()}
                   for i, n, a, c in drafts],
        "due_soon": _n(n_soon),  # orders: one with parts is counted once
        "due_soon_orders": [{"order_id": i, "number": n, "department_id": d,
                             "due_at": due.isoformat() if due else None}
                            for i, n, d, due in soon],
        "overdue": _n(n_overdue),  # the 督办 list's orders
        "by_department": departments,
        **waiting_for_supervisors(s),
    }


def waiting_for_supervisors(s: Session) -> dict[str, Any]:
    """Returned orders (with the department's reason) to dispatch again, and
    extensions asked for (by the lead, or for a co-handling part: ``part_id``):
    on the floor with their reasons in view."""
    returned = s.execute(select(WorkOrder.id, WorkOrder.number, WorkOrder.title,
                                WorkOrder.category, WorkOrder.returns)
                         .where(WorkOrder.status == "returned")
                         .order_by(WorkOrder.id).limit(LISTED)).all()
    why: dict[int, tuple[str, int | None, datetime]] = {}
    if returned:
        for order_id, detail, dept, at in s.execute(
                select(OrderEvent.order_id, OrderEvent.detail, OrderEvent.department_id,
                       OrderEvent.at)
                .where(OrderEvent.order_id.in_([r[0] for r in returned]),
                       OrderEvent.kind == "returned")
                .order_by(OrderEvent.at, OrderEvent.id)):
            why[order_id] = (detail, dept, at)  # the latest return wins
    names = dict(s.execute(select(Department.id, Department.name)).all())
    extensions = s.execute(select(WorkOrder.id, WorkOrder.number, WorkOrder.department_id,
                                  WorkOrder.extension_days, WorkOrder.extension_reason,
                                  WorkOrder.due_at)
                           .where(WorkOrder.extension_days.is_not(None),
                                  WorkOrder.status.in_(OPEN_ORDERS))
                           .order_by(WorkOrder.due_at).limit(LISTED)).all()
    # A co-handling part's own request (加派): decided on the part.
    part_requests = s.execute(select(WorkOrder.id, WorkOrder.number, OrderPart.id,
                                     OrderPart.department_id, OrderPart.extension_days,
                                     OrderPart.extension_reason, part_due_at())
                              .join(OrderPart, OrderPart.order_id == WorkOrder.id)
                              .where(OrderPart.extension_days.is_not(None),
                                     OrderPart.status.in_(OPEN_ORDERS),
                                     WorkOrder.status.in_(OPEN_ORDER))
                              .order_by(part_due_at()).limit(LISTED)).all()
    asked = [(due, {"order_id": i, "number": n, "part_id": None, "department_id": d,
                    "department": names.get(d or 0, ""), "days": days, "reason": reason,
                    "due_at": due.isoformat() if due else None})
             for i, n, d, days, reason, due in extensions]
    asked += [(due, {"order_id": i, "number": n, "part_id": part, "department_id": d,
                     "department": names.get(d or 0, ""), "days": days, "reason": reason,
                     "due_at": due.isoformat() if due else None})
              for i, n, part, d, days, reason, due in part_requests]
    asked.sort(key=lambda x: (x[0] is None, x[0] or datetime.min, x[1]["order_id"]))
    return {
        "returned": [{"order_id": i, "number": n, "title": title, "category": cat,
                      "returns": returns, "reason": why.get(i, ("", None, None))[0],
                      "from_department": names.get(why.get(i, ("", None, None))[1] or 0, ""),
                      "returned_at": why[i][2].isoformat() if i in why else None}
                     for i, n, title, cat, returns in returned],
        "extensions": [row for _due, row in asked[:LISTED]],
    }


def _hour_of(day: Day) -> Any:
    bounds = day.hours()
    return case(*[(Call.entered_at < bounds[h + 1], h) for h in range(24)], else_=24)


def hourly(s: Session, day: Day, sl_seconds: int, *, until: datetime | None = None
           ) -> list[dict[str, Any]]:
    """Calls entered per local hour of ``day`` (up to ``until``), with the
    hour's service level and abandon rate."""
    hour = _hour_of(day)
    end = min(until, day.end) if until is not None else day.end
    out: list[dict[str, Any]] = [{"hour": h, "calls": 0, "offered": 0, "service_level": None,
                                  "abandon_rate": None} for h in range(24)]
    for h, sums in _call_rows(s, hour, sl_seconds, Call.entered_at >= day.start,
                              Call.entered_at < end):
        if not 0 <= h < 24:
            continue
        rates = call_rates(sums)
        out[h] = {"hour": h, "calls": sums["calls"], "offered": sums["offered"],
                  "service_level": rates["service_level"],
                  "abandon_rate": rates["abandon_rate"]}
    return out


def trends(s: Session, now: datetime, tz: tzinfo, sl_seconds: int) -> dict[str, Any]:
    """Today per hour against the same weekday last week."""
    today = Day.of(now, tz)
    last_week = Day.for_date(today.local - timedelta(days=7), tz)
    mine = hourly(s, today, sl_seconds, until=now)
    before = hourly(s, last_week, sl_seconds)
    return {"day": today.local.isoformat(), "compared_with": last_week.local.isoformat(),
            "hours": [{**h, "calls_last_week": b["calls"]} for h, b in zip(mine, before,
                                                                         strict=True)]}
