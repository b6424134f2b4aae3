"""Callback tasks: the order agents see them in, holding a task, and what
each attempt's result does to it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agents.models import Agent
from calls import records
from calls.models import CallEvent
from tests.helpers import record_abandon
from worksheets import callbacks, service
from worksheets.callbacks import MAX_ATTEMPTS, RETRY_GAP, CallbackError
from worksheets.models import CallbackAttempt, CallbackTask, WorkOrder

NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)


def abandoned(s, uid: str, number: str, at: datetime) -> int:
    records.start_call(s, uniqueid=uid, now=at, channel="PJSIP/trunk-1", caller_number=number,
                       caller_name="", dialed_number="12345", source="agi")
    records.mark_queued(s, uid, queue="hotline-help", now=at)
    return record_abandon(s, uid, hold_seconds=30, now=at).id


def took_offer(s, uid: str, number: str, at: datetime, priority: int) -> int:
    records.start_call(s, uniqueid=uid, now=at, channel="PJSIP/trunk-1", caller_number=number,
                       caller_name="", dialed_number="12345", source="agi")
    return service.request_callback(s, uid, queue="hotline-help", priority=priority,
                                        now=at).id


def agents(db) -> list[int]:
    return db.call(lambda s: list(s.scalars(select(Agent.id).order_by(Agent.number)))[:2])


def test_priority_callers_first_then_the_oldest_keeps_its_place(db):
    ids = db.call(lambda s: [
        abandoned(s, "1.1", "13800000001", NOW),
        abandoned(s, "1.2", "13800000002", NOW + timedelta(minutes=1)),
        took_offer(s, "1.3", "13800000003", NOW + timedelta(minutes=2), priority=5),
        abandoned(s, "1.0", "13800000000", NOW - timedelta(minutes=1)),
    ])
    listed = db.call(lambda s: callbacks.list_tasks(s))
    assert [t["id"] for t in listed] == [ids[2], ids[3], ids[0], ids[1]]
    assert listed[0]["reason"] == "callback" and listed[1]["reason"] == "abandoned"
    assert all("*" in t["caller_number"] for t in listed)  # masked


def test_a_task_is_held_by_one_agent_and_one_task_per_agent(db):
    first, second = agents(db)
    a, b = db.call(lambda s: [abandoned(s, "2.1", "13800000001", NOW),
                              abandoned(s, "2.2", "13800000002", NOW)])
    claim = db.call(lambda s: callbacks.claim(s, a, first, now=NOW))
    assert claim.number == "13800000001" and claim.interface
    with pytest.raises(CallbackError) as taken:
        db.call(lambda s: callbacks.claim(s, a, second, now=NOW))
    assert taken.value.code == "not_open" and "calling" in str(taken.value)
    with pytest.raises(CallbackError) as busy:
        db.call(lambda s: callbacks.claim(s, b, first, now=NOW))
    assert busy.value.code == "busy"
    with pytest.raises(CallbackError) as missing:
        db.call(lambda s: callbacks.claim(s, 99999, first, now=NOW))
    assert missing.value.code == "not_found"


def test_numbers_callbacks_may_not_dial_are_refused(db):
    first, _ = agents(db)
    task = db.call(lambda s: abandoned(s, "3.1", "0085212345678", NOW))
    with pytest.raises(CallbackError) as refused:
        db.call(lambda s: callbacks.claim(s, task, first, now=NOW,
                                          allowed=lambda n: n.startswith("1")))
    assert refused.value.code == "number_not_allowed"
    assert "0085212345678" not in str(refused.value)  # masked in the message
    assert db.call(lambda s: s.get(CallbackTask, task).status) == "open"


def test_reached_citizen_closes_the_task_and_drafts_the_order_for_the_agent(db):
    first, _ = agents(db)
    task = db.call(lambda s: abandoned(s, "4.1", "13800000001", NOW))
    claim = db.call(lambda s: callbacks.claim(s, task, first, now=NOW))
    db.call(lambda s: callbacks.agent_channel(s, claim.attempt_id, "99.1"))
    order = db.call(lambda s: callbacks.citizen_answered(s, claim.attempt_id, now=NOW))
    assert order is not None and order.agent_id == first and order.call_id == claim.call_id
    # the PBX reports the citizen's hang-up as a dial result: the answer wins
    done = db.call(lambda s: callbacks.finish(s, claim.attempt_id, "no_answer", now=NOW))
    assert (done.status, done.last_result, done.attempts) == ("done", "reached", 0)
    again = db.call(lambda s: callbacks.finish(s, claim.attempt_id, "lost", now=NOW))
    assert again.status == "done"  # idempotent
    kinds = db.call(lambda s: [e.kind for e in s.scalars(
        select(CallEvent).where(CallEvent.call_id == claim.call_id))])
    assert "callback_reached" in kinds and "callback_attempt" in kinds
    orders = db.call(lambda s: list(s.scalars(select(WorkOrder).where(
        WorkOrder.call_id == claim.call_id))))
    assert len(orders) == 1


def test_citizen_not_reached_reopens_until_the_last_attempt_fails_it(db):
    first, second = agents(db)
    task = db.call(lambda s: abandoned(s, "5.1", "13800000001", NOW))
    results = []
    for i in range(MAX_ATTEMPTS):
        agent, at = (first, second)[i % 2], NOW + i * RETRY_GAP
        claim = db.call(lambda s, a=agent, t=at: callbacks.claim(s, task, a, now=t))
        t = db.call(lambda s, c=claim, t=at: callbacks.finish(s, c.attempt_id, "no_answer",
                                                              now=t))
        results.append((t.status, t.attempts, t.agent_id))
        if i == 0:  # not again at once: the gap between attempts
            with pytest.raises(CallbackError) as soon:
                db.call(lambda s, t=at: callbacks.claim(s, task, second, now=t + RETRY_GAP / 2))
            assert soon.value.code == "too_soon" and "5 min" in str(soon.value)
            listed = db.call(lambda s: callbacks.list_tasks(s))[0]
            assert listed["next_attempt_at"] == (at + RETRY_GAP).isoformat()
    assert results[:-1] == [("open", n, None) for n in range(1, MAX_ATTEMPTS)]
    assert results[-1][:2] == ("failed", MAX_ATTEMPTS)
    with pytest.raises(CallbackError):
        db.call(lambda s: callbacks.claim(s, task, first, now=NOW))


def test_agent_not_answering_or_a_lost_attempt_does_not_count(db):
    first, _ = agents(db)
    task = db.call(lambda s: abandoned(s, "6.1", "13800000001", NOW))
    for result in ("agent_no_answer", "agent_hangup", "lost", "pbx_error"):
        claim = db.call(lambda s: callbacks.claim(s, task, first, now=NOW))
        t = db.call(lambda s, c=claim, r=result: callbacks.finish(s, c.attempt_id, r, now=NOW))
        assert (t.status, t.attempts, t.last_result) == ("open", 0, result)
    assert db.call(lambda s: s.scalar(select(CallbackAttempt.id).where(
        CallbackAttempt.result == "calling"))) is None
    with pytest.raises(ValueError):
        db.call(lambda s: callbacks.finish(s, claim.attempt_id, "teleported", now=NOW))


def test_closing_by_hand_needs_a_note_and_not_during_a_call(db):
    first, _ = agents(db)
    task = db.call(lambda s: abandoned(s, "7.1", "13800000001", NOW))
    with pytest.raises(CallbackError) as no_note:
        db.call(lambda s: callbacks.close_by_hand(s, task, "done", "  ", now=NOW))
    assert no_note.value.code == "invalid"
    claim = db.call(lambda s: callbacks.claim(s, task, first, now=NOW))
    with pytest.raises(CallbackError) as calling:
        db.call(lambda s: callbacks.close_by_hand(s, task, "failed", "wrong number", now=NOW))
    assert calling.value.code == "calling"
    db.call(lambda s: callbacks.finish(s, claim.attempt_id, "busy", now=NOW))
    closed = db.call(lambda s: callbacks.close_by_hand(s, task, "failed", "wrong number",
                                                       now=NOW))
    assert (closed.status, closed.note, closed.attempts) == ("failed", "wrong number", 1)
    with pytest.raises(CallbackError) as twice:
        db.call(lambda s: callbacks.close_by_hand(s, task, "done", "again", now=NOW))
    assert twice.value.code == "closed"
