"""Departments held to their deadlines: the 80 % warning (once per dispatch),
the 督办 list of overdue orders, the 催办 notice (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from calls import records
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_answer, reply_and_accept
from worksheets import lifecycle, service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department, OrderEvent, WorkOrder
from worksheets.supervision import urge, warn_departments

CAL = WorkingCalendar.official()
T0 = local(2026, 11, 30, 10)  # Monday: a 3-working-day order is due Thu 3 Dec 23:59:59


def dispatched(s, uid: str) -> WorkOrder:
    dept = s.scalar(select(Department.id).order_by(Department.id))
    records.start_call(s, uniqueid=uid, now=T0, caller_number="13800138000")
    order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                          hold_seconds=2, now=T0)
    return service.submit_work_order(s, order.id, agent_id=None, title="井盖缺失",
                                     description="", category="help", complexity="ordinary",
                                     department_id=dept, answered_on_call=False, now=T0,
                                     calendar=CAL, tz=SHANGHAI)


def test_warned_once_at_80_percent_and_again_after_a_new_dispatch(db) -> None:
    order = db.call(lambda s: dispatched(s, "w.1"))
    assert order.due_date == date(2026, 12, 3)
    span = order.due_at - T0  # 3 days 13:59:59
    before, after = T0 + span * 0.79, T0 + span * 0.81
    assert db.call(lambda s: warn_departments(s, before)) == []
    assert [o.id for o in db.call(lambda s: warn_departments(s, after))] == [order.id]
    assert db.call(lambda s: warn_departments(s, after + timedelta(hours=1))) == []
    # Returned and dispatched again: a new deadline, a new warning when it comes.
    later = after + timedelta(hours=2)

    def bounce(s):
        lifecycle.return_order(s, order.id, department_id=order.department_id, reason="非本单位",
                               user_id=None, now=later)
        lifecycle.redispatch(s, order.id, department_id=None, user_id=None, now=later,
                             calendar=CAL, tz=SHANGHAI)

    db.call(bounce)
    assert db.call(lambda s: warn_departments(s, later + timedelta(hours=1))) == []
    fresh = db.call(lambda s: s.get(WorkOrder, order.id))
    again = later + (fresh.due_at - later) * 0.85
    assert [o.id for o in db.call(lambda s: warn_departments(s, again))] == [order.id]
    kinds = [e["kind"] for e in db.call(lambda s: lifecycle.history(s, order.id))]
    assert kinds.count("deadline_warning") == 2
    # Past the deadline: no warning, the 督办 list instead.
    assert db.call(lambda s: warn_departments(s, fresh.due_at + timedelta(seconds=1))) == []


def test_overdue_orders_are_on_the_list_and_a_urge_is_recorded_for_the_department(db) -> None:
    order = db.call(lambda s: dispatched(s, "u.1"))
    due = order.due_at
    assert db.call(lambda s: lifecycle.worklist(s, "overdue", now=due)) == []
    overdue = db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "overdue", now=due + timedelta(seconds=1))])
    assert overdue == [order.id]
    with pytest.raises(lifecycle.LifecycleError) as err:
        db.call(lambda s: urge(s, order.id, note="  ", user_id=None, now=due))
    assert err.value.code == "invalid"
    db.call(lambda s: urge(s, order.id, note="市民反映井盖仍未补上，请今日办结", user_id=None,
                           now=due + timedelta(hours=1)))
    mine = db.call(lambda s: lifecycle.worklist(s, "department",
                                                department_id=order.department_id))
    assert mine[0].urge_note == "市民反映井盖仍未补上，请今日办结"
    event = db.call(lambda s: s.scalar(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.kind == "urged")))
    assert event.department_id == order.department_id
    db.call(lambda s: reply_and_accept(s, order.id, department_id=order.department_id,
                                      text="已补装", user_id=None, now=due + timedelta(hours=2)))
    with pytest.raises(lifecycle.LifecycleError) as err:
        db.call(lambda s: urge(s, order.id, note="再催", user_id=None,
                               now=due + timedelta(hours=3)))
    assert err.value.code == "wrong_status"
