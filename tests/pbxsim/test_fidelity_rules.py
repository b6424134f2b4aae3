"""The fidelity comparison's own rules (tests/pbxsim/fidelity.py), on
hand-made streams: they must see what they exist to see."""

from __future__ import annotations

from tests.pbxsim import fidelity as F


def stream(*messages: str) -> bytes:
    return ("Asterisk Call Manager/11.0.0\r\n"
            + "".join(m.replace("\n", "\r\n") + "\r\n\r\n" for m in messages)).encode()


A_ENTER = "Event: Newchannel\nChannel: PJSIP/trunk-00000001\nLinkedid: 1.1"
A_QUEUE = "Event: QueueCallerJoin\nChannel: PJSIP/trunk-00000001\nLinkedid: 1.1"
B_ENTER = "Event: Newchannel\nChannel: PJSIP/trunk-00000002\nLinkedid: 1.2"
DEVICE = "Event: DeviceStateChange\nDevice: PJSIP/1001\nState: INUSE"


def test_wire_messages_keep_values_as_sent():
    [banner, msg] = F.wire_messages(stream("Event: X\nCallerIDName:  张 三 \nAccountCode: "))
    assert banner.headers == [("Banner", "Asterisk Call Manager/11.0.0")]
    assert msg.headers == [("Event", "X"), ("CallerIDName", " 张 三 "), ("AccountCode", "")]


def test_fixture_received_drops_what_the_client_sent():
    messages = F.fixture_received("three-calls")
    assert messages[0].get("Banner", "").startswith("Asterisk Call Manager/")
    assert not any(m.get("Action") for m in messages)
    assert len(messages) == 279


def test_given_two_calls_swapped_then_order_problem():
    want = F.wire_messages(stream(A_ENTER, B_ENTER, A_QUEUE))
    got = F.wire_messages(stream(B_ENTER, A_ENTER, A_QUEUE))
    [problem] = F.order_problems(want, got)
    assert "PJSIP/trunk-00000001" in problem and "PJSIP/trunk-00000002" in problem
    assert F.order_problems(want, want) == []


def test_given_device_state_or_a_named_tie_then_no_order_problem():
    want = F.wire_messages(stream(A_ENTER, DEVICE, B_ENTER))
    got = F.wire_messages(stream(DEVICE, B_ENTER, A_ENTER))
    [problem] = F.order_problems(want, got)  # only A before B counts
    assert "Newchannel" in problem
    tie = frozenset({("Channel PJSIP/trunk-00000001", "Channel PJSIP/trunk-00000002")})
    assert F.order_problems(want, got, ties=tie) == []


def test_durations_compared_within_one_second():
    def connect(hold: str, talk: str) -> list:
        return F.wire_messages(stream(
            f"Event: AgentComplete\nChannel: PJSIP/trunk-1\nHoldTime: {hold}\nTalkTime: {talk}",
            f"Event: VarSet\nChannel: PJSIP/trunk-1\nVariable: ANSWEREDTIME_MS\nValue: {talk}000"))

    assert F.duration_problems(connect("3", "20"), connect("4", "19")) == []
    problems = F.duration_problems(connect("3", "20"), connect("5", "22"))
    assert [p.split("] ")[1] for p in problems] == [
        "#0 AgentComplete HoldTime: fixture 3.0, stand-in 5.0",
        "#0 AgentComplete TalkTime: fixture 20.0, stand-in 22.0",
        "#1 VarSet ANSWEREDTIME_MS: fixture 20.0, stand-in 22.0",
    ]
