"""Keeps call records in step with the PBX model's events.

The IVR (FastAGI) creates a call record when the caller arrives; the
queue's events complete it: joined, answered by whom, abandoned, hung up.
The follow-ups other packages registered (calls.followups: a draft work
order on the agent's screen, a callback task) run in the same transaction.
Every step is idempotent, so duplicated events, or a call that never
passed through our IVR (backend down), still end up as one correct record.

After a resync (``pbx.resynced``: Asterisk's channel list, read after a
reconnect or lost events) the open records are reconciled with it: an
open call whose channel is gone is closed; one that was waiting and is now
bridged to a member was answered; one that was waiting and vanished
without a word was abandoned (its fate is unknown, and a call back is the
safe mistake for a citizen hotline).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calls import records
from calls.followups import ABANDONED, ANSWERED, ENDED, CallFollowUps, Notice
from calls.models import Call
from core.live_events import CallAbandoned, CallAnswered, CallEnded, CallQueued
from core.logmask import mask_number
from hotline.deps import Deps
from pbx import model_events as me
from pbx.model import PbxModel, base_interface

log = logging.getLogger(__name__)


class CallTracker:
    """Subscribes to the model (:meth:`follow`); writes call records."""

    def __init__(self, deps: Deps, follow_ups: CallFollowUps) -> None:
        self.deps = deps
        self.follow_ups = follow_ups
        self._talk: dict[str, int] = {}

    def follow(self, model: PbxModel) -> None:
        model.subscribe(me.CallQueued.NAME, self._guarded(self._queued))
        model.subscribe(me.AgentRinging.NAME, self._guarded(self._offered))
        model.subscribe(me.CallAnswered.NAME, self._guarded(self._answered))
        model.subscribe(me.AgentCallCompleted.NAME, self._completed)
        model.subscribe(me.CallAbandoned.NAME, self._guarded(self._abandoned))
        model.subscribe(me.CallEnded.NAME, self._guarded(self._ended))
        model.subscribe(me.Resynced.NAME, self._reconcile)

    def _guarded(self, handler):  # type: ignore[no-untyped-def]
        async def handle(event: me.PbxEvent) -> None:
            try:
                await handler(event)
            except records.CallError as exc:
                # A report that contradicts a later state (an abandon after the
                # answer, say) is logged, not applied: outcomes only move forward.
                log.warning("%s for %s not applied: %s", event.NAME,
                            getattr(event, "uniqueid", "?"), exc)
        return handle

    def _publish(self, notices: list[Notice]) -> None:
        # Not relayed to other instances: each of them reads AMI and records
        # (idempotently) the same calls, so it publishes these itself.
        for notice in notices:
            self.deps.bus.publish(notice, relay=False)

    async def _queued(self, e: me.CallQueued) -> None:
        number, name = e.caller_number or None, e.caller_name or None
        await self.deps.db.run(
            lambda s: records.mark_queued(
                s, e.uniqueid, queue=e.queue, now=e.at, caller_number=number,
                caller_name=name, channel=e.channel or None, linkedid=e.linkedid or None))
        self._publish([CallQueued(uniqueid=e.uniqueid, queue=e.queue,
                                  caller=mask_number(number), position=e.position)])

    async def _offered(self, e: me.AgentRinging) -> None:
        """An agent's phone rings with the call: they may read its description."""
        def work(s: Session) -> None:
            agent_id = records.agent_id_for_member(s, e.member_name)
            if agent_id is not None:
                records.record_offer(s, e.uniqueid, agent_id, e.at)
        await self.deps.db.run(work)

    async def _answered(self, e: me.CallAnswered) -> None:
        await self._answer(e.uniqueid, e.queue, e.member_name, e.hold_seconds, e.at)

    async def _answer(self, uniqueid: str, queue: str, member: str, hold: int,
                      at: datetime) -> None:
        def work(s: Session) -> tuple[int | None, list[Notice]]:
            agent_id = records.agent_id_for_member(s, member)
            call = records.answer_call(s, uniqueid, member_name=member, agent_id=agent_id,
                                       hold_seconds=hold, now=at)
            return agent_id, self.follow_ups.run(ANSWERED, s, call, at)

        agent_id, notices = await self.deps.db.run(work)
        log.info("call %s answered by %s", uniqueid, member)
        self._publish([CallAnswered(uniqueid=uniqueid, queue=queue, member=member,
                                    hold_seconds=hold, agent_id=agent_id), *notices])

    def _completed(self, e: me.AgentCallCompleted) -> None:
        self._talk[e.uniqueid] = e.talk_seconds

    async def _abandoned(self, e: me.CallAbandoned) -> None:
        await self._abandon(e.uniqueid, e.queue, e.hold_seconds, e.at)

    async def _abandon(self, uniqueid: str, queue: str, hold: int, at: datetime) -> None:
        def work(s: Session) -> list[Notice]:
            call = records.abandon_call(s, uniqueid, hold_seconds=hold, now=at)
            return self.follow_ups.run(ABANDONED, s, call, at)

        notices = await self.deps.db.run(work)
        self._publish([CallAbandoned(uniqueid=uniqueid, queue=queue), *notices])

    async def _ended(self, e: me.CallEnded) -> None:
        await self._hangup(e.uniqueid, e.at)

    async def _hangup(self, uniqueid: str, at: datetime) -> None:
        talk = self._talk.pop(uniqueid, None)

        def work(s: Session) -> tuple[CallEnded | None, list[Notice]]:
            call = records.mark_ended(s, uniqueid, now=at, talk_seconds=talk)
            if call is None:
                return None, []
            ended = CallEnded(uniqueid=uniqueid, outcome=call.outcome, agent_id=call.agent_id)
            return ended, self.follow_ups.run(ENDED, s, call, at)

        ended, notices = await self.deps.db.run(work)
        self._publish(([ended] if ended is not None else []) + notices)

    # ------------------------------------------------------------- resync
    async def _reconcile(self, e: me.Resynced) -> None:
        at = e.at
        bridges: dict[str, list[me.LiveChannel]] = {}
        for channel in e.channels.values():
            if channel.bridge_id:
                bridges.setdefault(channel.bridge_id, []).append(channel)

        def open_calls(s: Session) -> list[tuple[str, str, str | None, datetime | None]]:
            rows = s.execute(select(Call.uniqueid, Call.outcome, Call.queue, Call.queued_at)
                             .where(Call.ended_at.is_(None), Call.entered_at <= at))
            return [tuple(r) for r in rows]  # type: ignore[misc]

        for uniqueid, outcome, queue, queued_at in await self.deps.db.run(open_calls):
            try:
                await self._reconcile_call(uniqueid, outcome, queue or "", queued_at, at,
                                           e.channels.get(uniqueid), bridges, e.members)
            except records.CallError as exc:
                log.warning("call %s not reconciled: %s", uniqueid, exc)

    async def _reconcile_call(self, uniqueid: str, outcome: str, queue: str,
                              queued_at: datetime | None, at: datetime,
                              channel: me.LiveChannel | None,
                              bridges: dict[str, list[me.LiveChannel]],
                              members: dict[str, str]) -> None:
        waited = int((at - queued_at).total_seconds()) if queued_at else 0
        if channel is None:
            if outcome == "queued":
                log.warning("call %s left the queue unseen (AMI outage); callback task",
                            uniqueid)
                await self._abandon(uniqueid, queue, waited, at)
            log.info("call %s ended while AMI was down; closed after resync", uniqueid)
            await self._hangup(uniqueid, at)
        elif outcome == "queued" and channel.bridge_id:
            for other in bridges[channel.bridge_id]:
                member = members.get(base_interface(other.channel))
                if other.uniqueid != uniqueid and member is not None:
                    await self._answer(uniqueid, queue, member, waited, at)
                    return
