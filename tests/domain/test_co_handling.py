"""加派 (co-handling parts), 统一答复 (the supervisor's review) and how each
department is counted: every transition, allowed and forbidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.domain.test_lifecycle import CAL, NOW, TZ, code_of, departments, dispatched, kinds
from worksheets import lifecycle, parts, review, supervision
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart
from worksheets.stats import department_stats, period_stats


def with_parts(db, uid: str, lead: int, co: list[int]) -> int:
    oid = dispatched(db, uid, dept=lead)

    def work(s):
        parts.add(s, s.get(WorkOrder, oid), co, now=NOW, user_id=None)
    db.call(work)
    return oid


def part_of(db, oid: int, dept: int) -> OrderPart:
    return db.call(lambda s: s.scalar(select(OrderPart).where(
        OrderPart.order_id == oid, OrderPart.department_id == dept,
        OrderPart.status != "dropped")))


def test_parts_are_given_once_each_and_never_to_the_lead(db):
    lead, a, b = departments(db)[:3]
    oid = dispatched(db, "p.1", dept=lead)
    for wrong in ([], [lead], [a, a], [999999]):
        assert code_of(db, lambda s, w=wrong: parts.add(
            s, s.get(WorkOrder, oid), w, now=NOW, user_id=None)) == "invalid"
    db.call(lambda s: parts.add_later(s, oid, [a, b], now=NOW, user_id=None))
    assert code_of(db, lambda s: parts.add_later(s, oid, [a], now=NOW, user_id=None)) \
        == "invalid"
    assert kinds(db, oid)[-2:] == ["co_dispatched", "co_dispatched"]
    # A closed order gets no parts.
    closed = dispatched(db, "p.2", category="consult", complexity=None, on_call=True)
    assert code_of(db, lambda s: parts.add_later(s, closed, [a], now=NOW, user_id=None)) \
        == "wrong_status"


def test_each_part_is_signed_for_returned_and_answered_and_the_order_waits_for_all(db):
    lead, a, b, c = departments(db)[:4]
    oid = with_parts(db, "p.3", lead, [a, b])
    due = db.call(lambda s: s.get(WorkOrder, oid).due_at)
    later = NOW + timedelta(hours=5)
    # The co-handling departments see it in their work list, the lead too.
    for dept in (lead, a, b):
        assert db.call(lambda s, d=dept: [o.id for o in lifecycle.worklist(
            s, "department", department_id=d)]) == [oid]
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "department", department_id=c)]) == []
    # A department without a part has nothing to act on.
    assert code_of(db, lambda s: parts.accept(s, oid, c, now=NOW, user_id=None)) == "not_found"
    db.call(lambda s: parts.accept(s, oid, a, now=NOW, user_id=None))
    assert code_of(db, lambda s: parts.accept(s, oid, a, now=NOW, user_id=None)) \
        == "wrong_status"
    assert code_of(db, lambda s: parts.answer(s, oid, a, text=" ", now=NOW, user_id=None)) \
        == "invalid"
    db.call(lambda s: parts.answer(s, oid, a, text="已清理", now=later, user_id=None))
    assert code_of(db, lambda s: parts.answer(s, oid, a, text="again", now=later,
                                              user_id=None)) == "wrong_status"
    assert code_of(db, lambda s: parts.return_part(s, oid, a, reason="x", now=later,
                                                   user_id=None)) == "wrong_status"
    # b sends its part back; the supervisor gives it to c.
    db.call(lambda s: parts.return_part(s, oid, b, reason="非本单位职责", now=NOW, user_id=None))
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "returned")]) == [oid]
    returned = part_of(db, oid, b)
    assert code_of(db, lambda s: parts.reassign(s, part_of(db, oid, a).id, department_id=c,
                                                now=NOW, user_id=None)) == "wrong_status"
    db.call(lambda s: parts.reassign(s, returned.id, department_id=c, now=NOW, user_id=None))
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "department", department_id=b)]) == []
    assert part_of(db, oid, c).status == "dispatched"
    # The lead answers: the order waits for c before the review can close it.
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已协调处理",
                                      user_id=None, now=later))
    assert db.call(lambda s: lifecycle.worklist(s, "review")) == []
    assert code_of(db, lambda s: review.accept(s, oid, now=later, user_id=None)) == "parts_open"
    # past the deadline, c's open part puts the order on the 督办 list, and it is urged
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "overdue", now=due + timedelta(minutes=1))]) == [oid]
    urged = db.call(lambda s: supervision.urge(s, oid, note="请协办单位尽快答复", user_id=None,
                                               now=due + timedelta(minutes=1)))
    assert urged.urge_note == "请协办单位尽快答复"
    db.call(lambda s: parts.answer(s, oid, c, text="已配合", now=later, user_id=None))
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "review")]) == [oid]
    closed = db.call(lambda s: review.accept(s, oid, now=later, user_id=None))
    assert closed.status == "closed" and closed.reply == "已协调处理"  # the lead's answer
    assert code_of(db, lambda s: parts.answer(s, oid, c, text="late", now=later,
                                              user_id=None)) == "wrong_status"
    assert [p["status"] for p in db.call(lambda s: parts.to_dicts(s, oid))] == [
        "answered", "dropped", "answered"]


def test_the_reviewer_sends_back_with_a_reason_and_on_time_counts_the_answer(db):
    lead, a = departments(db)[:2]
    oid = with_parts(db, "p.4", lead, [a])
    due = db.call(lambda s: s.get(WorkOrder, oid).due_at)
    before, after = due - timedelta(hours=2), due + timedelta(days=2)
    assert code_of(db, lambda s: review.accept(s, oid, now=NOW, user_id=None)) == "wrong_status"
    db.call(lambda s: parts.answer(s, oid, a, text="已配合", now=before, user_id=None))
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已处理", user_id=None,
                                      now=before))
    assert code_of(db, lambda s: review.send_back(s, oid, reason="  ", now=NOW,
                                                  user_id=None)) == "invalid"
    # The part's answer goes back: the order cannot close until it is answered again.
    part = part_of(db, oid, a)
    db.call(lambda s: review.send_back(s, oid, reason="请补充现场照片", now=before,
                                       user_id=None, part_id=part.id))
    assert part_of(db, oid, a).status == "accepted"
    assert code_of(db, lambda s: review.send_back(s, oid, reason="再补充", now=before,
                                                  user_id=None, part_id=part.id)) \
        == "wrong_status"  # not answered (again) yet
    assert code_of(db, lambda s: review.accept(s, oid, now=before, user_id=None)) == "parts_open"
    # No 回访 before the hotline has accepted the answer.
    assert code_of(db, lambda s: lifecycle.visit(s, oid, result="satisfied", note="",
                                                 user_id=None, now=before)) == "wrong_status"
    db.call(lambda s: parts.answer(s, oid, a, text="已补充", now=before, user_id=None))
    # The lead's answer goes back: the order is the department's again.
    back = db.call(lambda s: review.send_back(s, oid, reason="答复未说明处理结果", now=before,
                                              user_id=None))
    assert (back.status, back.answered_at) == ("accepted", None)
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "department", department_id=lead)]) == [oid]
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已处理，路灯已更换",
                                      user_id=None, now=before + timedelta(hours=1)))
    # Reviewed two days after the deadline: on time (the answer was), completed then.
    done = db.call(lambda s: review.accept(s, oid, now=after, user_id=None))
    assert done.closed_at == after and done.answered_at < due
    assert kinds(db, oid)[-3:] == ["review_sent_back", "replied", "review_accepted"]
    st = db.call(lambda s: period_stats(s, NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                                        tz=TZ))
    assert (st.orders_closed, st.on_time_rate) == (1, 1.0)


def test_each_department_is_counted_for_its_own_part(db):
    lead, a, b = departments(db)[:3]
    oid = with_parts(db, "p.5", lead, [a, b])
    due = db.call(lambda s: s.get(WorkOrder, oid).due_at)
    db.call(lambda s: parts.answer(s, oid, a, text="已配合", now=due + timedelta(hours=3),
                                   user_id=None))  # late
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="ok", user_id=None,
                                      now=NOW))
    db.call(lambda s: parts.return_part(s, oid, b, reason="非本单位", now=NOW, user_id=None))

    def rows(now):
        return {r.department_id: r for r in db.call(lambda s: department_stats(
            s, NOW - timedelta(hours=1), NOW + timedelta(hours=1), now=now))}

    open_rows = rows(due + timedelta(hours=5))
    # Nothing is completed before the hotline accepts the answer.
    assert (open_rows[lead].received, open_rows[lead].closed) == (1, 0)
    assert (open_rows[a].received, open_rows[a].closed, open_rows[a].open) == (1, 0, 1)
    # b returned its part: counted against it (held until the hotline moves it,
    # as a returned order is).
    assert (open_rows[b].received, open_rows[b].returned, open_rows[b].return_rate) == (1, 1, 1.0)
    db.call(lambda s: parts.reassign(s, part_of(db, oid, b).id, department_id=None, now=NOW,
                                     user_id=None))
    db.call(lambda s: review.accept(s, oid, now=due + timedelta(days=1), user_id=None))
    closed_rows = rows(due + timedelta(days=2))
    assert (closed_rows[b].received, closed_rows[b].returned, closed_rows[b].return_rate) == (
        0, 1, 1.0)
    assert (closed_rows[lead].closed, closed_rows[lead].on_time_rate) == (1, 1.0)
    assert (closed_rows[a].closed, closed_rows[a].on_time_rate) == (1, 0.0)
    assert closed_rows[a].completion_rate == 1.0


@pytest.mark.parametrize("step", ["return", "answer"])
def test_a_merged_or_closed_order_takes_no_part_step(db, step):
    lead, a = departments(db)[:2]
    oid = with_parts(db, f"p.6.{step}", lead, [a])
    main = dispatched(db, f"p.7.{step}", dept=lead)
    from worksheets import merging
    db.call(lambda s: merging.merge(s, main, [oid], now=NOW, user_id=None))
    action = (lambda s: parts.return_part(s, oid, a, reason="x", now=NOW, user_id=None)) \
        if step == "return" else (lambda s: parts.answer(s, oid, a, text="x", now=NOW,
                                                         user_id=None))
    assert code_of(db, action) == "wrong_status"
    assert db.call(lambda s: lifecycle.worklist(s, "department", department_id=a)) == []


def test_redispatch_and_reopen_clear_the_answer_time(db):
    dept = departments(db)[0]
    oid = dispatched(db, "p.8", dept=dept)
    db.call(lambda s: lifecycle.reply(s, oid, department_id=dept, text="ok", user_id=None,
                                      now=NOW))
    db.call(lambda s: review.accept(s, oid, now=NOW, user_id=None))
    reopened = db.call(lambda s: lifecycle.redispatch(
        s, oid, department_id=None, user_id=None, now=NOW, calendar=CAL, tz=TZ, reopen=True))
    assert (reopened.status, reopened.answered_at) == ("dispatched", None)


def test_a_reopened_order_sends_every_part_back_to_its_department(db):
    lead, a = departments(db)[:2]
    oid = with_parts(db, "p.9", lead, [a])
    db.call(lambda s: parts.answer(s, oid, a, text="已清理", now=NOW, user_id=None))
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已办", user_id=None,
                                      now=NOW))
    db.call(lambda s: review.accept(s, oid, now=NOW, user_id=None))
    db.call(lambda s: lifecycle.redispatch(s, oid, department_id=None, user_id=None, now=NOW,
                                           calendar=CAL, tz=TZ, reopen=True))
    part = part_of(db, oid, a)
    assert (part.status, part.reply, part.answered_at) == ("dispatched", "", None)
    # The lead's new answer alone does not pass the review: the part is open again.
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="复查已办", user_id=None,
                                      now=NOW + timedelta(days=1)))
    assert code_of(db, lambda s: review.accept(s, oid, now=NOW, user_id=None)) == "parts_open"


def test_a_returned_order_is_not_given_as_lead_to_a_department_with_a_part(db):
    lead, a, b = departments(db)[:3]
    oid = with_parts(db, "p.10", lead, [a])
    db.call(lambda s: lifecycle.return_order(s, oid, department_id=lead, reason="不归我管",
                                             user_id=None, now=NOW))
    assert code_of(db, lambda s: lifecycle.redispatch(
        s, oid, department_id=a, user_id=None, now=NOW, calendar=CAL, tz=TZ)) == "invalid"
    again = db.call(lambda s: lifecycle.redispatch(
        s, oid, department_id=b, user_id=None, now=NOW, calendar=CAL, tz=TZ))
    assert (again.status, again.department_id) == ("dispatched", b)


def test_the_80_percent_warning_goes_to_each_department_with_its_part_open(db):
    lead, a, b = departments(db)[:3]
    oid = with_parts(db, "p.9", lead, [a, b])
    db.call(lambda s: parts.answer(s, oid, b, text="已配合", now=NOW, user_id=None))
    due = db.call(lambda s: s.get(WorkOrder, oid).due_at)
    warned = db.call(lambda s: [department for _o, _n, department, _d in
                                supervision._warn_all(s, due - timedelta(minutes=5))])
    assert warned == [lead, a]  # the lead's own warning, then its open part's
