"""The screen pop: who is calling, what they chose, what they asked before.

Built from the call record, the caller's orders of the last 12 months, the
priority list, the description transcript and the knowledge base's
suggestions for it.  Pushed as ``call.pop`` to the agent whose phone rings
(AgentCalled) and again when they answer (AgentConnect), and read by
``GET /api/agent/pop`` after a reload.  The caller's number is whole only
for the agent the call was offered to or answered by (and supervisors).

Latency: each push carries ``ami_read_ms``, the wall clock when the AMI
link read the event, and ``sent_ms``, when the pop was published; the same
two are logged (logger ``worksheets.pop``, one line per pop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent
from calls.models import Call
from core.live_events import CallPop
from core.logmask import mask_number
from pbx import model_events as me
from pbx.model_events import agent_number
from routing.lists import priority_for
from speech.tables import TranscriptRecord as Transcript
from worksheets.knowledge import search as kb_search
from worksheets.models import Department, WorkOrder

if TYPE_CHECKING:
    from hotline.deps import Deps
    from pbx.model import PbxModel

log = logging.getLogger(__name__)

HISTORY_DAYS = 365
HISTORY_LIMIT = 20
SUGGESTIONS = 5


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_brief(order: WorkOrder, departments: dict[int, str]) -> dict[str, Any]:
    """What the pop and the look-up show of an earlier order (no words of the caller)."""
    return {"id": order.id, "number": order.number, "status": order.status,
            "category": order.category, "title": order.title,
            "department_id": order.department_id,
            "department": departments.get(order.department_id or 0, ""),
            "due_date": _iso(order.due_date), "created_at": _iso(order.created_at),
            "closed_at": _iso(order.closed_at), "reply": order.reply}


def department_names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.execute(select(Department.id, Department.name))}


def caller_history(session: Session, number: str, *, now: datetime,
                   exclude_call: int | None = None) -> list[WorkOrder]:
    """The orders from ``number`` of the last 12 months, newest first."""
    if not number:
        return []
    stmt = (select(WorkOrder).where(WorkOrder.caller_number == number,
                                    WorkOrder.created_at >= now - timedelta(days=HISTORY_DAYS))
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(HISTORY_LIMIT))
    if exclude_call is not None:
        stmt = stmt.where((WorkOrder.call_id.is_(None)) | (WorkOrder.call_id != exclude_call))
    return list(session.scalars(stmt))


def build_pop(session: Session, call: Call, *, full_number: bool, now: datetime, tz: tzinfo,
              target_minutes: int = 10) -> dict[str, Any]:
    """The pop of ``call`` as of ``now`` (answered or still ringing)."""
    names = department_names(session)
    history = caller_history(session, call.caller_number, now=now, exclude_call=call.id)
    caller_name = call.caller_name or next((o.caller_name for o in history if o.caller_name), "")
    vulnerable = priority_for(session, call.caller_number, now) if call.caller_number else None
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    follows = session.get(WorkOrder, call.follows_order_id) if call.follows_order_id else None
    legacy = None
    if call.department_id is not None and call.dialed_number not in ("", "12345"):
        legacy = {"number": call.dialed_number, "department_id": call.department_id,
                  "department": names.get(call.department_id, "")}
    if call.answered_at is not None:
        waited = call.hold_seconds if call.hold_seconds is not None else round(
            (call.answered_at - (call.queued_at or call.entered_at)).total_seconds())
    else:
        waited = round((now - (call.queued_at or call.entered_at)).total_seconds())
    transcript = session.scalars(
        select(Transcript).where(Transcript.call_uniqueid == call.uniqueid,
                                 Transcript.kind == "description")
        .order_by(Transcript.id.desc())).first()
    suggestions: list[dict[str, Any]] = []
    if transcript is not None and transcript.text.strip():
        suggestions = kb_search(session, transcript.text[:4000],
                                today=now.astimezone(tz).date(), limit=SUGGESTIONS)
    return {
        "uniqueid": call.uniqueid, "call_id": call.id,
        "phase": "answered" if call.answered_at is not None else "ringing",
        "caller_number": call.caller_number if full_number else mask_number(call.caller_number),
        "caller_name": caller_name,
        "vulnerable": vulnerable is not None,
        "vulnerable_reason": vulnerable.reason if vulnerable is not None else None,
        "ivr_choice": call.ivr_choice, "category": call.category, "queue": call.queue,
        "legacy_line": legacy, "waited_seconds": max(waited, 0),
        "entered_at": _iso(call.entered_at), "answered_at": _iso(call.answered_at),
        "submit_by": _iso(call.answered_at + timedelta(minutes=target_minutes))
        if call.answered_at is not None else None,
        "order": ({"id": order.id, "number": order.number, "status": order.status}
                  if order is not None else None),
        "follows_order": order_brief(follows, names) if follows is not None else None,
        "history": [order_brief(o, names) for o in history],
        "transcript": ({"transcript_id": transcript.id, "text": transcript.text,
                        "final": transcript.complete} if transcript is not None else None),
        "kb_suggestions": suggestions,
    }


class PopPusher:
    """Pushes the pop to the agent whose phone rings, and again on answer."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.model: PbxModel | None = None
        self._agents: dict[str, int] = {}

    def follow(self, model: PbxModel) -> None:
        """Subscribe after the call tracker: the record (and the draft) is written first."""
        self.model = model
        model.subscribe(me.AgentRinging.NAME, self._ringing)
        model.subscribe(me.CallAnswered.NAME, self._answered)

    async def _ringing(self, event: me.AgentRinging) -> None:
        await self._push(event.uniqueid, event.member_name, "ringing")

    async def _answered(self, event: me.CallAnswered) -> None:
        if not event.resync:
            await self._push(event.uniqueid, event.member_name, "answered")

    async def _agent_id(self, member_name: str) -> int | None:
        number = agent_number(member_name)
        if number is None:
            return None
        if number not in self._agents:
            agent_id = await self.deps.db.run(
                lambda s: s.scalar(select(Agent.id).where(Agent.number == number)))
            if agent_id is None:
                return None
            self._agents[number] = agent_id
        return self._agents[number]

    async def _push(self, uniqueid: str, member_name: str, phase: str) -> None:
        read_ms = self.model.read_ms if self.model is not None else time.time() * 1000
        agent_id = await self._agent_id(member_name)
        if agent_id is None:
            return
        deps = self.deps

        def work(s: Session) -> dict[str, Any] | None:
            call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
            if call is None:
                return None
            return build_pop(s, call, full_number=True, now=deps.clock.now(),
                             tz=deps.settings.tz,
                             target_minutes=deps.settings.order_target_minutes)

        try:
            pop = await deps.db.run(work)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pop for call %s not built", uniqueid)
            return
        if pop is None:
            return
        pop["phase"] = phase
        sent_ms = time.time() * 1000
        deps.bus.publish(CallPop(agent_id=agent_id, phase=phase, pop=pop,
                                 ami_read_ms=round(read_ms, 1), sent_ms=round(sent_ms, 1)),
                         relay=False)
        log.info("pop phase=%s uniqueid=%s agent=%s ami_read_ms=%.1f published_ms=%.1f",
                 phase, uniqueid, agent_id, read_ms, sent_ms)
