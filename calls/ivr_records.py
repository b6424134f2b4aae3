"""Call-record steps that only the IVR takes: context learnt before the
queue, calls it ends itself (blocked, callback) and the description.  (The
callback task of a caller who took the offer, and the lookup of a caller's
open order, are worksheets'.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from calls.models import Call
from calls.records import CallError, advance, ensure_call, record_event


def set_ivr_context(session: Session, uniqueid: str, *, now: datetime,
                    department_id: int | None = None, follows_order_id: int | None = None,
                    priority: int | None = None, detail: str = "") -> Call:
    """What the IVR learnt before the queue: pre-selected department, the
    open order the caller adds to, their queue priority."""
    call = ensure_call(session, uniqueid, now, "agi", {})
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
    call = ensure_call(session, uniqueid, now, "agi", {})
    advance(call, outcome)
    record_event(session, call, outcome, now, detail)
    return call


def set_description(session: Session, uniqueid: str, *, path: str, now: datetime,
                    seconds: float) -> Call:
    call = ensure_call(session, uniqueid, now, "agi", {})
    call.description_recording = path
    record_event(session, call, "description", now, f"{seconds:.1f}s")
    return call
