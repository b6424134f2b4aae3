"""Call-record steps that only the IVR takes: context learnt before the
queue, calls it ends itself (blocked, callback), the description, and the
lookup of a caller's open order."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from worksheets.models import Call, CallbackTask, WorkOrder
from worksheets.service import CallError, _advance, _ensure_call, _insert_or_ignore, record_event


def set_ivr_context(session: Session, uniqueid: str, *, now: datetime,
                    department_id: int | None = None, follows_order_id: int | None = None,
                    priority: int | None = None, detail: str = "") -> Call:
    """What the IVR learnt before the queue: pre-selected department, the
    open order the caller adds to, their queue priority."""
    call = _ensure_call(session, uniqueid, now, "agi", {})
    if department_id is not None:
        call.department_id = department_id
    if follows_order_id is not None:
        call.follows_order_id = follows_order_id
    if priority is not None:
        call.priority = priority
    if detail:
        record_event(session, call, "ivr_context", now, detail)
    return call


def end_in_ivr(session: Session, uniqueid: str, *, outcome: str, now: datetime,
               detail: str = "") -> Call:
    """The IVR ended the call before any queue: "blocked" or "callback"."""
    if outcome not in ("blocked", "callback"):
        raise CallError(f"unknown IVR outcome {outcome!r}")
    call = _ensure_call(session, uniqueid, now, "agi", {})
    _advance(call, outcome)
    record_event(session, call, outcome, now, detail)
    return call


def request_callback(session: Session, uniqueid: str, *, queue: str, priority: int,
                     now: datetime) -> CallbackTask:
    """The caller chose to be called back instead of waiting (idempotent)."""
    call = end_in_ivr(session, uniqueid, outcome="callback", now=now, detail=queue)
    _insert_or_ignore(session, CallbackTask, {
        "call_id": call.id, "caller_number": call.caller_number, "queue": queue,
        "priority": priority, "created_at": now,
    })
    task = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id))
    assert task is not None
    return task


def set_description(session: Session, uniqueid: str, *, path: str, now: datetime,
                    seconds: float) -> Call:
    call = _ensure_call(session, uniqueid, now, "agi", {})
    call.description_recording = path
    record_event(session, call, "description", now, f"{seconds:.1f}s")
    return call


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
