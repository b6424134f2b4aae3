"""Call records: the steps the IVR, the PBX model's events and the
queue_log take on them.

Every function takes a ``Session`` first and an aware ``now``; none reads
the clock, commits or rolls back (the caller owns the transaction, see
``core.db.Database``).  AMI events can arrive twice and AGI and AMI
both report the same call, so every step is idempotent: rows are created
with INSERT ... ON CONFLICT DO NOTHING on their unique key and then read
back, which is race-free on PostgreSQL and needs no SAVEPOINT (pysqlite's
SAVEPOINT handling is unreliable).  Timeline events are not repeated for a
repeated report.

Outcomes only move forward: in_ivr < ivr_hangup | blocked | callback <
queued < answered | abandoned, so a late or reordered report never undoes
a later one.  What a call starts elsewhere (its draft work order, a
callback task) is :mod:`calls.followups`' business.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from agents.models import Agent
from calls.models import Call, CallEvent
from core.logmask import mask_number
from pbx.model_events import agent_number
from routing.models import ServiceQueue

log = logging.getLogger(__name__)

# blocked: refused by the block list; callback: took the callback offer in
# the IVR.  Both end the call before any queue, like a hangup in the IVR.
_OUTCOME_RANK = {"in_ivr": 0, "ivr_hangup": 1, "blocked": 1, "callback": 1, "queued": 2,
                 "answered": 3, "abandoned": 3}


class CallError(ValueError):
    """A call report that cannot apply: unknown call, or one contradicting its state."""


def require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def insert_or_ignore(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
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


def find_call(session: Session, uniqueid: str) -> Call | None:
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


def advance(call: Call, outcome: str) -> None:
    if _OUTCOME_RANK[outcome] > _OUTCOME_RANK.get(call.outcome, 0):
        call.outcome = outcome


def ensure_call(
    session: Session, uniqueid: str, now: datetime, source: str, fields: dict[str, str | None]
) -> Call:
    """The call with this uniqueid, created (with an "entered" event) if unknown."""
    require_aware(now)
    call = find_call(session, uniqueid)
    if call is None:
        values = {k: v for k, v in fields.items() if v}
        inserted = insert_or_ignore(
            session, Call, {**values, "uniqueid": uniqueid, "entered_at": now, "source": source}
        )
        call = find_call(session, uniqueid)
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
    call = ensure_call(session, uniqueid, now, source, fields)
    session.flush()
    return call


def record_ivr_choice(
    session: Session, uniqueid: str, *, key: str, category: str, queue: str, now: datetime
) -> Call:
    """The caller's menu choice; the latest choice wins, repeats add no event."""
    call = ensure_call(session, uniqueid, now, "agi", {})
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
    call = ensure_call(session, uniqueid, now, "ami", fields)
    call.queue = queue
    if call.category is None:
        # The call skipped our IVR (backend restarted, direct transfer): the
        # queue still says what kind of call it is.
        call.category = session.scalar(
            select(ServiceQueue.category).where(ServiceQueue.name == queue)
        )
    if call.queued_at is None:
        call.queued_at = now
    advance(call, "queued")
    record_event(session, call, "queued", now, queue)
    return call


def agent_id_for_member(session: Session, member_name: str) -> int | None:
    """The agent behind a queue member name (``agent-1001``), if one of ours."""
    number = agent_number(member_name)
    if number is None:
        return None
    return session.scalar(select(Agent.id).where(Agent.number == number))


def answer_call(session: Session, uniqueid: str, *, member_name: str, agent_id: int | None,
                hold_seconds: int, now: datetime) -> Call:
    """An agent answered: the call is "answered" (idempotent)."""
    call = ensure_call(session, uniqueid, now, "ami", {})
    if call.outcome == "abandoned":
        raise CallError(f"call {uniqueid} was abandoned; it cannot be answered")
    if call.outcome != "answered":
        call.outcome = "answered"
        call.answered_at = now
        call.agent_id = agent_id
        call.member_name = member_name
        call.hold_seconds = hold_seconds
    record_event(session, call, "answered", now, member_name)
    return call


def abandon_call(session: Session, uniqueid: str, *, hold_seconds: int, now: datetime) -> Call:
    """The caller hung up in the queue: "abandoned" (idempotent)."""
    call = ensure_call(session, uniqueid, now, "ami", {})
    if call.outcome == "answered":
        raise CallError(f"call {uniqueid} was answered; it cannot be abandoned")
    if call.outcome != "abandoned":
        call.outcome = "abandoned"
        call.hold_seconds = hold_seconds
        log.info("call %s abandoned after %ss; callback for %s",
                 uniqueid, hold_seconds, mask_number(call.caller_number))
    record_event(session, call, "abandoned", now, call.queue or "")
    return call


def mark_ended(
    session: Session, uniqueid: str, *, now: datetime, talk_seconds: int | None = None
) -> Call | None:
    """The caller hung up.  None for a channel that is no call of ours.

    ``ended_at`` is set once; a call still in the IVR becomes "ivr_hangup".
    """
    require_aware(now)
    call = find_call(session, uniqueid)
    if call is None:
        return None
    if talk_seconds is not None and call.talk_seconds is None:
        call.talk_seconds = talk_seconds
    if call.ended_at is None:
        call.ended_at = now
        advance(call, "ivr_hangup")
        record_event(session, call, "ended", now, "")
    session.flush()
    return call


OFFERED = "offered"  # timeline kind: the call rang this agent's phone (detail: agent id)


def record_offer(session: Session, uniqueid: str, agent_id: int, at: datetime) -> None:
    """The call rang ``agent_id``'s phone (an ``offered`` timeline event)."""
    call = find_call(session, uniqueid)
    if call is not None:
        record_event(session, call, OFFERED, at, str(agent_id))


def call_timeline(session: Session, call_id: int) -> list[CallEvent]:
    """The call's events, oldest first (ties in insertion order)."""
    rows = session.scalars(
        select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.id)
    )
    return list(rows)
