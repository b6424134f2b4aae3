"""Call records and work orders: what the IVR, the AMI handler and the API call.

Every function takes a ``Session`` first and an aware ``now``; none reads
the clock, commits or rolls back (the caller owns the transaction, see
``hotline.db.Database``).  AMI events can arrive twice and AGI and AMI
both report the same call, so the ``start_call``/``mark_*`` functions are
idempotent: rows are created with INSERT ... ON CONFLICT DO NOTHING on
their unique key (calls.uniqueid, work_orders.call_id,
callback_tasks.call_id) and then read back, which is race-free on
PostgreSQL and needs no SAVEPOINT (pysqlite's SAVEPOINT handling is
unreliable).  Timeline events are not repeated for a repeated report.

Outcomes only move forward: in_ivr < ivr_hangup < queued < answered |
abandoned, so a late or reordered report never undoes a later one.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline import outbox
from hotline.logmask import mask_number
from routing.models import ServiceQueue
from worksheets.calendar import WorkingCalendar
from worksheets.calendar_store import set_order_deadline
from worksheets.deadlines import CATEGORIES, DeadlineError, deadline_days, deadline_for
from worksheets.models import Call, CallbackTask, CallEvent, Department, OrderEvent, WorkOrder

log = logging.getLogger(__name__)

# Defaults for code without settings (tests, scripts); the backend passes
# HOTLINE_TIMEZONE and HOTLINE_ORDER_PREFIX.
CITY_TZ = ZoneInfo("Asia/Shanghai")
ORDER_PREFIX = "BJ"
SATISFACTION_ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied")
# blocked: refused by the block list; callback: took the callback offer in
# the IVR.  Both end the call before any queue, like a hangup in the IVR.
_OUTCOME_RANK = {"in_ivr": 0, "ivr_hangup": 1, "blocked": 1, "callback": 1, "queued": 2,
                 "answered": 3, "abandoned": 3}
_NUMBER_ATTEMPTS = 20


class CallError(ValueError):
    """A call report that cannot apply: unknown call, or one contradicting its state."""


class WorkOrderError(ValueError):
    """A work order cannot be submitted; the message says why, for the agent."""


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _insert_or_ignore(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; False when a unique clash kept another row."""
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model.__table__)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model.__table__)
    else:  # pragma: no cover - only the two supported stores
        raise NotImplementedError(f"unsupported database {dialect}")
    # RETURNING yields no row when the conflict kept the other row; rowcount
    # is not reliable across drivers here.
    table = model.__table__
    returned = session.execute(
        stmt.values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    ).first()
    return returned is not None


def _find_call(session: Session, uniqueid: str) -> Call | None:
    # Locked: several backends report the same AMI events at once, and their
    # check-then-write steps (timeline events, the end, the outbox) take turns.
    return session.scalar(select(Call).where(Call.uniqueid == uniqueid).with_for_update())


def record_event(session: Session, call: Call, kind: str, at: datetime, detail: str = "") -> None:
    """Add a timeline event unless the same (kind, detail) is already there."""
    seen = session.scalar(
        select(CallEvent.id).where(
            CallEvent.call_id == call.id, CallEvent.kind == kind, CallEvent.detail == detail
        )
    )
    if seen is None:
        session.add(CallEvent(call_id=call.id, at=at, kind=kind, detail=detail))
        session.flush()


def _fill_missing(call: Call, fields: dict[str, str | None]) -> None:
    for name, value in fields.items():
        if value and not getattr(call, name):
            setattr(call, name, value)


def _advance(call: Call, outcome: str) -> None:
    if _OUTCOME_RANK[outcome] > _OUTCOME_RANK.get(call.outcome, 0):
        call.outcome = outcome


