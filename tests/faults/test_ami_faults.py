"""The PBX link under faults injected by the stand-in: a socket killed
mid-call, a peer that stops answering, a restart in the middle of traffic.
Every call still ends with a correct record (and work order or callback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pbxsim import PhoneBehaviour
from tests.faults.stack import on_stack, records, until


def test_given_ami_killed_while_caller_rings_then_resync_records_the_answer(tmp_path: Path):
    async def body(st):
        link = st.backend.deps.ami
        call = st.call(keys="2", key_delay=1.0, patience=300)
        await until(lambda: call.happened("queued"))
        # The socket dies and the PBX stays unreachable while the agent
        # answers: AgentConnect is never seen.
        st.sim.drop_ami_connections()
        st.sim.stall_ami(8.0)
        await until(lambda: call.happened("left queue"), 60)
        assert not link.connected
        await link.wait_ready(60)
        await asyncio.wait_for(call.done, 120)
        await asyncio.sleep(2)
        return call.uniqueid, link.reconnects, call.outcome

    (uniqueid, reconnects, outcome), url, agent = on_stack(tmp_path, body)
    assert reconnects >= 1 and outcome == "connected"
    [rec] = records(url, [uniqueid])
    assert rec["outcome"] == "answered" and rec["member"] == agent[2]
    assert rec["order"] == "draft" and rec["ended"] and not rec["callback"]


def test_given_ami_killed_while_talking_and_hangup_missed_then_closed_after_resync(
        tmp_path: Path):
    async def body(st):
        call = st.call(keys="2", key_delay=1.0, patience=300)
        await until(lambda: call.happened("left queue"))
        await asyncio.sleep(5)
        st.sim.drop_ami_connections()
        st.sim.stall_ami(10.0)  # the call ends while we are deaf
        await asyncio.wait_for(call.done, 120)
        await st.backend.deps.ami.wait_ready(60)
        await asyncio.sleep(2)
        return call.uniqueid

    uniqueid, url, _agent = on_stack(tmp_path, body,
                                     PhoneBehaviour(answer_after=1.0, talk_seconds=10))
    [rec] = records(url, [uniqueid])
    assert rec["outcome"] == "answered" and rec["order"] == "draft" and rec["ended"]


def test_given_silent_ami_peer_then_detected_and_reconnected(tmp_path: Path):
    async def body(st):
        link = st.backend.deps.ami
        loop = asyncio.get_running_loop()
        st.sim.stall_ami(45.0)  # the peer stops answering, the socket stays open
        start = loop.time()
        await until(lambda: not link.connected, 60, 0.25)
        detected = loop.time() - start
        await link.wait_ready(120)
        call = st.call(keys="1", key_delay=1.0, patience=300)
        await asyncio.wait_for(call.done, 300)
        await asyncio.sleep(2)
        return detected, link.reconnects, call.uniqueid

    (detected, reconnects, uniqueid), url, _agent = on_stack(tmp_path, body)
    assert detected <= 31.0  # a ping sent up to 10 s after the stall, unanswered for 20 s
    assert reconnects >= 1
    [rec] = records(url, [uniqueid])
    assert rec["outcome"] == "answered" and rec["ended"]


def test_given_pbx_restart_mid_traffic_then_no_call_lost_from_records(tmp_path: Path):
    async def body(st):
        talking = st.call("13800138001", "甲", keys="2", key_delay=1.0, patience=600)
        await until(lambda: talking.happened("left queue"))
        waiting = st.call("13800138002", "乙", keys="2", key_delay=1.0, patience=600)
        await until(lambda: waiting.happened("queued"))
        in_ivr = st.call("13800138003", "丙", keys="", hangup_in_ivr_after=None)
        await asyncio.sleep(3)
        # Asterisk crashes and comes back: no Hangup reaches us.
        st.sim.drop_ami_connections()
        await st.sim.restart()
        await st.backend.deps.ami.wait_ready(60)
        await asyncio.sleep(5)
        live = st.backend.deps.pbx.live()
        return [c.uniqueid for c in (talking, waiting, in_ivr)], live

    (uniqueids, live), url, agent = on_stack(tmp_path, body)
    talking, waiting, in_ivr = records(url, uniqueids)
    assert all(r["ended"] for r in (talking, waiting, in_ivr))
    assert talking["outcome"] == "answered" and talking["order"] == "draft"
    assert waiting["outcome"] == "abandoned" and waiting["callback"]
    assert in_ivr["outcome"] == "ivr_hangup" and in_ivr["order"] is None
    # The published live view was corrected: no channel survives a restart,
    # and the agent is back on the queues (staffing resync).
    assert live["channels_up"] == 0
    assert any(m["name"] == agent[2] for m in live["members"].values())


def test_given_garbage_on_the_ami_stream_mid_call_then_reconnect_and_record_complete(
        tmp_path: Path):
    """Junk lines, an invalid UTF-8 block and an oversized message arrive while a
    caller waits: the backend drops the stream, reconnects, resyncs from the
    PBX's state, and the call's record still comes out whole."""
    from pbx.ami_protocol import MAX_MESSAGE_BYTES

    async def body(st):
        link = st.backend.deps.ami
        call = st.call(keys="2", key_delay=1.0, patience=300)
        await until(lambda: call.happened("queued"))
        reconnects = link.reconnects
        st.sim.inject_ami(b"junk line\r\n\xff\xfe not utf-8\r\n\r\n")
        await until(lambda: link.reconnects > reconnects, 60)
        await link.wait_ready(60)
        st.sim.inject_ami(b"Event: Huge\r\nData: " + b"x" * (MAX_MESSAGE_BYTES + 1))
        await until(lambda: link.reconnects > reconnects + 1, 60)
        await link.wait_ready(60)
        await asyncio.wait_for(call.done, 120)
        await asyncio.sleep(2)
        return call.uniqueid, link.reconnects - reconnects, call.outcome

    (uniqueid, reconnects, outcome), url, agent = on_stack(tmp_path, body)
    assert reconnects >= 2 and outcome == "connected"
    [rec] = records(url, [uniqueid])
    assert rec["outcome"] == "answered" and rec["member"] == agent[2]
    assert rec["order"] == "draft" and rec["ended"] and not rec["callback"]
