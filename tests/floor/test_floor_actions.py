"""A supervisor's actions from the floor, on the stand-in: move an agent to
another queue, change a penalty (QueuePenalty: QueueMemberPenalty follows,
as in app_queue.c), listen on the phone the admin gave them, play back the
call's recording, take the agent off the queues; each audited, each refused
to an agent."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from calls.models import Call
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from routing.models import AuditEntry
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login, pbx_events
from tests.floor.test_floor_live import Console
from tests.helpers import prepare_database

SUPERVISOR_PHONE = "PJSIP/9001"


def test_move_penalty_listen_recording_logoff(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    users = prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        seen = pbx_events(sim, ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPenalty",
                                "ChanSpyStart"))
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=90.0))
            sim.add_phone(SUPERVISOR_PHONE, PhoneBehaviour(answer_after=1.0, talk_seconds=600))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup, agent = await login(http, "sup"), await login(http, "oncall")
                admin = await login(http, "admin")
                base = f"/api/floor/agents/{agent_id}"
                out = {}
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    queues = sorted((await r.json())["queues"])  # all of them, by skill
                gone, kept = queues[0], queues[1]
                async with http.post(f"{base}/queues", headers=agent,
                                     json={"to": kept, "from": gone}) as r:
                    out["move_by_agent"] = r.status
                async with http.post(f"{base}/queues", headers=sup,
                                     json={"to": "nowhere"}) as r:
                    out["move_bad"] = r.status
                async with http.post(f"{base}/queues", headers=sup,
                                     json={"to": kept, "from": gone}) as r:
                    out["move"] = (r.status, await r.json())
                async with http.post(f"{base}/queues", headers=sup,
                                     json={"to": gone, "penalty": 4}) as r:
                    out["back"] = (r.status, await r.json())
                async with http.post(f"{base}/queues", headers=sup,
                                     json={"to": kept, "from": gone}) as r:
                    out["again"] = r.status
                async with http.post(f"{base}/penalty", headers=sup,
                                     json={"queue": kept, "penalty": 3}) as r:
                    out["penalty"] = (r.status, await r.json())
                async with http.post(f"{base}/penalty", headers=sup,
                                     json={"queue": gone, "penalty": 3}) as r:
                    out["penalty_off_queue"] = r.status
                # The staffing resync keeps what the supervisor did.
                await backend.staffing.resync()
                out["after_resync"] = sorted(backend.staffing.logged_in[agent_id].queues)
                async with http.put(f"/api/users/{users['sup']}/phone", headers=sup,
                                    json={"phone": SUPERVISOR_PHONE}) as r:
                    out["phone_by_sup"] = r.status
                async with http.put(f"/api/users/{users['sup']}/phone", headers=admin,
                                    json={"phone": interface}) as r:
                    out["phone_agents"] = r.status
                async with http.put(f"/api/users/{users['sup']}/phone", headers=admin,
                                    json={"phone": SUPERVISOR_PHONE}) as r:
                    out["phone"] = r.status
                async with http.ws_connect("/api/ws", headers=sup) as ws:
                    boss = Console(ws, backend.deps.clock)
                    call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                          dialed="12345",
                                          script=CallerScript(keys="1", patience=300))
                    await boss.wait_for(lambda b: b["type"] == "floor.agent"
                                        and b["agent_id"] == agent_id
                                        and b["figures"]["state"] == "on_call")
                    boss.task.cancel()
                async with http.post(f"/api/agents/{agent_id}/supervise", headers=sup,
                                     json={"mode": "listen"}) as r:
                    out["listen"] = (r.status, await r.json())
                await asyncio.wait_for(call.done, 300)
                uniqueid = call.uniqueid
                db = backend.deps.db
                call_id = await db.run(lambda s: s.scalar(select(Call.id).where(
                    Call.uniqueid == uniqueid)))
                folder = backend.settings.recordings_dir
                folder.mkdir(parents=True, exist_ok=True)
                day = START.astimezone(backend.settings.tz).strftime("%Y%m%d")
                (folder / f"{day}-{uniqueid}.wav").write_bytes(b"RIFF" + b"\x00" * 40)
                async with http.get(f"/api/calls/{call_id}/recording", headers=agent) as r:
                    out["play_by_agent"] = r.status
                async with http.get(f"/api/calls/{call_id}/recording", headers=sup) as r:
                    out["play"] = (r.status, r.headers["Content-Type"], len(await r.read()))
                async with http.post(f"{base}/logoff", headers=sup) as r:
                    out["logoff"] = r.status
                async with http.post(f"{base}/logoff", headers=sup) as r:
                    out["logoff_again"] = r.status
                await asyncio.sleep(1)
                return out, list(seen), gone, kept
        finally:
            await backend.stop()
            await sim.stop()

    out, seen, gone, kept = run_simulated(main())
    assert out["move_by_agent"] == 403 and out["move_bad"] == 400
    status, body = out["move"]
    assert status == 200 and gone not in body["queues"]
    moves = [(e, h["Queue"]) for e, h in seen if h.get("Queue") == gone]
    assert moves == [("QueueMemberAdded", gone), ("QueueMemberRemoved", gone),
                     ("QueueMemberAdded", gone), ("QueueMemberRemoved", gone)]
    assert out["back"][0] == 200 and out["back"][1]["queues"][gone] == 4
    assert out["again"] == 200
    assert out["penalty"][0] == 200 and out["penalty"][1]["queues"][kept] == 3
    penalties = [h for e, h in seen if e == "QueueMemberPenalty"]
    assert [(h["Queue"], h["Penalty"]) for h in penalties] == [(kept, "3")]
    assert out["penalty_off_queue"] == 409
    assert gone not in out["after_resync"]
    assert (out["phone_by_sup"], out["phone_agents"], out["phone"]) == (403, 409, 200)
    assert out["listen"][0] == 202 and out["listen"][1]["phone"] == SUPERVISOR_PHONE
    spy = next(h for e, h in seen if e == "ChanSpyStart")
    assert spy["SpyerChannel"].startswith(SUPERVISOR_PHONE + "-")
    assert out["play_by_agent"] == 403
    assert out["play"] == (200, "audio/wav", 44)
    assert (out["logoff"], out["logoff_again"]) == (200, 409)
    assert ("QueueMemberRemoved", kept) in [(e, h.get("Queue")) for e, h in seen]

    db = Database(url)
    try:
        audit = db.call(lambda s: [a.action for a in s.scalars(select(AuditEntry))])
    finally:
        db.close()
    for action in ("move_queue", "set_penalty", "user_phone", "supervise_listen",
                   "recording_play", "force_logoff"):
        assert action in audit, action
