"""A shift change on the built-in PBX, over real sockets, on virtual time.

11:57 in Baoji, three minutes before the 12:00 change.  Two agents of the
outgoing team are on the queues, one of them talking to a citizen until
after 12:00; an agent of the incoming team checks in early; another of
the incoming team never comes.  At the PBX: the early one is added at
12:00 sharp, the idle one removed at 12:00, the talking one paused at
12:00 (no new call) and removed only after the call and its 10 s wrap-up;
the no-show is flagged five minutes into the shift.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from agents import rota
from agents.models import Agent, StaffingAlert, Team
from agents.roster import ShiftPolicy, save_settings
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from tests.helpers import start_stack

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 10)
CHANGE = datetime(2026, 12, 10, 12, 0, tzinfo=TZ)
START = CHANGE - timedelta(minutes=3)
CONFIG = rota.RotaConfig(min_on_duty=5)
POLICY = ShiftPolicy(no_show_minutes=5, wrapup_seconds=10, early_login_minutes=15)


def prepare(url: str) -> dict[str, tuple[int, str]]:
    """Store the policy; pick the agents: name -> (id, interface)."""
    db = Database(url)
    try:
        db.call(lambda s: save_settings(s, CONFIG, POLICY, START))

        def team(index: int) -> list[tuple[int, str]]:
            return db.call(lambda s: [(a.id, a.interface) for a in s.scalars(
                select(Agent).join(Team, Agent.team_id == Team.id)
                .where(Team.rota_index == index).order_by(Agent.number))])

        outgoing = team(rota.team_for(CONFIG, DAY, 1))  # 06-12
        incoming = team(rota.team_for(CONFIG, DAY, 2))  # 12-18
        return {"idle": outgoing[0], "talking": outgoing[1], "early": incoming[0],
                "absent": incoming[1]}
    finally:
        db.close()


def test_shift_change_adds_removes_and_waits_for_the_call(seeded_url, tmp_path) -> None:
    who = prepare(seeded_url)
    interface = {name: iface for name, (_id, iface) in who.items()}
    log: list[tuple[datetime, str, dict[str, str]]] = []

    async def main():
        sim, backend = await start_stack(seeded_url, tmp_path, START.astimezone(UTC))
        clock = backend.deps.clock
        sim.event_listeners.append(
            lambda event, _priv, headers: log.append((clock.now(), event, dict(headers))))
        staffing = backend.staffing
        try:
            for name in ("idle", "talking", "early", "absent"):
                sim.add_phone(interface[name], PhoneBehaviour(answer_after=1.0,
                                                              talk_seconds=240.0))
            await staffing.queue_login(who["talking"][0])
            call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                  dialed="12345", script=CallerScript(keys="2", patience=600))
            await asyncio.sleep(30)  # answered by the only agent on the queues
            await staffing.queue_login(who["idle"][0])
            early_starts = (await staffing.queue_login(who["early"][0])).starts_at
            state_at_change = {}
            await asyncio.sleep((CHANGE - clock.now()).total_seconds() + 1)
            state_at_change["talking"] = staffing.states.agents[who["talking"][0]].state
            await asyncio.wait_for(call.done, 600)
            await asyncio.sleep((CHANGE + timedelta(minutes=6) - clock.now()).total_seconds())
            members = {name: [q for q, queue in sim.queues.queues.items()
                              if queue.member(interface[name])] for name in interface}
            return early_starts, state_at_change, members, call.outcome, call.agent
        finally:
            await backend.stop()
            await sim.stop()

    starts_at, at_change, members, outcome, agent = run_simulated(main())
    assert starts_at == CHANGE
    assert at_change == {"talking": "on_call"}
    assert outcome == "connected" and interface["talking"] in str(agent)

    def events(name: str, kind: str) -> list[datetime]:
        return [t for t, e, h in log if e == kind and h.get("Interface") == interface[name]]

    # The early check-in is added at 12:00 sharp, to all six queues, not before.
    added = events("early", "QueueMemberAdded")
    assert len(added) == 6 and all(CHANGE <= t < CHANGE + timedelta(seconds=1) for t in added)
    # The idle agent of the outgoing team leaves at 12:00.
    removed_idle = events("idle", "QueueMemberRemoved")
    assert len(removed_idle) == 6
    assert all(CHANGE <= t < CHANGE + timedelta(seconds=1) for t in removed_idle)
    # The talking agent is paused at 12:00 (shift-end), finishes the call and the
    # 10 s wrap-up, and only then leaves the queues.
    paused = [(t, h) for t, e, h in log if e == "QueueMemberPause"
              and h.get("Interface") == interface["talking"] and h.get("Paused") == "1"]
    assert paused and all(h["PausedReason"] == "shift-end" for _, h in paused)
    assert all(CHANGE <= t < CHANGE + timedelta(seconds=1) for t, _ in paused)
    (completed,) = [t for t, e, h in log if e == "AgentComplete"
                    and h.get("Interface") == interface["talking"]]
    assert completed > CHANGE + timedelta(minutes=1)  # the call ran well past 12:00
    removed_talking = events("talking", "QueueMemberRemoved")
    assert len(removed_talking) == 6
    wrap = timedelta(seconds=POLICY.wrapup_seconds)
    assert all(completed + wrap <= t < completed + wrap + timedelta(seconds=1)
               for t in removed_talking)
    assert not [t for t, e, h in log if e == "AgentCalled"
                and h.get("Interface") == interface["talking"] and t > CHANGE]
    assert {name: len(queues) for name, queues in members.items()} == {
        "idle": 0, "talking": 0, "absent": 0, "early": 6}

    db = Database(seeded_url)
    try:
        alerts = db.call(lambda s: [(a.agent_id, a.raised_at) for a in s.scalars(
            select(StaffingAlert).where(StaffingAlert.kind == "no_show"))])
    finally:
        db.close()
    flagged = {agent_id for agent_id, _ in alerts}
    assert who["absent"][0] in flagged and who["early"][0] not in flagged
    assert len(flagged) == 6  # the incoming team's seven, less the one who came
    assert {t for _, t in alerts} == {CHANGE.astimezone(UTC) + timedelta(minutes=5)}
