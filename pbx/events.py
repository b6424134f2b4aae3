"""Typed AMI events: what the product reads from Asterisk, as dataclasses.

``parse_event(message)`` turns an :class:`~pbx.ami_protocol.AmiMessage`
into one of the classes below, or into :class:`OtherEvent` for anything
the product does not use (that one keeps the message untouched).  Every
typed event keeps its message too (``.message``), so nothing is lost.

Pure: no sockets, no clock.  Field names follow Asterisk's headers in
snake case; numbers are ints (0 when absent or garbled); caller ids are
kept exactly as sent, ``<unknown>`` becoming "".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pbx.ami_protocol import AmiMessage

# Channel variables of ours that consumers read from VarSet (set by our
# dialplan or IVR); other VarSets (Asterisk's own) pass through untyped.
OUR_VARIABLE_PREFIXES = ("HOTLINE_", "__HOTLINE_")
OUR_VARIABLES = frozenset({"QUEUESTATUS", "MIXMONITOR_FILENAME", "SURVEY", "AGISTATUS"})


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _cid(value: str | None) -> str:
    return "" if value in (None, "<unknown>") else value  # type: ignore[return-value]


@dataclass(slots=True)
class AmiEvent:
    """Base of every event; ``name`` is Asterisk's event name."""

    name: str
    message: AmiMessage = field(repr=False)

    # Transitional: handlers written for raw AmiMessage (``m.event``,
    # ``m.get("Queue")``) keep working on typed events.  New code reads fields.
    @property
    def event(self) -> str:
        return self.name

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.message.get(key, default)


@dataclass(slots=True)
class OtherEvent(AmiEvent):
    """An event the product does not type; ``message`` is as received."""


@dataclass(slots=True)
class ChannelEvent(AmiEvent):
    channel: str = ""
    uniqueid: str = ""
    linkedid: str = ""
    caller_number: str = ""
    caller_name: str = ""
    context: str = ""
    exten: str = ""
    state: str = ""  # ChannelStateDesc: Down, Ring, Up ...


@dataclass(slots=True)
class Newchannel(ChannelEvent):
    pass


@dataclass(slots=True)
class Newstate(ChannelEvent):
    pass


@dataclass(slots=True)
class Hangup(ChannelEvent):
    cause: int = 0
    cause_text: str = ""


@dataclass(slots=True)
class QueueCallerJoin(ChannelEvent):
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(slots=True)
class QueueCallerLeave(ChannelEvent):
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(slots=True)
class QueueCallerAbandon(ChannelEvent):
    queue: str = ""
    position: int = 0
    original_position: int = 0
    hold_time: int = 0


@dataclass(slots=True)
class AgentEvent(ChannelEvent):
    """Agent* events: ``channel`` is the caller's, ``dest_*`` the member leg's."""

    queue: str = ""
    interface: str = ""
    member_name: str = ""
    dest_channel: str = ""
    dest_uniqueid: str = ""


@dataclass(slots=True)
class AgentCalled(AgentEvent):
    pass


@dataclass(slots=True)
class AgentConnect(AgentEvent):
    hold_time: int = 0
    ring_time: int = 0


@dataclass(slots=True)
class AgentComplete(AgentEvent):
    hold_time: int = 0
    talk_time: int = 0
    reason: str = ""  # "agent" or "caller": who hung up


@dataclass(slots=True)
class AgentRingNoAnswer(AgentEvent):
    ring_time: int = 0


@dataclass(slots=True)
class QueueMemberEvent(AmiEvent):
    """QueueMemberAdded/Removed/Pause/Status and QueueStatus's QueueMember."""

    queue: str = ""
    interface: str = ""
    member_name: str = ""
    state_interface: str = ""
    paused: bool = False
    paused_reason: str = ""
    status: int = 0  # AST_DEVICE_*: 1 not in use, 2 in use, 5 unavailable, 6 ringing
    in_call: bool = False
    calls_taken: int = 0
    penalty: int = 0
    dynamic: bool = True  # Membership: dynamic (QueueAdd) or static/realtime


@dataclass(slots=True)
class QueueEntry(ChannelEvent):
    """A waiting caller, as QueueStatus lists it."""

    queue: str = ""
    position: int = 0
    wait: int = 0


@dataclass(slots=True)
class CoreShowChannel(ChannelEvent):
    """A live channel, as CoreShowChannels lists it."""

    application: str = ""
    application_data: str = ""
    bridge_id: str = ""


@dataclass(slots=True)
class DialEvent(ChannelEvent):
    """DialBegin/DialEnd; ``channel`` is empty for an Originate's dial."""

    dest_channel: str = ""
    dest_uniqueid: str = ""
    dial_string: str = ""
    dial_status: str = ""


@dataclass(slots=True)
class BridgeEvent(ChannelEvent):
    bridge_uniqueid: str = ""
    bridge_channels: int = 0


