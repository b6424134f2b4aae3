"""The typed events the PBX model emits, each with its name.

Consumers subscribe by name (``model.subscribe(CallQueued.NAME, handler)``);
the model has already read AMI, kept its state and resynchronised, so a
consumer never sees an AMI header.  ``at`` is the wall-clock instant the
event happened (for events found by a resync: when the lists were read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

AGENT_MEMBER_PREFIX = "agent-"


def agent_number(member_name: str) -> str | None:
    """The agent's number from a queue member name (``agent-1001`` -> ``1001``);
    None for a member that is not one of our agents.  The one parser of it."""
    if not member_name.startswith(AGENT_MEMBER_PREFIX):
        return None
    return member_name.removeprefix(AGENT_MEMBER_PREFIX) or None


@dataclass(frozen=True, slots=True)
class PbxEvent:
    NAME: ClassVar[str] = ""
    at: datetime


# ------------------------------------------------------------------ calls
@dataclass(frozen=True, slots=True)
class CallEntered(PbxEvent):
    """A channel came up (any channel: the caller's, an agent leg, a Local)."""

    NAME: ClassVar[str] = "call.entered"
    uniqueid: str
    channel: str
    linkedid: str
    caller_number: str


@dataclass(frozen=True, slots=True)
class CallQueued(PbxEvent):
    NAME: ClassVar[str] = "call.queued"
    uniqueid: str
    queue: str
    channel: str
    linkedid: str
    caller_number: str
    caller_name: str
    position: int


@dataclass(frozen=True, slots=True)
class AgentRinging(PbxEvent):
    """The queue rings a member for this caller."""

    NAME: ClassVar[str] = "call.ringing_agent"
    uniqueid: str
    queue: str
    member_name: str
    interface: str


@dataclass(frozen=True, slots=True)
class AgentRingStopped(PbxEvent):
    """The member did not answer in time (AgentRingNoAnswer)."""

    NAME: ClassVar[str] = "call.ring_stopped"
    uniqueid: str
    queue: str
    member_name: str
    interface: str


@dataclass(frozen=True, slots=True)
class CallAnswered(PbxEvent):
    """A member answered a queue caller; ``resync``: found bridged by a resync."""

    NAME: ClassVar[str] = "call.answered"
    uniqueid: str
    queue: str
    member_name: str
    interface: str
    hold_seconds: int
    resync: bool = False


@dataclass(frozen=True, slots=True)
class AgentCallCompleted(PbxEvent):
    """The member's part of a queue call is over (AgentComplete)."""

    NAME: ClassVar[str] = "call.agent_completed"
    uniqueid: str
    queue: str
    member_name: str
    interface: str
    talk_seconds: int


@dataclass(frozen=True, slots=True)
class CallAbandoned(PbxEvent):
    """The caller hung up while waiting (final: the channel is gone without
    joining another queue).  ``at`` is when they left the queue."""

    NAME: ClassVar[str] = "call.abandoned"
    uniqueid: str
    queue: str
    hold_seconds: int


@dataclass(frozen=True, slots=True)
class CallEnded(PbxEvent):
    """A channel hung up; ``resync``: found gone by a resync (its Hangup missed)."""

    NAME: ClassVar[str] = "call.ended"
    uniqueid: str
    channel: str
    cause: int = 0
    resync: bool = False


@dataclass(frozen=True, slots=True)
class DialStarted(PbxEvent):
    NAME: ClassVar[str] = "call.dial_started"
    uniqueid: str  # the dialling channel ("" for an Originate's own dial)
    dest_uniqueid: str


@dataclass(frozen=True, slots=True)
class DialEnded(PbxEvent):
    NAME: ClassVar[str] = "call.dial_ended"
    uniqueid: str
    dest_uniqueid: str
    dial_status: str  # ANSWER, NOANSWER, BUSY, CANCEL, CONGESTION, CHANUNAVAIL ...


@dataclass(frozen=True, slots=True)
class OriginateOutcome(PbxEvent):
    NAME: ClassVar[str] = "originate.outcome"
    action_id: str
    success: bool
    uniqueid: str
    channel: str
    reason: int  # 4 answered, 5 busy, 3 no answer, 1 failed ...


# ---------------------------------------------------------------- members
@dataclass(frozen=True, slots=True)
class MemberEvent(PbxEvent):
    queue: str
    interface: str
    member_name: str
    paused: bool
    paused_reason: str
    status: int  # AST_DEVICE_*: 1 not in use, 2 in use, 5 unavailable, 6 ringing
    in_call: bool
    # A difference found by a resync (QueueStatus), not reported live: a member
    # removed so was not taken off by anyone (Asterisk restarted, or the link
    # was down), and the backend may have to put them back.
    resync: bool = False


@dataclass(frozen=True, slots=True)
class MemberAdded(MemberEvent):
    NAME: ClassVar[str] = "member.added"


@dataclass(frozen=True, slots=True)
class MemberRemoved(MemberEvent):
    NAME: ClassVar[str] = "member.removed"


@dataclass(frozen=True, slots=True)
class MemberPaused(MemberEvent):
    """Paused or resumed (``paused`` says which) in one queue."""

    NAME: ClassVar[str] = "member.paused"


@dataclass(frozen=True, slots=True)
class MemberStateChanged(MemberEvent):
    NAME: ClassVar[str] = "member.state_changed"


# ----------------------------------------------------------------- phones
@dataclass(frozen=True, slots=True)
class PhoneRegistered(PbxEvent):
    """An agent's softphone has a reachable contact (PJSIP ContactStatus)."""

    NAME: ClassVar[str] = "phone.registered"
    endpoint: str
    uri: str


@dataclass(frozen=True, slots=True)
class PhoneUnregistered(PbxEvent):
    NAME: ClassVar[str] = "phone.unregistered"
    endpoint: str
    uri: str


# ----------------------------------------------------------------- resync
@dataclass(frozen=True, slots=True)
class LiveChannel:
    uniqueid: str
    channel: str
    bridge_id: str
    application: str


@dataclass(frozen=True, slots=True)
class Resynced(PbxEvent):
    """Asterisk's channel list was read (after a reconnect, or after events
    were lost).  Emitted before the differences it reveals (``call.ended``
    with ``resync``), so that consumers with records of their own (open
    calls in the database, attempts in progress) can settle them first.
    ``members``: interface without ``/n`` -> member name, from QueueStatus."""

    NAME: ClassVar[str] = "pbx.resynced"
    channels: dict[str, LiveChannel]
    members: dict[str, str]
