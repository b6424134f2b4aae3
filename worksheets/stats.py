"""The figures supervisors are held to, for any period (DOMAIN.md):
service level (answered within the target seconds), abandon rate, ASA,
AHT, and for work orders the completion (办结率), on-time and satisfaction
rates.  Pure queries over the call and order records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from calls.models import Call
from worksheets.lifecycle import overdue_at, part_due_at
from worksheets.models import CallbackTask, Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

SATISFIED = ("satisfied", "basically_satisfied")


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class HourBucket:
    hour: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_target: int = 0


@dataclass
class PeriodStats:
    start: str
    end: str
    calls: int = 0
    offered: int = 0  # reached a queue
    answered: int = 0
    abandoned: int = 0
    ivr_only: int = 0  # hung up, blocked or took a callback in the IVR
    service_level: float | None = None
    abandon_rate: float | None = None
    asa_seconds: float | None = None
    aht_seconds: float | None = None
    orders_accepted: int = 0
    orders_closed: int = 0
    completion_rate: float | None = None
    on_time_rate: float | None = None
    return_rate: float | None = None  # dispatched orders returned (退回) at least once
    satisfaction_rate: float | None = None  # the 回访 verdicts only (DOMAIN.md)
    # The caller's post-call survey: the hotline's own service, not a department's.
    surveyed: int = 0
    service_rating: float | None = None
    # Answered calls whose order was submitted within 10 min of the answer; a
    # draft still unsubmitted past the 10 min is a miss, not left out.
    within_target_minutes: float | None = None
    drafts_unsubmitted: int = 0
    # Calls that needed no order (prank, silence, wrong number, special line):
    # counted here, by reason, and left out of every order figure above.
    no_order: int = 0
    no_order_reasons: dict[str, int] = field(default_factory=dict)
    # The backlog as of ``now`` (whatever the period): what needs doing.
    overdue_open: int | None = None  # dispatched or signed for, past due
    callbacks_open: int | None = None
    visits_due: int | None = None  # closed by a department, 回访 not made yet
    hours: list[HourBucket] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_stats(session: Session, start: datetime, end: datetime, *, tz: tzinfo,
                 target_seconds: int = 15, order_target_minutes: int = 10,
                 now: datetime | None = None) -> PeriodStats:
    """Figures for calls that entered, and orders created, in [start, end);
    with ``now``, also the backlog at that moment."""
    stats = PeriodStats(start=start.isoformat(), end=end.isoformat())
    calls = session.scalars(select(Call).where(Call.entered_at >= start,
                                               Call.entered_at < end)).all()
    hours: dict[str, HourBucket] = {}
    holds, talks = [], []
    for call in calls:
        stats.calls += 1
        local = call.entered_at.astimezone(tz)
        bucket = hours.setdefault(local.strftime("%Y-%m-%d %H:00"),
                                  HourBucket(local.strftime("%Y-%m-%d %H:00")))
        if call.outcome in ("answered", "abandoned", "queued"):
            stats.offered += 1
            bucket.offered += 1
        else:
            stats.ivr_only += 1
        if call.outcome == "answered":
            stats.answered += 1
            bucket.answered += 1
            hold = call.hold_seconds or 0
            holds.append(hold)
            if hold <= target_seconds:
                bucket.within_target += 1
            if call.talk_seconds is not None:
                talks.append(call.talk_seconds)
        elif call.outcome == "abandoned":
            stats.abandoned += 1
            bucket.abandoned += 1
    stats.hours = sorted(hours.values(), key=lambda b: b.hour)
    within = sum(b.within_target for b in stats.hours)
    stats.service_level = _ratio(within, stats.offered)
    stats.abandon_rate = _ratio(stats.abandoned, stats.offered)
    stats.asa_seconds = round(sum(holds) / len(holds), 1) if holds else None
    stats.aht_seconds = round(sum(talks) / len(talks), 1) if talks else None
    _order_figures(session, stats, start, end, order_target_minutes, now or end)
    if now is not None:
        _backlog(session, stats, now)
    return stats


def _backlog(session: Session, stats: PeriodStats, now: datetime) -> None:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    stats.overdue_open = count(WorkOrder, overdue_at(now))
    stats.callbacks_open = count(CallbackTask, CallbackTask.status.in_(("open", "calling")))
    stats.visits_due = count(WorkOrder, WorkOrder.status == "closed",
                             WorkOrder.visited_at.is_(None),
                             WorkOrder.answered_on_call.is_(False))


def _order_figures(session: Session, stats: PeriodStats, start: datetime, end: datetime,
                   target_minutes: int, as_of: datetime) -> None:
    orders = session.scalars(select(WorkOrder).where(WorkOrder.created_at >= start,
                                                     WorkOrder.created_at < end)).all()
    for order in orders:
        if order.status == "no_order":
            reason = order.no_order_reason or "other"
            stats.no_order_reasons[reason] = stats.no_order_reasons.get(reason, 0) + 1
    stats.no_order = sum(stats.no_order_reasons.values())
    orders = [o for o in orders if o.status != "no_order"]
    submitted = [o for o in orders if o.submitted_at is not None]
    stats.orders_accepted = len(submitted)
    closed = [o for o in submitted if o.status == "closed"]
    stats.orders_closed = len(closed)
    stats.completion_rate = _ratio(len(closed), len(submitted))
    # On time by the department's answer (统一答复: the review's date is the hotline's).
    on_time = [o for o in closed if o.due_at is None
               or ((o.answered_at or o.closed_at) and (o.answered_at or o.closed_at) <= o.due_at)]
    stats.on_time_rate = _ratio(len(on_time), len(closed))
    dispatched = [o for o in submitted if not o.answered_on_call]
    stats.return_rate = _ratio(sum(o.returns > 0 for o in dispatched), len(dispatched))
    rated = [o for o in orders if o.satisfaction]
    stats.satisfaction_rate = _ratio(sum(o.satisfaction in SATISFIED for o in rated), len(rated))
    surveyed = [o for o in orders if o.survey_answer]
    stats.surveyed = len(surveyed)
    stats.service_rating = _ratio(sum(o.survey_answer in SATISFIED for o in surveyed),
                                  len(surveyed))
    target = timedelta(minutes=target_minutes)
    quick = [o for o in submitted if o.submitted_at - o.created_at <= target]
    # Every answered call has its order (a draft from the answer on): one
    # still being written within its 10 minutes is not judged yet.
    judged = [o for o in orders if o.submitted_at is not None or as_of - o.created_at > target]
    stats.drafts_unsubmitted = sum(o.submitted_at is None for o in judged)
    stats.within_target_minutes = _ratio(len(quick), len(judged))


@dataclass
class DepartmentRow:
    """One department's account for a period (DOMAIN.md's rates)."""

    department_id: int
    department: str
    received: int = 0  # orders it holds now, submitted in the period
    closed: int = 0
    closed_on_time: int = 0
    open: int = 0
    overdue: int = 0  # open and past due, as of now
    returned: int = 0  # orders it sent back (退回), whoever holds them now
    rated: int = 0
    satisfied: int = 0
    completion_rate: float | None = None
    on_time_rate: float | None = None
    return_rate: float | None = None  # returned / every order dispatched to it
    satisfaction_rate: float | None = None
    below_target: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def department_stats(session: Session, start: datetime, end: datetime, *, now: datetime,
                     completion_target: float = 0.96,
                     department_id: int | None = None) -> list[DepartmentRow]:
    """Each active department's orders submitted in [start, end): completion
    (closed / received, as of now), on-time, return and satisfaction rates;
    worst completion first.  An order counts for the department holding it
    now; a return counts against the department that sent the order back
    (its return rate is over the orders it held or returned).  Aggregated
    in the database: the console asks for it often."""
    departments = select(Department).where(Department.active).order_by(Department.id)
    if department_id is not None:
        departments = departments.where(Department.id == department_id)
    rows = {d.id: DepartmentRow(d.id, d.name) for d in session.scalars(departments)}
    # A duplicate merged into another order (并案) is counted with that order.
    in_period = (WorkOrder.submitted_at >= start, WorkOrder.submitted_at < end,
                 WorkOrder.answered_on_call.is_(False), WorkOrder.merged_into_id.is_(None),
                 WorkOrder.department_id.in_(list(rows)))
    closed = WorkOrder.status == "closed"
    answered = func.coalesce(WorkOrder.answered_at, WorkOrder.closed_at)
    held = session.execute(select(
        WorkOrder.department_id, func.count(),
        _count(closed),
        _count(closed & (WorkOrder.due_at.is_(None) | (answered <= WorkOrder.due_at))),
        _count(WorkOrder.status.in_(("dispatched", "accepted")) & (WorkOrder.due_at < now)),
        _count(WorkOrder.satisfaction.is_not(None)),
        _count(WorkOrder.satisfaction.in_(SATISFIED)),
    ).where(*in_period).group_by(WorkOrder.department_id))
    for dept, received, n_closed, on_time, overdue, rated, satisfied in held:
        row = rows[dept]
        row.received, row.closed, row.closed_on_time = received, n_closed, on_time
        row.open, row.overdue, row.rated, row.satisfied = (received - n_closed, overdue,
                                                           rated, satisfied)
    returned_by = OrderEvent.department_id
    returns = session.execute(select(
        returned_by, func.count(func.distinct(OrderEvent.order_id)),
        func.count(func.distinct(case((returned_by == WorkOrder.department_id,
                                       OrderEvent.order_id)))),
    ).join(WorkOrder, WorkOrder.id == OrderEvent.order_id).where(
        OrderEvent.kind == "returned", returned_by.in_(list(rows)), *in_period[:4],
    ).group_by(returned_by))
    came_back: dict[int, int] = {}
    for dept, n_returned, back_with_it in returns:
        rows[dept].returned, came_back[dept] = n_returned, back_with_it
    _count_parts(session, rows, came_back, in_period[:4], now)
    for row in rows.values():
        dispatched_to = row.received + row.returned - came_back.get(row.department_id, 0)
        row.completion_rate = _ratio(row.closed, row.received)
        row.on_time_rate = _ratio(row.closed_on_time, row.closed)
        row.return_rate = _ratio(row.returned, dispatched_to)
        row.satisfaction_rate = _ratio(row.satisfied, row.rated)
        row.below_target = row.completion_rate is not None and \
            row.completion_rate < completion_target
    return sorted(rows.values(), key=lambda r: (r.completion_rate is None,
                                                r.completion_rate or 0.0, -r.received))


def _count_parts(session: Session, rows: dict[int, DepartmentRow], came_back: dict[int, int],
                 in_period: tuple[Any, ...], now: datetime) -> None:
    """加派: each co-handling department is counted for its own part: received
    (parts it holds), completed when its part is answered and the hotline has
    closed the order, on time by its own answer, overdue while its part is
    open past its deadline (its own, if extended); a part it returned counts
    against it.  The 回访 verdict is the lead's (its answer is the reply to the citizen)."""
    held = OrderPart.status != "dropped"
    done = (OrderPart.status == "answered") & (WorkOrder.status == "closed")
    result = session.execute(select(
        OrderPart.department_id,
        _count(held), _count(held & done),
        _count(held & done & (OrderPart.answered_at <= part_due_at())),
        _count(OrderPart.status.in_(("dispatched", "accepted")) & (part_due_at() < now)),
        _count(OrderPart.returns > 0), _count(held & (OrderPart.returns > 0)),
    ).join(WorkOrder, WorkOrder.id == OrderPart.order_id).where(
        *in_period, OrderPart.department_id.in_(list(rows))).group_by(OrderPart.department_id))
    for dept, n_held, n_done, on_time, overdue, n_returned, kept in result:
        row = rows[dept]
        row.received += n_held
        row.closed += n_done
        row.closed_on_time += on_time
        row.open += n_held - n_done
        row.overdue += overdue
        row.returned += n_returned
        came_back[dept] = came_back.get(dept, 0) + kept
