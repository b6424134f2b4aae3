"""Typed AMI events, parsed from the Asterisk 22 transcripts."""

from __future__ import annotations

from pbx import ami_protocol
from pbx import events as ev
from pbx.ami_protocol import AmiMessage
from pbx.state import PbxState


def fixture_events(fixtures_dir, name: str) -> list[AmiMessage]:
    data = (fixtures_dir / "scenarios" / name).read_bytes()
    messages, _ = ami_protocol.parse(b"".join(ami_protocol.iter_transcript_received(data)))
    return [m for m in messages if m.is_event]


def test_given_three_calls_when_parsed_then_product_events_are_typed(fixtures_dir):
    typed = [ev.parse_event(m) for m in fixture_events(fixtures_dir, "three-calls.ami.raw")]
    by_name: dict[str, list[ev.AmiEvent]] = {}
    for e in typed:
        by_name.setdefault(e.name, []).append(e)
    join = by_name["QueueCallerJoin"][0]
    assert isinstance(join, ev.QueueCallerJoin)
    assert (join.caller_number, join.caller_name, join.queue, join.position) == (
        "13800138000", "张三", "hotline-help", 1)
    assert join.channel == "Local/12345@from-pstn-00000000;2" and join.uniqueid.endswith(".1")
    connect = by_name["AgentConnect"][0]
    assert isinstance(connect, ev.AgentConnect)
    assert (connect.member_name, connect.interface, connect.hold_time) == (
        "agent-1001", "Local/1001@agents/n", 0)
    assert connect.dest_channel == "Local/1001@agents-00000001;1"
    complete = by_name["AgentComplete"][0]
    assert isinstance(complete, ev.AgentComplete)
    assert (complete.talk_time, complete.reason) == (4, "agent")
    abandons = by_name["QueueCallerAbandon"]
    assert [a.hold_time for a in abandons] == [3, 0]  # type: ignore[attr-defined]
    pause = [e for e in by_name["QueueMemberPause"] if isinstance(e, ev.QueueMemberEvent)]
    assert pause[0].paused and pause[0].paused_reason == "meal"
    added = by_name["QueueMemberAdded"][1]
    assert isinstance(added, ev.QueueMemberEvent)
    assert (added.member_name, added.penalty, added.paused, added.state_interface) == (
        "agent-1002", 1, True, "Custom:agent-1002")
    hangup = by_name["Hangup"][0]
    assert isinstance(hangup, ev.Hangup) and (hangup.cause, hangup.cause_text) == (
        16, "Normal Clearing")
    assert isinstance(by_name["FullyBooted"][0], ev.FullyBooted)
    assert isinstance(by_name["DialBegin"][0], ev.DialEvent)
    assert isinstance(by_name["BridgeEnter"][0], ev.BridgeEvent)
    assert isinstance(by_name["OriginateResponse"][0], ev.OriginateResponse)


def test_given_untyped_event_then_passes_through_untouched(fixtures_dir):
    messages = fixture_events(fixtures_dir, "three-calls.ami.raw")
    newexten = next(m for m in messages if m.event == "Newexten")
    e = ev.parse_event(newexten)
    assert isinstance(e, ev.OtherEvent) and e.message is newexten


def test_varset_typed_only_for_our_variables():
    ours = AmiMessage.of({"Event": "VarSet", "Channel": "PJSIP/trunk-1", "Uniqueid": "1.1",
                          "Variable": "HOTLINE_QUEUE", "Value": "hotline-help"})
    theirs = AmiMessage.of({"Event": "VarSet", "Variable": "BRIDGEPEER", "Value": "x"})
    typed = ev.parse_event(ours)
    assert isinstance(typed, ev.VarSet) and (typed.variable, typed.value) == (
        "HOTLINE_QUEUE", "hotline-help")
    assert isinstance(ev.parse_event(theirs), ev.OtherEvent)


def test_garbled_numbers_and_unknown_caller_become_defaults():
    m = AmiMessage.of({"Event": "QueueCallerAbandon", "HoldTime": "soon",
                       "CallerIDNum": "<unknown>", "Uniqueid": "1.2"})
    e = ev.parse_event(m)
    assert isinstance(e, ev.QueueCallerAbandon) and e.hold_time == 0 and e.caller_number == ""


def _list(action: str, items: list[dict[str, str]]) -> ev.ListResult:
    return ev.ListResult(action, AmiMessage.of({"Response": "Success"}),
                         items=[ev.parse_event(AmiMessage.of(i)) for i in items])