def _ensure_call(
    session: Session, uniqueid: str, now: datetime, source: str, fields: dict[str, str | None]
) -> Call:
    """The call with this uniqueid, created (with an "entered" event) if unknown."""
    _require_aware(now)
    call = _find_call(session, uniqueid)
    if call is None:
        values = {k: v for k, v in fields.items() if v}
        inserted = _insert_or_ignore(
            session, Call, {**values, "uniqueid": uniqueid, "entered_at": now, "source": source}
        )
        call = _find_call(session, uniqueid)
        assert call is not None
        if inserted:
            record_event(session, call, "entered", now, source)
    _fill_missing(call, fields)
    # AGI reports the call first; if AMI got here earlier, keep the earlier
    # entry time so queue and IVR durations and the timeline stay right.
    if now < call.entered_at:
        call.entered_at = now
        entered = session.scalar(
            select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == "entered")
        )
        if entered is not None:
            entered.at = now
    return call


def start_call(
    session: Session,
    *,
    uniqueid: str,
    now: datetime,
    linkedid: str | None = None,
    channel: str | None = None,
    caller_number: str = "",
    caller_name: str = "",
    dialed_number: str = "12345",
    source: str = "agi",
) -> Call:
    """Record a call entering the hotline (idempotent by uniqueid; fills blanks)."""
    fields = {"linkedid": linkedid, "channel": channel, "caller_number": caller_number,
              "caller_name": caller_name, "dialed_number": dialed_number}
    call = _ensure_call(session, uniqueid, now, source, fields)
    session.flush()
    return call


def record_ivr_choice(
    session: Session, uniqueid: str, *, key: str, category: str, queue: str, now: datetime
) -> Call:
    """The caller's menu choice; the latest choice wins, repeats add no event."""
    call = _ensure_call(session, uniqueid, now, "agi", {})
    call.ivr_choice, call.category, call.queue = key, category, queue
    record_event(session, call, "ivr_choice", now, f"{key} {category}")
    return call


def mark_queued(
    session: Session,
    uniqueid: str,
    *,
    queue: str,
    now: datetime,
    caller_number: str | None = None,
    caller_name: str | None = None,
    channel: str | None = None,
    linkedid: str | None = None,
) -> Call:
    """The caller joined ``queue`` (AMI QueueCallerJoin); creates an unknown call (source ami)."""
    fields = {"caller_number": caller_number, "caller_name": caller_name,
              "channel": channel, "linkedid": linkedid}
    call = _ensure_call(session, uniqueid, now, "ami", fields)
    call.queue = queue
    if call.category is None:
        # The call skipped our IVR (backend restarted, direct transfer): the
        # queue still says what kind of call it is.
        call.category = session.scalar(
            select(ServiceQueue.category).where(ServiceQueue.name == queue)
        )
    if call.queued_at is None:
        call.queued_at = now
    _advance(call, "queued")
    record_event(session, call, "queued", now, queue)
    return call


def mark_answered(
    session: Session,
    uniqueid: str,
    *,
    member_name: str,
    agent_id: int | None,
    hold_seconds: int,
    now: datetime,
    tz: tzinfo = CITY_TZ,
    prefix: str = ORDER_PREFIX,
) -> WorkOrder:
    """An agent answered: the call is "answered" and gets its draft work order.

    Idempotent: a repeated report returns the same order unchanged.  ``tz``
    decides the local day of the order number, ``prefix`` its letters.
    """
    call = _ensure_call(session, uniqueid, now, "ami", {})
    if call.outcome == "abandoned":
        raise CallError(f"call {uniqueid} was abandoned; it cannot be answered")
    if call.outcome != "answered":
        call.outcome = "answered"
        call.answered_at = now
        call.agent_id = agent_id
        call.member_name = member_name
        call.hold_seconds = hold_seconds
    record_event(session, call, "answered", now, member_name)
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    if order is None:
        order = create_draft(session, call, agent_id, now, tz, prefix)
    return order


