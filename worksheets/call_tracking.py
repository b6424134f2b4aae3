"""Keeps call records in step with what Asterisk reports over AMI.

The IVR (FastAGI) creates a call record when the caller arrives; the
queue's events complete it: joined, answered by whom (which creates the
draft work order on the agent's screen), abandoned (a callback task), hung
up.  Every step is idempotent, so duplicated events, or a call that never
passed through our IVR (backend down), still end up as one correct record.

After a reconnect the link hands us the answers to QueueStatus and
CoreShowChannels (:class:`pbx.events.ListResult`, in stream order).  What
happened while we were not listening is reconciled from them: an open call
whose channel is gone is closed; one that was waiting and is now bridged
to a member was answered; one that was waiting and vanished without a
word gets a callback task (its fate is unknown, and a call back is the
safe mistake for a citizen hotline).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent
from hotline.deps import Deps
from hotline.logmask import mask_number
from pbx import events as ev
from worksheets import service
from worksheets.models import Call

log = logging.getLogger(__name__)


def agent_id_for_member(session: Session, member_name: str) -> int | None:
    number = member_name.removeprefix("agent-")
    return session.scalar(select(Agent.id).where(Agent.number == number))


def _base_interface(channel: str) -> str:
    """``PJSIP/1001-0000000a`` -> ``PJSIP/1001``; ``Local/1001@agents-00000001;1``
    -> ``Local/1001@agents``."""
    name = channel.split(";", 1)[0]
    head, sep, tail = name.rpartition("-")
    return head if sep and len(tail) == 8 else name


class CallTracker:
    """AMI event handler for call records; subscribe ``on_event`` to the link."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._talk: dict[str, int] = {}
        self._members: dict[str, str] = {}  # interface (no /n) -> member name, from QueueStatus
        # QueueCallerAbandon also comes when Queue() times out and the dialplan
        # goes on (overflow to another queue): an abandon is only final when
        # the channel hangs up without joining a queue again.
        self._abandons: dict[str, tuple[str, int, datetime]] = {}

    async def on_event(self, event: ev.AmiEvent) -> None:
        try:
            await self._dispatch(event)
        except service.CallError as exc:
            # A report that contradicts a later state (an abandon after the
            # answer, say) is logged, not applied: outcomes only move forward.
            log.warning("AMI %s for %s not applied: %s", event.name,
                        getattr(event, "uniqueid", "?"), exc)

    async def _dispatch(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.QueueCallerJoin):
            self._abandons.pop(event.uniqueid, None)
            await self._joined(event)
        elif isinstance(event, ev.AgentConnect):
            self._abandons.pop(event.uniqueid, None)
            await self._connected(event.uniqueid, event.queue, event.member_name,
                                  event.hold_time)
        elif isinstance(event, ev.AgentComplete):
            self._talk[event.uniqueid] = event.talk_time
        elif isinstance(event, ev.QueueCallerAbandon):
            self._abandons[event.uniqueid] = (event.queue, event.hold_time,
                                              self.deps.clock.now())
        elif isinstance(event, ev.Hangup):
            await self._ended(event.uniqueid, self.deps.clock.now())
        elif isinstance(event, ev.ListResult):
            await self._resync(event)

    async def _joined(self, e: ev.QueueCallerJoin) -> None:
        number, name = e.caller_number or None, e.caller_name or None
        await self.deps.db.run(
            lambda s: service.mark_queued(
                s, e.uniqueid, queue=e.queue, now=self.deps.clock.now(), caller_number=number,
                caller_name=name, channel=e.channel or None, linkedid=e.linkedid or None,
            )
        )
        self.deps.bus.publish("call.queued", uniqueid=e.uniqueid, queue=e.queue,
                              caller=mask_number(number), position=e.position)

    async def _connected(self, uniqueid: str, queue: str, member: str, hold: int,
                         at: datetime | None = None) -> None:
        now = at or self.deps.clock.now()

        def work(s: Session) -> tuple[int, str, int | None]:
            agent_id = agent_id_for_member(s, member)
            order = service.mark_answered(s, uniqueid, member_name=member, agent_id=agent_id,
                                          hold_seconds=hold, now=now,
                                          **service.numbering(self.deps.settings))
            return order.id, order.number, agent_id

        order_id, number, agent_id = await self.deps.db.run(work)
        log.info("call %s answered by %s; draft order %s", uniqueid, member, number)
        self.deps.bus.publish("call.answered", uniqueid=uniqueid, queue=queue,
                              member=member, hold_seconds=hold)
        self.deps.bus.publish("order.draft", order_id=order_id, number=number,
                              agent_id=agent_id, uniqueid=uniqueid)

    async def _abandoned(self, uniqueid: str, queue: str, hold: int,
                         at: datetime | None = None) -> None:
        now = at or self.deps.clock.now()
        await self.deps.db.run(
            lambda s: service.mark_abandoned(s, uniqueid, hold_seconds=hold, now=now))
        self.deps.bus.publish("call.abandoned", uniqueid=uniqueid, queue=queue)

    async def _ended(self, uniqueid: str, now: datetime) -> None:
        pending = self._abandons.pop(uniqueid, None)
        if pending is not None:
            queue, hold, at = pending
            await self._abandoned(uniqueid, queue, hold, at)
        await self._hangup(uniqueid, now)

    async def _hangup(self, uniqueid: str, now: datetime) -> None:
        talk = self._talk.pop(uniqueid, None)
        call = await self.deps.db.run(
            lambda s: service.mark_ended(s, uniqueid, now=now, talk_seconds=talk))
        if call is not None:
            self.deps.bus.publish("call.ended", uniqueid=uniqueid, outcome=call.outcome)

    # ------------------------------------------------------------- resync
    async def _resync(self, result: ev.ListResult) -> None:
        action = result.name.lower()
        if action == "queuestatus":
            for item in result.items:
                if isinstance(item, ev.QueueMemberEvent):
                    self._members[item.interface.removesuffix("/n")] = item.member_name
        elif action == "coreshowchannels":
            await self._reconcile(result)

    def _read_at(self, result: ev.ListResult) -> datetime:
        """Wall-clock time at which the list was read (the dispatcher may lag)."""
        clock = self.deps.clock
        return clock.now() - timedelta(seconds=max(clock.monotonic() - result.received_at, 0))

    async def _reconcile(self, result: ev.ListResult) -> None:
        at = self._read_at(result)
        live = {i.uniqueid: i for i in result.items if isinstance(i, ev.CoreShowChannel)}
        bridges: dict[str, list[ev.CoreShowChannel]] = {}
        for item in live.values():
            if item.bridge_id:
                bridges.setdefault(item.bridge_id, []).append(item)

        def open_calls(s: Session) -> list[tuple[str, str, str | None, datetime | None]]:
            rows = s.execute(select(Call.uniqueid, Call.outcome, Call.queue, Call.queued_at)
                             .where(Call.ended_at.is_(None), Call.entered_at <= at))
            return [tuple(r) for r in rows]  # type: ignore[misc]

        for uniqueid, outcome, queue, queued_at in await self.deps.db.run(open_calls):
            try:
                await self._reconcile_call(uniqueid, outcome, queue or "", queued_at, at,
                                           live.get(uniqueid), bridges)
            except service.CallError as exc:
                log.warning("call %s not reconciled: %s", uniqueid, exc)

    async def _reconcile_call(self, uniqueid: str, outcome: str, queue: str,
                              queued_at: datetime | None, at: datetime,
                              channel: ev.CoreShowChannel | None,
                              bridges: dict[str, list[ev.CoreShowChannel]]) -> None:
        waited = int((at - queued_at).total_seconds()) if queued_at else 0
        if channel is None:
            if outcome == "queued" and uniqueid not in self._abandons:
                log.warning("call %s left the queue unseen (AMI outage); callback task",
                            uniqueid)
                await self._abandoned(uniqueid, queue, waited, at)
            log.info("call %s ended while AMI was down; closed after resync", uniqueid)
            await self._ended(uniqueid, at)
        elif outcome == "queued" and channel.bridge_id:
            member = self._member_in_bridge(bridges[channel.bridge_id], uniqueid)
            if member is not None:
                await self._connected(uniqueid, queue, member, waited, at)

    def _member_in_bridge(self, channels: list[ev.CoreShowChannel], caller: str) -> str | None:
        for other in channels:
            if other.uniqueid != caller:
                member = self._members.get(_base_interface(other.channel))
                if member is not None:
                    return member
        return None
