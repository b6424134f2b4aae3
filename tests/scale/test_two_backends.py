"""Two `hotline serve` processes on one PostgreSQL database against one built-in PBX,
in real time over real sockets: every call recorded exactly once, the once-only
duties on one of them, and kill -9 of the elected one mid-traffic: the other
takes over, the dialplan's FastAGI failover list sends new calls to it, and no
call, outbox item or state period is lost or doubled.  Consoles on both
instances meanwhile: a supervisor's on each hears every call answered once,
whichever instance's AMI link saw it; each agent's hears of its own calls only."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from agents import rota
from agents.models import Agent, AgentStatePeriod, StaffingAlert, Team
from calls.models import Call, CallEvent
from core import accounts
from core.clock import Clock
from core.db import Database
from core.outbox import OutboxItem
from core.settings import PROJECT_ROOT
from hotline.demo import free_port
from pbxsim import CallerScript, PbxSim, PhoneBehaviour
from pbxsim.callers import SimCall
from speech.recording_outbox import CALL_RECORDING
from tests.conftest import make_database_url
from tests.helpers import PASSWORD, prepare_database
from tests.scale.processes import Proc, base_env, healthz, wait_until
from worksheets.models import WorkOrder

SECRET = "two-backends-secret"


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


def agents_on_duty(url: str, count: int) -> list[tuple[int, str, str]]:
    """Logins for ``count`` agents of the team on duty now: (id, username, interface)."""
    now = datetime.now(UTC)
    db = Database(url)
    try:
        def work(s: Any) -> list[tuple[int, str, str]]:
            team = rota.team_on_duty(rota.RotaConfig(), now, PROJECT_ROOT and _tz())
            agents = s.scalars(select(Agent).join(Team, Agent.team_id == Team.id)
                               .where(Team.rota_index == team).order_by(Agent.number)
                               ).all()[:count]
            for a in agents:
                accounts.create_user(s, username=f"on{a.number}", password=PASSWORD,
                                     role="agent", now=now, agent_id=a.id)
            return [(a.id, f"on{a.number}", a.interface) for a in agents]
        return db.call(work)
    finally:
        db.close()


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


async def join_queues(base_url: str, username: str) -> None:
    async with aiohttp.ClientSession(base_url=base_url) as http:
        async with http.post("/api/login", json={"username": username,
                                                 "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["token"]
        async with http.post("/api/agent/queues/login",
                             headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200, await r.text()


async def console(base_url: str, username: str, heard: list[dict[str, Any]]) -> None:
    """A console's live socket: every event it is sent, until cancelled or closed."""
    async with aiohttp.ClientSession(base_url=base_url) as http:
        async with http.post("/api/login", json={"username": username,
                                                 "password": PASSWORD}) as r:
            token = (await r.json())["token"]
        async with http.ws_connect("/api/ws", headers={
                "Authorization": f"Bearer {token}"}) as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    heard.append(message.json())


def answered(heard: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(m["uniqueid"], m.get("agent_id")) for m in heard if m["type"] == "call.answered"]


def call(sim: PbxSim, n: int) -> SimCall:
    return sim.place_call(caller_number=f"1380013{n:04d}", caller_name="",
                          script=CallerScript(keys="1", key_delay=0.5, patience=600,
                                              survey_key=None))


