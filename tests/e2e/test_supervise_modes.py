"""Whisper and barge (listen is tests/e2e/test_supervise.py): the
supervisor's phone rings with the mode and the agent's number, answers into
[supervisor-spy], which runs ChanSpy on the agent's channel with Asterisk
22's options for the mode (app_chanspy.c: ``w`` whisper — the spying
channel talks to the spied-on one; ``B`` barge — it talks to both channels
of the call), on the built-in PBX as on Asterisk: ChanSpyStart, the agent's
call goes on, ChanSpyStop when the supervisor hangs up or the call ends.
Each is audited with its mode."""

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

WHISPERER, BARGER = "PJSIP/9001", "PJSIP/9002"


def test_supervisor_whispers_then_barges_into_an_agents_call(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        seen = pbx_events(sim, ("ChanSpyStart", "ChanSpyStop", "OriginateResponse",
                                "Newexten", "Hangup"))
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=120.0))
            # The whisperer hangs up after 10 s; the barger stays to the end.
            sim.add_phone(WHISPERER, PhoneBehaviour(answer_after=2.0, talk_seconds=10.0))
            sim.add_phone(BARGER, PhoneBehaviour(answer_after=2.0, talk_seconds=900.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent, sup = await login(http, "oncall"), await login(http, "sup")
                path = f"/api/agents/{agent_id}/supervise"
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200
                call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                      dialed="12345", script=CallerScript(keys="1", patience=300))
                await asyncio.sleep(40)  # IVR, description, answered
                out = {}
                async with http.post(path, headers=sup, json={"phone": WHISPERER,
                                                              "mode": "whisper"}) as r:
                    out["whisper"] = (r.status, await r.json())
                await asyncio.sleep(20)  # rung, answered, 10 s, hung up
                out["after_whisper"] = (call.done.done(), list(seen))
                async with http.post(path, headers=sup, json={"phone": BARGER,
                                                              "mode": "barge"}) as r:
                    out["barge"] = (r.status, await r.json())
                await asyncio.wait_for(call.done, 300)
                await asyncio.sleep(3)
                return out, list(seen), call
        finally:
            await backend.stop()
            await sim.stop()

    out, seen, call = run_simulated(main())
    assert call.agent == interface and call.outcome == "connected"
    for mode, phone in (("whisper", WHISPERER), ("barge", BARGER)):
        status, body = out[mode]
        assert status == 202 and body["mode"] == mode and body["phone"] == phone

    def on(phone, event):
        return [h for e, h in seen if e == event
                and h.get("Channel", h.get("SpyerChannel", "")).startswith(phone + "-")]

    # Each supervisor's phone rang, showing the mode and the agent's number.
    number = member.removeprefix("agent-")
    for phone, label in ((WHISPERER, "耳语"), (BARGER, "强插")):
        [rang] = on(phone, "OriginateResponse")
        assert rang["Response"] == "Success"
        assert (rang["CallerIDName"], rang["CallerIDNum"]) == (f"{label} {number}", number)
    # ChanSpy with the mode's option, on the agent's channel.
    spies = {phone: [h["AppData"] for h in on(phone, "Newexten")
                     if h["Application"] == "ChanSpy"] for phone in (WHISPERER, BARGER)}
    assert spies == {WHISPERER: [f"{interface}-,qESw"], BARGER: [f"{interface}-,qESB"]}
    for phone in (WHISPERER, BARGER):
        [start] = on(phone, "ChanSpyStart")
        assert start["SpyeeChannel"].startswith(interface + "-")
    # The whisperer hung up: their spy stopped while the call went on.
    done_then, by_then = out["after_whisper"]
    assert not done_then
    assert [e for e, h in by_then if e == "ChanSpyStop"
            and h["SpyerChannel"].startswith(WHISPERER + "-")] == ["ChanSpyStop"]
    # The barge lasted until the agent's call ended (option E).
    [stop] = on(BARGER, "ChanSpyStop")
    agent_hangup = next(i for i, (e, h) in enumerate(seen)
                        if e == "Hangup" and h["Channel"] == stop["SpyeeChannel"])
    assert next(i for i, (e, h) in enumerate(seen) if e == "ChanSpyStop" and h is stop) \
        < agent_hangup

    db = Database(url)
    try:
        audit = db.call(lambda s: [(a.action, a.target) for a in s.scalars(select(AuditEntry))])
    finally:
        db.close()
    assert ("supervise_whisper", member) in audit and ("supervise_barge", member) in audit
