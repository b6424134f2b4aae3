"""Call controls from the console on the agent's own call, over real sockets
on the stand-in: refused when not on a call or for a target outside the
lists; a blind transfer to 110 takes the caller to [transfer-emergency],
which dials the trunk, and ends the agent's leg; hang up ends the call;
both audited and on the call's timeline."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from calls.models import CallEvent
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from routing.models import AuditEntry
from tests.e2e.test_agent_desk import Console
from tests.e2e.test_call_path import START, on_duty_agent
from tests.e2e.test_callbacks import login, pbx_events
from tests.helpers import prepare_database
from tests.helpers import start_stack as stack_at
from worksheets.models import Department


def _department_without_number(url: str) -> int:
    db = Database(url)
    try:
        def work(s):
            dept = s.scalars(select(Department).order_by(Department.id.desc())).first()
            dept.contact_phone = ""
            return dept.id
        return db.call(work)
    finally:
        db.close()


def test_the_agent_transfers_an_emergency_to_110_and_hangs_up_the_next_call(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    agent_id, interface, _member = on_duty_agent(url)
    no_number = _department_without_number(url)

    async def main():
        sim, backend = await stack_at(url, tmp_path, START)
        seen = pbx_events(sim, ("BlindTransfer", "DialBegin", "AgentComplete"))
        out: dict = {}
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=2.0, talk_seconds=600.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent = await login(http, "oncall")
                transfer, hangup = "/api/agent/call/transfer", "/api/agent/call/hangup"
                async with http.post(hangup, headers=agent) as r:
                    out["idle"] = (r.status, (await r.json())["error"]["code"])
                async with http.ws_connect("/api/ws", headers=agent) as ws:
                    console = Console(ws)
                    async with http.post("/api/agent/queues/login", headers=agent) as r:
                        assert r.status == 200
                    calls = []
                    for _ in range(2):
                        calls.append(sim.place_call(
                            caller_number="13800138000", caller_name="张三", dialed="12345",
                            script=CallerScript(keys="1", patience=600)))
                        await console.until(lambda m: m["type"] == "agent.me"
                                            and m["me"]["state"] == "on_call")
                        if len(calls) == 2:
                            break
                        for body, key in (({"to": "emergency", "number": "999"}, "999"),
                                          ({"to": "department", "department_id": no_number},
                                           "no_number"),
                                          ({"to": "queue", "queue": "nowhere"}, "no_queue")):
                            async with http.post(transfer, headers=agent, json=body) as r:
                                error = (await r.json())["error"]
                                out[key] = (r.status, error["code"], error.get("field"))
                        async with http.post(transfer, headers=agent,
                                             json={"to": "emergency", "number": "110"}) as r:
                            out["transfer"] = (r.status, await r.json())
                        await console.until(lambda m: m["type"] == "agent.me"
                                            and m["me"]["state"] != "on_call")
                    async with http.post(hangup, headers=agent) as r:
                        out["hangup"] = r.status
                    await asyncio.wait_for(calls[1].done, 300)
                    await console.close()
                await asyncio.wait_for(calls[0].done, 300)
        finally:
            await backend.stop()
            await sim.stop()
        return out, list(seen)

    out, seen = run_simulated(main())
    assert out["idle"] == (409, "no_call")
    assert out["999"] == (400, "invalid", "number")
    assert out["no_number"] == (422, "not_allowed", "department_id")
    assert out["no_queue"] == (400, "invalid", "queue")
    assert out["transfer"][0] == 202 and out["transfer"][1]["target"] == "emergency 110"
    assert out["hangup"] == 202
    transfer = next(h for e, h in seen if e == "BlindTransfer")
    assert transfer["Result"] == "Success" and transfer["Context"] == "transfer-emergency"
    assert transfer["Extension"] == "110" and transfer["TransfererChannel"].startswith(interface)
    assert any(e == "DialBegin" and h.get("DialString") == "110@trunk" for e, h in seen)
    reasons = [h["Reason"] for e, h in seen if e == "AgentComplete"]
    assert reasons == ["transfer", "agent"]
    db = Database(url)
    try:
        audit = db.call(lambda s: [(a.action, a.detail) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("transferred", "agent_hangup"))))])
        timeline = db.call(lambda s: [e.kind for e in s.scalars(select(CallEvent).where(
            CallEvent.kind.in_(("transferred", "agent_hangup"))))])
    finally:
        db.close()
    assert [a for a, _ in audit] == ["transferred", "agent_hangup"]
    assert audit[0][1] == "emergency 110" and timeline == ["transferred", "agent_hangup"]
