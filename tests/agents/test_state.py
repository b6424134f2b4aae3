"""Agent states from AMI events (through the PBX model), their history, the time report and the
pause-limit alert, on virtual time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from agents.models import AgentStatePeriod, StaffingAlert
from agents.reports import agent_report
from agents.state import AgentStates
from core.bus import EventBus
from core.clock import Clock, run_simulated
from core.db import Database
from hotline.deps import Deps
from pbx.ami_protocol import AmiMessage
from pbx.events import parse_event
from pbx.model import PbxModel
from routing.menu import RoutingTable
from tests.helpers import settings_for_test
from worksheets.calendar_store import SharedCalendar

START = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
QUEUES = ("hotline-help", "hotline-general")


def member_event(name: str, queue: str, *, paused: bool = False, reason: str = "",
                 status: int = 1) -> AmiMessage:
    return AmiMessage.of([("Event", name), ("Queue", queue), ("MemberName", "agent-1001"),
                          ("Interface", "PJSIP/1001"), ("Status", str(status)),
                          ("Paused", "1" if paused else "0"), ("PausedReason", reason)])


def agent_event(name: str, uniqueid: str = "1795946253.1") -> AmiMessage:
    return AmiMessage.of([("Event", name), ("Channel", "PJSIP/trunk-00000001"),
                          ("Uniqueid", uniqueid), ("Queue", "hotline-help"),
                          ("Interface", "PJSIP/1001"), ("MemberName", "agent-1001")])


def run_scenario(url: str, tmp_path) -> tuple[list[str], list[tuple[str, str]], list[int]]:
    idle: list[int] = []

    async def main() -> tuple[list[str], list[tuple[str, str]]]:
        db = Database(url)
        deps = Deps(settings=settings_for_test(url, tmp_path), db=db,
                    clock=Clock.for_running_loop(START), routing=RoutingTable(), bus=EventBus(),
                    calendar=SharedCalendar())
        states = AgentStates(deps, wrapup_seconds=10)
        model = PbxModel(None, deps.clock)
        states.follow(model)
        states.on_idle(idle.append)
        await states.start()
        seen: list[str] = []

        async def send(message: AmiMessage, wait: float = 0.0) -> None:
            await model.on_ami(parse_event(message))
            await asyncio.sleep(wait)
            seen.append(states.agents[1].state if 1 in states.agents else "?")

        try:
            for queue in QUEUES:  # one event per queue; one state change
                await send(member_event("QueueMemberAdded", queue))
            await send(member_event("QueueMemberPause", QUEUES[0], paused=True, reason="break"))
            await send(member_event("QueueMemberPause", QUEUES[1], paused=True, reason="break"),
                       wait=16 * 60)  # past the 15-minute limit of a break
            for queue in QUEUES:
                await send(member_event("QueueMemberPause", queue))
            await send(agent_event("AgentCalled"), wait=3)
            await send(agent_event("AgentConnect"), wait=120)
            await send(agent_event("AgentComplete"), wait=4)
            await asyncio.sleep(7)  # wrap-up (10 s) ends on its own
            seen.append(states.agents[1].state)
            await send(agent_event("AgentCalled", "2.2"), wait=15)
            await send(member_event("QueueMemberStatus", QUEUES[0], status=1))  # caller gave up
            for queue in QUEUES:
                await send(member_event("QueueMemberRemoved", queue))
        finally:
            await states.close()
            rows = await db.run(lambda s: [(p.state, p.reason) for p in s.scalars(
                select(AgentStatePeriod).order_by(AgentStatePeriod.id))])
            db.close()
        return seen, rows

    seen, rows = run_simulated(main())
    return seen, rows, idle


def test_given_a_shift_of_events_then_states_history_and_report(seeded_url, tmp_path) -> None:
    seen, rows, idle = run_scenario(seeded_url, tmp_path)
    # Paused only once paused in every queue; available again at the first resume.
    assert seen == ["available", "available", "available", "paused", "available", "available",
                    "ringing", "on_call", "wrap_up", "available", "ringing", "available",
                    "available", "logged_out"]
    assert rows == [("available", ""), ("paused", "break"), ("available", ""), ("ringing", ""),
                    ("on_call", ""), ("wrap_up", ""), ("available", ""), ("ringing", ""),
                    ("available", ""), ("logged_out", "")]
    # Idle again after the call's wrap-up and after the ring nobody answered.
    assert idle == [1, 1]

    db = Database(seeded_url)
    try:
        alerts = db.call(lambda s: [(a.kind, a.agent_id, a.raised_at) for a in
                                    s.scalars(select(StaffingAlert))])
        report = db.call(lambda s: agent_report(s, START, START + timedelta(hours=1)))
        periods = db.call(lambda s: list(s.scalars(select(AgentStatePeriod))))
    finally:
        db.close()
    assert [(k, a) for k, a, _ in alerts] == [("pause_overrun", 1)]
    assert alerts[0][2] == START + timedelta(minutes=15)  # raised when the limit passed
    (row,) = report
    assert row["number"] == "1001" and row["calls_handled"] == 1
    assert row["pause_seconds"] == 16 * 60 and row["pause_by_reason"] == {"break": 960}
    assert row["talk_seconds"] == 120 and row["wrapup_seconds"] == 10
    # paused, ringing, talking, wrap-up, 1 s free, ringing unanswered
    assert row["login_seconds"] == 960 + 3 + 120 + 10 + 1 + 15
    assert all(p.ended_at is not None for p in periods if p.state != "logged_out")


def test_given_periods_then_report_clips_them_to_the_period(seeded_url) -> None:
    db = Database(seeded_url)
    t = START
    try:
        db.call(lambda s: s.add_all([
            AgentStatePeriod(agent_id=2, state="available", reason="", started_at=t,
                             ended_at=t + timedelta(hours=2)),
            AgentStatePeriod(agent_id=2, state="on_call", reason="", started_at=t + timedelta(
                hours=2), ended_at=None),
        ]))
        report = db.call(lambda s: agent_report(s, t + timedelta(hours=1),
                                                t + timedelta(hours=3)))
    finally:
        db.close()
    (row,) = report
    assert row["available_seconds"] == 3600 and row["talk_seconds"] == 3600
    assert row["calls_handled"] == 1 and row["login_seconds"] == 7200
