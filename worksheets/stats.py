"""The figures supervisors are held to, for any period (DOMAIN.md):
service level (answered within the target seconds), abandon rate, ASA,
AHT, and for work orders the completion (办结率), on-time and satisfaction
rates.  Pure queries over the call and order records.

The SQL expressions here are the one definition of each figure: the live
floor (floor/figures.py) and the daily roll-ups (reports/rollup.py) use
them too.

* A call is **offered** when it reached a queue and ended there, answered
  or abandoned (NOTES.md, Decisions); calls that end in the IVR are not.
  A call still in the IVR or still waiting in a queue (at the period's end,
  or one the records never saw end until ``hotline reconcile``) is counted
  in ``calls`` only: it becomes offered, or IVR-only, when it ends (its
  day's roll-up is recounted then).
* **Service level**: answered with a hold of at most the target seconds,
  over offered.  Every path that records an answer records the hold
  (queue_log's unreadable wait is 0), so a missing hold is taken as 0, in
  the service level and the ASA alike.
* **Overdue**: ``worksheets.lifecycle.overdue_at`` (督办) and its per-
  department parts ``lead_overdue`` / ``part_overdue`` / ``open_work``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from calls.models import Call
from worksheets.lifecycle import lead_overdue, overdue_at, part_due_at, part_overdue
from worksheets.models import CallbackTask, Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

SATISFIED = ("satisfied", "basically_satisfied")


OFFERED = ("answered", "abandoned")  # reached a queue and ended there
IN_PROGRESS = ("in_ivr", "queued")  # not ended yet: neither offered nor IVR-only


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def count_if(condition: Any, value: Any = 1) -> Any:
    """SUM of ``value`` over the rows meeting ``condition`` (0, never NULL)."""
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def call_sums(target_seconds: int) -> dict[str, Any]:
    """The sums every call figure is made from, as SQL aggregates over ``calls``."""
    answered = Call.outcome == "answered"
    hold = func.coalesce(Call.hold_seconds, 0)
    talked = answered & Call.talk_seconds.is_not(None)
    return {"calls": func.count(), "offered": count_if(Call.outcome.in_(OFFERED)),
            "answered": count_if(answered), "abandoned": count_if(Call.outcome == "abandoned"),
            "ivr_only": count_if(Call.outcome.not_in((*OFFERED, *IN_PROGRESS))),
            "within_target": count_if(answered & (hold <= target_seconds)),
            "hold_sum": count_if(answered, hold),
            "talk_sum": count_if(talked, Call.talk_seconds), "talk_n": count_if(talked)}


def call_rates(sums: dict[str, Any]) -> dict[str, float | None]:
    """Service level, abandon rate, ASA and AHT from :func:`call_sums`."""
    offered, answered, talk_n = sums["offered"], sums["answered"], sums["talk_n"]
    return {"service_level": ratio(sums["within_target"], offered),
            "abandon_rate": ratio(sums["abandoned"], offered),
            "asa_seconds": round(sums["hold_sum"] / answered, 1) if answered else None,
            "aht_seconds": round(sums["talk_sum"] / talk_n, 1) if talk_n else None}


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
    offered: int = 0  # reached a queue and ended there (answered or abandoned)
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
    in_period = (Call.entered_at >= start, Call.entered_at < end)
    sums = call_sums(target_seconds)
    totals = dict(zip(sums, session.execute(select(*sums.values()).where(*in_period)).one(),
                      strict=True))
    for name in ("calls", "offered", "answered", "abandoned", "ivr_only"):
        setattr(stats, name, int(totals[name]))
    for name, value in call_rates({k: int(v) for k, v in totals.items()}).items():
        setattr(stats, name, value)
    hours: dict[str, HourBucket] = {}
    answered = Call.outcome == "answered"
    for entered, outcome, within in session.execute(select(
            Call.entered_at, Call.outcome,
            answered & (func.coalesce(Call.hold_seconds, 0) <= target_seconds)).where(
            *in_period)):
        hour = entered.astimezone(tz).strftime("%Y-%m-%d %H:00")
        bucket = hours.setdefault(hour, HourBucket(hour))
        bucket.offered += outcome in OFFERED
        bucket.answered += outcome == "answered"
        bucket.abandoned += outcome == "abandoned"
        bucket.within_target += bool(within)
    stats.hours = sorted(hours.values(), key=lambda b: b.hour)
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


def seconds_between(session: Session, earlier: Any, later: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def order_sums(session: Session, as_of: datetime, target_minutes: int) -> dict[str, Any]:
    """The sums every order figure is made from, as SQL aggregates over
    ``work_orders`` (a call closed without an order, ``no_order``, is to be
    left out by the caller's WHERE: it is counted apart)."""
    target = timedelta(minutes=target_minutes)
    submitted = WorkOrder.submitted_at.is_not(None)
    closed = submitted & (WorkOrder.status == "closed")
    dispatched = submitted & WorkOrder.answered_on_call.is_(False)
    # Every answered call has its order (a draft from the answer on): one
    # still being written within its 10 minutes is not judged yet.
    old_enough = WorkOrder.created_at < as_of - target
    quick = submitted & (seconds_between(session, WorkOrder.created_at,
                                         WorkOrder.submitted_at) <= target.total_seconds())
    return {
        "orders": func.count(), "submitted": count_if(submitted), "closed": count_if(closed),
        # on time by the department's answer (统一答复: the review's date is the hotline's)
        "closed_on_time": count_if(closed & (WorkOrder.due_at.is_(None) | (func.coalesce(
            WorkOrder.answered_at, WorkOrder.closed_at) <= WorkOrder.due_at))),
        "dispatched": count_if(dispatched),
        "returned": count_if(dispatched & (WorkOrder.returns > 0)),
        # satisfaction from the 回访 only (DOMAIN.md); the survey is the hotline's
        "rated": count_if(WorkOrder.satisfaction.is_not(None)),
        "satisfied": count_if(WorkOrder.satisfaction.in_(SATISFIED)),
        "surveyed": count_if(WorkOrder.survey_answer.is_not(None)),
        "survey_satisfied": count_if(WorkOrder.survey_answer.in_(SATISFIED)),
        "quick": count_if(quick), "judged": count_if(submitted | old_enough),
        "drafts_unsubmitted": count_if(~submitted & old_enough),
    }


def _order_figures(session: Session, stats: PeriodStats, start: datetime, end: datetime,
                   target_minutes: int, as_of: datetime) -> None:
    created = (WorkOrder.created_at >= start, WorkOrder.created_at < end)
    for reason, n in session.execute(select(WorkOrder.no_order_reason, func.count()).where(
            *created, WorkOrder.status == "no_order").group_by(WorkOrder.no_order_reason)):
        stats.no_order_reasons[reason or "other"] = \
            stats.no_order_reasons.get(reason or "other", 0) + int(n)
    stats.no_order = sum(stats.no_order_reasons.values())
    sums = order_sums(session, as_of, target_minutes)
    got = {name: int(value) for name, value in zip(sums, session.execute(select(
        *sums.values()).where(*created, WorkOrder.status != "no_order")).one(), strict=True)}
    stats.orders_accepted, stats.orders_closed = got["submitted"], got["closed"]
    stats.completion_rate = ratio(got["closed"], got["submitted"])
    stats.on_time_rate = ratio(got["closed_on_time"], got["closed"])
    stats.return_rate = ratio(got["returned"], got["dispatched"])
    stats.satisfaction_rate = ratio(got["satisfied"], got["rated"])
    stats.surveyed = got["surveyed"]
    stats.service_rating = ratio(got["survey_satisfied"], got["surveyed"])
    stats.drafts_unsubmitted = got["drafts_unsubmitted"]
    stats.within_target_minutes = ratio(got["quick"], got["judged"])


@dataclass
class DepartmentRow:
    """One department's account for a period (DOMAIN.md's rates)."""

    department_id: int
    department: str
    received: int = 0  # orders (or 加派 parts) it holds now, submitted in the period
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


def dispatched_orders() -> tuple[Any, ...]:
    """The orders departments are counted for: dispatched (not answered on the
    call), and not merged into another (并案: counted with that order)."""
    return (WorkOrder.submitted_at.is_not(None), WorkOrder.answered_on_call.is_(False),
            WorkOrder.merged_into_id.is_(None))


def department_returns(*where: Any) -> Any:
    """Per department that sent orders back (退回): how many, and of those
    how many it holds again (the return rate's denominator counts them once)."""
    returned_by = OrderEvent.department_id
    return select(
        returned_by, func.count(distinct(OrderEvent.order_id)),
        func.count(distinct(case((returned_by == WorkOrder.department_id,
                                  OrderEvent.order_id)))),
    ).join(WorkOrder, WorkOrder.id == OrderEvent.order_id).where(
        OrderEvent.kind == "returned", returned_by.is_not(None), *where).group_by(returned_by)


def part_sums(now: datetime | None) -> dict[str, Any]:
    """加派: what a co-handling part counts toward, per department, as SQL
    aggregates over ``order_parts`` joined to its order.  A part held (not
    dropped) is received; completed when it is answered and the hotline has
    closed the order; on time by its own answer against its deadline (the
    order's, or its own once extended: :func:`lifecycle.part_due_at`);
    overdue (with ``now``) while open past it; a part it returned
    counts against it (``returned_by``), and one it still holds after
    returning it (waiting for the hotline to move it) is counted once in the
    return rate (``came_back``).  The 回访 verdict, the caller's survey and
    the agent's 10-minute target are the order's (its lead's) alone."""
    held = OrderPart.status != "dropped"
    done = held & (OrderPart.status == "answered") & (WorkOrder.status == "closed")
    sums = {"received": count_if(held), "closed": count_if(done),
            "closed_on_time": count_if(done & (WorkOrder.due_at.is_(None) | (
                OrderPart.answered_at <= part_due_at()))),
            "returned_by": count_if(OrderPart.returns > 0),
            "came_back": count_if(held & (OrderPart.returns > 0))}
    if now is not None:
        sums["overdue"] = count_if(part_overdue(now))
    return sums


def _lead_sums(session: Session, now: datetime) -> dict[str, Any]:
    sums = order_sums(session, now, 0)  # its outcome sums only (the target is the agent's)
    return {"received": func.count(), "closed": sums["closed"],
            "closed_on_time": sums["closed_on_time"],
            "overdue": count_if(lead_overdue(now)),
            "rated": sums["rated"], "satisfied": sums["satisfied"]}


def department_stats(session: Session, start: datetime, end: datetime, *, now: datetime,
                     completion_target: float = 0.96,
                     department_id: int | None = None) -> list[DepartmentRow]:
    """Each active department's orders submitted in [start, end): completion
    (closed / received, as of now), on-time, return and satisfaction rates;
    worst completion first.  An order counts for the department holding it
    now, and for each department holding a 加派 part of it (:func:`part_sums`);
    a return counts against the department that sent the order back (its
    return rate is over the orders it held or returned).  Aggregated in the
    database: the console asks for it often."""
    departments = select(Department).where(Department.active).order_by(Department.id)
    if department_id is not None:
        departments = departments.where(Department.id == department_id)
    rows = {d.id: DepartmentRow(d.id, d.name) for d in session.scalars(departments)}
    in_period = (WorkOrder.submitted_at >= start, WorkOrder.submitted_at < end,
                 *dispatched_orders())
    came_back: dict[int, int] = {}

    def add(dept: int, values: dict[str, int]) -> None:
        row = rows[dept]
        for name, value in values.items():
            if name == "came_back":
                came_back[dept] = came_back.get(dept, 0) + value
            elif name == "returned_by":
                row.returned += value
            else:
                setattr(row, name, getattr(row, name) + value)

    sums = _lead_sums(session, now)
    for dept, *values in session.execute(select(WorkOrder.department_id, *sums.values()).where(
            *in_period, WorkOrder.department_id.in_(list(rows))).group_by(
            WorkOrder.department_id)):
        add(dept, dict(zip(sums, map(int, values), strict=True)))
    for dept, n_returned, back in session.execute(department_returns(
            *in_period, OrderEvent.department_id.in_(list(rows)))):
        add(dept, {"returned_by": int(n_returned), "came_back": int(back)})
    sums = part_sums(now)
    for dept, *values in session.execute(select(OrderPart.department_id, *sums.values()).join(
            WorkOrder, WorkOrder.id == OrderPart.order_id).where(
            *in_period, OrderPart.department_id.in_(list(rows))).group_by(
            OrderPart.department_id)):
        add(dept, dict(zip(sums, map(int, values), strict=True)))
    for row in rows.values():
        dispatched_to = row.received + row.returned - came_back.get(row.department_id, 0)
        row.open = row.received - row.closed
        row.completion_rate = ratio(row.closed, row.received)
        row.on_time_rate = ratio(row.closed_on_time, row.closed)
        row.return_rate = ratio(row.returned, dispatched_to)
        row.satisfaction_rate = ratio(row.satisfied, row.rated)
        row.below_target = row.completion_rate is not None and \
            row.completion_rate < completion_target
    return sorted(rows.values(), key=lambda r: (r.completion_rate is None,
                                                r.completion_rate or 0.0, -r.received))
