"""Shift changes run once, by the elected backend, with their state in the
database: two backends on PostgreSQL against one built-in PBX, virtual time.

11:57 in Baoji.  Agents of the outgoing team are logged in through either
backend (one talks to a citizen past 12:00); two of the incoming team check
in early, one through each backend.  At 12:00 the elected backend starts
the change and stops dead half-way (after taking the first idle agent off
the queues); the other takes over and finishes it: every queue command of
the change is sent exactly once over both backends, the talking agent
leaves after their call, the early ones are on every queue, the no-shows
are flagged once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agents import rota
from agents.models import Agent, QueueCheckIn, ShiftChange, StaffingAlert, Team
from agents.roster import ShiftPolicy, save_settings
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from tests.conftest import make_database_url
from tests.helpers import prepare_database
from tests.scale.pair import elected, start_pair

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 10)
CHANGE = datetime(2026, 12, 10, 12, 0, tzinfo=TZ)
START = CHANGE - timedelta(minutes=3)
CONFIG = rota.RotaConfig(min_on_duty=5)
POLICY = ShiftPolicy(no_show_minutes=5, wrapup_seconds=10, early_login_minutes=15)


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


def prepare(url: str) -> dict[str, tuple[int, str]]:
    prepare_database(url, START.astimezone(UTC))
    db = Database(url)
    try:
        db.call(lambda s: save_settings(s, CONFIG, POLICY, START))

        def team(index: int) -> list[tuple[int, str]]:
            return db.call(lambda s: [(a.id, a.interface) for a in s.scalars(
                select(Agent).join(Team, Agent.team_id == Team.id)
                .where(Team.rota_index == index).order_by(Agent.number))])

        outgoing = team(rota.team_for(CONFIG, DAY, 1))  # 06-12
        incoming = team(rota.team_for(CONFIG, DAY, 2))  # 12-18
        return {"talking": outgoing[0], "idle1": outgoing[1], "idle2": outgoing[2],
                "idle3": outgoing[3], "early_a": incoming[0], "early_b": incoming[1]}
    finally:
        db.close()


def test_given_the_leader_dies_mid_change_then_the_other_finishes_it_once(
        pg_url: str, tmp_path: Path) -> None:
    who = prepare(pg_url)
    interface = {name: iface for name, (_id, iface) in who.items()}
    outgoing = ("talking", "idle1", "idle2", "idle3")

    async def main() -> dict[str, Any]:
        pair = await start_pair(pg_url, tmp_path, START.astimezone(UTC))
        a, b = pair.backends["a"], pair.backends["b"]
        clock = a.deps.clock  # type: ignore[union-attr]
        sim = pair.sim
        log: list[tuple[datetime, str, dict[str, str]]] = []
        sim.event_listeners.append(
            lambda event, _priv, headers: log.append((clock.now(), event, dict(headers))))
        frozen = asyncio.Event()
        removed_by_a: list[str] = []

        async def dies_half_way(command: str, iface: str, _queue: str) -> None:
            if command == "queue_remove" and clock.now() >= CHANGE:
                if removed_by_a and iface != removed_by_a[0]:
                    frozen.set()
                    await asyncio.Event().wait()  # the process stops here
                removed_by_a.append(iface)

        try:
            assert a.election.elected and not b.election.elected  # type: ignore[union-attr]
            for name in who:
                sim.add_phone(interface[name], PhoneBehaviour(answer_after=1.0,
                                                              talk_seconds=240.0))
            await b.staffing.queue_login(who["talking"][0])  # type: ignore[union-attr]
            call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                  dialed="12345", script=CallerScript(keys="2", patience=600))
            await asyncio.sleep(30)  # answered by the only agent on the queues
            for n, name in enumerate(("idle1", "idle2", "idle3")):
                await (a if n % 2 else b).staffing.queue_login(who[name][0])  # type: ignore[union-attr]
            await a.staffing.queue_login(who["early_a"][0])  # type: ignore[union-attr]
            await b.staffing.queue_login(who["early_b"][0])  # type: ignore[union-attr]
            checkins = await a.deps.db.run(  # type: ignore[union-attr]
                lambda s: sorted(s.scalars(select(QueueCheckIn.agent_id))))
            await asyncio.sleep(5)
            # Both follow every agent on the queues, whoever logged them in.
            known = {n: sorted(x.staffing.logged_in) for n, x in pair.backends.items()}  # type: ignore[union-attr]
            pair.hooks["a"] = dies_half_way
            await asyncio.wait_for(frozen.wait(), (CHANGE - clock.now()).total_seconds() + 60)
            died_at = clock.now()
            await a.stop()
            await elected(b, 60)
            took_over = clock.now() - died_at
            await asyncio.wait_for(call.done, 600)
            await asyncio.sleep((CHANGE + timedelta(minutes=6) - clock.now()).total_seconds())
            members = {name: sorted(q for q, queue in sim.queues.queues.items()
                                    if queue.member(interface[name])) for name in who}
            db = b.deps.db  # type: ignore[union-attr]
            row = await db.run(lambda s: s.scalars(select(ShiftChange)).all())
            alerts = await db.run(lambda s: [(x.agent_id, x.raised_at) for x in s.scalars(
                select(StaffingAlert).where(StaffingAlert.kind == "no_show"))])
            left = await db.run(lambda s: list(s.scalars(select(QueueCheckIn.agent_id))))
            return {"log": log, "members": members, "rows": [(r.day, r.shift_index, r.owner,
                                                              r.done_at) for r in row],
                    "alerts": alerts, "checkins": checkins, "left": left, "known": known,
                    "took_over": took_over, "commands": list(pair.commands),
                    "changes": (a.shift_duty.changes, b.shift_duty.changes),  # type: ignore[union-attr]
                    "removed_by_a": removed_by_a, "outcome": call.outcome}
        finally:
            await pair.stop()

    seen = run_simulated(main())
    ids = {name: agent_id for name, (agent_id, _i) in who.items()}
    assert seen["checkins"] == sorted([ids["early_a"], ids["early_b"]])
    assert seen["known"]["a"] == seen["known"]["b"] == sorted(ids[n] for n in outgoing)
    assert seen["took_over"] < timedelta(seconds=15)
    # A died after taking one idle agent off the queues; B finished the change.
    assert len(set(seen["removed_by_a"])) == 1
    # (a's first: the running shift's change, caught up when it was first elected)
    assert seen["changes"] == (1, 1)
    [(day, shift, owner, done_at)] = [r for r in seen["rows"] if r[1] == 2]
    assert day == DAY and owner.startswith("a@") and done_at is not None
    assert seen["left"] == []
    # Every queue command of the change sent once, over both backends.
    after = [(cmd, iface, queue) for _b, cmd, iface, queue in seen["commands"]]
    assert len(after) == len(set(after)), sorted(after)
    # At the PBX: the outgoing team is gone, the early ones are on every queue.
    assert seen["outcome"] == "connected"
    assert {n: len(q) for n, q in seen["members"].items()} == {
        "talking": 0, "idle1": 0, "idle2": 0, "idle3": 0, "early_a": 6, "early_b": 6}
    log = seen["log"]
    paused = [t for t, e, h in log if e == "QueueMemberPause" and h.get("Paused") == "1"
              and h.get("Interface") == interface["talking"]]
    assert paused and all(t >= CHANGE for t in paused)
    (completed,) = [t for t, e, h in log if e == "AgentComplete"
                    and h.get("Interface") == interface["talking"]]
    removed = [t for t, e, h in log if e == "QueueMemberRemoved"
               and h.get("Interface") == interface["talking"]]
    assert len(removed) == 6 and all(t >= completed for t in removed)
    # No-shows of the incoming team flagged once each, five minutes in.
    flagged = [agent_id for agent_id, _t in seen["alerts"]]
    assert len(flagged) == len(set(flagged)) == 5  # seven, less the two early ones
    assert {t for _a, t in seen["alerts"]} == {CHANGE.astimezone(UTC) + timedelta(minutes=5)}