def create_draft(
    session: Session, call: Call, agent_id: int | None, now: datetime, tz: tzinfo,
    prefix: str = ORDER_PREFIX,
) -> WorkOrder:
    category = call.category if call.category in CATEGORIES else "help"
    for _ in range(_NUMBER_ATTEMPTS):
        _insert_or_ignore(session, WorkOrder, {
            "number": next_order_number(session, now, tz, prefix), "call_id": call.id,
            "caller_number": call.caller_number, "caller_name": call.caller_name,
            "category": category, "agent_id": agent_id, "created_at": now,
            # A legacy line pre-selected the department; "add to my order" links it.
            "department_id": call.department_id, "parent_id": call.follows_order_id,
        })
        order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
        if order is not None:
            return order
        # Nothing inserted and no order for this call: another order took
        # the number in the meantime.  Count again.
    raise RuntimeError("could not allocate a work-order number; too much contention")


def mark_abandoned(
    session: Session, uniqueid: str, *, hold_seconds: int, now: datetime
) -> CallbackTask:
    """The caller hung up in the queue: "abandoned" plus one callback task (idempotent)."""
    call = _ensure_call(session, uniqueid, now, "ami", {})
    if call.outcome == "answered":
        raise CallError(f"call {uniqueid} was answered; it cannot be abandoned")
    if call.outcome != "abandoned":
        call.outcome = "abandoned"
        call.hold_seconds = hold_seconds
        log.info("call %s abandoned after %ss; callback for %s",
                 uniqueid, hold_seconds, mask_number(call.caller_number))
    record_event(session, call, "abandoned", now, call.queue or "")
    _insert_or_ignore(session, CallbackTask, {
        "call_id": call.id, "caller_number": call.caller_number, "queue": call.queue,
        "created_at": now,
    })
    task = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id))
    assert task is not None
    return task


def mark_ended(
    session: Session, uniqueid: str, *, now: datetime, talk_seconds: int | None = None
) -> Call | None:
    """The caller hung up.  None for a channel that is no call of ours.

    ``ended_at`` is set once; a call still in the IVR becomes "ivr_hangup".
    """
    _require_aware(now)
    call = _find_call(session, uniqueid)
    if call is None:
        return None
    if talk_seconds is not None and call.talk_seconds is None:
        call.talk_seconds = talk_seconds
    if call.ended_at is None:
        call.ended_at = now
        _advance(call, "ivr_hangup")
        record_event(session, call, "ended", now, "")
        if call.outcome == "answered":
            # Durable with the call's end: the whole-call recording's transcription
            # (speech.jobs) starts from this, on whichever backend claims it.
            outbox.add(session, outbox.CALL_RECORDING, f"{outbox.CALL_RECORDING}:{uniqueid}",
                       {"uniqueid": uniqueid, "ended_at": now.isoformat()}, now)
    session.flush()
    return call


def set_satisfaction(session: Session, uniqueid: str, *, answer: str, now: datetime) -> WorkOrder:
    """Store the caller's survey answer on the call's work order: the
    hotline's own service rating, never the department's satisfaction
    (that comes from the 回访 only)."""
    _require_aware(now)
    if answer not in SATISFACTION_ANSWERS:
        raise CallError(f"unknown survey answer {answer!r}; expected one of "
                        + ", ".join(SATISFACTION_ANSWERS))
    call = _find_call(session, uniqueid)
    if call is None:
        raise CallError(f"unknown call {uniqueid}")
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    if order is None:
        raise CallError(f"call {uniqueid} has no work order to rate")
    order.survey_answer = answer
    record_event(session, call, "survey", now, answer)
    return order


def _check_submission(
    session: Session, order: WorkOrder, agent_id: int | None, category: str,
    complexity: str | None, department_id: int | None, answered_on_call: bool, title: str,
) -> Department | None:
    """Every rule a submission must pass; the department to dispatch to (None: closing)."""
    if order.status != "draft":
        raise WorkOrderError(f"work order {order.number} is not a draft (it is {order.status})")
    if agent_id is not None and order.agent_id not in (None, agent_id):
        raise WorkOrderError(f"work order {order.number} belongs to another agent")
    try:
        deadline_days(category, complexity)
    except DeadlineError as exc:
        raise WorkOrderError(str(exc)) from None
    if answered_on_call and category != "consult":
        raise WorkOrderError("only a consultation can be answered and closed on the call")
    department = None
    if department_id is None and not answered_on_call:
        raise WorkOrderError("choose the department to dispatch this order to")
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise WorkOrderError(f"unknown department {department_id}")
        if not department.active:
            raise WorkOrderError(f"department {department.name} no longer takes orders")
    if not title:
        raise WorkOrderError("the title must not be empty")
    if len(title) > 200:
        raise WorkOrderError("the title is longer than 200 characters")
    return department