async def test_given_two_backends_when_the_elected_one_is_killed_then_nothing_is_lost_or_doubled(
        pg_url: str, tmp_path: Path) -> None:
    prepare_database(pg_url)
    agents = agents_on_duty(pg_url, 3)
    clock = Clock.for_running_loop()
    agi = {name: free_port("127.0.0.1") for name in ("a", "b")}
    http = {name: free_port("127.0.0.1") for name in ("a", "b")}
    sim = PbxSim(PROJECT_ROOT / "asterisk-conf", clock=clock,
                 globals_override={"FASTAGI": f"agi://127.0.0.1:{agi['a']}",
                                   "FASTAGI_FAILOVER": f"agi://127.0.0.1:{agi['b']}"},
                 ami_secret_override={"hotline": SECRET},
                 recordings_dir=tmp_path / "var" / "recordings",
                 queue_log_path=tmp_path / "queue_log")
    await sim.start()
    for _id, _user, interface in agents:
        sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=4.0))
    procs: dict[str, Proc] = {}
    try:
        for name in ("a", "b"):
            env = base_env(pg_url, tmp_path / "var", HOTLINE_INSTANCE=name,
                           HOTLINE_AMI_URL=f"ami://hotline:{SECRET}@127.0.0.1:{sim.ami_port}",
                           HOTLINE_AGI_LISTEN=f"127.0.0.1:{agi[name]}",
                           HOTLINE_HTTP_LISTEN=f"127.0.0.1:{http[name]}")
            procs[name] = Proc(["serve", "--no-transcription"], env, tmp_path / "logs", name)
            await asyncio.to_thread(procs[name].wait_for, "12345 backend serving", 120)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in http.items()}
        states = {name: (await healthz(url))["instance"] for name, url in urls.items()}
        assert [s["elected"] for s in states.values()].count(True) == 1, states
        leader = next(name for name, s in states.items() if s["elected"])
        survivor = "b" if leader == "a" else "a"
        # Agents log in through either console.
        for n, (_id, username, _i) in enumerate(agents):
            await join_queues(urls[leader if n < 2 else survivor], username)

        # Consoles: a supervisor on each instance; each agent on the instance
        # they did not log in through.
        heard: dict[str, list[dict[str, Any]]] = {}
        where = {"sup@" + leader: (leader, "sup"), "sup@" + survivor: (survivor, "sup")}
        for n, (_id, username, _i) in enumerate(agents):
            where[username] = (survivor if n < 2 else leader, username)
        readers = []
        for key, (name, username) in where.items():
            heard[key] = []
            readers.append(asyncio.create_task(console(urls[name], username, heard[key])))

        async def consoles_ready() -> bool:
            return all(any(m["type"] == "snapshot" for m in h) for h in heard.values())

        await wait_until(consoles_ready, 60)
        first = [call(sim, n) for n in range(4)]
        await asyncio.wait_for(asyncio.gather(*(c.done for c in first[:2])), 240)
        done_first = {c.uniqueid for c in first[:2]}

        async def supervisors_heard() -> bool:
            return all(done_first <= {u for u, _a in answered(heard["sup@" + name])}
                       for name in (leader, survivor))

        await wait_until(supervisors_heard, 60)
        before_kill = {key: list(h) for key, h in heard.items()}
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        procs[leader].signal_group(signal.SIGKILL)  # mid-traffic: two calls still going
        await asyncio.to_thread(procs[leader].ended, 30)
        killed_at = clock.monotonic()

        async def took_over() -> bool:
            return bool((await healthz(urls[survivor]))["instance"]["elected"])

        await wait_until(took_over, 60)
        takeover = clock.monotonic() - killed_at
        second = [call(sim, n) for n in range(4, 8)]
        await asyncio.wait_for(asyncio.gather(*(c.done for c in first + second)), 600)

        db = Database(pg_url)
        try:
            uniqueids = [c.uniqueid for c in first + second]

            async def all_recorded() -> bool:
                ended = await asyncio.to_thread(db.call, lambda s: s.scalar(
                    select(func.count()).select_from(Call).where(
                        Call.uniqueid.in_(uniqueids), Call.ended_at.is_not(None))))
                return ended == len(uniqueids)

            await wait_until(all_recorded, 60)
            calls = db.call(lambda s: list(s.scalars(select(Call))))
            orders = db.call(lambda s: list(s.scalars(select(WorkOrder))))
            items = db.call(lambda s: list(s.scalars(select(OutboxItem))))
            periods = db.call(lambda s: list(s.scalars(select(AgentStatePeriod).order_by(
                AgentStatePeriod.agent_id, AgentStatePeriod.started_at, AgentStatePeriod.id))))
            alerts = db.call(lambda s: list(s.scalars(select(StaffingAlert))))
            events = db.call(lambda s: [(e.call_id, e.kind, e.detail)
                                        for e in s.scalars(select(CallEvent))])
        finally:
            db.close()
    finally:
        for proc in procs.values():
            proc.kill()
        await sim.stop()

    # Every call recorded exactly once, answered, with one work order.
    assert sorted(c.uniqueid for c in calls) == sorted(uniqueids)
    assert {c.outcome for c in calls} == {"answered"}, [(c.uniqueid, c.outcome) for c in calls]
    assert sorted(o.call_id for o in orders) == sorted(c.id for c in calls)
    # Both backends report every AMI event: still one timeline entry per fact.
    assert len(events) == len(set(events))
    # One outbox item (whole-call transcription) per answered call.
    assert sorted(i.key for i in items) == sorted(f"{CALL_RECORDING}:{u}" for u in uniqueids)
    # Calls placed after the kill went to the survivor, by the dialplan's failover list.
    # (the IVR and the survey: two sessions each, both on the survivor)
    assert {a for c in second for a in c.chan.fastagi_served} == {f"127.0.0.1:{agi[survivor]}"}
    # State history written by one backend at a time: no agent has overlapping periods.
    by_agent: dict[int, list[AgentStatePeriod]] = {}
    for p in periods:
        by_agent.setdefault(p.agent_id, []).append(p)
    for agent_id, own in by_agent.items():
        assert sum(1 for p in own if p.ended_at is None) <= 1, agent_id
        for before, after in zip(own, own[1:], strict=False):
            assert before.ended_at is not None and before.ended_at <= after.started_at, (
                agent_id, [(p.state, p.started_at, p.ended_at) for p in own])
    assert len({(a.kind, a.agent_id) for a in alerts}) == len(alerts)  # no alert twice
    # Consoles: each supervisor heard each answered call once, from either instance.
    answered_calls = {c.uniqueid: c.agent_id for c in calls}
    for name in (leader, survivor):
        got = answered(before_kill["sup@" + name])
        assert len(got) == len(set(got)), got  # not twice (relayed and local)
        assert done_first <= {u for u, _a in got}
        assert all(a is not None and answered_calls.get(u) == a for u, a in got)
    # Each agent's console heard of its own answered calls, and of no other agent's.
    agent_ids = {username: agent_id for agent_id, username, _i in agents}
    for username, agent_id in agent_ids.items():
        own = before_kill[username]
        assert all(a == agent_id for _u, a in answered(own)), (username, answered(own))
        assert all(m["agent_id"] == agent_id for m in own if m["type"] == "call.pop")
        mine = {u for u in done_first if answered_calls[u] == agent_id}
        assert mine <= {u for u, _a in answered(own)}, (username, mine)
    assert {answered_calls[u] for u in done_first} <= set(agent_ids.values())
    assert takeover < 60
    print(f"takeover after kill -9: {takeover:.1f} s")
