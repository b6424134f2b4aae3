"""The live event bus: audiences denied by default, numbering, the replay
ring's limit, and a lost event between instances restarting the stream."""

from __future__ import annotations

import json

import pytest

from core.bus import FELL_BEHIND, STREAM_RESTARTED, EventBus, SubscriptionClosed
from core.events import Audience, LiveEvent, from_wire, live_event
from core.live_events import CallQueued, RotaChanged, StaffingAlert
from core.pg_relay import PgRelay


class Viewer:
    def __init__(self, role: str, agent_id: int | None = None,
                 department_id: int | None = None) -> None:
        self.role, self.agent_id, self.department_id = role, agent_id, department_id


@live_event
class Forgotten(LiveEvent):
    """An event whose author declared no audience."""

    KIND = "test.forgotten"
    detail: str


def test_given_an_event_without_audience_then_nobody_sees_it() -> None:
    event = Forgotten(detail="x")
    for viewer in (Viewer("admin"), Viewer("supervisor"), Viewer("agent", 1),
                   Viewer("department", department_id=1)):
        assert not event.audience().admits(viewer)


def test_given_an_agent_login_linked_to_no_agent_then_no_agent_event_matches_it() -> None:
    assert not Audience(agent_id=None).admits(Viewer("agent", None))
    assert not Audience(department_id=None).admits(Viewer("department", None, None))
    assert not Audience(agent_id=7).admits(Viewer("department", 7, 7))


def test_given_alert_when_encoded_for_another_instance_then_same_event() -> None:
    alert = StaffingAlert(alert_id=3, subject_agent_id=4, kind="no_show", detail="未到岗",
                          raised_at="2026-11-30T02:00:00+00:00")
    assert from_wire(json.loads(json.dumps(alert.to_wire()))) == alert


def test_given_more_events_than_the_ring_then_a_fresh_snapshot_is_needed() -> None:
    bus = EventBus(ring_size=4)
    for n in range(10):
        bus.publish(RotaChanged(what=str(n)))
    assert [d.seq for d in bus.since(bus.stream, 7) or []] == [8, 9, 10]
    assert [d.seq for d in bus.since(bus.stream, 6) or []] == [7, 8, 9, 10]
    assert bus.since(bus.stream, 5) is None  # 6 is gone
    assert bus.since("another-instance", 9) is None
    assert bus.since(bus.stream, 11) is None  # a number this stream never gave
    assert bus.since(bus.stream, 10) == []


async def test_given_a_full_backlog_then_closed_with_reason_and_others_unaffected() -> None:
    bus = EventBus(max_backlog=2)
    slow, fast = bus.subscribe(name="slow"), bus.subscribe(name="fast", max_backlog=10)
    for n in range(3):
        bus.publish(RotaChanged(what=str(n)))
    assert slow.closed_reason == FELL_BEHIND and fast.closed_reason is None
    with pytest.raises(SubscriptionClosed):
        await slow.get()
    assert [(await fast.get()).seq for _ in range(3)] == [1, 2, 3]


def test_given_a_missing_event_from_another_instance_then_stream_restarts() -> None:
    bus = EventBus()
    relay = PgRelay("unused", bus)
    console = bus.subscribe(name="console")
    worker = bus.subscribe(name="worker", local_only=True)

    def note(counter: int) -> str:
        body = json.dumps({"o": "other", "c": counter,
                           "e": CallQueued("u", "q", "138****8000", 1).to_wire()})
        return f"other:{counter}:0:1:{body}"

    stream = bus.stream
    relay._heard_payload(note(1))
    relay._heard_payload(note(2))
    assert relay.received == 2 and bus.stream == stream and console.backlog() == 2
    assert worker.backlog() == 0  # another instance's events are not this one's work
    relay._heard_payload(note(4))  # 3 never came
    assert bus.stream != stream and relay.gaps == 1
    assert console.closed_reason == STREAM_RESTARTED and worker.closed_reason is None


def test_given_an_event_every_instance_learns_itself_then_it_is_not_relayed() -> None:
    # Every backend reads AMI and publishes the PBX model's call events itself:
    # relayed too, each console would see them once per instance.
    sent: list[LiveEvent] = []

    class Relay:
        def send(self, event: LiveEvent) -> None:
            sent.append(event)

    bus = EventBus()
    bus.relay = Relay()  # type: ignore[assignment]
    console = bus.subscribe(name="console")
    from_ami = CallQueued("1700000000.1", "hotline-help", "138****8000", 1)
    bus.publish(from_ami, relay=False)
    bus.publish(RotaChanged(what="settings"))
    assert console.backlog() == 2
    assert sent == [RotaChanged(what="settings")]
