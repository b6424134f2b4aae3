"""Callback tasks: the list agents work through, and the bookkeeping of each
click-to-call attempt (the PBX side is :mod:`worksheets.callback_dialer`).

Order of the list: the caller's priority (registered vulnerable callers
first), then the oldest task: a caller who took the callback offer keeps
their place.  A task is held by one agent at a time (``calling``); the
citizen is tried at most ``MAX_ATTEMPTS`` times, then the task fails and
stays on the supervisors' list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.models import Agent
from calls import records
from calls.models import Call
from core.logmask import mask_number
from routing.rules import normalize_number
from worksheets import service
from worksheets.models import CallbackAttempt, CallbackTask, WorkOrder

MAX_ATTEMPTS = 3
# A citizen not reached is not tried again sooner than this.
RETRY_GAP = timedelta(minutes=10)
STATUSES = ("open", "calling", "done", "failed")
# What an attempt's result does to its task.
REACHED = "reached"
CITIZEN_NOT_REACHED = ("no_answer", "busy", "unreachable")
NOT_COUNTED = ("agent_no_answer", "agent_hangup", "lost", "pbx_error")
RESULTS = (REACHED, *CITIZEN_NOT_REACHED, *NOT_COUNTED)


class CallbackError(ValueError):
    """A request about a callback task that cannot be done (clear message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Claim:
    """What the dialer needs to place a call for a claimed task."""

    task_id: int
    attempt_id: int
    number: str
    interface: str
    call_id: int


def task_dict(task: CallbackTask, call: Call | None, agent: Agent | None, *,
              reveal: bool) -> dict[str, Any]:
    return {
        "id": task.id, "call_id": task.call_id, "status": task.status,
        "caller_number": task.caller_number if reveal else mask_number(task.caller_number),
        "caller_name": call.caller_name if call else "",
        "category": call.category if call else None,
        "queue": task.queue, "priority": task.priority,
        "reason": call.outcome if call else None,  # abandoned | callback | ...
        "created_at": task.created_at.isoformat(),
        "attempts": task.attempts, "max_attempts": MAX_ATTEMPTS,
        "last_result": task.last_result,
        "last_attempt_at": task.last_attempt_at.isoformat() if task.last_attempt_at else None,
        "next_attempt_at": (next_try.isoformat() if (next_try := _next_try(task)) else None),
        "agent": agent.name if agent else None, "agent_id": task.agent_id,
        "note": task.note,
    }


def _tasks() -> Any:
    return (select(CallbackTask, Call, Agent)
            .join(Call, Call.id == CallbackTask.call_id)
            .outerjoin(Agent, Agent.id == CallbackTask.agent_id))


def _next_try(task: CallbackTask) -> datetime | None:
    if task.status == "open" and task.last_result in CITIZEN_NOT_REACHED and \
            task.last_attempt_at is not None:
        return task.last_attempt_at + RETRY_GAP
    return None


def list_tasks(session: Session, statuses: tuple[str, ...] = ("open", "calling"),
               limit: int = 100, *, reveal: bool = False) -> list[dict[str, Any]]:
    rows = session.execute(
        _tasks().where(CallbackTask.status.in_(statuses))
        .order_by(CallbackTask.priority.desc(), CallbackTask.created_at, CallbackTask.id)
        .limit(limit)).all()
    return [task_dict(t, c, a, reveal=reveal) for t, c, a in rows]


def get_task(session: Session, task_id: int) -> dict[str, Any] | None:
    """One task with its attempts, oldest first."""
    row = session.execute(_tasks().where(CallbackTask.id == task_id)).first()
    if row is None:
        return None
    task = task_dict(*row, reveal=False)
    attempts = session.scalars(select(CallbackAttempt).where(CallbackAttempt.task_id == task_id)
                               .order_by(CallbackAttempt.id))
    task["attempt_log"] = [{
        "id": a.id, "agent_id": a.agent_id, "result": a.result,
        "started_at": a.started_at.isoformat(),
        "answered_at": a.answered_at.isoformat() if a.answered_at else None,
        "ended_at": a.ended_at.isoformat() if a.ended_at else None} for a in attempts]
    return task


def claim(session: Session, task_id: int, agent_id: int, *, now: datetime,
          allowed: Any = None, owner: str | None = None,
          lease_until: datetime | None = None) -> Claim:
    """Hold an open task for ``agent_id`` and open an attempt.  ``allowed``:
    a predicate on the number (the routing rules' callback numbers).  The
    attempt belongs to ``owner`` (the backend placing the call) until
    ``lease_until``, which that backend renews (core.leases)."""
    # Locked: one agent's two clicks on two tasks at once take turns.
    agent = session.get(Agent, agent_id, with_for_update=True)
    if agent is None or not agent.active:
        raise CallbackError("no_agent", "this login is not an active agent")
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise CallbackError("not_found", f"no callback task {task_id}")
    if task.status != "open":
        held = session.get(Agent, task.agent_id) if task.agent_id else None
        who = f" by {held.name}" if held and task.status == "calling" else ""
        raise CallbackError("not_open", f"callback task {task_id} is {task.status}{who}")
    next_try = _next_try(task)
    if next_try is not None and now < next_try:
        minutes = -(-int((next_try - now).total_seconds()) // 60)
        raise CallbackError("too_soon", "the citizen was not reached at the last attempt; "
                                        f"try again in {minutes} min")
    busy = session.scalar(select(CallbackTask.id).where(CallbackTask.status == "calling",
                                                        CallbackTask.agent_id == agent_id))
    if busy is not None:
        raise CallbackError("busy", f"you are already calling back (task {busy})")
    number = normalize_number(task.caller_number)
    if not number or (allowed is not None and not allowed(number)):
        raise CallbackError("number_not_allowed",
                            f"callbacks may not dial {mask_number(task.caller_number)} "
                            "(routing rules: callback numbers)")
    # Compare-and-set: two agents clicking at once, one wins.
    won = session.execute(update(CallbackTask)
                          .where(CallbackTask.id == task_id, CallbackTask.status == "open")
                          .values(status="calling", agent_id=agent_id,
                                  last_attempt_at=now)).rowcount
    if not won:
        raise CallbackError("not_open", f"callback task {task_id} was just taken")
    attempt = CallbackAttempt(task_id=task_id, agent_id=agent_id, started_at=now, owner=owner,
                              lease_until=lease_until)
    session.add(attempt)
    session.flush()
    return Claim(task_id, attempt.id, number, agent.interface, task.call_id)


def set_action(session: Session, attempt_id: int, action_id: str) -> None:
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is not None:
        attempt.action_id = action_id


def agent_channel(session: Session, attempt_id: int, uniqueid: str) -> None:
    """The agent answered: the PBX now dials the citizen from that channel."""
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is not None and attempt.uniqueid is None:
        attempt.uniqueid = uniqueid


def channel_of_action(session: Session, action_id: str, uniqueid: str) -> bool:
    """The agent answered the Originate ``action_id`` sent for an attempt still
    under way, perhaps by another backend (Asterisk tells every AMI session):
    record their channel unless one is (compare-and-set), so that the elected
    backend can follow the call should that backend be gone."""
    return bool(session.execute(update(CallbackAttempt).where(
        CallbackAttempt.action_id == action_id, CallbackAttempt.result == "calling",
        CallbackAttempt.uniqueid.is_(None)).values(uniqueid=uniqueid)).rowcount)


def citizen_answered(session: Session, attempt_id: int, *, now: datetime,
                     tz: tzinfo = service.CITY_TZ,
                     prefix: str = service.ORDER_PREFIX) -> WorkOrder | None:
    """The citizen picked up: the attempt reached them.  The agent gets the
    original call's work order (a draft, unless one exists), as on an
    answered call."""
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is None or attempt.answered_at is not None:
        return None
    attempt.answered_at = now
    task = session.get(CallbackTask, attempt.task_id)
    call = session.get(Call, task.call_id) if task else None
    if call is None:
        return None
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    if order is None:
        order = service.create_draft(session, call, attempt.agent_id, now, tz, prefix)
    records.record_event(session, call, "callback_reached", now, f"attempt {attempt.id}")
    return order


def finish(session: Session, attempt_id: int, result: str, *, now: datetime) -> CallbackTask:
    """Close an attempt (idempotent) and move its task on."""
    if result not in RESULTS:
        raise ValueError(f"unknown callback result {result!r}")
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is None:
        raise CallbackError("not_found", f"no callback attempt {attempt_id}")
    task = session.get(CallbackTask, attempt.task_id)
    assert task is not None
    if attempt.result != "calling":
        return task
    attempt.owner, attempt.lease_until = None, None
    if attempt.answered_at is not None:
        result = REACHED  # however it ended, the citizen was spoken to
    attempt.result, attempt.ended_at = result, now
    task.last_result = result
    if task.status != "calling" or task.agent_id != attempt.agent_id:
        return task  # closed by hand meanwhile
    task.agent_id = None if result != REACHED else attempt.agent_id
    if result == REACHED:
        task.status, task.done_at = "done", now
    elif result in CITIZEN_NOT_REACHED:
        task.attempts += 1
        task.status = "failed" if task.attempts >= MAX_ATTEMPTS else "open"
        if task.status == "failed":
            task.done_at = now
    else:
        task.status = "open"
    call = session.get(Call, task.call_id)
    if call is not None:
        records.record_event(session, call, "callback_attempt", now, result)
    return task


def close_by_hand(session: Session, task_id: int, status: str, note: str, *,
                  now: datetime, agent_id: int | None = None) -> CallbackTask:
    """A supervisor (or the agent who reached the citizen another way)
    closes a task: done or failed, with a note."""
    if status not in ("done", "failed"):
        raise CallbackError("invalid", "status must be done or failed")
    if not note.strip():
        raise CallbackError("invalid", "say why in a note")
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise CallbackError("not_found", f"no callback task {task_id}")
    if task.status in ("done", "failed"):
        raise CallbackError("closed", f"callback task {task_id} is already {task.status}")
    if task.status == "calling":
        raise CallbackError("calling", "a call is under way; close the task after it")
    # Compare-and-set: an agent may have just started a call on it.
    values: dict[str, Any] = {"status": status, "done_at": now, "note": note.strip()[:500]}
    if agent_id is not None:
        values["agent_id"] = agent_id
    if not session.execute(update(CallbackTask).where(
            CallbackTask.id == task_id, CallbackTask.status == "open").values(**values)).rowcount:
        raise CallbackError("calling", "a call has just started; close the task after it")
    session.refresh(task)
    return task


@dataclass(frozen=True)
class LeftCall:
    """A callback attempt or 回访 call whose backend is gone."""

    id: int  # the attempt's, or the order's
    owner: str | None
    agent_id: int | None
    uniqueid: str | None  # the agent's channel, once they answered
    answered: bool  # the citizen picked up
    since: datetime | None = None  # when it was placed


def stale_attempts(session: Session, now: datetime, owner: str, *,
                   alone: bool, max_call: timedelta) -> list[LeftCall]:
    """Attempts still ``calling`` whose backend is gone: its lease ran out.

    ``alone``: this backend is the only one (SQLite), so every attempt not its
    own was left by a previous run.  An attempt with no owner was placed by
    the release before leases, which may still be running beside this one
    during an upgrade: it is taken as gone only after ``max_call``.
    """
    calling = CallbackAttempt.result == "calling"
    mine = CallbackAttempt.owner == owner
    if alone:
        gone = (CallbackAttempt.owner.is_(None)) | ~mine
    else:
        expired = (CallbackAttempt.owner.is_not(None) & ~mine
                   & ((CallbackAttempt.lease_until.is_(None))
                      | (CallbackAttempt.lease_until < now)))
        legacy = CallbackAttempt.owner.is_(None) & (CallbackAttempt.started_at < now - max_call)
        gone = expired | legacy
    return [LeftCall(a.id, a.owner, a.agent_id, a.uniqueid, a.answered_at is not None,
                     a.started_at)
            for a in session.scalars(select(CallbackAttempt).where(calling, gone)
                                     .order_by(CallbackAttempt.id))]


def agent_calling(session: Session, agent_id: int) -> bool:
    """The agent has a callback attempt or a 回访 call under way, whichever
    backend placed it (the dialer pauses them for each)."""
    attempt = session.scalar(select(CallbackAttempt.id).where(
        CallbackAttempt.result == "calling", CallbackAttempt.agent_id == agent_id).limit(1))
    visit = session.scalar(select(WorkOrder.id).where(
        WorkOrder.visit_calling_since.is_not(None),
        WorkOrder.visit_agent_id == agent_id).limit(1))
    return attempt is not None or visit is not None


def stale_attempt_ids(session: Session, now: datetime, owner: str, *,
                      alone: bool, max_call: timedelta) -> list[int]:
    return [a.id for a in stale_attempts(session, now, owner, alone=alone, max_call=max_call)]


def take_over(session: Session, attempt_id: int, previous: str | None, owner: str,
              lease_until: datetime) -> bool:
    """Become the owner of an attempt left by ``previous`` (compare-and-set: of
    several backends sweeping at once, one wins)."""
    was = (CallbackAttempt.owner.is_(None) if previous is None
           else CallbackAttempt.owner == previous)
    return bool(session.execute(update(CallbackAttempt).where(
        CallbackAttempt.id == attempt_id, CallbackAttempt.result == "calling", was)
        .values(owner=owner, lease_until=lease_until)).rowcount)


def task_of(session: Session, attempt_id: int) -> int | None:
    attempt = session.get(CallbackAttempt, attempt_id)
    return attempt.task_id if attempt is not None else None
