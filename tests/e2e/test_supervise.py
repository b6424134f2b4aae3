"""A supervisor listens to, whispers to or barges into an agent's call: the
supervisor's phone rings, [supervisor-spy] runs ChanSpy on the agent's
channel (ChanSpyStart/Stop on the built-in PBX); audited; refused for the
wrong role, a bad phone, or an agent who is not on a call."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from routing.models import AuditEntry
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login, pbx_events
from tests.helpers import prepare_database

SUPERVISOR_PHONE = "PJSIP/9001"


def test_supervisor_listens_to_an_agents_call(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        seen = pbx_events(sim, ("ChanSpyStart", "ChanSpyStop", "OriginateResponse"))
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=90.0))
            sim.add_phone(SUPERVISOR_PHONE, PhoneBehaviour(answer_after=2.0, talk_seconds=600))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent, sup = await login(http, "oncall"), await login(http, "sup")
                path = f"/api/agents/{agent_id}/supervise"
                out = {}
                async with http.post(path, headers=sup, json={"phone": SUPERVISOR_PHONE}) as r:
                    out["idle"] = (r.status, (await r.json())["error"]["code"])
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200
                call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                      dialed="12345", script=CallerScript(keys="1", patience=300))
                await asyncio.sleep(40)  # IVR, description, answered
                async with http.post(path, headers=agent, json={"phone": SUPERVISOR_PHONE}) as r:
                    out["by_agent"] = r.status
                async with http.post(path, headers=sup, json={"phone": "SIP/x;evil"}) as r:
                    out["bad_phone"] = r.status
                async with http.post(path, headers=sup, json={"phone": SUPERVISOR_PHONE,
                                                              "mode": "record"}) as r:
                    out["bad_mode"] = r.status
                for phone in (interface, "PJSIP/trunk"):  # an agent's phone, the trunk
                    async with http.post(path, headers=sup, json={"phone": phone}) as r:
                        out[phone] = r.status
                async with http.post(path, headers=sup, json={"phone": SUPERVISOR_PHONE}) as r:
                    out["listen"] = (r.status, await r.json())
                await asyncio.wait_for(call.done, 200)
                await asyncio.sleep(3)
                return out, list(seen), call.agent
        finally:
            await backend.stop()
            await sim.stop()

    out, seen, answered_by = run_simulated(main())
    assert out["idle"] == (409, "not_on_call")
    assert out["by_agent"] == 403 and out["bad_phone"] == 400 and out["bad_mode"] == 400
    assert out[interface] == 400 and out["PJSIP/trunk"] == 400
    assert out["listen"][0] == 202 and out["listen"][1]["mode"] == "listen"
    assert answered_by == interface
    start = next(h for e, h in seen if e == "ChanSpyStart")
    assert start["SpyerChannel"].startswith(SUPERVISOR_PHONE + "-")
    assert start["SpyeeChannel"].startswith(interface + "-")
    # the spy ends with the agent's call (option E)
    assert any(e == "ChanSpyStop" and h["SpyeeChannel"] == start["SpyeeChannel"]
               for e, h in seen)
    db = Database(url)
    try:
        audit = db.call(lambda s: [(a.action, a.target) for a in s.scalars(select(AuditEntry))])
        assert ("supervise_listen", member) in audit
    finally:
        db.close()
