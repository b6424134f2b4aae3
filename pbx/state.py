"""Call, queue and member state built from AMI events alone.

Pure: ``apply(event)`` changes the state; no sockets, no clock.  Keyed by
Uniqueid and queue, so that duplicated events, or events of different
channels arriving in another order, give the same end state.  After a
reconnect, the answers to QueueStatus and CoreShowChannels (as
:class:`pbx.events.ListResult`) replace what may have been missed.  Used by
``hotline ami replay`` and by the backend's live view.

Memory stays bounded for a process that runs for months: the totals are
counters, and what a duplicate or late event is recognised by (the calls
already counted, the channels already hung up) is a window of the most
recent :data:`RECENT` uniqueids per kind, not every call since the start.
A duplicate older than the window (tens of thousands of calls later) would
be counted again; AMI repeats an event within seconds, if ever.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pbx import events as ev
from pbx.ami_protocol import AmiMessage

RECENT = 65_536  # uniqueids remembered per kind (≈ a day of a large city's queue calls)


class Recent:
    """The last ``size`` keys seen, oldest forgotten first (a bounded set)."""

    __slots__ = ("_keys", "size")

    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; True if it was not remembered already."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True

    def discard(self, key: str) -> None:
        self._keys.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class WaitTotals:
    """Count, sum and maximum of the waits of calls counted once each."""

    count: int = 0
    total: int = 0
    longest: int = 0
    seen: Recent = field(default_factory=Recent)

    def add(self, uniqueid: str, seconds: int) -> bool:
        if not self.seen.add(uniqueid):
            return False
        self.count += 1
        self.total += seconds
        self.longest = max(self.longest, seconds)
        return True

    def __contains__(self, uniqueid: object) -> bool:
        return uniqueid in self.seen

    def average(self) -> float:
        return round(self.total / self.count, 2) if self.count else 0.0


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
    """Per-queue totals, as queue_log would count them (each call once)."""

    entered: int = 0
    entered_seen: Recent = field(default_factory=Recent)
    answered: WaitTotals = field(default_factory=WaitTotals)  # hold seconds
    abandoned: WaitTotals = field(default_factory=WaitTotals)  # wait seconds
    waiting: dict[str, int] = field(default_factory=dict)  # uniqueid -> position
    # The recent hold time, weighted as app_queue's recalc_holdtime() does it
    # (each answer counts a quarter): kept running, not recomputed per caller.
    holdtime: float = 0.0

    def enter(self, uniqueid: str) -> None:
        if self.entered_seen.add(uniqueid):
            self.entered += 1

    def summary(self) -> dict[str, Any]:
        return {
            "entered": self.entered,
            "answered": self.answered.count,
            "abandoned": self.abandoned.count,
            "waiting": len(self.waiting),
            "answer_wait_total": self.answered.total,
            "answer_wait_max": self.answered.longest,
            "answer_wait_avg": self.answered.average(),
            "abandon_wait_total": self.abandoned.total,
            "abandon_wait_max": self.abandoned.longest,
            "abandon_wait_avg": self.abandoned.average(),
        }


@dataclass
class PbxState:
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # uniqueid -> info
    queues: dict[str, QueueTotals] = field(default_factory=dict)
    members: dict[tuple[str, str], MemberState] = field(default_factory=dict)
    calls_taken: dict[str, int] = field(default_factory=dict)  # member -> calls answered
    taken_seen: Recent = field(default_factory=Recent)  # (queue, uniqueid) of those counted
    event_counts: dict[str, int] = field(default_factory=dict)
    ended: Recent = field(default_factory=Recent)  # channels hung up lately
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
        totals.enter(e.uniqueid)
        if (e.uniqueid not in totals.answered and e.uniqueid not in totals.abandoned
                and e.uniqueid not in self.ended):
            totals.waiting[e.uniqueid] = e.position

    def _on_leave(self, e: ev.QueueCallerLeave) -> None:
        self.queue(e.queue).waiting.pop(e.uniqueid, None)

    def _on_abandon(self, e: ev.QueueCallerAbandon) -> None:
        totals = self.queue(e.queue)
        totals.enter(e.uniqueid)
        totals.abandoned.add(e.uniqueid, e.hold_time)
        totals.waiting.pop(e.uniqueid, None)

    def _on_connect(self, e: ev.AgentConnect) -> None:
        totals = self.queue(e.queue)
        totals.enter(e.uniqueid)
        if totals.answered.add(e.uniqueid, e.hold_time):  # (a duplicate report counts once)
            totals.holdtime = (totals.holdtime * 3 + e.hold_time) / 4
        totals.waiting.pop(e.uniqueid, None)
        if self.taken_seen.add(f"{e.queue}\0{e.uniqueid}"):
            name = e.member_name or e.interface
            self.calls_taken[name] = self.calls_taken.get(name, 0) + 1
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
            "calls_taken": dict(sorted(self.calls_taken.items())),
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
