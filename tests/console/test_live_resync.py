"""A console that stops reading is disconnected with a reason, and when it
comes back it shows the current state: a snapshot, then what it missed,
then what happens next.  The built-in PBX and the backend over real
sockets, on virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from core.clock import run_simulated
from core.live_events import TranscriptReady
from tests.console.raw_ws import StallingConsole
from tests.e2e.test_call_path import START, on_duty_agent
from tests.helpers import PASSWORD, prepare_database, start_stack

WORDS = "路灯坏了，晚上很黑，请尽快修理。" * 60  # ~1 KB of UTF-8 per event


async def token(http: aiohttp.ClientSession, username: str) -> str:
    async with http.post("/api/login", json={"username": username, "password": PASSWORD}) as r:
        assert r.status == 200
        return str((await r.json())["token"])


async def follow(ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]]) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            into.append(msg.json())


async def until(predicate: Any, what: str) -> None:
    """Wait for something the test caused (bounded, in virtual time)."""
    async with asyncio.timeout(120):
        while not predicate():
            await asyncio.sleep(0.05)


def test_given_a_console_that_stops_reading_then_closed_with_reason_and_resumes_current(
        database_url, tmp_path):
    prepare_database(database_url, START)
    agent_id, _interface, _member = on_duty_agent(database_url)

    async def main() -> dict[str, Any]:
        sim, backend = await start_stack(database_url, tmp_path, START)
        bus = backend.deps.bus
        out: dict[str, Any] = {}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup, agent = await token(http, "sup"), await token(http, "oncall")
                auth = {"Authorization": f"Bearer {sup}"}
                stalled = await StallingConsole.connect(backend.http_port, sup)
                assert (await stalled.message())["type"] == "hello"
                first = await stalled.message()
                assert first["type"] == "snapshot" and first["replay"] is False
                stalled.stop_reading()
                healthy_seen: list[dict[str, Any]] = []
                healthy = await http.ws_connect("/api/ws", headers=auth)
                follower = asyncio.create_task(follow(healthy, healthy_seen))

                # Transcripts stream in; one console keeps up, the other does not.
                flood = 0
                while bus.dropped == 0 and flood < 5000:
                    flood += 1
                    bus.publish(TranscriptReady(
                        uniqueid=f"flood-{flood}", call_id=None, order_id=None, agent_id=None,
                        kind="description", text=WORDS, final=False, transcript_id=flood,
                        seconds_audio=1.0))
                    await asyncio.sleep(0.01)
                out["flood"], out["dropped"] = flood, bus.dropped
                await until(lambda: sum(e["type"] == "transcript.ready"
                                        for e in healthy_seen) == flood, "healthy console")

                # While it is away, the agent joins the queues and the PBX says so.
                async with http.post("/api/agent/queues/login",
                                     headers={"Authorization": f"Bearer {agent}"}) as r:
                    assert r.status == 200, await r.text()
                await until(lambda: any(e["type"] == "agent.state" and e["agent_id"] == agent_id
                                        for e in healthy_seen), "agent state")
                # agent.login is published when the last QueueAdd is answered: on a
                # loaded machine after the state the PBX's events gave.
                await until(lambda: any(e["type"] == "agent.login" for e in healthy_seen),
                            "agent login")
                login_seq = next(e["seq"] for e in healthy_seen if e["type"] == "agent.login")

                stalled.resume_reading()
                got, code, reason = await asyncio.wait_for(stalled.rest_until_close(), 60)
                stalled.close()
                last = max(e["seq"] for e in got)
                out["stalled"] = {"code": code, "reason": reason, "last": last,
                                  "login_seq": login_seq}

                # It comes back where it left off.
                back = await http.ws_connect(
                    f"/api/ws?stream={first['stream']}&after={last}", headers=auth)
                assert (await back.receive_json(timeout=30))["type"] == "hello"
                snapshot = await back.receive_json(timeout=30)
                missed = []
                while len(missed) < snapshot["seq"] - last:
                    missed.append(await back.receive_json(timeout=30))
                # ... and sees what happens next.
                async with http.post("/api/agent/pause", json={"paused": True, "reason": "break"},
                                     headers={"Authorization": f"Bearer {agent}"}) as r:
                    assert r.status == 200, await r.text()
                later = await back.receive_json(timeout=30)
                while later["type"] != "agent.pause":
                    later = await back.receive_json(timeout=30)
                out.update(snapshot=snapshot, missed=missed, later=later,
                           healthy_open=not healthy.closed)

                # A console from another stream (another instance, a restart) gets a
                # fresh snapshot, never a replay of numbers that mean something else.
                other = await http.ws_connect("/api/ws?stream=elsewhere&after=3", headers=auth)
                await other.receive_json(timeout=30)
                out["other"] = await other.receive_json(timeout=30)
                await asyncio.gather(back.close(), other.close(), healthy.close())
                follower.cancel()
        finally:
            await backend.stop()
            await sim.stop()
        return out

    out = run_simulated(main())
    assert out["dropped"] == 1 and out["flood"] < 5000, out["flood"]
    stalled = out["stalled"]
    assert stalled["code"] == 1013 and stalled["reason"].startswith("fell behind"), stalled
    assert stalled["last"] < stalled["login_seq"]  # it missed the agent joining
    snapshot = out["snapshot"]
    assert snapshot["type"] == "snapshot" and snapshot["replay"] is True
    # The current state: the agent is on the queues, available ...
    [me] = [a for a in snapshot["state"]["agents"] if a["agent_id"] == agent_id]
    assert me["state"] == "available" and me["queues"]
    assert any(m["name"] == me["member"] for m in snapshot["state"]["pbx"]["members"].values())
    # ... every event it missed, in order, none twice (a supervisor sees them all) ...
    seqs = [e["seq"] for e in out["missed"]]
    assert seqs == list(range(stalled["last"] + 1, snapshot["seq"] + 1))
    assert any(e["type"] == "agent.login" for e in out["missed"])
    # ... and what came after the snapshot.
    assert out["later"]["seq"] > snapshot["seq"] and out["later"]["paused"] is True
    assert out["healthy_open"]
    assert out["other"]["replay"] is False and out["other"]["state"]["agents"]
