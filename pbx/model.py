"""The one model of the PBX, fed once from AMI.

The AMI link has one subscriber: this model.  It keeps channels, queue
callers and members (:class:`pbx.state.PbxState`) and the agents'
softphone registrations, and turns what Asterisk reports into the typed
events of :mod:`pbx.model_events`, which consumers (calls/, agents/,
worksheets/, the console) subscribe to by name.  Commands go out through
``model.commands`` (:mod:`pbx.commands`).

Resync, one for everybody: after every (re)connect, and whenever events
were dropped on the way in (the link's queue was full), the model asks
Asterisk for QueueStatus, DeviceStateList and CoreShowChannels.  Their
answers come back in their place in the event stream; the model compares
them with what it knew and emits the differences as events (members added,
removed, paused; phones registered or gone; channels that ended unseen),
with :class:`Resynced` first so that consumers holding records of their
own settle them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.tasks import run_handlers
from pbx import events as ev
from pbx import model_events as me
from pbx.ami_session import AmiError
from pbx.commands import PbxCommands
from pbx.state import MemberState, PbxState
from pbx.translate import PHONE_DOWN, TRANSLATORS

if TYPE_CHECKING:
    from core.clock import Clock
    from pbx.ami import AmiLink

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None] | None]
# DeviceStateList, not PJSIPShowContacts: that one needs write=system, which
# the backend's AMI user is refused (asterisk-conf/README.md).
RESYNC_LISTS = ("QueueStatus", "DeviceStateList", "CoreShowChannels")


def base_interface(channel: str) -> str:
    """``PJSIP/1001-0000000a`` -> ``PJSIP/1001``; ``Local/1001@agents-00000001;1``
    -> ``Local/1001@agents``."""
    name = channel.split(";", 1)[0]
    head, sep, tail = name.rpartition("-")
    return head if sep and len(tail) == 8 else name


class PbxModel:
    def __init__(self, link: AmiLink | None, clock: Clock) -> None:
        self.link = link
        self.clock = clock
        self.commands = PbxCommands(link)
        self.state = PbxState()
        self.read_ms = 0.0
        self.phones: dict[str, bool] = {}  # endpoint -> registered (reachable contact)
        self.resyncs = 0
        self._handlers: dict[str, list[Handler]] = {}
        # QueueCallerAbandon also comes when Queue() times out and the dialplan
        # goes on (overflow to another queue): an abandon is final only when
        # the channel hangs up without joining a queue again.
        self.abandons: dict[str, me.CallAbandoned] = {}
        self._resync_task: asyncio.Task[None] | None = None
        self._resync_again = False

    # ----------------------------------------------------------- wiring
    def attach(self) -> None:
        """Become the link's subscriber; resync after each login and each loss."""
        assert self.link is not None
        self.link.subscribe(self.on_ami)
        self.link.on_ready(self.resync)
        self.link.on_events_lost(self._events_lost)

    def subscribe(self, name: str, handler: Handler) -> None:
        """``handler(event)`` for every event named ``name`` (``CallQueued.NAME``...)."""
        self._handlers.setdefault(name, []).append(handler)

    async def close(self) -> None:
        from core.tasks import cancel_and_wait

        await cancel_and_wait([self._resync_task])

    async def emit(self, event: me.PbxEvent) -> None:
        await run_handlers(self._handlers.get(event.NAME, ()), event, log, event.NAME)

    # ---------------------------------------------------------- queries
    @property
    def connected(self) -> bool:
        return self.commands.connected

    def bridged_with(self, uniqueid: str) -> list[str]:
        """The channel names bridged with channel ``uniqueid`` now (empty: none)."""
        bridge = self.state.channels.get(uniqueid, {}).get("bridge")
        if not bridge:
            return []
        return [info["channel"] for other, info in self.state.channels.items()
                if other != uniqueid and info.get("bridge") == bridge and info.get("channel")]

    def members_of(self, member_name: str) -> list[MemberState]:
        """The queues a member is on, as Asterisk has them."""
        return [m for m in self.state.members.values() if m.name == member_name]

    def live(self) -> dict[str, Any]:
        return {**self.state.live(),
                "phones": {e: registered for e, registered in sorted(self.phones.items())}}

    # ------------------------------------------------------------ input
    async def on_ami(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.ListResult):
            await self._list(event)
            return
        # When the link read the event being handled (wall clock, ms): the
        # consoles' latency is measured from it (worksheets.pop).
        self.read_ms = event.message.read_ms or time.time() * 1000
        before = self._member_before(event)
        self.state.apply(event)
        now = self.clock.now()
        translate = TRANSLATORS.get(event.name)
        out = translate(self, event, now, before) if translate is not None else []
        for item in out:
            await self.emit(item)

    def _member_before(self, event: ev.AmiEvent) -> MemberState | None:
        if isinstance(event, ev.QueueMemberEvent):
            known = self.state.members.get((event.queue, event.interface))
            return MemberState(**known.__dict__) if known is not None else None
        return None

    def phone_seen(self, endpoint: str, registered: bool, uri: str,
                   now: datetime) -> list[me.PbxEvent]:
        """The event for a phone's registration, if it changed."""
        if not endpoint or self.phones.get(endpoint) == registered:
            return []
        self.phones[endpoint] = registered
        if registered:
            return [me.PhoneRegistered(now, endpoint, uri)]
        return [me.PhoneUnregistered(now, endpoint, uri)]

    # ----------------------------------------------------------- resync
    async def resync(self) -> None:
        """Ask Asterisk for its members, devices and channels; the answers
        are applied in their place in the event stream (:meth:`_list`)."""
        for action in RESYNC_LISTS:
            try:
                await self.commands.snapshot(action)
            except AmiError as exc:
                # Down again or no answer in time: the next login resyncs.
                log.error("PBX resync (%s) failed: %s", action, exc)
                return

    def _events_lost(self) -> None:
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_again = True
            return
        self._resync_task = asyncio.get_running_loop().create_task(
            self._resync_after_loss(), name="pbx-resync-after-loss")

    async def _resync_after_loss(self) -> None:
        assert self.link is not None
        while True:
            self._resync_again = False
            # Let the dispatcher catch up first: asked into a full queue, the
            # answers would be dropped too.
            while self.link.backlog[0] > self.link.backlog[1] // 2:
                await asyncio.sleep(0.05)
            log.warning("AMI events were lost; resynchronising from Asterisk")
            if self.link.connected:
                await self.resync()
            if not self._resync_again:
                return

    def _read_at(self, result: ev.ListResult) -> datetime:
        """Wall-clock time at which the list was read (the dispatcher may lag)."""
        return self.clock.now() - timedelta(
            seconds=max(self.clock.monotonic() - result.received_at, 0))

    async def _list(self, result: ev.ListResult) -> None:
        at = self._read_at(result)
        action = result.name.lower()
        if action == "queuestatus":
            before = {k: MemberState(**m.__dict__) for k, m in self.state.members.items()}
            self.state.apply(result)
            for item in self._member_differences(before, at):
                await self.emit(item)
        elif action == "devicestatelist":
            listed = {i.device[6:]: i.state not in PHONE_DOWN for i in result.items
                      if isinstance(i, ev.DeviceState) and i.device.startswith("PJSIP/")
                      and i.state != "UNKNOWN"}
            # A phone the list does not name has no device state: not registered.
            changes = [c for endpoint in sorted(set(self.phones) | set(listed))
                       for c in self.phone_seen(endpoint, listed.get(endpoint, False), "", at)]
            for item in changes:
                await self.emit(item)
        elif action == "coreshowchannels":
            await self._channels(result, at)

    def _member_differences(self, before: dict[tuple[str, str], MemberState],
                            at: datetime) -> list[me.PbxEvent]:
        out: list[me.PbxEvent] = []
        after = self.state.members
        for key, gone in before.items():
            if key not in after:
                out.append(me.MemberRemoved(at, gone.queue, gone.interface, gone.name,
                                            gone.paused, gone.paused_reason, gone.status,
                                            gone.in_call, resync=True))
        for key, new in after.items():
            fields = (at, new.queue, new.interface, new.name, new.paused, new.paused_reason,
                      new.status, new.in_call, True)
            old = before.get(key)
            if old is None:
                out.append(me.MemberAdded(*fields))
            elif (old.paused, old.paused_reason) != (new.paused, new.paused_reason):
                out.append(me.MemberPaused(*fields))
            elif (old.status, old.in_call) != (new.status, new.in_call):
                out.append(me.MemberStateChanged(*fields))
        return out

    async def _channels(self, result: ev.ListResult, at: datetime) -> None:
        known = dict(self.state.channels)
        self.state.apply(result)
        self.resyncs += 1
        live = {i.uniqueid: me.LiveChannel(i.uniqueid, i.channel, i.bridge_id, i.application)
                for i in result.items if isinstance(i, ev.CoreShowChannel)}
        gone = [u for u in known if u not in live]
        # Abandons whose Hangup was lost are final now.
        for uniqueid in [u for u in self.abandons if u not in live]:
            await self.emit(self.abandons.pop(uniqueid))
        members = {m.interface.removesuffix("/n"): m.name for m in self.state.members.values()}
        await self.emit(me.Resynced(at, live, members))
        for uniqueid in gone:
            await self.emit(me.CallEnded(at, uniqueid, known[uniqueid].get("channel", ""),
                                         resync=True))
