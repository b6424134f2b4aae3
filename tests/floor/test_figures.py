"""The floor's figures from the database: service level over calls offered
(answered within 15 s / answered + abandoned; IVR hang-ups not offered),
ASA and AHT, today only in local time; agents' talk and pause clamped to the
day and counted up to now; orders late, due soon, overdue by department,
returned with the department's reason; calls per hour against last week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from agents.models import Agent, AgentStatePeriod
from calls.models import Call
from core.db import Database
from floor import figures
from tests.helpers import prepare_database
from worksheets.models import Department, OrderEvent, WorkOrder

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # Wednesday 14:30 in Baoji
DAY = figures.Day.of(NOW, TZ)


def call(n: int, at: datetime, outcome: str, hold: int | None = None, talk: int | None = None,
         queue: str | None = "hotline-help", agent_id: int | None = None) -> Call:
    return Call(uniqueid=f"u{n}", entered_at=at, outcome=outcome, queue=queue,
                hold_seconds=hold, talk_seconds=talk, agent_id=agent_id,
                answered_at=at + timedelta(seconds=hold or 0) if outcome == "answered" else None)


def seeded(tmp_path):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    prepare_database(url, NOW)
    db = Database(url)

    def work(s):
        agent = s.scalars(select(Agent).order_by(Agent.number)).first()
        d1, d2 = s.scalars(select(Department).order_by(Department.id).limit(2)).all()
        at = NOW - timedelta(hours=2)  # 12:30 local
        s.add_all([
            call(1, at, "answered", hold=10, talk=100, agent_id=agent.id),
            call(2, at, "answered", hold=20, talk=200, agent_id=agent.id),
            call(3, at, "abandoned", hold=40),
            call(4, at, "ivr_hangup", queue=None),  # not offered
            call(5, at, "answered", hold=5, talk=60, queue="hotline-complaint"),
            # 23:30 local yesterday: another day
            call(6, datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "abandoned", hold=5),
            # the same weekday last week, 12:xx local
            call(7, at - timedelta(days=7), "answered", hold=1, talk=1),
            call(8, at - timedelta(days=7), "answered", hold=1, talk=1),
        ])
        s.add_all([
            # from yesterday 23:00 local to 00:30 today: 30 minutes today
            AgentStatePeriod(agent_id=agent.id, state="paused", reason="break",
                             started_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
                             ended_at=datetime(2026, 12, 1, 16, 30, tzinfo=UTC)),
            # open: on a call for the last 5 minutes
            AgentStatePeriod(agent_id=agent.id, state="on_call",
                             started_at=NOW - timedelta(minutes=5)),
        ])
        orders = [
            WorkOrder(number="BJ20261202-0001", category="help", status="draft",
                      created_at=NOW - timedelta(minutes=11), agent_id=agent.id),
            WorkOrder(number="BJ20261202-0002", category="help", status="draft",
                      created_at=NOW - timedelta(minutes=9)),
            WorkOrder(number="BJ20261202-0003", category="help", status="dispatched",
                      created_at=NOW, department_id=d1.id, due_at=NOW - timedelta(hours=1)),
            WorkOrder(number="BJ20261202-0004", category="help", status="accepted",
                      created_at=NOW, department_id=d1.id, due_at=NOW + timedelta(hours=5),
                      extension_days=3, extension_reason="需要现场勘查"),
            WorkOrder(number="BJ20261202-0005", category="help", status="closed",
                      created_at=NOW, department_id=d2.id, due_at=NOW - timedelta(hours=1)),
            WorkOrder(number="BJ20261202-0006", category="help", status="returned",
                      created_at=NOW, title="路灯不亮", returns=1),
        ]
        s.add_all(orders)
        s.flush()
        s.add(OrderEvent(order_id=orders[-1].id, at=NOW, kind="returned",
                         department_id=d2.id, detail="不属于本单位职责"))
        return agent.id, d1.name, d2.name

    try:
        agent_id, d1, d2 = db.call(work)
    except BaseException:
        db.close()
        raise
    return db, agent_id, d1, d2


def test_given_todays_calls_when_figured_then_service_level_counts_offered_calls(tmp_path):
    db, *_ = seeded(tmp_path)
    try:
        queues = db.call(lambda s: figures.queue_figures(s, DAY, 15))
    finally:
        db.close()
    help_ = queues["hotline-help"]
    assert (help_["answered"], help_["abandoned"], help_["offered"]) == (2, 1, 3)
    assert help_["service_level"] == round(1 / 3, 4)
    assert help_["abandon_rate"] == round(1 / 3, 4)
    assert (help_["asa"], help_["aht"]) == (15.0, 150.0)
    assert queues["hotline-complaint"]["service_level"] == 1.0
    assert None not in queues  # the IVR hang-up is nobody's queue


def test_given_periods_across_midnight_when_figured_then_only_today_counts(tmp_path):
    db, agent_id, *_ = seeded(tmp_path)
    try:
        agents = db.call(lambda s: figures.agent_figures(s, DAY, NOW))
    finally:
        db.close()
    assert agents[agent_id] == {"calls_today": 2, "talk_seconds": 300, "pause_seconds": 1800}


def test_given_orders_when_figured_then_late_due_overdue_returned_and_extensions(tmp_path):
    db, _agent, d1, d2 = seeded(tmp_path)
    try:
        orders = db.call(lambda s: figures.order_figures(s, NOW, 10))
    finally:
        db.close()
    assert orders["drafts_late"] == 1
    assert [d["number"] for d in orders["drafts"]] == ["BJ20261202-0001"]
    assert (orders["overdue"], orders["due_soon"]) == (1, 1)  # the closed one is not
    assert orders["by_department"] == [{"department_id": orders["by_department"][0]
                                        ["department_id"], "department": d1, "overdue": 1,
                                        "due_soon": 1}]
    [returned] = orders["returned"]
    assert (returned["reason"], returned["from_department"]) == ("不属于本单位职责", d2)
    [extension] = orders["extensions"]
    assert (extension["days"], extension["reason"], extension["department"]) == \
        (3, "需要现场勘查", d1)


def test_given_last_week_when_trends_then_hours_side_by_side(tmp_path):
    db, *_ = seeded(tmp_path)
    try:
        trends = db.call(lambda s: figures.trends(s, NOW, TZ, 15))
    finally:
        db.close()
    assert trends["day"] == "2026-12-02" and trends["compared_with"] == "2026-11-25"
    noon = trends["hours"][12]
    assert (noon["calls"], noon["offered"], noon["calls_last_week"]) == (5, 4, 2)
    assert noon["service_level"] == 0.5 and noon["abandon_rate"] == 0.25
    assert sum(h["calls"] for h in trends["hours"]) == 5
    assert date.fromisoformat(trends["day"]) == DAY.local
