"""Keeps call records in step with what Asterisk reports over AMI.

The IVR (FastAGI) creates a call record when the caller arrives; the
queue's events complete it: joined, answered by whom (which creates the
draft work order on the agent's screen), abandoned (a callback task), hung
up.  Every step is idempotent, so duplicated events, or a call that never
passed through our IVR (backend down), still end up as one correct record.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent
from hotline.deps import Deps
from hotline.logmask import mask_number
from pbx.ami_protocol import AmiMessage
from worksheets import service

log = logging.getLogger(__name__)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _caller(message: AmiMessage) -> tuple[str | None, str | None]:
    number = message.get("CallerIDNum")
    name = message.get("CallerIDName")
    return (None if number in (None, "<unknown>") else number,
            None if name in (None, "<unknown>") else name)


def agent_id_for_member(session: Session, member_name: str) -> int | None:
    number = member_name.removeprefix("agent-")
    return session.scalar(select(Agent.id).where(Agent.number == number))


class CallTracker:
    """AMI event handler for call records; subscribe ``on_event`` to the link."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._talk: dict[str, int] = {}

    async def on_event(self, message: AmiMessage) -> None:
        try:
            await self._dispatch(message)
        except service.CallError as exc:
            # A report that contradicts a later state (an abandon after the
            # answer, say) is logged, not applied: outcomes only move forward.
            log.warning("AMI %s for %s not applied: %s", message.event,
                        message.get("Uniqueid"), exc)

    async def _dispatch(self, message: AmiMessage) -> None:
        handler = {
            "QueueCallerJoin": self._joined,
            "AgentConnect": self._connected,
            "AgentComplete": self._completed,
            "QueueCallerAbandon": self._abandoned,
            "Hangup": self._hangup,
        }.get(message.event or "")
        if handler is not None:
            await handler(message)

    async def _joined(self, m: AmiMessage) -> None:
        number, name = _caller(m)
        uniqueid, queue = m.get("Uniqueid") or "", m.get("Queue") or ""
        await self.deps.db.run(
            lambda s: service.mark_queued(
                s, uniqueid, queue=queue, now=self.deps.clock.now(), caller_number=number,
                caller_name=name, channel=m.get("Channel"), linkedid=m.get("Linkedid"),
            )
        )
        self.deps.bus.publish("call.queued", uniqueid=uniqueid, queue=queue,
                              caller=mask_number(number), position=_int(m.get("Position")))

    async def _connected(self, m: AmiMessage) -> None:
        uniqueid, member = m.get("Uniqueid") or "", m.get("MemberName") or ""

        def work(s: Session) -> tuple[int, str, int | None]:
            agent_id = agent_id_for_member(s, member)
            order = service.mark_answered(
                s, uniqueid, member_name=member, agent_id=agent_id,
                hold_seconds=_int(m.get("HoldTime")), now=self.deps.clock.now(),
            )
            return order.id, order.number, agent_id

        order_id, number, agent_id = await self.deps.db.run(work)
        log.info("call %s answered by %s; draft order %s", uniqueid, member, number)
        self.deps.bus.publish("call.answered", uniqueid=uniqueid, queue=m.get("Queue"),
                              member=member, hold_seconds=_int(m.get("HoldTime")))
        self.deps.bus.publish("order.draft", order_id=order_id, number=number,
                              agent_id=agent_id, uniqueid=uniqueid)

    async def _completed(self, m: AmiMessage) -> None:
        self._talk[m.get("Uniqueid") or ""] = _int(m.get("TalkTime"))

    async def _abandoned(self, m: AmiMessage) -> None:
        uniqueid = m.get("Uniqueid") or ""
        await self.deps.db.run(
            lambda s: service.mark_abandoned(
                s, uniqueid, hold_seconds=_int(m.get("HoldTime")), now=self.deps.clock.now()
            )
        )
        self.deps.bus.publish("call.abandoned", uniqueid=uniqueid, queue=m.get("Queue"))

    async def _hangup(self, m: AmiMessage) -> None:
        uniqueid = m.get("Uniqueid") or ""
        talk = self._talk.pop(uniqueid, None)
        call = await self.deps.db.run(
            lambda s: service.mark_ended(s, uniqueid, now=self.deps.clock.now(),
                                         talk_seconds=talk)
        )
        if call is not None:
            self.deps.bus.publish("call.ended", uniqueid=uniqueid, outcome=call.outcome)
