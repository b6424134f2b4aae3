"""Call, queue and member state built from AMI events alone.

Pure: ``apply(event)`` changes the state; no sockets, no clock.  Keyed by
Uniqueid and queue, so that duplicated events, or events of different
channels arriving in another order, give the same end state.  Used by
``hotline ami replay`` and by supervisors' live view after a resync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pbx.ami_protocol import AmiMessage


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


@dataclass
class MemberState:
    queue: str
    interface: str
    name: str
    paused: bool = False
    paused_reason: str = ""
    status: int = 0  # AST_DEVICE_* as app_queue reports it
    in_call: bool = False


@dataclass
class QueueTotals:
    """Per-queue totals, as queue_log would count them."""

    entered: set[str] = field(default_factory=set)
    answered: dict[str, int] = field(default_factory=dict)  # uniqueid -> hold seconds
    abandoned: dict[str, int] = field(default_factory=dict)  # uniqueid -> wait seconds
    waiting: dict[str, int] = field(default_factory=dict)  # uniqueid -> position

    def summary(self) -> dict[str, Any]:
        answer_waits = sorted(self.answered.values())
        abandon_waits = sorted(self.abandoned.values())
        return {
            "entered": len(self.entered),
            "answered": len(self.answered),
            "abandoned": len(self.abandoned),
            "waiting": len(self.waiting),
            "answer_wait_total": sum(answer_waits),
            "answer_wait_max": max(answer_waits, default=0),
            "answer_wait_avg": round(sum(answer_waits) / len(answer_waits), 2) if answer_waits
            else 0.0,
            "abandon_wait_total": sum(abandon_waits),
            "abandon_wait_max": max(abandon_waits, default=0),
            "abandon_wait_avg": round(sum(abandon_waits) / len(abandon_waits), 2)
            if abandon_waits else 0.0,
        }


@dataclass
class PbxState:
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # uniqueid -> info
    queues: dict[str, QueueTotals] = field(default_factory=dict)
    members: dict[tuple[str, str], MemberState] = field(default_factory=dict)
    calls_taken: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # member -> calls
    event_counts: dict[str, int] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)

    def queue(self, name: str) -> QueueTotals:
        return self.queues.setdefault(name, QueueTotals())

    def apply(self, m: AmiMessage) -> None:
        event = m.event
        if event is None:
            return
        self.event_counts[event] = self.event_counts.get(event, 0) + 1
        handler = getattr(self, "_on_" + event, None)
        if handler is not None:
            handler(m)

    # --- channels
    def _on_Newchannel(self, m: AmiMessage) -> None:
        uid = m.get("Uniqueid") or ""
        if uid in self.ended:
            return  # a duplicate arriving after the hangup
        self.channels.setdefault(uid, {}).update(
            channel=m.get("Channel") or "", caller=m.get("CallerIDNum") or "",
            linkedid=m.get("Linkedid") or "", state=m.get("ChannelStateDesc") or "")

    def _on_Newstate(self, m: AmiMessage) -> None:
        uid = m.get("Uniqueid") or ""
        if uid in self.channels:
            self.channels[uid]["state"] = m.get("ChannelStateDesc") or ""

    def _on_Hangup(self, m: AmiMessage) -> None:
        uid = m.get("Uniqueid") or ""
        self.ended.add(uid)
        self.channels.pop(uid, None)
        for totals in self.queues.values():
            totals.waiting.pop(uid, None)

    # --- queue callers
    def _on_QueueCallerJoin(self, m: AmiMessage) -> None:
        uid, totals = m.get("Uniqueid") or "", self.queue(m.get("Queue") or "")
        totals.entered.add(uid)
        if uid not in totals.answered and uid not in totals.abandoned and uid not in self.ended:
            totals.waiting[uid] = _int(m.get("Position"))

    def _on_QueueCallerLeave(self, m: AmiMessage) -> None:
        self.queue(m.get("Queue") or "").waiting.pop(m.get("Uniqueid") or "", None)

    def _on_QueueCallerAbandon(self, m: AmiMessage) -> None:
        uid, totals = m.get("Uniqueid") or "", self.queue(m.get("Queue") or "")
        totals.entered.add(uid)
        totals.abandoned[uid] = _int(m.get("HoldTime"))
        totals.waiting.pop(uid, None)

    def _on_AgentConnect(self, m: AmiMessage) -> None:
        uid, totals = m.get("Uniqueid") or "", self.queue(m.get("Queue") or "")
        totals.entered.add(uid)
        totals.answered[uid] = _int(m.get("HoldTime"))
        totals.waiting.pop(uid, None)
        member = m.get("MemberName") or m.get("Interface") or ""
        self.calls_taken.setdefault(member, set()).add((m.get("Queue") or "", uid))
        key = (m.get("Queue") or "", m.get("Interface") or "")
        if key in self.members:
            self.members[key].in_call = True

    def _on_AgentComplete(self, m: AmiMessage) -> None:
        key = (m.get("Queue") or "", m.get("Interface") or "")
        if key in self.members:
            self.members[key].in_call = False

    # --- members
    def _member(self, m: AmiMessage) -> MemberState:
        queue = m.get("Queue") or ""
        interface = m.get("Interface") or m.get("Location") or ""
        key = (queue, interface)
        if key not in self.members:
            self.members[key] = MemberState(queue, interface,
                                            m.get("MemberName") or m.get("Name") or interface)
        member = self.members[key]
        member.paused = (m.get("Paused") or "0") == "1"
        member.paused_reason = m.get("PausedReason") or m.get("Reason") or ""
        member.status = _int(m.get("Status"))
        member.in_call = (m.get("InCall") or "0") == "1"
        return member

    def _on_QueueMemberAdded(self, m: AmiMessage) -> None:
        self._member(m)

    _on_QueueMember = _on_QueueMemberAdded  # QueueStatus list items (resync)
    _on_QueueMemberStatus = _on_QueueMemberAdded
    _on_QueueMemberPause = _on_QueueMemberAdded

    def _on_QueueMemberRemoved(self, m: AmiMessage) -> None:
        self.members.pop((m.get("Queue") or "", m.get("Interface") or ""), None)

    # --- reports
    def summary(self) -> dict[str, Any]:
        return {
            "events": dict(sorted(self.event_counts.items())),
            "queues": {name: totals.summary() for name, totals in sorted(self.queues.items())},
            "calls_taken": {member: len(calls)
                            for member, calls in sorted(self.calls_taken.items())},
            "members": {f"{q}/{i}": {"name": s.name, "paused": s.paused,
                                     "reason": s.paused_reason, "status": s.status}
                        for (q, i), s in sorted(self.members.items())},
            "channels_up": len(self.channels),
        }
