"""Counting honestly: a department's satisfaction comes from the 回访 only
(the caller's post-call survey is the hotline's own rating), and the
10-minute target counts every answered call (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from calls import records
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_answer, reply_and_accept
from worksheets import lifecycle, service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department
from worksheets.stats import department_stats, period_stats

T0 = local(2026, 12, 1, 10)
CAL = WorkingCalendar.official()


def answered(s, uid: str, at, *, submit_after: timedelta | None, survey: str | None):
    dept = s.scalar(select(Department.id).order_by(Department.id))
    records.start_call(s, uniqueid=uid, now=at, caller_number="13800138000")
    order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                          hold_seconds=2, now=at)
    if submit_after is not None:
        service.submit_work_order(s, order.id, agent_id=None, title="路灯不亮",
                                  description="", category="help", complexity="ordinary",
                                  department_id=dept, answered_on_call=False,
                                  now=at + submit_after, calendar=CAL, tz=SHANGHAI)
    if survey:
        service.set_satisfaction(s, uid, answer=survey, now=at + timedelta(minutes=3))
    return order.id, dept


def test_given_untouched_order_rated_dissatisfied_in_the_survey_then_department_not_charged(
    db,
) -> None:
    oid, dept = db.call(lambda s: answered(s, "s.1", T0, submit_after=timedelta(minutes=2),
                                           survey="dissatisfied"))
    rows = db.call(lambda s: department_stats(s, T0 - timedelta(hours=1),
                                              T0 + timedelta(days=1), now=T0 + timedelta(
                                                  hours=2), department_id=dept))
    assert rows[0].received == 1 and rows[0].rated == 0 and rows[0].satisfaction_rate is None
    period = db.call(lambda s: period_stats(s, T0 - timedelta(hours=1), T0 + timedelta(days=1),
                                            tz=SHANGHAI, now=T0 + timedelta(hours=2)))
    assert (period.service_rating, period.surveyed, period.satisfaction_rate) == (0.0, 1, None)

    # The department answers; the 回访 verdict is what counts for it.
    def close_and_visit(s):
        reply_and_accept(s, oid, department_id=dept, text="已修复", user_id=None,
                        now=T0 + timedelta(days=1))
        lifecycle.visit(s, oid, result="satisfied", note="", user_id=None,
                        now=T0 + timedelta(days=1, hours=2))

    db.call(close_and_visit)
    rows = db.call(lambda s: department_stats(s, T0 - timedelta(hours=1),
                                              T0 + timedelta(days=1), now=T0 + timedelta(
                                                  days=2), department_id=dept))
    assert (rows[0].rated, rows[0].satisfaction_rate) == (1, 1.0)
    period = db.call(lambda s: period_stats(s, T0 - timedelta(hours=1), T0 + timedelta(days=1),
                                            tz=SHANGHAI, now=T0 + timedelta(days=2)))
    assert (period.service_rating, period.satisfaction_rate) == (0.0, 1.0)


def test_given_a_draft_never_submitted_then_it_is_a_miss_of_the_ten_minute_target(db) -> None:
    def calls(s):
        answered(s, "t.1", T0, submit_after=timedelta(minutes=4), survey=None)  # a hit
        answered(s, "t.2", T0 + timedelta(minutes=1), submit_after=None, survey=None)  # never
        answered(s, "t.3", T0 + timedelta(minutes=30), submit_after=None, survey=None)

    db.call(calls)

    def figures(now):
        return db.call(lambda s: period_stats(s, T0 - timedelta(hours=1), T0 + timedelta(
            hours=1), tz=SHANGHAI, now=now))

    # At T0+35 min: t.2 has been a draft for 34 min (a miss); t.3 is still being written.
    early = figures(T0 + timedelta(minutes=35))
    assert (early.within_target_minutes, early.drafts_unsubmitted) == (0.5, 1)
    late = figures(T0 + timedelta(hours=2))
    assert (late.within_target_minutes, late.drafts_unsubmitted) == (round(1 / 3, 4), 2)
