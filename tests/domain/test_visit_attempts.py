"""回访 calls kept in the database: limited and spaced like callbacks, one
call at a time, the last failed attempt records the citizen unreachable, a
call left by a stopped backend closed as lost (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from calls import records
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_answer, reply_and_accept
from worksheets import lifecycle, service, visits
from worksheets.calendar import WorkingCalendar
from worksheets.callbacks import MAX_ATTEMPTS, RETRY_GAP, CallbackError
from worksheets.models import Department, OrderEvent, WorkOrder

T0 = local(2026, 12, 1, 10)


def closed_order(s) -> int:
    dept = s.scalar(select(Department.id).order_by(Department.id))
    records.start_call(s, uniqueid="v.1", now=T0, caller_number="13800138000")
    order = record_answer(s, "v.1", member_name="agent-1001", agent_id=None,
                          hold_seconds=2, now=T0)
    service.submit_work_order(s, order.id, agent_id=None, title="噪音扰民", description="",
                              category="complaint", complexity=None, department_id=dept,
                              answered_on_call=False, now=T0,
                              calendar=WorkingCalendar.official(), tz=SHANGHAI)
    reply_and_accept(s, order.id, department_id=dept, text="已处理", user_id=None,
                    now=T0 + timedelta(hours=5))
    return order.id


def code(db, fn) -> str:
    with pytest.raises(CallbackError) as err:
        db.call(fn)
    return err.value.code


def test_given_citizen_not_reached_then_spaced_limited_and_finally_unreachable(db) -> None:
    oid = db.call(closed_order)
    at = T0 + timedelta(days=1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        db.call(lambda s, at=at: visits.claim(s, oid, now=at))
        assert code(db, lambda s, at=at: visits.claim(s, oid, now=at)) == "not_open"  # one call
        # An agent who does not answer their own phone does not use up an attempt.
        if attempt == 1:
            db.call(lambda s, at=at: visits.finish(s, oid, "agent_no_answer", now=at,
                                                   user_id=None))
            db.call(lambda s, at=at: visits.claim(s, oid, now=at))
        db.call(lambda s, at=at: visits.finish(s, oid, "no_answer", now=at + timedelta(
            seconds=40), user_id=None))
        if attempt < MAX_ATTEMPTS:
            assert code(db, lambda s, at=at: visits.claim(
                s, oid, now=at + RETRY_GAP - timedelta(minutes=1))) == "too_soon"
        at += RETRY_GAP
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert (order.visit_attempts, order.visit_result, order.satisfaction) == (
        MAX_ATTEMPTS, "unreachable", None)
    assert code(db, lambda s: visits.claim(s, oid, now=at)) == "not_open"
    assert oid not in db.call(lambda s: [o.id for o in lifecycle.worklist(s, "visits")])
    results = db.call(lambda s: list(s.scalars(select(OrderEvent.detail).where(
        OrderEvent.order_id == oid, OrderEvent.kind == "visit_call").order_by(OrderEvent.id))))
    assert results == ["agent_no_answer", "no_answer", "no_answer", "no_answer"]


def test_given_a_call_left_by_a_stopped_backend_then_closed_as_lost_and_not_counted(db) -> None:
    oid = db.call(closed_order)
    at = T0 + timedelta(days=1)
    db.call(lambda s: visits.claim(s, oid, now=at, owner="gone", lease_until=at, agent_id=1))

    def stale(owner: str, now: datetime, alone: bool = False) -> list[int]:
        return [v.id for v in db.call(lambda s: visits.stale(
            s, now, owner, alone=alone, max_call=timedelta(hours=2)))]

    assert stale("gone", at + timedelta(hours=1)) == []  # its own call
    assert stale("me", at - timedelta(seconds=1)) == []  # its lease still holds
    assert stale("me", at - timedelta(seconds=1), alone=True) == [oid]  # a previous run's
    assert stale("me", at + timedelta(seconds=1)) == [oid]  # its lease ran out
    db.call(lambda s: visits.finish(s, oid, "lost", now=T0 + timedelta(days=1, minutes=1),
                                    user_id=None))
    assert stale("me", at + timedelta(seconds=1)) == []
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert order.visit_attempts == 0 and order.visit_calling_since is None
    db.call(lambda s: visits.claim(s, oid, now=T0 + timedelta(days=1, minutes=2)))  # at once
