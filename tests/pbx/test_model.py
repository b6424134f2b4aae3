"""The PBX model against the stand-in, over real sockets (virtual time):
phones registering and going, learnt live and by resync; events lost in
a full queue repaired by one resync; member-name parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.clock import Clock, run_simulated
from core.settings import AmiTarget
from pbx import estimates
from pbx import model_events as me
from pbx.ami import AmiLink
from pbx.model import PbxModel
from pbxsim import CallerScript, PhoneBehaviour
from tests.pbxsim.helpers import SECRET, make_sim


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.2)
    await asyncio.wait_for(poll(), timeout)


def test_given_member_names_then_only_agents_have_numbers() -> None:
    assert me.agent_number("agent-1001") == "1001"
    assert me.agent_number("agent-") is None
    assert me.agent_number("PJSIP/1001") is None
    assert me.agent_number("supervisor-9") is None


def test_given_phones_register_and_go_then_events_live_and_after_resync() -> None:
    async def main() -> tuple[list[tuple[str, str]], dict[str, bool]]:
        sim = await make_sim()
        link = AmiLink(AmiTarget("127.0.0.1", sim.ami_port, "hotline", SECRET))
        model = PbxModel(link, Clock.for_running_loop())
        model.attach()
        seen: list[tuple[str, str]] = []
        for name in (me.PhoneRegistered.NAME, me.PhoneUnregistered.NAME):
            model.subscribe(name, lambda e: seen.append((e.NAME, e.endpoint))
                            if e.endpoint.startswith("10") else None)
        sim.add_phone("PJSIP/1001")  # before we connect: learnt by the first resync
        try:
            await link.start()
            await link.wait_ready(10)
            await until(lambda: model.resyncs >= 1)
            sim.add_phone("PJSIP/1002")  # live: ContactStatus, PeerStatus, DeviceStateChange
            sim.set_phone_behaviour("PJSIP/1001", PhoneBehaviour(registered=False))
            await asyncio.sleep(1)
            # While the link is down, 1002 goes and 1003 comes: only the resync tells.
            sim.drop_ami_connections()
            sim.stall_ami(5.0)
            sim.remove_phone("PJSIP/1002")
            sim.add_phone("PJSIP/1003")
            await asyncio.sleep(1)
            await link.wait_ready(60)
            await until(lambda: model.resyncs >= 2)
            return seen, {e: r for e, r in model.phones.items() if e.startswith("10")}
        finally:
            await model.close()
            await link.close()
            await sim.stop()

    seen, phones = run_simulated(main())
    assert seen == [("phone.registered", "1001"), ("phone.registered", "1002"),
                    ("phone.unregistered", "1001"),
                    ("phone.unregistered", "1002"), ("phone.registered", "1003")]
    assert phones == {"1001": False, "1002": False, "1003": True}


def test_given_events_dropped_in_a_full_queue_then_one_resync_repairs_the_model() -> None:
    async def main() -> tuple[int, int, set[str], set[str], set[str], set[str]]:
        sim = await make_sim()
        link = AmiLink(AmiTarget("127.0.0.1", sim.ami_port, "hotline", SECRET),
                       event_queue_size=8)
        model = PbxModel(link, Clock.for_running_loop())
        model.attach()
        gate = asyncio.Event()

        async def stuck(_event: me.CallEntered) -> None:
            await gate.wait()  # a consumer that stalls the dispatcher

        try:
            await link.start()
            await link.wait_ready(10)
            await until(lambda: model.resyncs >= 1)
            model.subscribe(me.CallEntered.NAME, stuck)
            # No FastAGI answers: the dialplan queues them in the general queue.
            for i in range(4):
                sim.place_call(caller_number=f"1380013800{i}", caller_name="张三",
                               dialed="12345", script=CallerScript(patience=3600))
            await until(lambda: link.events_dropped > 0)
            resyncs = model.resyncs
            gate.set()
            await until(lambda: model.resyncs > resyncs)
            await asyncio.sleep(2)
            waiting = {u for t in model.state.queues.values() for u in t.waiting}
            callers = {c.uniqueid for c in sim.channels.values() if c.app == "Queue"}
            return (link.events_dropped, model.resyncs - resyncs, set(model.state.channels),
                    {c.uniqueid for c in sim.channels.values()}, waiting, callers)
        finally:
            await model.close()
            await link.close()
            await sim.stop()

    dropped, resyncs, ours, theirs, waiting, callers = run_simulated(main())
    assert dropped > 0 and resyncs >= 1
    assert ours == theirs and len(callers) == 4
    assert waiting == callers


def test_given_bridge_events_then_the_model_knows_who_is_bridged_with_whom() -> None:
    from pbx.ami_protocol import AmiMessage
    from pbx.events import parse_event

    def event(name: str, uniqueid: str, **headers: str) -> AmiMessage:
        return AmiMessage.of({"Event": name, "Channel": f"PJSIP/x-{uniqueid}",
                              "Uniqueid": uniqueid, **headers})

    async def main() -> list[dict[str, list[str]]]:
        model = PbxModel(None, Clock.for_running_loop())
        seen = []
        for m in (event("Newchannel", "1.1"), event("Newchannel", "1.2"),
                  event("BridgeEnter", "1.1", BridgeUniqueid="b-1"),
                  event("BridgeEnter", "1.2", BridgeUniqueid="b-1")):
            await model.on_ami(parse_event(m))
        seen.append(model.state.bridges())
        await model.on_ami(parse_event(event("BridgeLeave", "1.2", BridgeUniqueid="b-1")))
        await model.on_ami(parse_event(event("Hangup", "1.1")))
        seen.append(model.state.bridges())
        return seen

    together, after = run_simulated(main())
    assert together == {"b-1": ["1.1", "1.2"]} and after == {}


def test_given_queue_events_then_figures_for_the_wait_estimate() -> None:
    from pbx.ami_protocol import AmiMessage
    from pbx.events import parse_event

    def member(name: str, interface: str, **headers: str) -> AmiMessage:
        return AmiMessage.of({"Event": "QueueMemberAdded", "Queue": "hotline-help",
                              "MemberName": name, "Interface": interface, "Status": "1",
                              "Paused": "0", "InCall": "0", **headers})

    async def main() -> tuple[int, int, float]:
        model = PbxModel(None, Clock.for_running_loop())
        for m in (member("agent-1001", "PJSIP/1001"),
                  member("agent-1002", "PJSIP/1002", Paused="1", PausedReason="break"),
                  member("agent-1003", "PJSIP/1003", Status="2", InCall="1"),
                  AmiMessage.of({"Event": "QueueCallerJoin", "Queue": "hotline-help",
                                 "Uniqueid": "1.1", "Position": "1"}),
                  AmiMessage.of({"Event": "QueueCallerJoin", "Queue": "hotline-help",
                                 "Uniqueid": "1.2", "Position": "2"}),
                  AmiMessage.of({"Event": "AgentConnect", "Queue": "hotline-help",
                                 "Uniqueid": "1.1", "MemberName": "agent-1001",
                                 "Interface": "PJSIP/1001", "HoldTime": "30"}),
                  AmiMessage.of({"Event": "QueueCallerJoin", "Queue": "hotline-help",
                                 "Uniqueid": "1.3", "Position": "2"}),
                  AmiMessage.of({"Event": "AgentConnect", "Queue": "hotline-help",
                                 "Uniqueid": "1.3", "MemberName": "agent-1003",
                                 "Interface": "PJSIP/1003", "HoldTime": "10"})):
            await model.on_ami(parse_event(m))
        return (estimates.callers_waiting(model.state, "hotline-help"),
                estimates.estimated_wait(model.state, "hotline-help"),
                model.state.queues["hotline-help"].holdtime)

    waiting, wait, holdtime = run_simulated(main())
    # 1.2 still waits; nobody is free (1001 and 1003 talk, 1002 paused): the next
    # caller is second in line over the two staffed members; holds 30 then 10,
    # weighted as app_queue does (a quarter each).
    assert waiting == 1
    assert holdtime == ((0 * 3 + 30) / 4 * 3 + 10) / 4
    assert wait == 2 * estimates.ASSUMED_HANDLE_SECONDS // 2