def test_given_resync_lists_then_state_replaces_members_waiting_and_channels():
    state = PbxState()
    for m in [
        {"Event": "Newchannel", "Uniqueid": "1.1", "Channel": "PJSIP/trunk-1"},
        {"Event": "Newchannel", "Uniqueid": "1.2", "Channel": "PJSIP/trunk-2"},
        {"Event": "QueueCallerJoin", "Uniqueid": "1.1", "Queue": "q", "Position": "1"},
        {"Event": "QueueMemberAdded", "Queue": "q", "Interface": "PJSIP/1001",
         "MemberName": "agent-1001", "Paused": "0"},
        {"Event": "QueueMemberAdded", "Queue": "q", "Interface": "PJSIP/1002",
         "MemberName": "agent-1002", "Paused": "0"},
    ]:
        state.apply(AmiMessage.of(m))
    # While we were away: 1.1 left, 1.2 is now waiting, 1002 is gone, 1001 paused.
    state.apply(_list("QueueStatus", [
        {"Event": "QueueParams", "Queue": "q"},
        {"Event": "QueueMember", "Queue": "q", "Name": "agent-1001", "Location": "PJSIP/1001",
         "Paused": "1", "PausedReason": "meal", "Status": "1"},
        {"Event": "QueueEntry", "Queue": "q", "Position": "1", "Uniqueid": "1.2"},
    ]))
    state.apply(_list("CoreShowChannels", [
        {"Event": "CoreShowChannel", "Uniqueid": "1.2", "Channel": "PJSIP/trunk-2",
         "ChannelStateDesc": "Up", "Application": "Queue"},
    ]))
    live = state.live()
    assert live["channels_up"] == 1 and "1.1" in state.ended
    assert live["queues"]["q"]["waiting"] == 1 and state.queues["q"].waiting == {"1.2": 1}
    assert list(live["members"]) == ["q/PJSIP/1001"]
    assert live["members"]["q/PJSIP/1001"]["paused"] is True
    # A late Hangup of 1.1 or a duplicate Newchannel changes nothing.
    state.apply(AmiMessage.of({"Event": "Newchannel", "Uniqueid": "1.1"}))
    assert state.live() == live


def test_given_a_long_run_then_totals_count_every_call_once_in_bounded_memory():
    from pbx.state import Recent, WaitTotals

    state = PbxState(ended=Recent(50), taken_seen=Recent(50))
    totals = state.queue("q")
    totals.entered_seen = Recent(50)
    totals.answered, totals.abandoned = WaitTotals(seen=Recent(50)), WaitTotals(seen=Recent(50))
    for n in range(1000):
        uid = f"9.{n}"
        events = [{"Event": "Newchannel", "Uniqueid": uid, "Channel": f"PJSIP/trunk-{n}"},
                  {"Event": "QueueCallerJoin", "Uniqueid": uid, "Queue": "q", "Position": "1"}]
        if n % 4:
            connect = {"Event": "AgentConnect", "Uniqueid": uid, "Queue": "q",
                       "MemberName": "agent-1001", "Interface": "PJSIP/1001",
                       "HoldTime": str(n % 7)}
            events += [connect, connect]  # a duplicate report counts once
        else:
            events.append({"Event": "QueueCallerAbandon", "Uniqueid": uid, "Queue": "q",
                           "HoldTime": "30"})
        events += [{"Event": "Hangup", "Uniqueid": uid},
                   {"Event": "Newchannel", "Uniqueid": uid}]  # late duplicate: ignored
        for m in events:
            state.apply(AmiMessage.of(m))
    q = state.summary()["queues"]["q"]
    answered = [n % 7 for n in range(1000) if n % 4]
    assert (q["entered"], q["answered"], q["abandoned"]) == (1000, 750, 250)
    assert (q["answer_wait_total"], q["answer_wait_max"]) == (sum(answered), 6)
    assert (q["abandon_wait_total"], q["abandon_wait_max"]) == (250 * 30, 30)
    assert state.summary()["calls_taken"] == {"agent-1001": 750}
    assert state.live()["channels_up"] == 0
    # What recognises duplicates is a window, not every call since the start.
    assert len(state.ended) == 50 and "9.999" in state.ended and "9.0" not in state.ended
    assert max(len(totals.entered_seen), len(totals.answered.seen), len(state.taken_seen)) <= 50


def test_recent_forgets_the_oldest_key_first():
    from pbx.state import Recent

    recent = Recent(2)
    assert recent.add("a") and recent.add("b") and not recent.add("a")
    assert recent.add("c")  # "b" was the least recently seen
    assert "a" in recent and "c" in recent and "b" not in recent and len(recent) == 2
