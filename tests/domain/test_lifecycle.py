"""A work order after dispatch: sign for, return and dispatch again, reply,
extension, 回访, reopen; and the figures they feed (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from calls import records
from tests.helpers import record_answer, reply_and_accept
from worksheets import lifecycle, review, service
from worksheets.calendar import WorkingCalendar
from worksheets.lifecycle import LifecycleError
from worksheets.models import Department, WorkOrder
from worksheets.stats import department_stats, period_stats

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)  # Monday 10:00 in Baoji
CAL = WorkingCalendar.default()


def departments(db) -> list[int]:
    return db.call(lambda s: list(s.scalars(select(Department.id).order_by(Department.id))))


def dispatched(db, uid: str, *, category="help", complexity="ordinary", dept=None,
               on_call=False) -> int:
    dept = dept or departments(db)[0]

    def work(s):
        records.start_call(s, uniqueid=uid, now=NOW, caller_number="13800138000")
        order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                              hold_seconds=3, now=NOW)
        service.submit_work_order(s, order.id, agent_id=None, title="路灯不亮", description="",
                                  category=category, complexity=complexity,
                                  department_id=None if on_call else dept,
                                  answered_on_call=on_call, now=NOW, calendar=CAL, tz=TZ)
        return order.id
    return db.call(work)


def code_of(db, fn) -> str:
    with pytest.raises(LifecycleError) as err:
        db.call(fn)
    return err.value.code


def kinds(db, order_id) -> list[str]:
    return [e["kind"] for e in db.call(lambda s: lifecycle.history(s, order_id))]


def test_sign_for_and_reply_on_time_closes_the_order(db):
    dept = departments(db)[0]
    oid = dispatched(db, "1.1", dept=dept)
    order = db.call(lambda s: lifecycle.accept(s, oid, department_id=dept, user_id=None,
                                               now=NOW + timedelta(hours=1)))
    assert order.status == "accepted"
    assert code_of(db, lambda s: lifecycle.accept(s, oid, department_id=dept, user_id=None,
                                                  now=NOW)) == "wrong_status"
    assert code_of(db, lambda s: lifecycle.reply(s, oid, department_id=dept, text="  ",
                                                 user_id=None, now=NOW)) == "invalid"
    answered = db.call(lambda s: lifecycle.reply(s, oid, department_id=dept, text="已修复路灯",
                                                 user_id=None, now=NOW + timedelta(days=1)))
    # 统一答复: the answer waits for the hotline's review; nothing is closed yet.
    assert (answered.status, answered.reply) == ("answered", "已修复路灯")
    assert (answered.answered_at, answered.closed_at) == (NOW + timedelta(days=1), None)
    assert db.call(lambda s: lifecycle.history(s, oid))[-1]["detail"] == "on time"
    closed = db.call(lambda s: review.accept(s, oid, now=NOW + timedelta(days=2),
                                             user_id=None))
    assert closed.status == "closed" and closed.closed_at == NOW + timedelta(days=2)
    assert kinds(db, oid) == ["dispatched", "accepted", "replied", "review_accepted"]


def test_another_departments_order_does_not_exist_for_them(db):
    mine, other = departments(db)[:2]
    oid = dispatched(db, "2.1", dept=mine)
    for step in (lambda s: lifecycle.accept(s, oid, department_id=other, user_id=None, now=NOW),
                 lambda s: lifecycle.reply(s, oid, department_id=other, text="x", user_id=None,
                                           now=NOW)):
        assert code_of(db, step) == "not_found"


def test_returned_order_is_dispatched_again_with_a_fresh_deadline(db):
    first, second = departments(db)[:2]
    oid = dispatched(db, "3.1", dept=first)
    before = db.call(lambda s: s.get(WorkOrder, oid).due_date)
    assert code_of(db, lambda s: lifecycle.return_order(
        s, oid, department_id=first, reason="", user_id=None, now=NOW)) == "invalid"
    returned = db.call(lambda s: lifecycle.return_order(
        s, oid, department_id=first, reason="不属于本单位职责", user_id=None,
        now=NOW + timedelta(hours=2)))
    assert (returned.status, returned.returns) == ("returned", 1)
    # Wednesday 2 December: 3 working days later is Monday 7 December.
    later = datetime(2026, 12, 2, 2, tzinfo=UTC)
    again = db.call(lambda s: lifecycle.redispatch(s, oid, department_id=second, user_id=None,
                                                   now=later, calendar=CAL, tz=TZ))
    assert (again.status, again.department_id) == ("dispatched", second)
    assert before == date(2026, 12, 3) and again.due_date == date(2026, 12, 7)
    assert code_of(db, lambda s: lifecycle.redispatch(
        s, oid, department_id=second, user_id=None, now=later, calendar=CAL,
        tz=TZ)) == "wrong_status"
    assert kinds(db, oid) == ["dispatched", "returned", "redispatched"]


def test_a_returned_help_order_without_its_complexity_is_refused_not_a_server_error(db):
    first = departments(db)[0]
    oid = dispatched(db, "3.2", dept=first)
    db.call(lambda s: lifecycle.return_order(s, oid, department_id=first, reason="不属于本单位",
                                             user_id=None, now=NOW))

    def lose_complexity(s):
        s.get(WorkOrder, oid).complexity = None  # as an old or imported row may be
    db.call(lose_complexity)
    assert code_of(db, lambda s: lifecycle.redispatch(
        s, oid, department_id=first, user_id=None, now=NOW, calendar=CAL, tz=TZ)) == "invalid"
    assert db.call(lambda s: s.get(WorkOrder, oid).status) == "returned"


def test_extension_is_for_complex_help_once_and_needs_a_supervisor(db):
    dept = departments(db)[0]
    simple = dispatched(db, "4.1", dept=dept)
    assert code_of(db, lambda s: lifecycle.request_extension(
        s, simple, department_id=dept, days=3, reason="需协调", user_id=None, now=NOW,
        calendar=CAL, tz=TZ)) == "not_extendable"
    oid = dispatched(db, "4.2", dept=dept, complexity="complex")
    due = db.call(lambda s: s.get(WorkOrder, oid).due_date)  # 5 working days: Mon 7 Dec
    assert due == date(2026, 12, 7)
    assert code_of(db, lambda s: lifecycle.request_extension(
        s, oid, department_id=dept, days=6, reason="需协调", user_id=None, now=NOW,
        calendar=CAL, tz=TZ)) == "not_extendable"
    db.call(lambda s: lifecycle.request_extension(s, oid, department_id=dept, days=3,
                                                  reason="需多部门协调", user_id=None, now=NOW,
                                                  calendar=CAL, tz=TZ))
    assert code_of(db, lambda s: lifecycle.request_extension(
        s, oid, department_id=dept, days=2, reason="again", user_id=None, now=NOW,
        calendar=CAL, tz=TZ)) == "pending"
    listed = db.call(lambda s: [o.id for o in lifecycle.worklist(s, "extensions")])
    assert listed == [oid]
    approved = db.call(lambda s: lifecycle.decide_extension(
        s, oid, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ))
    assert (approved.due_date, approved.deadline_days, approved.extension_days) == (
        date(2026, 12, 10), 8, None)
    # once only
    assert code_of(db, lambda s: lifecycle.request_extension(
        s, oid, department_id=dept, days=1, reason="再延", user_id=None, now=NOW,
        calendar=CAL, tz=TZ)) == "not_extendable"
    assert code_of(db, lambda s: lifecycle.decide_extension(
        s, oid, approve=False, user_id=None, now=NOW, calendar=CAL, tz=TZ)) == "no_request"


def test_refused_extension_keeps_the_deadline(db):
    dept = departments(db)[0]
    oid = dispatched(db, "5.1", dept=dept, complexity="complex")
    db.call(lambda s: lifecycle.request_extension(s, oid, department_id=dept, days=5,
                                                  reason="人手不足", user_id=None, now=NOW,
                                                  calendar=CAL, tz=TZ))
    refused = db.call(lambda s: lifecycle.decide_extension(
        s, oid, approve=False, user_id=None, now=NOW, calendar=CAL, tz=TZ, note="理由不足"))
    assert (refused.due_date, refused.extension_days) == (date(2026, 12, 7), None)
    assert kinds(db, oid)[-2:] == ["extension_requested", "extension_refused"]


def test_visit_records_satisfaction_and_dissatisfied_orders_can_be_reopened(db):
    dept = departments(db)[0]
    oid = dispatched(db, "6.1", dept=dept)
    assert code_of(db, lambda s: lifecycle.visit(s, oid, result="satisfied", note="",
                                                 user_id=None, now=NOW)) == "wrong_status"
    db.call(lambda s: reply_and_accept(s, oid, department_id=dept, text="已处理", user_id=None,
                                      now=NOW + timedelta(days=1)))
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "visits")]) == [oid]
    assert code_of(db, lambda s: lifecycle.visit(s, oid, result="meh", note="", user_id=None,
                                                 now=NOW)) == "invalid"
    visited = db.call(lambda s: lifecycle.visit(s, oid, result="dissatisfied", note="路灯仍不亮",
                                                user_id=None, now=NOW + timedelta(days=2)))
    assert (visited.satisfaction, visited.visit_result) == ("dissatisfied", "dissatisfied")
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "visits")]) == []
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "dissatisfied")]) == [oid]
    reopened = db.call(lambda s: lifecycle.redispatch(
        s, oid, department_id=dept, user_id=None, now=NOW + timedelta(days=2), calendar=CAL,
        tz=TZ, reopen=True, note="回访不满意"))
    assert (reopened.status, reopened.closed_at, reopened.reply) == ("dispatched", None, "")
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "department",
                                                               department_id=dept)]) == [oid]
    assert (reopened.visited_at, reopened.visit_result, reopened.satisfaction) == (
        None, None, None)
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "dissatisfied")]) == []
    # the new answer gets its own 回访
    db.call(lambda s: reply_and_accept(s, oid, department_id=dept, text="已更换灯具",
                                      user_id=None, now=NOW + timedelta(days=3)))
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "visits")]) == [oid]
    db.call(lambda s: lifecycle.visit(s, oid, result="satisfied", note="", user_id=None,
                                      now=NOW + timedelta(days=3)))
    assert code_of(db, lambda s: lifecycle.visit(s, oid, result="dissatisfied", note="",
                                                 user_id=None, now=NOW)) == "wrong_status"
    assert kinds(db, oid)[-4:] == ["reopened", "replied", "review_accepted", "visited"]


def test_unreachable_citizen_leaves_no_rating_and_on_call_answers_have_no_visit(db):
    dept = departments(db)[0]
    oid = dispatched(db, "7.1", dept=dept)
    db.call(lambda s: reply_and_accept(s, oid, department_id=dept, text="已处理", user_id=None,
                                      now=NOW))
    visited = db.call(lambda s: lifecycle.visit(s, oid, result="unreachable", note="",
                                                user_id=None, now=NOW))
    assert (visited.satisfaction, visited.visit_result) == (None, "unreachable")
    consult = dispatched(db, "7.2", category="consult", complexity=None, on_call=True)
    assert code_of(db, lambda s: lifecycle.visit(s, consult, result="satisfied", note="",
                                                 user_id=None, now=NOW)) == "wrong_status"
    assert code_of(db, lambda s: lifecycle.redispatch(
        s, consult, department_id=dept, user_id=None, now=NOW, calendar=CAL, tz=TZ,
        reopen=True)) == "wrong_status"


def test_figures_completion_on_time_return_and_satisfaction(db):
    dept, other = departments(db)[:2]
    on_time = dispatched(db, "8.1", dept=dept)
    late = dispatched(db, "8.2", dept=dept)
    bounced = dispatched(db, "8.3", dept=dept)
    dispatched(db, "8.4", dept=dept)  # still open
    dispatched(db, "8.5", category="consult", complexity=None, on_call=True)

    def work(s):
        reply_and_accept(s, on_time, department_id=dept, text="ok", user_id=None,
                        now=NOW + timedelta(days=1))
        reply_and_accept(s, late, department_id=dept, text="ok", user_id=None,
                        now=NOW + timedelta(days=10))
        lifecycle.return_order(s, bounced, department_id=dept, reason="非本单位", user_id=None,
                               now=NOW)
        lifecycle.redispatch(s, bounced, department_id=other, user_id=None, now=NOW,
                             calendar=CAL, tz=TZ)
        lifecycle.visit(s, on_time, result="satisfied", note="", user_id=None, now=NOW)
        lifecycle.visit(s, late, result="dissatisfied", note="", user_id=None, now=NOW)
    db.call(work)
    st = db.call(lambda s: period_stats(s, NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                                        tz=TZ))
    # 5 accepted: 2 replied + 1 closed on the call
    assert (st.orders_accepted, st.orders_closed) == (5, 3)
    assert st.completion_rate == round(3 / 5, 4)
    assert st.on_time_rate == round(2 / 3, 4)  # the late reply is not on time
    assert st.return_rate == round(1 / 4, 4)  # of the 4 dispatched, one came back
    assert st.satisfaction_rate == 0.5


def test_departments_are_held_to_account_worst_completion_first(db):
    first, second = departments(db)[:2]
    a = [dispatched(db, f"10.{i}", dept=first) for i in range(4)]
    b = [dispatched(db, f"11.{i}", dept=second) for i in range(2)]
    moved = dispatched(db, "12.1", dept=first)

    def work(s):
        for oid in a[:3]:  # first: 3 of 4 closed, one of them late
            reply_and_accept(s, oid, department_id=first, text="ok", user_id=None,
                            now=NOW + timedelta(days=1 if oid != a[2] else 9))
        lifecycle.visit(s, a[0], result="satisfied", note="", user_id=None, now=NOW)
        lifecycle.visit(s, a[1], result="dissatisfied", note="", user_id=None, now=NOW)
        for oid in b:  # second: both closed on time
            reply_and_accept(s, oid, department_id=second, text="ok", user_id=None, now=NOW)
        # returned by the first, dispatched to the second: held there
        lifecycle.return_order(s, moved, department_id=first, reason="非本单位", user_id=None,
                               now=NOW)
        lifecycle.redispatch(s, moved, department_id=second, user_id=None, now=NOW,
                             calendar=CAL, tz=TZ)
    db.call(work)
    rows = db.call(lambda s: department_stats(s, NOW - timedelta(hours=1),
                                              NOW + timedelta(hours=1),
                                              now=NOW + timedelta(days=10)))
    by_id = {r.department_id: r for r in rows}
    one, two = by_id[first], by_id[second]
    assert (one.received, one.closed, one.closed_on_time, one.open, one.overdue) == (
        4, 3, 2, 1, 1)
    assert one.completion_rate == 0.75 and one.below_target
    assert one.satisfaction_rate == 0.5
    assert (two.received, two.closed, two.returned, two.open) == (3, 2, 0, 1)
    assert two.return_rate == 0.0
    # the return counts against the department that sent it back: 1 of the 5
    # orders it was given (4 it holds, 1 it returned)
    assert one.returned == 1 and one.return_rate == 0.2
    # worst completion first (2/3, then 3/4); departments with no orders last
    assert [r.department_id for r in rows[:2]] == [second, first]
    assert rows[-1].received == 0 and rows[-1].completion_rate is None
