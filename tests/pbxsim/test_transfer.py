"""AMI BlindTransfer and Redirect of a bridged caller on the stand-in, driven
by the backend's named commands (pbx.commands) over real sockets, as
Asterisk 22 does them (manager.c action_blind_transfer and action_redirect,
bridge.c ast_bridge_transfer_blind, app_queue.c handle_blind_transfer):
the caller leaves the queue's bridge for the target, the agent's leg is
hung up, AgentComplete says ``transfer``; manager.c's refusals word for word."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import Clock, run_simulated
from core.settings import AmiTarget
from pbx.ami import AmiLink
from pbx.commands import AmiError
from pbx.model import PbxModel
from pbxsim import CallerScript, PhoneBehaviour
from tests.pbxsim.helpers import SECRET, make_sim, record_events

AGENT = "PJSIP/1001"


async def _bridged_call(sim, model):
    """A caller in the general queue answered by AGENT: (call, caller, agent leg)."""
    sim.add_phone(AGENT, PhoneBehaviour(answer_after=1.0, talk_seconds=3600))
    await model.commands.queue_add("hotline-general", AGENT, "agent-1001")
    call = sim.place_call(caller_number="13800138000", caller_name="张三", dialed="12345",
                          script=CallerScript(patience=3600))
    while not any(c.bridge is not None for c in sim.channels.values()):
        await asyncio.sleep(0.5)
    caller = next(c for c in sim.channels.values() if c.name.startswith("PJSIP/trunk"))
    leg = next(c for c in sim.channels.values() if c.name.startswith(AGENT + "-"))
    return call, caller, leg


def _run(body):
    async def main():
        sim = await make_sim()
        events = record_events(sim)
        link = AmiLink(AmiTarget("127.0.0.1", sim.ami_port, "hotline", SECRET))
        model = PbxModel(link, Clock.for_running_loop())
        model.attach()
        try:
            await link.start()
            await link.wait_ready(10)
            return await body(sim, model), events
        finally:
            await model.close()
            await link.close()
            await sim.stop()

    return run_simulated(main())


def test_a_blind_transfer_moves_the_caller_to_another_queue_and_ends_the_agents_leg():
    async def body(sim, model):
        refusals = []
        with pytest.raises(AmiError) as refused:
            await model.commands.blind_transfer("PJSIP/nobody-00000001", "transfer-queue",
                                                "hotline-complaint")
        refusals.append(refused.value.message)
        call, caller, leg = await _bridged_call(sim, model)
        await asyncio.sleep(5)
        with pytest.raises(AmiError) as refused:
            await model.commands.blind_transfer(leg.name, "transfer-queue", "")
        refusals.append(refused.value.message)
        bridged_peer = model.bridged_with(caller.uniqueid)
        await model.commands.blind_transfer(leg.name, "transfer-queue", "hotline-complaint")
        await asyncio.sleep(5)
        where = (caller.gone, caller.app, len(sim.queues.queues["hotline-complaint"].entries))
        with pytest.raises(AmiError) as refused:  # no longer in a bridge
            await model.commands.blind_transfer(caller.name, "transfer-queue", "hotline-help")
        refusals.append(refused.value.message)
        caller.request_hangup(16)
        await asyncio.wait_for(call.done, 60)
        await asyncio.sleep(1)
        return refusals, bridged_peer, leg, caller, where

    (refusals, bridged_peer, leg, caller, where), events = _run(body)
    assert refusals == ["Channel specified does not exist", "No extension specified",
                        "Transfer invalid"]
    assert bridged_peer == [leg.name]
    gone, app, entries = where
    assert not gone and app == "Queue" and entries == 1
    names = [n for n, h in events if n in ("BlindTransfer", "AgentComplete", "BridgeLeave",
                                           "BridgeDestroy", "QueueCallerJoin")
             or (n == "Hangup" and h.get("Uniqueid") == leg.uniqueid)]
    start = names.index("BlindTransfer")
    assert names[start:start + 6] == ["BlindTransfer", "AgentComplete", "BridgeLeave",
                                      "BridgeLeave", "BridgeDestroy", "Hangup"]
    assert names[start + 6] == "QueueCallerJoin"
    transfer = next(h for n, h in events if n == "BlindTransfer" and h["Result"] == "Success")
    assert transfer["TransfererChannel"] == leg.name
    assert transfer["TransfereeChannel"] == caller.name
    assert transfer["IsExternal"] == "Yes" and transfer["Context"] == "transfer-queue"
    assert transfer["Extension"] == "hotline-complaint" and transfer["BridgeUniqueid"]
    complete = next(h for n, h in events if n == "AgentComplete")
    assert complete["Reason"] == "transfer"
    joined = [h["Queue"] for n, h in events if n == "QueueCallerJoin"]
    assert joined == ["hotline-general", "hotline-complaint"]
    failed = [h["Result"] for n, h in events if n == "BlindTransfer"]
    assert failed == ["Success", "Invalid"]  # bridge.c publishes the failure too


def test_a_redirected_bridged_caller_leaves_the_bridge_and_the_agents_leg_hangs_up():
    async def body(sim, model):
        call, caller, leg = await _bridged_call(sim, model)
        await asyncio.sleep(5)
        await model.commands.redirect(caller.name, "transfer-queue", "hotline-help")
        await asyncio.sleep(5)
        where = (caller.gone, caller.app, leg.gone)
        caller.request_hangup(16)
        await asyncio.wait_for(call.done, 60)
        await asyncio.sleep(1)
        return where, leg

    (where, leg), events = _run(body)
    assert where == (False, "Queue", True)
    joined = [h["Queue"] for n, h in events if n == "QueueCallerJoin"]
    assert joined == ["hotline-general", "hotline-help"]
    complete = next(h for n, h in events if n == "AgentComplete")
    assert complete["Reason"] == "agent"  # the member's leg hung up; the caller went on
