"""The estimated wait, read from the backend's model of the queues (AMI events)."""

from __future__ import annotations

from pbx.ami_protocol import AmiMessage
from pbx.estimates import ASSUMED_HANDLE_SECONDS, callers_waiting, estimated_wait
from pbx.state import PbxState


def _state(*events: dict[str, str]) -> PbxState:
    state = PbxState()
    for e in events:
        state.apply(AmiMessage.of(e))
    return state


def _member(n: int, status: str = "1", paused: str = "0") -> dict[str, str]:
    return {"Event": "QueueMemberAdded", "Queue": "q", "Interface": f"PJSIP/100{n}",
            "MemberName": f"agent-100{n}", "Paused": paused, "Status": status}


def _join(uid: str, position: int) -> dict[str, str]:
    return {"Event": "QueueCallerJoin", "Queue": "q", "Uniqueid": uid,
            "Position": str(position)}


def test_given_a_free_member_and_nobody_waiting_when_estimated_then_no_wait():
    assert estimated_wait(_state(_member(1)), "q") == 0


def test_given_every_member_busy_when_estimated_then_the_calls_ahead_share_the_members():
    busy = [_member(1, status="2"), _member(2, status="2")]
    assert estimated_wait(_state(*busy), "q") == ASSUMED_HANDLE_SECONDS // 2
    state = _state(*busy, _join("1.1", 1), _join("1.2", 2))
    assert callers_waiting(state, "q") == 2
    assert estimated_wait(state, "q") == 3 * ASSUMED_HANDLE_SECONDS // 2


def test_given_paused_or_absent_members_when_estimated_then_they_do_not_count():
    state = _state(_member(1, status="2"), _member(2, paused="1"), _member(3, status="5"))
    assert estimated_wait(state, "q") == ASSUMED_HANDLE_SECONDS


def test_given_more_waiting_than_free_when_estimated_then_the_rest_wait():
    state = _state(_member(1), _member(2, status="2"), _join("1.1", 1), _join("1.2", 2))
    assert estimated_wait(state, "q") == 2 * ASSUMED_HANDLE_SECONDS // 2


def test_given_long_recent_holds_when_estimated_then_never_below_the_queues_hold_time():
    connects = [{"Event": "AgentConnect", "Queue": "q", "Uniqueid": f"2.{i}",
                 "Interface": "PJSIP/1001", "MemberName": "agent-1001", "HoldTime": "400"}
                for i in range(8)]
    state = _state(_member(1, status="2"), *connects)
    assert 300 < estimated_wait(state, "q") <= 400


def test_given_an_unknown_queue_when_estimated_then_one_assumed_call():
    assert estimated_wait(PbxState(), "nowhere") == ASSUMED_HANDLE_SECONDS
    assert callers_waiting(PbxState(), "nowhere") == 0
