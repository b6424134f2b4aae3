"""Hostile input: a flood at the FastAGI port, caller ids built to break
things, and AMI events duplicated and reordered before the call tracker."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiohttp

import pbxsim.agi_client as agi_client
import pbxsim.ami_server as ami_server
from core.clock import run_simulated
from pbx import ami_protocol
from tests.faults.stack import on_stack, records, until


async def _flood(port: int) -> list[asyncio.StreamWriter]:
    """100 connect-and-close clients, 1 MB of garbage, one stalled mid-header."""
    for _ in range(100):
        _r, w = await asyncio.open_connection("127.0.0.1", port)
        w.close()
    _r, garbage = await asyncio.open_connection("127.0.0.1", port)
    garbage.write(bytes(random.Random(1).getrandbits(8) for _ in range(1 << 20)))
    _r, stalled = await asyncio.open_connection("127.0.0.1", port)
    stalled.write(b"agi_network: yes\nagi_request: agi://127.0.0.1/ivr\nagi_chan")
    return [garbage, stalled]


def test_given_fastagi_flood_then_call_served_and_ami_and_http_unaffected(tmp_path: Path):
    async def body(st):
        backend = st.backend
        held = await _flood(backend.fastagi.port)
        call = st.call(keys="2", key_delay=1.0, patience=300)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
            async with http.get("/healthz") as r:
                health = r.status
        pong = await backend.deps.ami.send("Ping")
        await until(lambda: call.happened("left queue"), 120)
        connected = backend.deps.ami.connected
        # The call is queued within seconds now: let the stalled header
        # reach its deadline before it is closed.
        await until(lambda: backend.fastagi.status()["bad_requests"] >= 2, 30)
        for w in held:
            w.close()
        await asyncio.wait_for(call.done, 120)
        await asyncio.sleep(2)
        return call.uniqueid, health, pong.ok, connected, backend.fastagi.status()

    (uniqueid, health, pong, connected, fastagi), url, _agent = on_stack(tmp_path, body)
    assert health == 200 and pong and connected
    assert fastagi["bad_requests"] >= 2  # the garbage and the stalled header
    [rec] = records(url, [uniqueid])
    assert rec["outcome"] == "answered" and rec["queue"] == "hotline-complaint"
    assert rec["order"] == "draft" and rec["ended"]


NAMES = {
    "13800000001": ("张三丰" * 10, "张三丰" * 10),  # split across TCP segments
    "13800000002": ('"Boss" <x> \\ \'q\'', '"Boss" <x> \\ \'q\''),
    "13800000003": ("x\r\nAction: Originate\r\nChannel: PJSIP/evil", None),
    "13800000004": ("长" * 200, "长" * 200),
}


def test_given_hostile_caller_ids_then_stored_intact_and_nothing_injected(
        tmp_path: Path, monkeypatch):
    actions: list[str] = []
    agi_lines: list[str] = []
    real_action, real_agi = ami_server.handle_action, agi_client.AgiSession.handle

    async def record_action(session, message):  # type: ignore[no-untyped-def]
        actions.append(message.get("Action") or "")
        return await real_action(session, message)

    async def record_agi(self, line):  # type: ignore[no-untyped-def]
        agi_lines.append(line)
        return await real_agi(self, line)

    monkeypatch.setattr(ami_server, "handle_action", record_action)
    monkeypatch.setattr(agi_client.AgiSession, "handle", record_agi)

    async def body(st):
        items = list(NAMES.items())
        # 7-byte segments split the 3-byte characters of the first caller's
        # name (and everything else) across reads while that call lasts.
        st.sim.fragment_ami(7)
        first = st.call(items[0][0], items[0][1][0], keys="1", key_delay=1.0, patience=5)
        await asyncio.wait_for(first.done, 300)
        st.sim.fragment_ami(0)
        calls = [first] + [st.call(number, name, keys="1", key_delay=1.0, patience=5)
                           for number, (name, _stored) in items[1:]]
        await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), 600)
        await asyncio.sleep(2)
        return [c.uniqueid for c in calls]

    uniqueids, url, _agent = on_stack(tmp_path, body)
    recs = records(url, uniqueids)
    for rec, (number, (sent, stored)) in zip(recs, NAMES.items(), strict=True):
        assert rec["caller_number"] == number and rec["ended"]
        if stored is not None:
            assert rec["caller_name"] == stored
        else:  # AMI cannot carry a line break: it arrives as spaces, nothing more
            assert rec["caller_name"] == sent.replace("\r", " ").replace("\n", " ")
    assert "Originate" not in actions and set(actions) <= {
        "Login", "Ping", "QueueAdd", "QueueStatus", "CoreShowChannels", "DeviceStateList",
        "QueueSummary",
        "QueuePause", "QueueRemove", "Logoff"}
    assert all("\n" not in line and "\r" not in line for line in agi_lines)
    assert not any(line.split(" ", 1)[0].upper() in ("ACTION:", "CHANNEL:") for line in agi_lines)


def test_given_duplicated_and_reordered_events_then_same_call_records(tmp_path: Path,
                                                                       fixtures_dir):
    from calls.followups import CallFollowUps
    from calls.tracking import CallTracker
    from core.bus import EventBus
    from core.clock import Clock
    from core.db import Database
    from hotline.app import Backend  # noqa: F401  (the app's tables are all imported)
    from hotline.deps import Deps
    from pbx import events as ev
    from pbx.model import PbxModel
    from routing.menu import RoutingTable
    from tests.faults.stack import START
    from worksheets.calendar_store import SharedCalendar
    from worksheets.service import follow_calls

    data = (fixtures_dir / "scenarios" / "three-calls.ami.raw").read_bytes()
    messages, _ = ami_protocol.parse(b"".join(ami_protocol.iter_transcript_received(data)))
    events = [ev.parse_event(m) for m in messages if m.is_event]
    lanes: dict[str, list[ev.AmiEvent]] = {}
    for e in events:
        lanes.setdefault(getattr(e, "uniqueid", "") or e.name, []).append(e)
    rng = random.Random(12345)
    mixed: list[ev.AmiEvent] = []
    pending = [list(v) for v in lanes.values()]
    while pending:  # another order across channels, each channel's kept; all twice
        lane = rng.choice(pending)
        e = lane.pop(0)
        mixed += [e, e]
        if not lane:
            pending.remove(lane)

    def feed(stream: list[ev.AmiEvent], name: str) -> list[dict[str, object]]:
        url = f"sqlite:///{tmp_path / name}"
        from tests.helpers import prepare_database
        prepare_database(url, START)

        async def main() -> None:
            db = Database(url)
            deps = Deps(settings=None, db=db, clock=Clock.for_running_loop(START),  # type: ignore[arg-type]
                        routing=await db.run(RoutingTable.load), bus=EventBus(),
                        calendar=SharedCalendar())
            model = PbxModel(None, deps.clock)
            CallTracker(deps, follow_calls(CallFollowUps())).follow(model)
            for e in stream:
                await model.on_ami(e)
            db.close()

        run_simulated(main())
        uids = sorted({e.uniqueid for e in events if isinstance(e, ev.QueueCallerJoin)})
        return records(url, uids)

    straight, shuffled = feed(events, "a.db"), feed(mixed, "b.db")
    assert straight == shuffled
    assert [r["outcome"] for r in straight] == ["answered", "abandoned", "abandoned"]
    assert straight[0]["order"] == "draft" and straight[1]["callback"]
