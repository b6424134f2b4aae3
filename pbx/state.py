"""Call, queue and member state built from AMI events alone.

Pure: ``apply(event)`` changes the state; no sockets, no clock.  Keyed by
Uniqueid and queue, so that duplicated events, or events of different
channels arriving in another order, give the same end state.  After a
reconnect, the answers to QueueStatus and CoreShowChannels (as
:class:`pbx.events.ListResult`) replace what may have been missed.  Used by
``hotline ami replay`` and by the backend's live view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pbx import events as ev
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
    dynamic: bool = True  # added by QueueAdd (Asterisk forgets it on restart)


@dataclass
class QueueTotals:
    """Per-queue totals, as queue_log would count them."""

    entered: set[str] = field(default_factory=set)
    answered: dict[str, int] = field(default_factory=dict)  # uniqueid -> hold seconds
    abandoned: dict[str, int] = field(default_factory=dict)  # uniqueid -> wait seconds
    waiting: dict[str, int] = field(default_factory=dict)  # uniqueid -> position
    # The recent hold time, weighted as app_queue's recalc_holdtime() does it
    # (each answer counts a quarter): kept running, not recomputed per caller.
    holdtime: float = 0.0

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
    resyncs: int = 0

    def queue(self, name: str) -> QueueTotals:
        return self.queues.setdefault(name, QueueTotals())

    def apply(self, event: ev.AmiEvent | AmiMessage) -> None:
        """Apply one event (typed, or a raw message that is typed here)."""
        if isinstance(event, AmiMessage):
            if not event.is_event:
                return
            event = ev.parse_event(event)
        if isinstance(event, ev.ListResult):
            self._resync(event)
            return
        self.event_counts[event.name] = self.event_counts.get(event.name, 0) + 1
        handler = self._HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    # --- channels
    def _on_channel(self, e: ev.ChannelEvent) -> None:
        if e.uniqueid in self.ended:
            return  # a duplicate arriving after the hangup
        info = self.channels.setdefault(e.uniqueid, {})
        info.update(channel=e.channel, caller=e.caller_number, linkedid=e.linkedid,
                    state=e.state)

    def _on_newstate(self, e: ev.Newstate) -> None:
        if e.uniqueid in self.channels:
            self.channels[e.uniqueid]["state"] = e.state

    def _on_bridge(self, e: ev.BridgeEvent) -> None:
        info = self.channels.get(e.uniqueid)
        if info is not None:
            info["bridge"] = e.bridge_uniqueid if e.name == "BridgeEnter" else ""

    def bridges(self) -> dict[str, list[str]]:
        """Bridge id -> the uniqueids of the live channels in it."""
        out: dict[str, list[str]] = {}
        for uniqueid, info in self.channels.items():
            if info.get("bridge"):
                out.setdefault(info["bridge"], []).append(uniqueid)
        return out

    def _on_hangup(self, e: ev.Hangup) -> None:
        self._gone(e.uniqueid)

    def _gone(self, uniqueid: str) -> None:
        self.ended.add(uniqueid)
        self.channels.pop(uniqueid, None)
        for totals in self.queues.values():
            totals.waiting.pop(uniqueid, None)

    # --- queue callers
    def _on_join(self, e: ev.QueueCallerJoin) -> None:
        totals = self.queue(e.queue)
        totals.entered.add(e.uniqueid)
        if (e.uniqueid not in totals.answered and e.uniqueid not in totals.abandoned
                and e.uniqueid not in self.ended):
            totals.waiting[e.uniqueid] = e.position

    def _on_leave(self, e: ev.QueueCallerLeave) -> None:
        self.queue(e.queue).waiting.pop(e.uniqueid, None)

    def _on_abandon(self, e: ev.QueueCallerAbandon) -> None:
        totals = self.queue(e.queue)
        totals.entered.add(e.uniqueid)
        totals.abandoned[e.uniqueid] = e.hold_time
        totals.waiting.pop(e.uniqueid, None)

    def _on_connect(self, e: ev.AgentConnect) -> None:
        totals = self.queue(e.queue)
        totals.entered.add(e.uniqueid)
        if e.uniqueid not in totals.answered:  # (a duplicate report counts once)
            totals.holdtime = (totals.holdtime * 3 + e.hold_time) / 4
        totals.answered[e.uniqueid] = e.hold_time
        totals.waiting.pop(e.uniqueid, None)
        self.calls_taken.setdefault(e.member_name or e.interface, set()).add(
            (e.queue, e.uniqueid))
        member = self.members.get((e.queue, e.interface))
        if member is not None:
            member.in_call = True

    def _on_complete(self, e: ev.AgentComplete) -> None:
        member = self.members.get((e.queue, e.interface))
        if member is not None:
            member.in_call = False

    # --- members
    def _on_member(self, e: ev.QueueMemberEvent) -> None:
        key = (e.queue, e.interface)
        if e.name == "QueueMemberRemoved":
            self.members.pop(key, None)
            return
        member = self.members.get(key)
        if member is None:
            member = self.members[key] = MemberState(e.queue, e.interface, e.member_name)
        member.paused, member.paused_reason = e.paused, e.paused_reason
        member.status, member.in_call, member.dynamic = e.status, e.in_call, e.dynamic

    # --- resync
    def _resync(self, result: ev.ListResult) -> None:
        """Replace what a list action reports; what it does not list is gone."""
        self.resyncs += 1
        if result.name.lower() == "queuestatus":
            listed = {i.message.get("Queue") or "" for i in result.items
                      if i.name == "QueueParams"}
            for key in [k for k in self.members if k[0] in listed]:
                del self.members[key]
            for name in listed:
                self.queue(name).waiting.clear()
            for item in result.items:
                if isinstance(item, ev.QueueMemberEvent):
                    self._on_member(item)
                elif isinstance(item, ev.QueueEntry) and item.uniqueid not in self.ended:
                    self.queue(item.queue).waiting[item.uniqueid] = item.position
        elif result.name.lower() == "coreshowchannels":
            live = {i.uniqueid: i for i in result.items if isinstance(i, ev.CoreShowChannel)}
            for uniqueid in [u for u in self.channels if u not in live]:
                self._gone(uniqueid)
            for uniqueid, item in live.items():
                self.ended.discard(uniqueid)
                self._on_channel(item)
                self.channels[uniqueid]["bridge"] = item.bridge_id

    _HANDLERS: ClassVar[dict[type, Any]] = {
        ev.Newchannel: _on_channel, ev.Newstate: _on_newstate, ev.Hangup: _on_hangup,
        ev.QueueCallerJoin: _on_join, ev.QueueCallerLeave: _on_leave,
        ev.QueueCallerAbandon: _on_abandon, ev.AgentConnect: _on_connect,
        ev.AgentComplete: _on_complete, ev.QueueMemberEvent: _on_member,
        ev.BridgeEvent: _on_bridge,
    }

    # --- reports
    def summary(self) -> dict[str, Any]:
        return {
            "events": dict(sorted(self.event_counts.items())),
            **self.live(),
            "calls_taken": {member: len(calls)
                            for member, calls in sorted(self.calls_taken.items())},
        }

    def live(self) -> dict[str, Any]:
        """What a supervisor's view needs: queues, members, live channels."""
        return {
            "queues": {name: totals.summary() for name, totals in sorted(self.queues.items())},
            "members": {f"{q}/{i}": {"name": s.name, "paused": s.paused,
                                     "reason": s.paused_reason, "status": s.status,
                                     "in_call": s.in_call}
                        for (q, i), s in sorted(self.members.items())},
            "channels_up": len(self.channels),
            "bridges": len(self.bridges()),
        }
