"""The working-day calendar beyond its data: deadlines across National Day
2026, New Year 2027 and Spring Festival 2027 with and without a loaded
2027 (a TEST year: the official one is not published yet), validation
naming every problem, years kept in the database and seen by every
instance, open orders recomputed, closed ones kept, the November warning.

Expected dates are derived by hand in the comments (2027-01-01 is a
Friday; the fixture gives 1-3 Jan, 5-13 Feb (春节), 1-5 May, 1-7 Oct off and
31 Jan, 20 Feb, 25 Apr, 26 Sep, 9 Oct as make-up days)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from calls import records
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_answer, reply_and_accept
from worksheets import lifecycle, part_supervision, parts, service
from worksheets.calendar import CalendarDataError, WorkingCalendar, parse_arrangements
from worksheets.calendar_store import (
    SharedCalendar,
    calendar_warnings,
    load_years,
    year_summary,
)
from worksheets.deadlines import deadline_for
from worksheets.models import Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

FIXTURE_2027 = Path(__file__).resolve().parents[1] / "fixtures" / "calendar" / "2027-test.json"


def fixture_data() -> dict:
    return json.loads(FIXTURE_2027.read_text(encoding="utf-8"))


def with_2027() -> WorkingCalendar:
    calendar = WorkingCalendar.official()
    for arrangement in parse_arrangements(fixture_data()):
        calendar.add(arrangement)
    return calendar


# (category, complexity, dispatched local, due without 2027, due with the 2027 fixture)
CASES = [
    # National Day 2026 (shipped): Wed 30 Sep; 1-7 Oct off; Thu 8, Fri 9, Sat 10 (make-up).
    ("help", "ordinary", (2026, 9, 30, 10), date(2026, 10, 10), date(2026, 10, 10)),
    # Tue 29 Sep, 10 days: 30 Sep, 8, 9, 10, 12, 13, 14, 15, 16, 19 Oct.
    ("complaint", None, (2026, 9, 29, 16), date(2026, 10, 19), date(2026, 10, 19)),
    # New Year 2027, Wed 30 Dec: fallback Thu 31, Fri 1 Jan, Mon 4; loaded 31, 4, 5 Jan.
    ("help", "ordinary", (2026, 12, 30, 9), date(2027, 1, 4), date(2027, 1, 5)),
    # Consultation Thu 31 Dec, 2 days: fallback Fri 1, Mon 4; loaded Mon 4, Tue 5.
    ("consult", None, (2026, 12, 31, 18), date(2027, 1, 4), date(2027, 1, 5)),
    # Spring Festival 2027, Wed 3 Feb, 2 days: fallback Thu 4, Fri 5 (a holiday!);
    # loaded Thu 4, then 5-13 off and Sun 14 an ordinary Sunday: Mon 15.
    ("consult", None, (2027, 2, 3, 11), date(2027, 2, 5), date(2027, 2, 15)),
    # Fri 29 Jan, 10 days: fallback 1-5, 8-12 Feb; loaded Sun 31 Jan (make-up),
    # 1, 2, 3, 4 Feb, 15, 16, 17, 18, 19 Feb.
    ("report", None, (2027, 1, 29, 15), date(2027, 2, 12), date(2027, 2, 19)),
    # Complex help Mon 1 Feb, 5 days: fallback 2, 3, 4, 5, 8; loaded 2, 3, 4, 15, 16.
    ("help", "complex", (2027, 2, 1, 9), date(2027, 2, 8), date(2027, 2, 16)),
]


@pytest.mark.parametrize(("category", "complexity", "start", "fallback_due", "loaded_due"),
                         CASES)
def test_given_2027_missing_or_loaded_when_counting_then_due_dates_follow_it(
    category: str, complexity: str | None, start: tuple[int, ...], fallback_due: date,
    loaded_due: date,
) -> None:
    dispatched_at = local(*start)
    without = deadline_for(category, complexity, dispatched_at, WorkingCalendar.official(),
                           SHANGHAI)
    loaded = deadline_for(category, complexity, dispatched_at, with_2027(), SHANGHAI)
    assert without.due_date == fallback_due
    assert loaded.due_date == loaded_due
    assert without.fallback is (fallback_due.year == 2027 or start[0] == 2027)
    assert loaded.fallback is False


def test_given_shipped_years_then_they_pass_the_whole_year_checks() -> None:
    data = json.loads(Path("worksheets/holidays_cn.json").read_text(encoding="utf-8"))
    assert [a.year for a in parse_arrangements(data)] == [2024, 2025, 2026]
    assert with_2027().working_days_between(date(2026, 12, 31), date(2027, 12, 31)) == \
        365 - 104 - 13


def test_given_a_broken_year_when_validated_then_every_problem_is_named() -> None:
    broken = {"years": [{"year": 2028, "holidays": [
        {"name": "元旦", "start": "2028-01-01", "end": "2028-01-02"},
        {"name": "重复", "start": "2028-01-02", "end": "2028-01-02"},
        {"name": "跨年", "start": "2027-12-31", "end": "2027-12-31"}],
        "workdays": [{"date": "2028-01-04"}, {"date": "2028-01-01"}, {"date": "2028-02-30"},
                     {"date": "2028-01-08"}, {"date": "2028-01-08"}]}]}
    with pytest.raises(CalendarDataError) as err:
        parse_arrangements(broken)
    text = "\n".join(err.value.problems)
    for expected in ("2028-01-02 is listed twice as a holiday", "2028-01-04 is not a Saturday",
                     "'2028-02-30' is not a YYYY-MM-DD", "both as holiday and as make-up day: "
                     "2028-01-01", "dates outside 2028: 2027-12-31", "2028-05-01",
                     "2028-10-01", "no 春节", "make-up day 2028-01-08 is listed twice",
                     "statutory days off are 13"):
        assert expected in text, expected
    assert len(err.value.problems) >= 10


def test_given_a_year_missing_a_festival_then_it_is_refused_as_not_whole() -> None:
    data = fixture_data()
    data["years"][0]["holidays"] = [h for h in data["years"][0]["holidays"]
                                    if h["name"] != "端午节"]
    with pytest.raises(CalendarDataError, match="weekday holidays minus make-up days is 12"):
        parse_arrangements(data)


def test_given_two_instances_when_one_loads_a_year_then_the_other_uses_it_at_once(
    db_sessions,
) -> None:
    first, second = SharedCalendar(), SharedCalendar()
    with db_sessions() as s:
        assert 2027 not in second.fresh(s).years
    with db_sessions() as s:
        result = load_years(s, fixture_data(), now=local(2026, 12, 5, 9), tz=SHANGHAI,
                            loaded_by="admin")
        s.commit()
    assert (result.years, result.version) == ([2027], 1)
    with db_sessions() as s:
        calendar = second.fresh(s)
        assert 2027 in calendar.years and not calendar.is_working_day(date(2027, 2, 8))
        assert first.fresh(s) is not calendar  # each builds its own
        assert second.fresh(s) is calendar  # unchanged version: no rebuild
        assert year_summary(calendar, 2027)["working_days"] == 248


def test_given_a_refused_file_then_nothing_is_stored(db_sessions) -> None:
    data = fixture_data()
    data["years"][0]["workdays"].append({"name": "x", "date": "2027-02-08"})
    with db_sessions() as s:
        with pytest.raises(CalendarDataError):
            load_years(s, data, now=local(2026, 12, 5), tz=SHANGHAI, loaded_by="admin")
        s.rollback()
        assert 2027 not in SharedCalendar().fresh(s).years


def _dispatch(s, uid: str, at, category="help", complexity="ordinary") -> WorkOrder:
    dept = s.scalar(select(Department.id).order_by(Department.id))
    records.start_call(s, uniqueid=uid, now=at, caller_number="13800138000")
    order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                          hold_seconds=2, now=at)
    return service.submit_work_order(
        s, order.id, agent_id=None, title="路灯不亮", description="", category=category,
        complexity=complexity, department_id=dept, answered_on_call=False, now=at,
        calendar=WorkingCalendar.official(), tz=SHANGHAI)


def test_given_open_orders_on_the_fallback_when_2027_is_loaded_then_recomputed_and_logged(
    db,
) -> None:
    cal = WorkingCalendar.official()

    def setup(s):
        new_year = _dispatch(s, "c.1", local(2026, 12, 30, 9))
        spring = _dispatch(s, "c.2", local(2027, 2, 3, 11), category="consult",
                           complexity=None)
        december = _dispatch(s, "c.3", local(2026, 12, 1, 9))
        closed = _dispatch(s, "c.4", local(2026, 12, 30, 10))
        reply_and_accept(s, closed.id, department_id=closed.department_id, text="已修复",
                        user_id=None, now=local(2027, 1, 4, 20))
        extended = _dispatch(s, "c.5", local(2027, 1, 25, 9), complexity="complex")
        lifecycle.request_extension(s, extended.id, department_id=extended.department_id,
                                    days=2, reason="需协调", user_id=None,
                                    now=local(2027, 1, 26), calendar=cal, tz=SHANGHAI)
        lifecycle.decide_extension(s, extended.id, approve=True, user_id=None,
                                   now=local(2027, 1, 26), calendar=cal, tz=SHANGHAI)
        return [o.id for o in (new_year, spring, december, closed, extended)]

    ids = db.call(setup)
    before = db.call(lambda s: [(o.due_date, o.deadline_fallback)
                                for o in (s.get(WorkOrder, i) for i in ids)])
    # Extended: Mon 25 Jan + 5 = Mon 1 Feb, + 2 = Wed 3 Feb on the fallback.
    assert before == [(date(2027, 1, 4), True), (date(2027, 2, 5), True),
                      (date(2026, 12, 4), False), (date(2027, 1, 4), True),
                      (date(2027, 2, 3), True)]
    result = db.call(lambda s: load_years(s, fixture_data(), now=local(2026, 12, 5, 9),
                                          tz=SHANGHAI, loaded_by="admin"))
    assert sorted(r.order_id for r in result.recomputed) == [ids[0], ids[1], ids[4]]
    after = db.call(lambda s: [(o.due_date, o.deadline_fallback)
                               for o in (s.get(WorkOrder, i) for i in ids)])
    # Loaded, extended: 25 Jan + 7 working days = 26, 27, 28, 29, Sun 31, 1, 2 Feb.
    assert after == [(date(2027, 1, 5), False), (date(2027, 2, 15), False),
                     (date(2026, 12, 4), False), (date(2027, 1, 4), True),
                     (date(2027, 2, 2), False)]
    events = db.call(lambda s: list(s.execute(
        select(OrderEvent.order_id, OrderEvent.detail).where(
            OrderEvent.kind == "deadline_recomputed").order_by(OrderEvent.order_id))))
    assert [e.order_id for e in events] == [ids[0], ids[1], ids[4]]
    assert "2027-01-04 -> 2027-01-05" in events[0].detail
    # The closed order answered on 4 Jan keeps its verdict: on time by its own deadline.
    closed = db.call(lambda s: s.get(WorkOrder, ids[3]))
    assert closed.closed_at <= closed.due_at
    # Loading again changes nothing and logs nothing.
    again = db.call(lambda s: load_years(s, fixture_data(), now=local(2026, 12, 5, 10),
                                         tz=SHANGHAI, loaded_by="admin"))
    assert (again.recomputed, again.version) == ([], 2)


def test_given_an_extension_granted_when_redispatched_or_reopened_then_no_second(db) -> None:
    cal = WorkingCalendar.official()

    def setup(s):
        order = _dispatch(s, "x.1", local(2026, 11, 30, 10), complexity="complex")
        dept = order.department_id
        lifecycle.request_extension(s, order.id, department_id=dept, days=2, reason="协调",
                                    user_id=None, now=local(2026, 12, 1), calendar=cal,
                                    tz=SHANGHAI)
        lifecycle.decide_extension(s, order.id, approve=True, user_id=None,
                                   now=local(2026, 12, 1), calendar=cal, tz=SHANGHAI)
        lifecycle.return_order(s, order.id, department_id=dept, reason="非本单位",
                               user_id=None, now=local(2026, 12, 2))
        lifecycle.redispatch(s, order.id, department_id=dept, user_id=None,
                             now=local(2026, 12, 2, 12), calendar=cal, tz=SHANGHAI)
        return order.id, dept

    oid, dept = db.call(setup)
    assert db.call(lambda s: s.get(WorkOrder, oid).deadline_days) == 5  # full time again
    with pytest.raises(lifecycle.LifecycleError) as err:
        db.call(lambda s: lifecycle.request_extension(
            s, oid, department_id=dept, days=1, reason="再延", user_id=None,
            now=local(2026, 12, 3), calendar=cal, tz=SHANGHAI))
    assert err.value.code == "not_extendable"

    def reopen_and_ask(s):
        reply_and_accept(s, oid, department_id=dept, text="已办", user_id=None,
                        now=local(2026, 12, 3))
        lifecycle.visit(s, oid, result="dissatisfied", note="", user_id=None,
                        now=local(2026, 12, 4))
        lifecycle.redispatch(s, oid, department_id=None, user_id=None,
                             now=local(2026, 12, 4, 12), calendar=cal, tz=SHANGHAI,
                             reopen=True)
        lifecycle.request_extension(s, oid, department_id=dept, days=1, reason="再延",
                                    user_id=None, now=local(2026, 12, 5), calendar=cal,
                                    tz=SHANGHAI)

    with pytest.raises(lifecycle.LifecycleError) as err:
        db.call(reopen_and_ask)
    assert err.value.code == "not_extendable"


@pytest.mark.parametrize(("today", "warned"), [
    (date(2026, 10, 31), False), (date(2026, 11, 1), True), (date(2026, 12, 5), True)])
def test_given_next_year_missing_then_admins_are_warned_from_1_november(
    today: date, warned: bool,
) -> None:
    warnings = calendar_warnings(WorkingCalendar.official(), today)
    assert bool([w for w in warnings if "2027" in w]) is warned
    assert not calendar_warnings(with_2027(), today)


def test_given_a_part_extended_on_the_fallback_when_the_year_loads_then_it_is_counted_again(
    db,
) -> None:
    """加派: a co-handling part's own deadline (its extension) follows the year
    loaded like its order's; the order's list of changes names the order's only."""
    cal = WorkingCalendar.official()

    def setup(s):
        order = _dispatch(s, "cp.1", local(2027, 1, 25, 9), complexity="complex")
        other = s.scalar(select(Department.id).where(Department.id != order.department_id)
                         .order_by(Department.id))
        [part] = parts.add(s, order, [other], now=local(2027, 1, 25, 9), user_id=None)
        part_supervision.request_extension(s, order.id, other, days=2, reason="需协调",
                                           user_id=None, now=local(2027, 1, 26),
                                           calendar=cal, tz=SHANGHAI)
        part_supervision.decide_extension(s, part.id, approve=True, user_id=None,
                                          now=local(2027, 1, 26), calendar=cal, tz=SHANGHAI)
        # The lead answers: its deadline is no longer counted again; the open part's is.
        lifecycle.reply(s, order.id, department_id=order.department_id, text="已办",
                        user_id=None, now=local(2027, 1, 27))
        return order.id, part.id, other

    oid, pid, other = db.call(setup)
    part = db.call(lambda s: s.get(OrderPart, pid))
    # Mon 25 Jan + 5 = Mon 1 Feb, + 2 = Wed 3 Feb on the fallback.
    assert (part.due_date, part.deadline_fallback, part.deadline_days) == (
        date(2027, 2, 3), True, 7)
    result = db.call(lambda s: load_years(s, fixture_data(), now=local(2026, 12, 5, 9),
                                          tz=SHANGHAI, loaded_by="admin"))
    assert oid not in [r.order_id for r in result.recomputed]  # answered: the lead's stands
    part = db.call(lambda s: s.get(OrderPart, pid))
    # Loaded: 26, 27, 28, 29, Sun 31 (make-up), 1, 2 Feb.
    assert (part.due_date, part.deadline_fallback) == (date(2027, 2, 2), False)
    event = db.call(lambda s: s.scalar(select(OrderEvent).where(
        OrderEvent.order_id == oid, OrderEvent.kind == "deadline_recomputed")))
    assert event.department_id == other and "2027-02-03 -> 2027-02-02" in event.detail