def submit_work_order(
    session: Session,
    order_id: int,
    *,
    agent_id: int | None,
    title: str,
    description: str,
    category: str,
    complexity: str | None,
    department_id: int | None,
    answered_on_call: bool,
    now: datetime,
    calendar: WorkingCalendar,
    tz: tzinfo,
) -> WorkOrder:
    """Submit a draft: close a consultation answered on the call, else dispatch it.

    A dispatched order gets its deadline (``deadline_for``); a closed one
    gets ``closed_at`` and no deadline (a department given with it is kept
    as the source of the answer).  ``submitted_at`` is set in both cases,
    since the 10-minute target runs from answer to submission.
    ``agent_id`` None means a supervisor submits on the agent's behalf (no
    ownership check); an order with no agent yet (answered by an unknown
    queue member) is taken by the submitting agent.  Raises
    :class:`WorkOrderError`.
    """
    _require_aware(now)
    # FOR UPDATE: a double-clicked submit on PostgreSQL waits, then sees "closed"/"dispatched".
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise WorkOrderError(f"unknown work order {order_id}")
    title = title.strip()
    department = _check_submission(session, order, agent_id, category, complexity,
                                   department_id, answered_on_call, title)
    if order.agent_id is None:
        order.agent_id = agent_id
    order.title, order.description = title, description.strip()
    order.category, order.complexity = category, complexity
    order.department_id = department.id if department is not None else None
    order.answered_on_call = answered_on_call
    order.submitted_at = now
    if answered_on_call:
        order.status, order.closed_at = "closed", now
        detail = f"{order.number} closed on the call"
    else:
        assert department is not None
        deadline = deadline_for(category, complexity, now, calendar, tz)
        order.status = "dispatched"
        set_order_deadline(order, deadline, dispatched_at=now)
        detail = f"{order.number} dispatched to {department.name}, due {deadline.due_date}"
    if order.call_id is not None:
        call = session.get(Call, order.call_id)
        assert call is not None
        record_event(session, call, "order_submitted", now, detail)
    session.add(OrderEvent(order_id=order.id, at=now, user_id=None, detail=detail,
                           department_id=order.department_id,
                           kind="closed_on_call" if answered_on_call else "dispatched"))
    session.flush()
    return order


def call_timeline(session: Session, call_id: int) -> list[CallEvent]:
    """The call's events, oldest first (ties in insertion order)."""
    rows = session.scalars(
        select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.id)
    )
    return list(rows)


def numbering(settings: Any) -> dict[str, Any]:
    """``tz`` and ``prefix`` of order numbers from the settings (defaults without)."""
    if settings is None:
        return {"tz": CITY_TZ, "prefix": ORDER_PREFIX}
    return {"tz": settings.tz, "prefix": settings.order_prefix}


def next_order_number(session: Session, now: datetime, tz: tzinfo,
                      prefix: str = ORDER_PREFIX) -> str:
    """The next free order number of ``now``'s local day: "BJ20261129-0001".

    Only a proposal: two writers may get the same one.  Order creation
    inserts with ON CONFLICT DO NOTHING and asks again when it lost (see
    ``create_draft``); on PostgreSQL the losing INSERT waits for the
    winner's commit, so the next proposal sees its number.
    """
    _require_aware(now)
    prefix = f"{prefix}{now.astimezone(tz):%Y%m%d}-"
    # Longest first, then highest: keeps counting right past 9999 a day.
    last = session.scalar(
        select(WorkOrder.number)
        .where(WorkOrder.number.like(prefix + "%"))
        .order_by(func.length(WorkOrder.number).desc(), WorkOrder.number.desc())
        .limit(1)
    )
    sequence = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"

