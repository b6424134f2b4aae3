"""The floor's other alerts and figures, on the stand-in with a real backend:
a queue's service level under target raises ``service_level`` only once 10
calls were offered (and not for a queue over target), a draft raises
``draft_late`` once it is past 10 minutes (not before); each once per
subject, also across a restart (the database answers).  A queue's open and
calling callback tasks are its ``callbacks_pending``.  An agent still on the
queues when their shift ended (on a call) is ``off_shift``."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from types import SimpleNamespace

import aiohttp
from sqlalchemy import select

from calls.models import Call
from core.clock import run_simulated
from core.db import Database
from floor.models import FloorAlert
from pbxsim import CallerScript, PhoneBehaviour
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login
from tests.faults.test_restarts import SHIFT_END, restart_backend
from tests.floor.test_floor_live import Console
from tests.helpers import prepare_database
from tests.helpers import start_stack as stack_at
from worksheets.models import CallbackTask, WorkOrder

HELP, COMPLAINT = "hotline-help", "hotline-complaint"
DRAFT = "BJ20261130-0001"
DRAFT_AT = START - timedelta(minutes=8)  # late from START + 2 minutes


def seed(url: str) -> None:
    """Nine calls offered to hotline-help today (all answered late), ten
    answered at once in hotline-complaint, a draft 8 minutes old, callback
    tasks in both queues."""
    db = Database(url)
    at = START - timedelta(hours=1)

    def work(s):
        calls = [Call(uniqueid=f"h{n}", entered_at=at, outcome="answered", queue=HELP,
                      hold_seconds=30, talk_seconds=60, answered_at=at + timedelta(seconds=30))
                 for n in range(9)]
        calls += [Call(uniqueid=f"c{n}", entered_at=at, outcome="answered", queue=COMPLAINT,
                       hold_seconds=3, talk_seconds=60, answered_at=at + timedelta(seconds=3))
                  for n in range(10)]
        # Callback tasks: two pending in hotline-help (open, calling), one done
        # there, one open in hotline-complaint.
        left = [Call(uniqueid=f"a{n}", entered_at=at - timedelta(days=1), outcome="abandoned",
                     queue=q, hold_seconds=5) for n, q in enumerate((HELP, HELP, HELP, COMPLAINT))]
        s.add_all(calls + left)
        s.flush()
        s.add_all([CallbackTask(call_id=c.id, caller_number="13800138000", queue=c.queue,
                                status=st, created_at=c.entered_at)
                   for c, st in zip(left, ("open", "calling", "done", "open"), strict=True)])
        s.add(WorkOrder(number=DRAFT, category="help", status="draft", created_at=DRAFT_AT))

    try:
        db.call(work)
    finally:
        db.close()


def alerts_in_db(url: str) -> list[tuple[str, str, datetime]]:
    db = Database(url)
    try:
        return db.call(lambda s: [(a.kind, a.key, a.raised_at)
                                  for a in s.scalars(select(FloorAlert).order_by(FloorAlert.id))])
    finally:
        db.close()


def test_service_level_and_late_draft_alerts_are_raised_once_each(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    seed(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        stack = SimpleNamespace(backend=backend)
        clock = backend.deps.clock
        out = {}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup = await login(http, "sup")
                async with http.ws_connect("/api/ws", headers=sup) as ws:
                    boss = Console(ws, clock)
                    out["snapshot"] = (await boss.wait_for(
                        lambda b: b["type"] == "snapshot"))["state"]["floor"]
                    late = await boss.wait_for(lambda b: b["type"] == "floor.alert", 300)
                    out["draft"] = (late, clock.now())
                    # 9 offered at 0 %: too few calls for a service-level alert.
                    out["nine"] = alerts_in_db(url)
                    db = Database(url)
                    try:
                        db.call(lambda s: s.add(Call(
                            uniqueid="h9", entered_at=clock.now(), outcome="abandoned",
                            queue=HELP, hold_seconds=40)))
                    finally:
                        db.close()
                    out["sl"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.alert" and b["kind"] != late["kind"], 120)
                    await asyncio.sleep(70)  # two more ticks: nothing raised again
                    async with http.get("/api/floor", headers=sup) as r:
                        out["floor"] = await r.json()
                    boss.task.cancel()
                    out["events"] = [b for _at, b in boss.got if b["type"] == "floor.alert"]
            # A restarted backend finds both raised already.
            await restart_backend(stack)
            await asyncio.sleep(70)
            return out
        finally:
            await stack.backend.stop()
            await sim.stop()

    out = run_simulated(main())
    snap = out["snapshot"]
    assert snap["alerts"] == []  # the draft is 8 minutes old, 9 calls offered
    assert snap["queues"][HELP]["offered"] == 9 and snap["queues"][HELP]["service_level"] == 0
    assert snap["queues"][HELP]["callbacks_pending"] == 2  # open + calling, not done
    assert snap["queues"][COMPLAINT]["callbacks_pending"] == 1
    late, at = out["draft"]
    assert late["kind"] == "draft_late" and late["key"].startswith(f"draft_late:{DRAFT}:")
    assert at >= DRAFT_AT + timedelta(minutes=10)
    assert [k for k, _key, _at in out["nine"]] == ["draft_late"]
    assert out["sl"]["kind"] == "service_level"
    assert out["sl"]["key"] == f"service_level:{HELP}:2026-11-30"
    floor = out["floor"]
    assert floor["queues"][HELP]["offered"] == 10
    # hotline-complaint: 10 offered, all within 15 s: over target, no alert.
    assert floor["queues"][COMPLAINT]["offered"] == 10
    assert floor["queues"][COMPLAINT]["service_level"] == 1.0
    assert {a["kind"] for a in floor["alerts"] if a["source"] == "floor"} == \
        {"draft_late", "service_level"}
    # Once per subject: on this backend, and after a restart.
    assert [e["kind"] for e in out["events"]] == ["draft_late", "service_level"]
    assert sorted(k for k, _key, _at in alerts_in_db(url)) == ["draft_late", "service_level"]


def test_an_agent_on_a_call_past_their_shift_is_off_shift(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    late = SHIFT_END - timedelta(minutes=5)  # the same shift as START's, near its end
    prepare_database(url, late)
    agent_id, interface, _member = on_duty_agent(url)

    async def main():
        sim, backend = await stack_at(url, tmp_path, late)
        clock = backend.deps.clock
        out = {}
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=600.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup, agent = await login(http, "sup"), await login(http, "oncall")
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200, await r.text()
                async with http.ws_connect("/api/ws", headers=sup) as ws:
                    boss = Console(ws, clock)

                    def mine(state):
                        return lambda b: (b["type"] == "floor.agent"
                                          and b["agent_id"] == agent_id
                                          and b["figures"].get("state") == state)

                    out["before"] = (await boss.wait_for(mine("available")))["figures"]
                    await asyncio.sleep((SHIFT_END - clock.now()).total_seconds() - 120)
                    call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                          dialed="12345",
                                          script=CallerScript(keys="1", patience=300))
                    out["on_call"] = (await boss.wait_for(mine("on_call")))["figures"]
                    # The shift ends during the call: the agent stays (paused
                    # shift-end) until it is over, off the rota.
                    out["off"] = (await boss.wait_for(
                        lambda b: mine("on_call")(b)
                        and b["figures"]["adherence"] == "off_shift", 600))
                    out["off_at"] = clock.now()
                    await asyncio.wait_for(call.done, 900)
                    out["gone"] = await boss.wait_for(
                        lambda b: b["type"] == "floor.agent" and b["agent_id"] == agent_id
                        and b["figures"].get("gone"), 120)
                    boss.task.cancel()
            return out
        finally:
            await backend.stop()
            await sim.stop()

    out = run_simulated(main())
    assert out["before"]["adherence"] == "ok" and out["before"]["rostered"] is True
    assert out["on_call"]["adherence"] == "ok"
    off = out["off"]["figures"]
    assert off["rostered"] is False and off["queues"]
    assert out["off_at"] >= SHIFT_END
