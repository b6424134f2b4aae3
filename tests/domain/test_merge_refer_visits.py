"""并案 (every caller kept and called back), special-line referrals, and
when the 回访 falls due."""

from __future__ import annotations

from datetime import timedelta

from tests.domain.test_lifecycle import NOW, code_of, departments, dispatched, kinds
from tests.helpers import record_answer
from worksheets import lifecycle, merging, referrals, review, visits
from worksheets.models import WorkOrder


def _caller(db, oid: int, number: str) -> None:
    def work(s):
        s.get(WorkOrder, oid).caller_number = number
    db.call(work)


def test_duplicates_merge_into_one_and_every_caller_gets_a_visit(db):
    dept = departments(db)[0]
    main, dup1, dup2 = (dispatched(db, f"m.{i}", dept=dept) for i in range(3))
    for oid, number in ((main, "13800000001"), (dup1, "13800000002"), (dup2, "13800000003")):
        _caller(db, oid, number)
    for wrong in ([], [main], [dup1, dup1]):
        assert code_of(db, lambda s, w=wrong: merging.merge(s, main, w, now=NOW,
                                                             user_id=None)) == "invalid"
    db.call(lambda s: merging.merge(s, dup1, [dup2], now=NOW, user_id=None, note="同一路段"))
    # A merged order is not a target, nor merged again; the earlier one follows.
    assert code_of(db, lambda s: merging.merge(s, dup2, [main], now=NOW, user_id=None)) \
        == "wrong_status"
    db.call(lambda s: merging.merge(s, main, [dup1], now=NOW, user_id=None))
    rows = db.call(lambda s: {o.id: (o.status, o.merged_into_id) for o in
                              (s.get(WorkOrder, i) for i in (main, dup1, dup2))})
    assert rows == {main: ("dispatched", None), dup1: ("merged", main), dup2: ("merged", main)}
    callers = db.call(lambda s: merging.callers(s, s.get(WorkOrder, main)))
    assert [c["caller_number"] for c in callers] == ["138****0001", "138****0002",
                                                     "138****0003"]
    # The duplicates leave the department's list; the main order is worked.
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "department", department_id=dept)]) == [main]
    assert code_of(db, lambda s: lifecycle.accept(s, dup1, department_id=dept, user_id=None,
                                                  now=NOW)) == "wrong_status"
    db.call(lambda s: lifecycle.reply(s, main, department_id=dept, text="已修复井盖",
                                      user_id=None, now=NOW))
    db.call(lambda s: review.accept(s, main, now=NOW, user_id=None))
    # Every caller's order is closed with the reply, and on the 回访 list.
    closed = db.call(lambda s: [(o.status, o.reply) for o in
                                (s.get(WorkOrder, i) for i in (main, dup1, dup2))])
    assert closed == [("closed", "已修复井盖")] * 3
    assert sorted(db.call(lambda s: [o.id for o in lifecycle.worklist(s, "visits")])) == \
        sorted([main, dup1, dup2])
    db.call(lambda s: lifecycle.visit(s, dup2, result="satisfied", note="", user_id=None,
                                      now=NOW))
    assert [c["visit_result"] for c in db.call(lambda s: merging.callers(
        s, s.get(WorkOrder, main)))] == [None, None, "satisfied"]
    assert kinds(db, dup1)[-2:] == ["merged", "closed_with"]
    assert code_of(db, lambda s: merging.merge(s, main, [dup1], now=NOW, user_id=None)) \
        == "wrong_status"  # closed now


def test_a_referral_is_recorded_once_on_the_callers_own_draft(db):
    from calls import records

    def draft(s):
        records.start_call(s, uniqueid="r.1", now=NOW, caller_number="13800138000")
        return record_answer(s, "r.1", member_name="m", agent_id=7, hold_seconds=1,
                             now=NOW).id
    oid = db.call(draft)
    for line, mode in (("12345", "refer"), ("12388", "call")):
        assert code_of(db, lambda s, ln=line, md=mode: referrals.record(
            s, oid, line=ln, mode=md, note="", agent_id=7, user_id=None, now=NOW)) == "invalid"
    assert code_of(db, lambda s: referrals.record(
        s, oid, line="12388", mode="refer", note="", agent_id=8, user_id=None,
        now=NOW)) == "not_found"  # another agent's order
    order = db.call(lambda s: referrals.record(
        s, oid, line="12388", mode="transfer", note="反映村干部问题", agent_id=7, user_id=None,
        now=NOW))
    assert (order.referral_line, order.referral_mode) == ("12388", "transfer")
    assert db.call(lambda s: lifecycle.history(s, oid))[-1]["detail"].startswith(
        "transferred to 12388 纪检监察举报")
    assert code_of(db, lambda s: referrals.record(
        s, oid, line="12355", mode="refer", note="", agent_id=None, user_id=None,
        now=NOW)) == "wrong_status"  # once
    dispatched_order = dispatched(db, "r.2")
    assert code_of(db, lambda s: referrals.record(
        s, dispatched_order, line="12388", mode="refer", note="", agent_id=None, user_id=None,
        now=NOW)) == "wrong_status"


def test_the_visit_is_due_a_setting_after_closing_and_due_soon_from_80_percent(db):
    dept = departments(db)[0]
    oid = dispatched(db, "v.1", dept=dept)
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert visits.state(order, NOW, 48) is None  # open: no 回访 yet
    db.call(lambda s: lifecycle.reply(s, oid, department_id=dept, text="ok", user_id=None,
                                      now=NOW))
    db.call(lambda s: review.accept(s, oid, now=NOW, user_id=None))
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert visits.due_at(order, 48) == NOW + timedelta(hours=48)
    assert visits.state(order, NOW + timedelta(hours=38), 48) == "open"
    assert visits.state(order, NOW + timedelta(hours=38, minutes=24), 48) == "due_soon"
    assert visits.state(order, NOW + timedelta(hours=48, seconds=1), 48) == "overdue"
    summary = db.call(lambda s: visits.due(s, NOW + timedelta(hours=49), 48))
    assert (summary["overdue"], summary["due_soon"], summary["open"]) == (1, 0, 0)
    assert summary["orders"][0]["number"] == order.number
    db.call(lambda s: lifecycle.visit(s, oid, result="satisfied", note="", user_id=None,
                                      now=NOW + timedelta(hours=50)))
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert visits.state(order, NOW + timedelta(hours=50), 48) == "done"
    assert db.call(lambda s: visits.due(s, NOW + timedelta(hours=50), 48))["overdue"] == 0
    on_call = dispatched(db, "v.2", category="consult", complexity=None, on_call=True)
    assert visits.state(db.call(lambda s: s.get(WorkOrder, on_call)), NOW, 48) is None
