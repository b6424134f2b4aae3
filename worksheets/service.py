"""Work orders: the draft a call starts, submission, the survey, numbering.

Every function takes a ``Session`` first and an aware ``now``; none reads
the clock, commits or rolls back (the caller owns the transaction, see
``core.db.Database``).  The call record itself is calls.records';
:func:`draft_for_answered` and :func:`callback_for_abandoned` are the
follow-ups worksheets registers for its events (calls.followups), run in
the same transaction as the record.  Both are idempotent (INSERT ... ON
CONFLICT DO NOTHING on work_orders.call_id and callback_tasks.call_id).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calls.followups import ABANDONED, ANSWERED, CallFollowUps, Notice
from calls.ivr_records import end_in_ivr
from calls.models import Call
from calls.records import (
    CallError,
    find_call,
    insert_or_ignore,
    record_event,
    require_aware,
)
from core.live_events import OrderDrafted
from worksheets.calendar import WorkingCalendar
from worksheets.calendar_store import set_order_deadline
from worksheets.deadlines import CATEGORIES, DeadlineError, deadline_days, deadline_for
from worksheets.districts import district_problem
from worksheets.knowledge import KnowledgeError, article_for_order
from worksheets.models import CallbackTask, Department, OrderEvent, WorkOrder

log = logging.getLogger(__name__)

# Defaults for code without settings (tests, scripts); the backend passes
# HOTLINE_TIMEZONE and HOTLINE_ORDER_PREFIX (see :func:`numbering`).
CITY_TZ = ZoneInfo("Asia/Shanghai")
ORDER_PREFIX = "BJ"
SATISFACTION_ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied")
_NUMBER_ATTEMPTS = 20


class WorkOrderError(ValueError):
    """A work order cannot be submitted; the message says why (English, for
    logs), ``code`` what the console translates (invalid, not_found,
    not_yours, not_draft) and ``field`` which field of the form is wrong."""

    def __init__(self, message: str, field: str | None = None, *,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.code = code or "invalid"


def draft_for_answered(session: Session, call: Call, *, agent_id: int | None, now: datetime,
                       tz: tzinfo = CITY_TZ, prefix: str = ORDER_PREFIX) -> WorkOrder:
    """Follow-up of an answered call: its draft work order, on the agent's
    screen (idempotent: a repeated answer returns the same order unchanged).
    ``tz`` decides the local day of the order number, ``prefix`` its letters."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    return (order if order is not None
            else create_draft(session, call, agent_id, now, tz, prefix))


def callback_for_abandoned(session: Session, call: Call, *, now: datetime,
                           priority: int = 0) -> CallbackTask:
    """Follow-up of a call abandoned in the queue, or of a caller who took the
    IVR's callback offer: one callback task (idempotent)."""
    insert_or_ignore(session, CallbackTask, {
        "call_id": call.id, "caller_number": call.caller_number, "queue": call.queue,
        "priority": priority, "created_at": now,
    })
    task = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id))
    assert task is not None
    return task


