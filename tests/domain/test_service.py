"""Call records and work orders on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agents.models import Agent
from calls import records
from calls.models import Call, CallEvent
from hotline.seed import DemoSeed, seed_demo_city
from tests.helpers import record_abandon, record_answer
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import CallbackTask, WorkOrder

from .conftest import local

T0 = local(2025, 9, 30, 9, 0)  # Tuesday before the National Day / Mid-Autumn break


@pytest.fixture
def seeded(db_session: Session) -> DemoSeed:
    seed = seed_demo_city(db_session, T0)
    db_session.commit()
    return seed


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def kinds(session: Session, call: Call) -> list[str]:
    return [e.kind for e in records.call_timeline(session, call.id)]


def answered_call(session: Session, uniqueid: str, agent: Agent, *, key: str = "2",
                  category: str = "complaint", at: datetime = T0) -> WorkOrder:
    records.start_call(session, uniqueid=uniqueid, now=at, caller_number="13800138000",
                       channel=f"PJSIP/trunk-{uniqueid}")
    records.record_ivr_choice(session, uniqueid, key=key, category=category,
                              queue=f"hotline-{category}", now=at + timedelta(seconds=20))
    records.mark_queued(session, uniqueid, queue=f"hotline-{category}",
                        now=at + timedelta(seconds=25))
    return record_answer(session, uniqueid, member_name=agent.member_name,
                         agent_id=agent.id, hold_seconds=8, now=at + timedelta(seconds=33))


def submit(session: Session, order: WorkOrder, calendar: WorkingCalendar, tz: ZoneInfo,
           **changes: Any) -> WorkOrder:
    fields: dict[str, Any] = dict(
        agent_id=order.agent_id, title="小区停水三天无人处理", description="渭滨区经二路某小区",
        category="complaint", complexity=None, department_id=None, answered_on_call=False,
        now=T0 + timedelta(minutes=6), calendar=calendar, tz=tz,
    )
    fields.update(changes)
    return service.submit_work_order(session, order.id, **fields)


def test_given_start_call_twice_then_one_call_one_entered_event_and_blanks_filled(
    db_session: Session,
) -> None:
    first = records.start_call(db_session, uniqueid="1759190400.1", now=T0,
                               caller_number="13800138000")
    again = records.start_call(db_session, uniqueid="1759190400.1", now=T0 + timedelta(seconds=1),
                               caller_number="13900000000", caller_name="张先生",
                               channel="PJSIP/trunk-00000001", linkedid="1759190400.1")
    assert again.id == first.id
    assert again.caller_number == "13800138000"  # kept: only blanks are filled
    assert again.caller_name == "张先生" and again.channel == "PJSIP/trunk-00000001"
    assert again.outcome == "in_ivr" and again.source == "agi" and again.entered_at == T0
    assert count(db_session, Call) == 1
    assert kinds(db_session, again) == ["entered"]


def test_given_ami_reports_first_when_agi_arrives_then_one_record_completed(
    db_session: Session,
) -> None:
    call = records.mark_queued(db_session, "1759190400.2", queue="hotline-help", now=T0,
                               caller_number="13800138000")
    assert call.source == "ami" and call.outcome == "queued"
    records.start_call(db_session, uniqueid="1759190400.2", now=T0 - timedelta(seconds=30),
                       caller_name="李女士", channel="PJSIP/trunk-2")
    db_session.commit()
    call = db_session.scalars(select(Call)).one()
    assert call.entered_at == T0 - timedelta(seconds=30)
    assert call.caller_name == "李女士" and call.outcome == "queued"
    events = records.call_timeline(db_session, call.id)
    assert [(e.kind, e.at) for e in events] == [
        ("entered", T0 - timedelta(seconds=30)), ("queued", T0)]


def test_given_call_that_skipped_the_ivr_then_category_comes_from_its_queue(
    db_session: Session, seeded: DemoSeed,
) -> None:
    records.mark_queued(db_session, "1759190400.7", queue="hotline-report", now=T0)
    order = record_answer(db_session, "1759190400.7", member_name="agent-1001",
                          agent_id=seeded.agents[0].id, hold_seconds=3, now=T0)
    assert order.category == "report"


def test_given_full_answered_call_then_draft_order_and_timeline_in_order(
    db_session: Session, seeded: DemoSeed,
) -> None:
    agent = seeded.agents[0]
    order = answered_call(db_session, "1759190400.3", agent)
    db_session.commit()
    assert order.status == "draft" and order.category == "complaint"
    assert order.caller_number == "13800138000" and order.agent_id == agent.id
    assert order.number == "BJ20250930-0001" and order.created_at == T0 + timedelta(seconds=33)
    call = db_session.get(Call, order.call_id)
    assert call is not None
    assert call.outcome == "answered" and call.member_name == "agent-1001"
    assert call.answered_at == T0 + timedelta(seconds=33) and call.hold_seconds == 8
    assert call.ivr_choice == "2" and call.queue == "hotline-complaint"
    ended = records.mark_ended(db_session, "1759190400.3", now=T0 + timedelta(minutes=4),
                               talk_seconds=207)
    records.mark_ended(db_session, "1759190400.3", now=T0 + timedelta(minutes=5))
    assert ended is not None and ended.ended_at == T0 + timedelta(minutes=4)
    assert ended.talk_seconds == 207 and ended.outcome == "answered"
    events = records.call_timeline(db_session, call.id)
    assert [e.kind for e in events] == ["entered", "ivr_choice", "queued", "answered", "ended"]
    assert events[1].detail == "2 complaint"
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_given_duplicate_ami_answer_reports_then_one_order(
    db_session: Session, seeded: DemoSeed,
) -> None:
    agent = seeded.agents[3]
    first = answered_call(db_session, "1759190400.4", agent)
    for delay in (1, 2):
        again = record_answer(db_session, "1759190400.4", member_name="agent-1002",
                              agent_id=seeded.agents[1].id, hold_seconds=9,
                              now=T0 + timedelta(seconds=33 + delay))
        assert again.id == first.id and again.agent_id == agent.id
    records.mark_queued(db_session, "1759190400.4", queue="hotline-complaint",
                        now=T0 + timedelta(seconds=40))
    db_session.commit()
    assert count(db_session, WorkOrder) == 1
    call = db_session.scalars(select(Call)).one()
    assert call.member_name == agent.member_name and call.outcome == "answered"
    assert kinds(db_session, call).count("queued") == 1


def test_given_caller_chose_operator_then_order_defaults_to_help(
    db_session: Session, seeded: DemoSeed,
) -> None:
    order = answered_call(db_session, "1759190400.5", seeded.agents[6], key="0",
                          category="general")
    assert order.category == "help"


def test_given_answer_for_call_never_seen_then_record_and_order_created(
    db_session: Session, seeded: DemoSeed,
) -> None:
    order = record_answer(db_session, "1759190400.6", member_name="agent-1001",
                          agent_id=seeded.agents[0].id, hold_seconds=3, now=T0)
    call = db_session.get(Call, order.call_id)
    assert call is not None and call.source == "ami" and order.category == "help"


def test_given_orders_over_two_local_days_then_numbers_restart_each_day(
    db_session: Session, seeded: DemoSeed, tz: ZoneInfo,
) -> None:
    agent = seeded.agents[0]
    late = local(2025, 9, 30, 23, 59, 40)
    numbers = [answered_call(db_session, f"1759190400.{10 + i}", agent, at=at).number
               for i, at in enumerate([T0, T0 + timedelta(hours=1), late])]
    # 23:59:40 + 33 s of IVR and queue is past local midnight: a new day.
    assert numbers == ["BJ20250930-0001", "BJ20250930-0002", "BJ20251001-0001"]
    assert service.next_order_number(db_session, T0, tz) == "BJ20250930-0003"
    assert service.next_order_number(db_session, late, tz) == "BJ20250930-0003"
    assert service.next_order_number(db_session, local(2025, 10, 1, 8), tz) == "BJ20251001-0002"


def test_given_number_above_9999_then_counting_continues(
    db_session: Session, seeded: DemoSeed, tz: ZoneInfo,
) -> None:
    for number in ("BJ20250930-9999", "BJ20250930-10000"):
        db_session.add(WorkOrder(number=number, category="help", created_at=T0))
    db_session.flush()
    assert service.next_order_number(db_session, T0, tz) == "BJ20250930-10001"


def test_given_abandoned_call_reported_twice_then_one_callback_task(
    db_session: Session, seeded: DemoSeed,
) -> None:
    records.start_call(db_session, uniqueid="1759190400.20", now=T0, caller_number="09173212345")
    records.mark_queued(db_session, "1759190400.20", queue="hotline-help", now=T0)
    tasks = [record_abandon(db_session, "1759190400.20", hold_seconds=41,
                            now=T0 + timedelta(seconds=41 + i)) for i in range(2)]
    db_session.commit()
    assert tasks[0].id == tasks[1].id and count(db_session, CallbackTask) == 1
    task = db_session.scalars(select(CallbackTask)).one()
    assert task.caller_number == "09173212345" and task.queue == "hotline-help"
    assert task.status == "open"
    call = db_session.scalars(select(Call)).one()
    assert call.outcome == "abandoned" and call.hold_seconds == 41
    assert count(db_session, WorkOrder) == 0
    with pytest.raises(records.CallError, match="abandoned"):
        record_answer(db_session, "1759190400.20", member_name="agent-1001",
                      agent_id=seeded.agents[0].id, hold_seconds=50, now=T0)


def test_given_answered_call_when_abandon_reported_then_refused(
    db_session: Session, seeded: DemoSeed,
) -> None:
    answered_call(db_session, "1759190400.21", seeded.agents[0])
    with pytest.raises(records.CallError, match="answered"):
        record_abandon(db_session, "1759190400.21", hold_seconds=5, now=T0)


def test_given_hangup_in_ivr_then_record_only(db_session: Session) -> None:
    records.start_call(db_session, uniqueid="1759190400.30", now=T0)
    call = records.mark_ended(db_session, "1759190400.30", now=T0 + timedelta(seconds=12))
    assert call is not None and call.outcome == "ivr_hangup"
    assert count(db_session, WorkOrder) == 0 and count(db_session, CallbackTask) == 0
    assert kinds(db_session, call) == ["entered", "ended"]
    # A late queue report (reordered events) still moves the call forward.
    assert records.mark_queued(db_session, "1759190400.30", queue="hotline-help",
                               now=T0).outcome == "queued"


def test_given_hangup_of_unknown_channel_then_none(db_session: Session) -> None:
    assert records.mark_ended(db_session, "agent-leg.99", now=T0) is None
    assert count(db_session, Call) == 0


def test_given_complaint_when_submitted_then_dispatched_with_deadline_across_holiday(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    order = answered_call(db_session, "1759190400.40", seeded.agents[0])
    department = seeded.departments[0]
    done = submit(db_session, order, calendar, tz, department_id=department.id)
    db_session.commit()
    assert done.status == "dispatched" and done.submitted_at == T0 + timedelta(minutes=6)
    # Dispatched Tue 30 Sep; Oct 1-8 off: Oct 9, 10, 11 (make-up Saturday), 13-17, 20, 21.
    assert done.deadline_days == 10 and done.due_date == date(2025, 10, 21)
    assert done.due_at == local(2025, 10, 21, 23, 59, 59)
    assert done.department_id == department.id and done.closed_at is None
    call = db_session.get(Call, done.call_id)
    assert call is not None
    last = records.call_timeline(db_session, call.id)[-1]
    assert last.kind == "order_submitted" and department.name in last.detail
    with pytest.raises(service.WorkOrderError, match="not a draft"):
        submit(db_session, done, calendar, tz, department_id=department.id)


def test_given_consultation_answered_on_call_then_closed_without_deadline(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    order = answered_call(db_session, "1759190400.41", seeded.agents[4], key="4",
                          category="consult")
    done = submit(db_session, order, calendar, tz, category="consult", answered_on_call=True,
                  title="咨询公积金提取材料")
    assert done.status == "closed" and done.closed_at == T0 + timedelta(minutes=6)
    assert done.due_date is None and done.due_at is None and done.deadline_days is None
    assert done.answered_on_call and done.department_id is None


def test_given_help_order_then_deadline_follows_complexity(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    order = answered_call(db_session, "1759190400.42", seeded.agents[2], key="1",
                          category="help")
    done = submit(db_session, order, calendar, tz, category="help", complexity="complex",
                  department_id=seeded.departments[7].id)
    # Oct 9, 10, 11 (make-up Saturday), 13, 14.
    assert done.deadline_days == 5 and done.due_date == date(2025, 10, 14)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "praise"}, "unknown category"),
        ({"category": "help"}, "needs complexity"),
        ({"complexity": "complex"}, "help orders only"),
        ({}, "choose the department"),
        ({"department_id": 99999}, "unknown department"),
        ({"answered_on_call": True}, "only a consultation"),
        ({"category": "consult", "title": "   "}, "title must not be empty"),
    ],
)
def test_given_invalid_submission_then_clear_error_and_order_stays_draft(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
    changes: dict[str, Any], message: str,
) -> None:
    order = answered_call(db_session, "1759190400.43", seeded.agents[0])
    if changes.get("category") == "consult":
        changes["department_id"] = seeded.departments[0].id
    with pytest.raises(service.WorkOrderError, match=message):
        submit(db_session, order, calendar, tz, **changes)
    assert order.status == "draft" and order.submitted_at is None


def test_given_inactive_department_or_other_agent_or_unknown_order_then_refused(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    order = answered_call(db_session, "1759190400.44", seeded.agents[0])
    closed_down = seeded.departments[1]
    closed_down.active = False
    with pytest.raises(service.WorkOrderError, match="no longer takes orders"):
        submit(db_session, order, calendar, tz, department_id=closed_down.id)
    with pytest.raises(service.WorkOrderError, match="another agent"):
        submit(db_session, order, calendar, tz, agent_id=seeded.agents[1].id,
               department_id=seeded.departments[0].id)
    with pytest.raises(service.WorkOrderError, match="unknown work order"):
        service.submit_work_order(
            db_session, 424242, agent_id=seeded.agents[0].id, title="x", description="",
            category="consult", complexity=None, department_id=None, answered_on_call=True,
            now=T0, calendar=calendar, tz=tz)


def test_given_supervisor_submits_then_agent_kept(
    db_session: Session, seeded: DemoSeed, calendar: WorkingCalendar, tz: ZoneInfo,
) -> None:
    order = answered_call(db_session, "1759190400.45", seeded.agents[0])
    done = submit(db_session, order, calendar, tz, agent_id=None,
                  department_id=seeded.departments[0].id)
    assert done.status == "dispatched" and done.agent_id == seeded.agents[0].id


def test_given_survey_answer_then_stored_on_order_once(
    db_session: Session, seeded: DemoSeed,
) -> None:
    order = answered_call(db_session, "1759190400.50", seeded.agents[0])
    for _ in range(2):
        rated = service.set_satisfaction(db_session, "1759190400.50", answer="basically_satisfied",
                                         now=T0 + timedelta(minutes=5))
    assert rated.id == order.id and rated.survey_answer == "basically_satisfied"
    assert rated.satisfaction is None  # a department's satisfaction comes from the 回访 only
    events = db_session.scalars(select(CallEvent).where(CallEvent.kind == "survey")).all()
    assert len(events) == 1
    with pytest.raises(records.CallError, match="unknown survey answer"):
        service.set_satisfaction(db_session, "1759190400.50", answer="great", now=T0)
    records.start_call(db_session, uniqueid="1759190400.51", now=T0)
    with pytest.raises(records.CallError, match="no work order"):
        service.set_satisfaction(db_session, "1759190400.51", answer="satisfied", now=T0)


def test_given_naive_now_then_refused(db_session: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        records.start_call(db_session, uniqueid="x", now=datetime(2025, 9, 30, 9))


def run_in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported by the test
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def test_given_two_writers_racing_then_one_call_and_distinct_order_numbers(
    db_sessions: sessionmaker[Session], seeded: DemoSeed,
) -> None:
    with db_sessions() as setup:
        for uid in ("race.1", "race.2"):
            records.start_call(setup, uniqueid=uid, now=T0, caller_number="13800138000")
        setup.commit()
    agent_id = seeded.agents[0].id
    first, second = db_sessions(), db_sessions()
    try:
        # The first writer holds its new call and order uncommitted while the
        # second reports the same new call and answers another one.
        records.mark_queued(first, "race.3", queue="hotline-help", now=T0)
        order_one = record_answer(first, "race.1", member_name="agent-1001",
                                  agent_id=agent_id, hold_seconds=1, now=T0)

        def other() -> str:
            records.mark_queued(second, "race.3", queue="hotline-help", now=T0,
                                caller_number="13900139000")
            number = record_answer(second, "race.2", member_name="agent-1001",
                                   agent_id=agent_id, hold_seconds=1, now=T0).number
            second.commit()
            return number

        thread, box = run_in_thread(other)
        time.sleep(0.5)
        first.commit()
        thread.join(timeout=30)
        assert "error" not in box, box.get("error")
        assert {order_one.number, box["result"]} == {"BJ20250930-0001", "BJ20250930-0002"}
    finally:
        first.close()
        second.close()
    with db_sessions() as check:
        assert check.scalar(select(func.count()).select_from(Call)
                            .where(Call.uniqueid == "race.3")) == 1
        call = check.scalars(select(Call).where(Call.uniqueid == "race.3")).one()
        assert call.caller_number == "13900139000"
        assert [e.kind for e in records.call_timeline(check, call.id)] == ["entered", "queued"]


def test_given_time_in_utc_then_stored_and_read_back_aware(
    db_sessions: sessionmaker[Session],
) -> None:
    with db_sessions() as s:
        records.start_call(s, uniqueid="tz.1", now=datetime(2025, 9, 30, 1, 0, tzinfo=UTC))
        s.commit()
    with db_sessions() as s:
        call = s.scalars(select(Call)).one()
        assert call.entered_at == datetime(2025, 9, 30, 1, 0, tzinfo=UTC)
        assert call.entered_at.tzinfo is not None
