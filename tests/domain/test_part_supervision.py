"""A 加派 part held to its own deadline: the 80 % warning of its time (once
per dispatch, compare-and-set), 催办 of its department, and an extension of
its own (the part's deadline moves, the lead's not), on both databases."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.domain.test_co_handling import part_of, with_parts
from tests.domain.test_lifecycle import CAL, NOW, TZ, code_of, departments, dispatched, kinds
from worksheets import lifecycle, part_supervision, parts, review, supervision
from worksheets.models import OrderEvent, WorkOrder
from worksheets.stats import department_stats


def complex_with_part(db, uid: str) -> tuple[int, int, int]:
    lead, a = departments(db)[:2]
    oid = dispatched(db, uid, complexity="complex", dept=lead)

    def work(s):
        parts.add(s, s.get(WorkOrder, oid), [a], now=NOW, user_id=None)
    db.call(work)
    return oid, lead, a


def warned(db, at) -> list[tuple[int, int]]:
    return db.call(lambda s: [(o.id, p.department_id)
                              for o, p in part_supervision.warn_parts(s, at)])


def test_a_part_added_later_is_warned_at_80_percent_of_its_own_time_once(db):
    lead, a, b = departments(db)[:3]
    oid = dispatched(db, "ps.1", dept=lead)
    order = db.call(lambda s: s.get(WorkOrder, oid))
    added = NOW + timedelta(days=1)
    db.call(lambda s: parts.add_later(s, oid, [a, b], now=added, user_id=None))
    lead_80 = NOW + (order.due_at - NOW) * 0.8
    part_80 = added + (order.due_at - added) * 0.8
    assert lead_80 < part_80
    # The lead is warned at 80 % of its time; the parts, given a day later, not yet.
    assert [o.id for o in db.call(lambda s: supervision.warn_departments(
        s, lead_80 + timedelta(seconds=1)))] == [oid]
    assert warned(db, lead_80 + timedelta(seconds=1)) == []
    assert warned(db, part_80 - timedelta(seconds=1)) == []
    # b answered its part: nothing to warn it about.
    db.call(lambda s: parts.answer(s, oid, b, text="已配合", now=added, user_id=None))
    assert warned(db, part_80 + timedelta(seconds=1)) == [(oid, a)]
    assert warned(db, part_80 + timedelta(hours=1)) == []  # once
    assert part_of(db, oid, a).warned_at == part_80 + timedelta(seconds=1)
    event = db.call(lambda s: s.scalar(select(OrderEvent).where(
        OrderEvent.order_id == oid, OrderEvent.kind == "co_deadline_warning")))
    assert event.department_id == a
    # Past the deadline: no warning, the 督办 list.
    assert warned(db, order.due_at + timedelta(seconds=1)) == []


def test_a_part_dispatched_again_is_warned_again(db):
    lead, a = departments(db)[:2]
    oid = with_parts(db, "ps.2", lead, [a])
    due = db.call(lambda s: s.get(WorkOrder, oid).due_at)
    assert warned(db, due - timedelta(hours=1)) == [(oid, a)]
    # The order is answered, closed, and reopened: the part runs again from the reopening.
    db.call(lambda s: parts.answer(s, oid, a, text="已清理", now=due - timedelta(minutes=30),
                                   user_id=None))
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已办", user_id=None,
                                      now=due - timedelta(minutes=30)))
    db.call(lambda s: review.accept(s, oid, now=due - timedelta(minutes=20), user_id=None))
    reopened = due + timedelta(days=1)
    fresh = db.call(lambda s: lifecycle.redispatch(
        s, oid, department_id=None, user_id=None, now=reopened, calendar=CAL, tz=TZ,
        reopen=True))
    assert warned(db, reopened + timedelta(minutes=1)) == []
    again = reopened + (fresh.due_at - reopened) * 0.81
    assert warned(db, again) == [(oid, a)]
    assert kinds(db, oid).count("co_deadline_warning") == 2


def test_the_warning_is_compare_and_set_against_another_instance(db, monkeypatch):
    lead, a = departments(db)[:2]
    oid = with_parts(db, "ps.3", lead, [a])
    at = db.call(lambda s: s.get(WorkOrder, oid).due_at) - timedelta(hours=1)
    real = part_supervision.warning_due
    raced = []

    def racing(part, order, now):
        # Another instance warns between this one's read and its write.
        if not raced:
            raced.append(True)
            with Session(db.engine) as other, other.begin():
                assert [p.department_id for _o, p in part_supervision.warn_parts(other, now)] \
                    == [a]
        return real(part, order, now)

    monkeypatch.setattr(part_supervision, "warning_due", racing)
    assert warned(db, at) == []
    assert raced and kinds(db, oid).count("co_deadline_warning") == 1


def test_a_part_is_urged_and_its_department_sees_the_note(db):
    lead, a, b = departments(db)[:3]
    oid = with_parts(db, "ps.4", lead, [a, b])
    pa, pb = part_of(db, oid, a), part_of(db, oid, b)
    assert code_of(db, lambda s: part_supervision.urge(s, pa.id, note=" ", user_id=None,
                                                       now=NOW)) == "invalid"
    assert code_of(db, lambda s: part_supervision.urge(s, 999999, note="x", user_id=None,
                                                       now=NOW)) == "not_found"
    db.call(lambda s: part_supervision.urge(s, pa.id, note="请协办单位今日答复", user_id=None,
                                            now=NOW + timedelta(hours=1)))
    assert (part_of(db, oid, a).urge_note, part_of(db, oid, b).urge_note) == (
        "请协办单位今日答复", "")
    # The order (the lead) is not urged; the history says whose part was.
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert (order.urged_at, order.urge_note) == (None, "")
    event = db.call(lambda s: s.scalar(select(OrderEvent).where(
        OrderEvent.order_id == oid, OrderEvent.kind == "co_urged")))
    assert (event.department_id, event.detail) == (a, "请协办单位今日答复")
    shown = {p["department_id"]: p for p in db.call(lambda s: parts.to_dicts(s, oid))}
    assert shown[a]["urge_note"] == "请协办单位今日答复" and shown[a]["urged_at"]
    # An answered part is not urged any more.
    db.call(lambda s: parts.answer(s, oid, b, text="已配合", now=NOW, user_id=None))
    assert code_of(db, lambda s: part_supervision.urge(s, pb.id, note="x", user_id=None,
                                                       now=NOW)) == "wrong_status"


def test_a_part_asks_once_for_more_time_and_only_its_deadline_moves(db):
    oid, lead, a = complex_with_part(db, "ps.5")
    order = db.call(lambda s: s.get(WorkOrder, oid))
    assert order.due_date == date(2026, 12, 7)  # 5 working days from Monday 30 November

    def ask(days, reason="需协调多个部门", dept=a):
        return lambda s: part_supervision.request_extension(
            s, oid, dept, days=days, reason=reason, user_id=None, now=NOW, calendar=CAL, tz=TZ)

    assert code_of(db, ask(6)) == "not_extendable"
    assert code_of(db, ask(3, reason=" ")) == "invalid"
    c = departments(db)[2]
    assert code_of(db, ask(3, dept=c)) == "not_found"  # holds no part
    db.call(ask(3))
    assert code_of(db, ask(2)) == "pending"
    # On the supervisors' extension list (the order is listed once, for its part).
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(s, "extensions")]) == [oid]
    part = part_of(db, oid, a)
    assert (part.extension_days, part.extension_reason) == (3, "需协调多个部门")
    approved, _ = db.call(lambda s: part_supervision.decide_extension(
        s, part.id, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ))
    part = part_of(db, oid, a)
    assert (part.due_date, part.deadline_days, part.extension_days) == (date(2026, 12, 10), 8,
                                                                       None)
    assert (approved.due_date, approved.deadline_days) == (date(2026, 12, 7), 5)  # the lead's
    assert db.call(lambda s: lifecycle.worklist(s, "extensions")) == []
    assert code_of(db, lambda s: part_supervision.decide_extension(
        s, part.id, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ)) == "no_request"
    # Once in the part's life.
    assert code_of(db, ask(1)) == "not_extendable"
    shown = db.call(lambda s: parts.to_dicts(s, oid))[0]
    assert (shown["due_date"], shown["deadline_days"], shown["extended"]) == (
        "2026-12-10", 8, True)
    assert kinds(db, oid)[-2:] == ["co_extension_requested", "co_extension_approved"]
    # The lead may still ask for its own.
    db.call(lambda s: lifecycle.request_extension(
        s, oid, department_id=lead, days=1, reason="x", user_id=None, now=NOW, calendar=CAL,
        tz=TZ))


def test_an_extended_part_is_held_to_its_own_deadline(db):
    oid, lead, a = complex_with_part(db, "ps.6")
    part = part_of(db, oid, a)
    db.call(lambda s: part_supervision.request_extension(
        s, oid, a, days=3, reason="需现场复核", user_id=None, now=NOW, calendar=CAL, tz=TZ))
    db.call(lambda s: part_supervision.decide_extension(
        s, part.id, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ))
    order, part = db.call(lambda s: s.get(WorkOrder, oid)), part_of(db, oid, a)
    db.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已办", user_id=None,
                                      now=NOW + timedelta(days=1)))
    between = order.due_at + timedelta(hours=1)
    # Past the order's deadline but not the part's: not overdue, and its warning
    # comes at 80 % of its own (longer) time.
    assert db.call(lambda s: lifecycle.worklist(s, "overdue", now=between)) == []
    assert warned(db, order.due_at - timedelta(hours=1)) == []
    assert warned(db, NOW + (part.due_at - NOW) * 0.81) == [(oid, a)]
    assert db.call(lambda s: [o.id for o in lifecycle.worklist(
        s, "overdue", now=part.due_at + timedelta(seconds=1))]) == [oid]
    # Answered within its own deadline: on time for its department.
    db.call(lambda s: parts.answer(s, oid, a, text="已复核", now=between, user_id=None))
    db.call(lambda s: review.accept(s, oid, now=between, user_id=None))
    rows = {r.department_id: r for r in db.call(lambda s: department_stats(
        s, NOW - timedelta(hours=1), NOW + timedelta(hours=1), now=between))}
    assert (rows[a].closed, rows[a].on_time_rate) == (1, 1.0)


def test_a_refused_or_withdrawn_request_leaves_the_deadline(db):
    oid, lead, a = complex_with_part(db, "ps.7")
    part = part_of(db, oid, a)

    def ask(s):
        return part_supervision.request_extension(
            s, oid, a, days=2, reason="人手不足", user_id=None, now=NOW, calendar=CAL, tz=TZ)

    db.call(ask)
    db.call(lambda s: part_supervision.decide_extension(
        s, part.id, approve=False, user_id=None, now=NOW, calendar=CAL, tz=TZ, note="请按期办结"))
    assert (part_of(db, oid, a).due_at, part_of(db, oid, a).extension_days) == (None, None)
    # Refused is not granted: it may ask again; returning its part withdraws the request.
    db.call(ask)
    db.call(lambda s: parts.return_part(s, oid, a, reason="非本单位", now=NOW, user_id=None))
    assert part_of(db, oid, a).extension_days is None
    assert code_of(db, lambda s: part_supervision.decide_extension(
        s, part.id, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ)) == "no_request"
    assert kinds(db, oid).count("co_extension_refused") == 1


def test_an_order_extended_as_a_whole_has_extended_its_parts(db):
    oid, lead, a = complex_with_part(db, "ps.8")
    db.call(lambda s: lifecycle.request_extension(
        s, oid, department_id=lead, days=2, reason="x", user_id=None, now=NOW, calendar=CAL,
        tz=TZ))
    db.call(lambda s: lifecycle.decide_extension(
        s, oid, approve=True, user_id=None, now=NOW, calendar=CAL, tz=TZ))
    assert db.call(lambda s: parts.to_dicts(s, oid))[0]["due_date"] == "2026-12-09"
    assert code_of(db, lambda s: part_supervision.request_extension(
        s, oid, a, days=1, reason="y", user_id=None, now=NOW, calendar=CAL, tz=TZ)) \
        == "not_extendable"
    # An ordinary help order's part cannot ask at all.
    lead2, b = departments(db)[:2]
    plain = with_parts(db, "ps.9", lead2, [b])
    assert code_of(db, lambda s: part_supervision.request_extension(
        s, plain, b, days=1, reason="y", user_id=None, now=NOW, calendar=CAL, tz=TZ)) \
        == "not_extendable"