def create_draft(
    session: Session, call: Call, agent_id: int | None, now: datetime, tz: tzinfo,
    prefix: str = ORDER_PREFIX,
) -> WorkOrder:
    category = call.category if call.category in CATEGORIES else "help"
    for _ in range(_NUMBER_ATTEMPTS):
        insert_or_ignore(session, WorkOrder, {
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


def set_satisfaction(session: Session, uniqueid: str, *, answer: str, now: datetime) -> WorkOrder:
    """Store the caller's survey answer on the call's work order: the
    hotline's own service rating, never the department's satisfaction
    (that comes from the 回访 only)."""
    require_aware(now)
    if answer not in SATISFACTION_ANSWERS:
        raise CallError(f"unknown survey answer {answer!r}; expected one of "
                        + ", ".join(SATISFACTION_ANSWERS))
    call = find_call(session, uniqueid)
    if call is None:
        raise CallError(f"unknown call {uniqueid}")
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    if order is None:
        raise CallError(f"call {uniqueid} has no work order to rate")
    if order.survey_answer == answer:
        return order  # the same report again
    if order.survey_answer is not None:
        # The caller answers once; another answer for the same Uniqueid is a
        # replay or a forgery, never a change of mind.
        raise CallError(f"call {uniqueid} was already rated")
    order.survey_answer = answer
    record_event(session, call, "survey", now, answer)
    return order


def _check_submission(
    session: Session, order: WorkOrder, agent_id: int | None, category: str,
    complexity: str | None, department_id: int | None, answered_on_call: bool, title: str,
) -> Department | None:
    """Every rule a submission must pass; the department to dispatch to (None: closing)."""
    # Whose it is, first, and without its number: an agent learns nothing of
    # other agents' orders, and cannot take a draft that has no agent.
    if agent_id is not None and order.agent_id != agent_id:
        raise WorkOrderError("this work order belongs to another agent"
                             if order.agent_id is not None else
                             "this work order belongs to no agent: a supervisor submits it",
                             code="not_yours")
    if order.status != "draft":
        raise WorkOrderError(f"work order {order.number} is not a draft (it is {order.status})",
                             code="not_draft")
    try:
        deadline_days(category, complexity)
    except DeadlineError as exc:
        raise WorkOrderError(str(exc), field="category" if category not in CATEGORIES
                             else "complexity") from None
    if answered_on_call and category != "consult":
        raise WorkOrderError("only a consultation can be answered and closed on the call",
                             field="answered_on_call")
    department = None
    if department_id is None and not answered_on_call:
        raise WorkOrderError("choose the department to dispatch this order to",
                             field="department_id")
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise WorkOrderError(f"unknown department {department_id}", field="department_id")
        if not department.active:
            raise WorkOrderError(f"department {department.name} no longer takes orders",
                                 field="department_id")
    if not title:
        raise WorkOrderError("the title must not be empty", field="title")
    if len(title) > 200:
        raise WorkOrderError("the title is longer than 200 characters", field="title")
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
    kb_article_id: int | None = None,
    district: str | None = None,
    district_required: bool = False,
    address: str = "",
) -> WorkOrder:
    """Submit a draft: close a consultation answered on the call, else dispatch it.

    A dispatched order gets its deadline (``deadline_for``); a closed one
    gets ``closed_at`` and no deadline (a department given with it is kept
    as the source of the answer).  ``submitted_at`` is set in both cases,
    since the 10-minute target runs from answer to submission.
    ``agent_id`` None means a supervisor submits on the agent's behalf (no
    ownership check); an agent submits only their own drafts (one with no
    agent yet is a supervisor's to submit).  ``kb_article_id``
    links the knowledge-base article the agent answered from (and its
    version then); a consultation answered from one with no department to
    go to is closed on the call.  ``district``: its code (worksheets/
    districts.py; required with ``district_required``, as the console's
    submission is); ``address``: where the matter is, as the caller said.  Raises
    :class:`WorkOrderError`.
    """
    require_aware(now)
    article = None
    if kb_article_id is not None:
        try:
            article = article_for_order(session, kb_article_id, now.astimezone(tz).date())
        except KnowledgeError as exc:
            raise WorkOrderError(str(exc), field="kb_article_id") from None
        answered_on_call = answered_on_call or (category == "consult" and department_id is None)
    # FOR UPDATE: a double-clicked submit on PostgreSQL waits, then sees "closed"/"dispatched".
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise WorkOrderError(f"unknown work order {order_id}", code="not_found")
    title = title.strip()
    department = _check_submission(session, order, agent_id, category, complexity,
                                   department_id, answered_on_call, title)
    if district is not None or district_required:
        problem = district_problem(district)
        if problem:
            raise WorkOrderError(problem, field="district")
        order.district = district
    order.title, order.description = title, description.strip()
    order.address = address.strip()
    order.category, order.complexity = category, complexity
    order.department_id = department.id if department is not None else None
    order.answered_on_call = answered_on_call
    order.submitted_at = now
    if article is not None:
        order.kb_article_id, order.kb_article_version = article.id, article.version
    if answered_on_call:
        order.status, order.closed_at = "closed", now
        detail = f"{order.number} closed on the call"
    else:
        assert department is not None
        deadline = deadline_for(category, complexity, now, calendar, tz)
        order.status = "dispatched"
        set_order_deadline(order, deadline, dispatched_at=now)
        detail = f"{order.number} dispatched to {department.name}, due {deadline.due_date}"
    if article is not None:
        detail += f"; answered from article {article.id} v{article.version} ({article.title})"
    if order.call_id is not None:
        call = session.get(Call, order.call_id)
        assert call is not None
        record_event(session, call, "order_submitted", now, detail)
    session.add(OrderEvent(order_id=order.id, at=now, user_id=None, detail=detail,
                           department_id=order.department_id,
                           kind="closed_on_call" if answered_on_call else "dispatched"))
    session.flush()
    return order


def open_order_for(session: Session, number: str, *, now: datetime,
                   days: int = 30) -> WorkOrder | None:
    """The caller's newest order from the last ``days`` days that is still open."""
    if not number:
        return None
    return session.scalars(
        select(WorkOrder).where(WorkOrder.caller_number == number,
                                WorkOrder.status.in_(("draft", "dispatched")),
                                WorkOrder.created_at >= now - timedelta(days=days))
        .order_by(WorkOrder.created_at.desc())).first()


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
    require_aware(now)
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



def follow_calls(follow_ups: CallFollowUps, *, tz: tzinfo = CITY_TZ,
                 prefix: str = ORDER_PREFIX) -> CallFollowUps:
    """Register worksheets' follow-ups of call records: a draft order for an
    answered call (numbered with ``tz`` and ``prefix``: pass
    ``**numbering(settings)``), a callback task for an abandoned one."""

    def draft(session: Session, call: Call, now: datetime) -> list[Notice]:
        order = draft_for_answered(session, call, agent_id=call.agent_id, now=now, tz=tz,
                                   prefix=prefix)
        return [OrderDrafted(order_id=order.id, number=order.number, agent_id=call.agent_id,
                             uniqueid=call.uniqueid)]

    def callback(session: Session, call: Call, now: datetime) -> list[Notice]:
        callback_for_abandoned(session, call, now=now)
        return []  # the list of callbacks is read, not pushed

    follow_ups.on(ANSWERED, draft)
    follow_ups.on(ABANDONED, callback)
    return follow_ups


def request_callback(session: Session, uniqueid: str, *, queue: str, priority: int,
                     now: datetime) -> CallbackTask:
    """The caller took the IVR's callback offer instead of waiting (idempotent)."""
    call = end_in_ivr(session, uniqueid, outcome="callback", now=now, detail=queue)
    call.queue = call.queue or queue
    return callback_for_abandoned(session, call, now=now, priority=priority)
