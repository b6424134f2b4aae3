"""The live floor during stand-in traffic, over real WebSockets: a
supervisor's console gets the snapshot and then floor.* events as callers
queue, are answered and abandon, coalesced (never two updates of one queue
closer than the flush interval); an agent's console gets none of them; the
long-wait alert is raised once, stored, and acknowledged (audited)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from itertools import pairwise

import aiohttp
from sqlalchemy import select

from core.clock import run_simulated
from core.db import Database
from floor.models import FloorAlert
from pbxsim import CallerScript, PhoneBehaviour
from routing.models import AuditEntry
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login
from tests.helpers import prepare_database


class Console:
    """A WebSocket console that records what it receives, with the clock's time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, clock) -> None:
        self.ws, self.clock = ws, clock
        self.got: list[tuple[datetime, dict]] = []
        self._new = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.got.append((self.clock.now(), msg.json()))
                self._new.set()

    async def wait_for(self, test, timeout: float = 120.0) -> dict:
        async def look() -> dict:
            seen = 0
            while True:
                for _at, body in self.got[seen:]:
                    if test(body):
                        return body
                seen = len(self.got)
                self._new.clear()
                await self._new.wait()
        return await asyncio.wait_for(look(), timeout)


def queue_update(queue, test):
    return lambda b: b["type"] == "floor.queue" and b["queue"] == queue and test(b["figures"])


def test_floor_follows_stand_in_traffic_and_only_supervisors_see_it(database_url, tmp_path):
    url = database_url
    prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        clock = backend.deps.clock
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=2.0, talk_seconds=30.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup, agent = await login(http, "sup"), await login(http, "oncall")
                async with http.ws_connect("/api/ws", headers=sup) as sws, \
                        http.ws_connect("/api/ws", headers=agent) as aws:
                    boss, mine = Console(sws, clock), Console(aws, clock)
                    snap = await boss.wait_for(lambda b: b["type"] == "snapshot")
                    out = {"snapshot": snap["state"]["floor"]}
                    async with http.post("/api/agent/queues/login", headers=agent) as r:
                        assert r.status == 200, await r.text()
                    out["joined"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.agent" and b["agent_id"] == agent_id
                        and b["figures"]["state"] == "available")
                    # Paused: the next caller waits, past the alert's threshold.
                    async with http.post(f"/api/floor/agents/{agent_id}/pause", headers=sup,
                                         json={"paused": True, "reason": "break"}) as r:
                        out["pause"] = r.status
                    call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                          dialed="12345",
                                          script=CallerScript(keys="1", patience=600))
                    out["waiting"] = await boss.wait_for(queue_update(
                        "hotline-help", lambda f: f["waiting"] == 1))
                    out["alert"] = await boss.wait_for(lambda b: b["type"] == "floor.alert")
                    async with http.post(f"/api/floor/agents/{agent_id}/pause", headers=sup,
                                         json={"paused": False}) as r:
                        out["resume"] = r.status
                    out["answered"] = await boss.wait_for(queue_update(
                        "hotline-help", lambda f: f["answered"] == 1 and f["waiting"] == 0))
                    out["on_call"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.agent" and b["agent_id"] == agent_id
                        and b["figures"]["state"] == "on_call")
                    await asyncio.wait_for(call.done, 300)
                    out["counted"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.agent" and b["agent_id"] == agent_id
                        and b["figures"]["calls_today"] == 1
                        and b["figures"]["state"] in ("wrap_up", "available"))
                    async with http.post("/api/floor/alerts/acknowledge", headers=sup,
                                         json={"source": "floor",
                                               "id": out["alert"]["alert_id"]}) as r:
                        out["ack"] = r.status
                    async with http.post("/api/floor/alerts/acknowledge", headers=agent,
                                         json={"source": "floor",
                                               "id": out["alert"]["alert_id"]}) as r:
                        out["ack_by_agent"] = r.status
                    out["acked"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.alert_acked")
                    async with http.get("/api/floor", headers=sup) as r:
                        out["rest"] = await r.json()
                    async with http.get("/api/floor", headers=agent) as r:
                        out["rest_agent"] = r.status
                    async with http.get("/api/queues", headers=agent) as r:
                        out["queues"] = (r.status, await r.json())
                    boss.task.cancel()
                    mine.task.cancel()
                    return out, boss.got, mine.got
        finally:
            await backend.stop()
            await sim.stop()

    out, boss, mine = run_simulated(main())
    floor = out["snapshot"]
    assert "hotline-help" in floor["queues"] and floor["queues"]["hotline-help"]["waiting"] == 0
    # Every agent of the shift, not only those on a call: not logged in yet.
    on_shift = {a["agent_id"]: a for a in floor["agents"]}
    assert on_shift[agent_id]["adherence"] == "not_logged_in"
    assert len(on_shift) > 1 and all(a["state"] == "logged_out" for a in on_shift.values())
    assert out["joined"]["figures"]["adherence"] == "ok"
    assert out["pause"] == 200 and out["resume"] == 200
    waiting = out["waiting"]["figures"]
    assert waiting["callers"][0]["caller"] != "13800138000"  # masked
    assert waiting["longest_since"] == waiting["callers"][0]["since"]
    assert out["alert"]["kind"] == "long_wait"
    answered = out["answered"]["figures"]
    assert answered["offered"] == 1 and answered["service_level"] == 0.0  # waited > 15 s
    assert answered["asa"] > 60
    assert out["counted"]["figures"]["talk_seconds"] >= 25
    assert out["counted"]["figures"]["pause_seconds"] >= 60
    assert (out["ack"], out["ack_by_agent"]) == (200, 403)
    assert out["acked"]["by"] == "sup"
    assert out["rest"]["alerts"] == [] or all(a["id"] != out["alert"]["alert_id"]
                                              for a in out["rest"]["alerts"]
                                              if a["source"] == "floor")
    assert out["rest_agent"] == 403
    status, body = out["queues"]
    assert status == 200 and {q["queue"] for q in body["queues"]} >= {"hotline-help"}
    # Coalesced: one queue's updates at least the flush interval apart.
    times = defaultdict(list)
    for at, b in boss:
        if b["type"] == "floor.queue":
            times[b["queue"]].append(at)
    gaps = [(b - a).total_seconds() for ts in times.values() for a, b in pairwise(ts)]
    assert gaps and min(gaps) >= 0.49  # FloorService.min_interval
    # The agent's console: none of the floor's events.
    assert not [b for _at, b in mine if b["type"].startswith("floor.")]
    snap = next(b for _at, b in mine if b["type"] == "snapshot")
    assert "floor" not in snap["state"]

    db = Database(url)
    try:
        audit = db.call(lambda s: [(a.action, a.target) for a in s.scalars(select(AuditEntry))])
        alerts = db.call(lambda s: [(a.kind, a.acknowledged_at is not None)
                                    for a in s.scalars(select(FloorAlert))])
    finally:
        db.close()
    assert ("force_pause", member) in audit and ("force_resume", member) in audit
    assert ("alert_ack", f"floor:{out['alert']['alert_id']}") in audit
    assert alerts == [("long_wait", True)]  # raised once for the caller