@dataclass(slots=True)
class VarSet(ChannelEvent):
    variable: str = ""
    value: str = ""


@dataclass(slots=True)
class OriginateResponse(AmiEvent):
    action_id: str = ""
    response: str = ""  # Success or Failure
    channel: str = ""
    uniqueid: str = ""
    reason: int = 0  # 4 answered, 5 busy, 3 no answer, 1 failed ...


@dataclass(slots=True)
class ContactStatus(AmiEvent):
    """A softphone's registration, as res_pjsip reports it: ContactStatus
    (Created, Removed, Reachable, Unreachable, NonQualified, Updated,
    Unknown), PJSIPShowContacts's ContactList (Status Reachable, Unknown,
    NonQualified...), or PeerStatus (Peer ``PJSIP/1001``; Reachable,
    Unreachable)."""

    endpoint: str = ""
    uri: str = ""
    status: str = ""

    @property
    def reachable(self) -> bool:
        """A contact a call can be sent to (Unknown: not qualified yet)."""
        return self.status not in ("Removed", "Unreachable", "Unregistered", "Rejected")


@dataclass(slots=True)
class DeviceState(AmiEvent):
    """DeviceStateChange, live or listed by DeviceStateList: ``PJSIP/1001``
    is UNAVAILABLE while the phone has no reachable contact."""

    device: str = ""
    state: str = ""  # NOT_INUSE, INUSE, RINGING, UNAVAILABLE, UNKNOWN ...


@dataclass(slots=True)
class ListResult(AmiEvent):
    """The whole answer to a list action (QueueStatus, CoreShowChannels),
    placed in the event stream where the answer was read, so that a
    consumer applies it in order with the events around it.

    ``name`` is the action; ``message`` its response; ``received_at`` the
    event loop's time when the list was complete.
    """

    items: list[AmiEvent] = field(default_factory=list)
    received_at: float = 0.0


@dataclass(slots=True)
class FullyBooted(AmiEvent):
    uptime: int = 0
    last_reload: int = 0


@dataclass(slots=True)
class Shutdown(AmiEvent):
    shutdown: str = ""  # Cleanly / Uncleanly
    restart: bool = False


def _channel_fields(h: dict[str, str]) -> dict[str, str]:
    return {
        "channel": h.get("Channel", ""), "uniqueid": h.get("Uniqueid", ""),
        "linkedid": h.get("Linkedid", ""), "caller_number": _cid(h.get("CallerIDNum")),
        "caller_name": _cid(h.get("CallerIDName")), "context": h.get("Context", ""),
        "exten": h.get("Exten", ""), "state": h.get("ChannelStateDesc", ""),
    }


def _agent_fields(h: dict[str, str]) -> dict[str, str]:
    return {**_channel_fields(h), "queue": h.get("Queue", ""),
            "interface": h.get("Interface", ""), "member_name": h.get("MemberName", ""),
            "dest_channel": h.get("DestChannel", ""), "dest_uniqueid": h.get("DestUniqueid", "")}


def _member(name: str, m: AmiMessage, h: dict[str, str]) -> QueueMemberEvent:
    interface = h.get("Interface") or h.get("Location", "")
    return QueueMemberEvent(
        name, m, queue=h.get("Queue", ""), interface=interface,
        member_name=h.get("MemberName") or h.get("Name") or interface,
        state_interface=h.get("StateInterface", ""), paused=h.get("Paused") == "1",
        paused_reason=h.get("PausedReason") or h.get("Reason", ""),
        status=_int(h.get("Status")), in_call=h.get("InCall") == "1",
        calls_taken=_int(h.get("CallsTaken")), penalty=_int(h.get("Penalty")),
        dynamic=h.get("Membership", "dynamic") == "dynamic")


def _varset(name: str, m: AmiMessage, h: dict[str, str]) -> AmiEvent:
    variable = h.get("Variable", "")
    if variable in OUR_VARIABLES or variable.startswith(OUR_VARIABLE_PREFIXES):
        return VarSet(name, m, **_channel_fields(h), variable=variable, value=h.get("Value", ""))
    return OtherEvent(name, m)


