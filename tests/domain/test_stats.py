from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from calls import records
from core.db import Database
from hotline.migrate import upgrade
from hotline.seed import seed_demo_city
from tests.helpers import record_abandon, record_answer
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.stats import period_stats

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def test_period_figures(database_url):
    db = Database(database_url)
    try:
        upgrade(db.engine)

        def build(s):
            seed = seed_demo_city(s, T0)
            dept = seed.departments[0].id
            for i, (hold, outcome) in enumerate([(5, "answered"), (30, "answered"),
                                                 (10, "abandoned"), (None, "ivr")]):
                uid, at = f"c.{i}", T0 + timedelta(minutes=i)
                records.start_call(s, uniqueid=uid, now=at, caller_number="13800138000")
                if outcome == "ivr":
                    records.mark_ended(s, uid, now=at + timedelta(seconds=5))
                    continue
                records.record_ivr_choice(s, uid, key="1", category="help",
                                          queue="hotline-help", now=at)
                records.mark_queued(s, uid, queue="hotline-help", now=at)
                if outcome == "abandoned":
                    record_abandon(s, uid, hold_seconds=hold, now=at)
                    continue
                order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                                      hold_seconds=hold, now=at)
                records.mark_ended(s, uid, now=at + timedelta(minutes=3), talk_seconds=100 + i)
                late = timedelta(minutes=4 if i == 0 else 30)
                service.submit_work_order(
                    s, order.id, agent_id=None, title="t", description="", category="consult",
                    complexity=None, department_id=None if i == 0 else dept,
                    answered_on_call=(i == 0), now=at + late,
                    calendar=WorkingCalendar.default(), tz=TZ)
                service.set_satisfaction(s, uid, answer="satisfied" if i else "dissatisfied",
                                         now=at)
            return period_stats(s, T0, T0 + timedelta(days=1), tz=TZ)

        stats = db.call(build)
    finally:
        db.close()
    assert (stats.calls, stats.offered, stats.answered, stats.abandoned, stats.ivr_only) == (
        4, 3, 2, 1, 1)
    assert stats.service_level == round(1 / 3, 4)  # one of three offered answered within 15 s
    assert stats.abandon_rate == round(1 / 3, 4)
    assert stats.asa_seconds == 17.5 and stats.aht_seconds == 100.5
    assert stats.orders_accepted == 2 and stats.orders_closed == 1
    assert stats.completion_rate == 0.5 and stats.on_time_rate == 1.0
    # The survey is the hotline's service rating; no 回访 yet, so no satisfaction.
    assert stats.service_rating == 0.5 and stats.surveyed == 2
    assert stats.satisfaction_rate is None and stats.within_target_minutes == 0.5
    assert [b.hour for b in stats.hours] == ["2026-11-30 10:00"]