_Builder = Callable[[str, AmiMessage, dict[str, str]], AmiEvent]
_BUILDERS: dict[str, _Builder] = {
    "Newchannel": lambda n, m, h: Newchannel(n, m, **_channel_fields(h)),
    "Newstate": lambda n, m, h: Newstate(n, m, **_channel_fields(h)),
    "Hangup": lambda n, m, h: Hangup(n, m, **_channel_fields(h), cause=_int(h.get("Cause")),
                                     cause_text=h.get("Cause-txt", "")),
    "QueueCallerJoin": lambda n, m, h: QueueCallerJoin(
        n, m, **_channel_fields(h), queue=h.get("Queue", ""),
        position=_int(h.get("Position")), count=_int(h.get("Count"))),
    "QueueCallerLeave": lambda n, m, h: QueueCallerLeave(
        n, m, **_channel_fields(h), queue=h.get("Queue", ""),
        position=_int(h.get("Position")), count=_int(h.get("Count"))),
    "QueueCallerAbandon": lambda n, m, h: QueueCallerAbandon(
        n, m, **_channel_fields(h), queue=h.get("Queue", ""), position=_int(h.get("Position")),
        original_position=_int(h.get("OriginalPosition")), hold_time=_int(h.get("HoldTime"))),
    "AgentCalled": lambda n, m, h: AgentCalled(n, m, **_agent_fields(h)),
    "AgentConnect": lambda n, m, h: AgentConnect(
        n, m, **_agent_fields(h), hold_time=_int(h.get("HoldTime")),
        ring_time=_int(h.get("RingTime"))),
    "AgentComplete": lambda n, m, h: AgentComplete(
        n, m, **_agent_fields(h), hold_time=_int(h.get("HoldTime")),
        talk_time=_int(h.get("TalkTime")), reason=h.get("Reason", "")),
    "AgentRingNoAnswer": lambda n, m, h: AgentRingNoAnswer(
        n, m, **_agent_fields(h), ring_time=_int(h.get("RingTime"))),
    "QueueMemberAdded": _member,
    "QueueMemberRemoved": _member,
    "QueueMemberPause": _member,
    "QueueMemberStatus": _member,
    "QueueMember": _member,
    "QueueEntry": lambda n, m, h: QueueEntry(
        n, m, **_channel_fields(h), queue=h.get("Queue", ""),
        position=_int(h.get("Position")), wait=_int(h.get("Wait"))),
    "CoreShowChannel": lambda n, m, h: CoreShowChannel(
        n, m, **_channel_fields(h), application=h.get("Application", ""),
        application_data=h.get("ApplicationData", ""), bridge_id=h.get("BridgeId", "")),
    "DialBegin": lambda n, m, h: DialEvent(
        n, m, **_channel_fields(h), dest_channel=h.get("DestChannel", ""),
        dest_uniqueid=h.get("DestUniqueid", ""), dial_string=h.get("DialString", "")),
    "DialEnd": lambda n, m, h: DialEvent(
        n, m, **_channel_fields(h), dest_channel=h.get("DestChannel", ""),
        dest_uniqueid=h.get("DestUniqueid", ""), dial_status=h.get("DialStatus", "")),
    "BridgeEnter": lambda n, m, h: BridgeEvent(
        n, m, **_channel_fields(h), bridge_uniqueid=h.get("BridgeUniqueid", ""),
        bridge_channels=_int(h.get("BridgeNumChannels"))),
    "BridgeLeave": lambda n, m, h: BridgeEvent(
        n, m, **_channel_fields(h), bridge_uniqueid=h.get("BridgeUniqueid", ""),
        bridge_channels=_int(h.get("BridgeNumChannels"))),
    "VarSet": _varset,
    "OriginateResponse": lambda n, m, h: OriginateResponse(
        n, m, action_id=h.get("ActionID", ""), response=h.get("Response", ""),
        channel=h.get("Channel", ""), uniqueid=h.get("Uniqueid", ""),
        reason=_int(h.get("Reason"))),
    "ContactStatus": lambda n, m, h: ContactStatus(
        n, m, endpoint=h.get("EndpointName", ""), uri=h.get("URI", ""),
        status=h.get("ContactStatus", "")),
    "ContactList": lambda n, m, h: ContactStatus(
        n, m, endpoint=h.get("Endpoint", ""), uri=h.get("Uri", ""), status=h.get("Status", "")),
    "PeerStatus": lambda n, m, h: ContactStatus(
        n, m, endpoint=h.get("Peer", "").partition("/")[2], status=h.get("PeerStatus", "")),
    "DeviceStateChange": lambda n, m, h: DeviceState(
        n, m, device=h.get("Device", ""), state=h.get("State", "")),
    "FullyBooted": lambda n, m, h: FullyBooted(
        n, m, uptime=_int(h.get("Uptime")), last_reload=_int(h.get("LastReload"))),
    "Shutdown": lambda n, m, h: Shutdown(
        n, m, shutdown=h.get("Shutdown", ""), restart=h.get("Restart", "").lower() == "true"),
}
TYPED_EVENTS = frozenset(_BUILDERS)


def parse_event(message: AmiMessage) -> AmiEvent:
    """The typed form of an event message (:class:`OtherEvent` if untyped).

    Asterisk writes header names in one fixed case, so they are matched
    exactly here (fast); a message that is not an event gives OtherEvent
    named "".
    """
    headers = message.headers
    name = headers[0][1] if headers and headers[0][0] == "Event" else (message.event or "")
    builder = _BUILDERS.get(name)
    if builder is None:
        return OtherEvent(name, message)
    return builder(name, message, dict(headers))
