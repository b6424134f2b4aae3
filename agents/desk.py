"""The agent's own view of themselves: state, shift, phone and call, as one
object (``GET /api/agent/me``, the WebSocket snapshot and ``agent.me``).

Nothing here keeps a copy of the PBX: the state comes from
:class:`agents.state.AgentStates`, the phone's registration from the PBX
model's ``phones``, the shift from the rota, the call from the call record.
An ``agent.me`` event goes to the agent (and supervisors) whenever their
state changes or their phone registers or goes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, Team
from calls.models import Call
from core.live_events import AgentMe
from core.tasks import cancel_and_wait
from pbx import model_events as pbx_events
from worksheets.models import WorkOrder

if TYPE_CHECKING:
    from agents.staffing import Staffing
    from pbx.model import PbxModel

log = logging.getLogger(__name__)


def endpoint_of(interface: str) -> str:
    """``PJSIP/1001`` -> ``1001`` (the PBX model's phone key)."""
    return interface.split("/", 1)[1] if "/" in interface else interface


class AgentDesk:
    """Builds an agent's "me" object and pushes it when it changes."""

    def __init__(self, staffing: Staffing) -> None:
        self.staffing = staffing
        self.deps = staffing.deps
        self.model: PbxModel | None = None
        self._interfaces: dict[str, int] = {}  # endpoint -> agent id (phones we care about)
        # Pushes run off the PBX model's handler loop (they read the database),
        # one at a time in the order asked, so the last one sent is the newest.
        self._pushing = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        staffing.states.on_change(self._state_changed)

    def follow(self, model: PbxModel) -> None:
        self.model = model
        model.subscribe(pbx_events.PhoneRegistered.NAME, self._phone_changed)
        model.subscribe(pbx_events.PhoneUnregistered.NAME, self._phone_changed)

    # -------------------------------------------------------------- queries
    def phone_registered(self, interface: str) -> bool | None:
        """True/False as the PBX last said; None when it never spoke of it."""
        pbx = self.model or self.deps.pbx
        if pbx is None:
            return None
        return pbx.phones.get(endpoint_of(interface))

    async def me(self, agent_id: int) -> dict[str, Any] | None:
        """The agent's "me" object (None: no such agent)."""
        staffing = self.staffing
        states = staffing.states
        live = states.agents.get(agent_id)
        uniqueid = live.uniqueid if live is not None else None
        now = self.deps.clock.now()
        current = rota.shift_at(staffing.config, staffing.local_now())

        def load(s: Session) -> tuple[Agent, Team, Call | None, int | None] | None:
            row = s.execute(select(Agent, Team).join(Team, Agent.team_id == Team.id)
                            .where(Agent.id == agent_id)).first()
            if row is None:
                return None
            call = s.scalar(select(Call).where(Call.uniqueid == uniqueid)) if uniqueid else None
            order_id = (s.scalar(select(WorkOrder.id).where(WorkOrder.call_id == call.id))
                        if call is not None else None)
            return row[0], row[1], call, order_id

        loaded = await self.deps.db.run(load)
        if loaded is None:
            return None
        agent, team, call, order_id = loaded
        self._interfaces[endpoint_of(agent.interface)] = agent_id
        rostered = await staffing.rostered((current.day, current.index))
        state = states.state_of(agent_id) or {
            "state": "logged_out", "reason": "", "since": None, "seconds_in_state": 0,
            "queues": [], "uniqueid": None}
        wrapup = None
        if live is not None and live.call == "wrap_up" and live.wrapup_until is not None:
            left = max(live.wrapup_until - self.deps.clock.monotonic(), 0.0)
            wrapup = {"until": (now + timedelta(seconds=left)).isoformat(),
                      "max_seconds": round(states.wrapup_seconds)}
        return {
            "agent": {"id": agent.id, "number": agent.number, "name": agent.name,
                      "member": agent.member_name,
                      "team": {"id": team.id, "code": team.code, "name": team.name,
                               "index": team.rota_index}},
            "shift": self._shift(current, team.rota_index, agent_id in rostered),
            "state": state["state"], "reason": state["reason"], "since": state["since"],
            "seconds_in_state": state["seconds_in_state"], "queues": state["queues"],
            "phone": {"interface": agent.interface, "endpoint": endpoint_of(agent.interface),
                      "registered": self.phone_registered(agent.interface)},
            "call": ({"uniqueid": uniqueid, "call_id": call.id if call else None,
                      "order_id": order_id} if uniqueid else None),
            "wrapup": wrapup,
        }

    def _shift(self, current: rota.ShiftSlot, team_index: int, rostered: bool
               ) -> dict[str, Any]:
        aware = self.staffing.aware
        return {"on_duty": rostered, "team_on_duty": current.team_index,
                "granted": rostered and current.team_index != team_index,
                "day": current.day.isoformat(), "index": current.index,
                "starts_at": aware(current.start).isoformat(),
                "ends_at": aware(current.end).isoformat()}

    # --------------------------------------------------------------- pushes
    async def push(self, agent_id: int) -> None:
        """Publish the agent's "me" object now (each instance its own: not relayed)."""
        data = await self.me(agent_id)
        if data is not None:
            self.deps.bus.publish(AgentMe(agent_id=agent_id, me=data), relay=False)

    def push_soon(self, agent_id: int) -> None:
        task = asyncio.create_task(self._push_in_turn(agent_id), name=f"agent-me-{agent_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_in_turn(self, agent_id: int) -> None:
        async with self._pushing:
            try:
                await self.push(agent_id)
            except Exception:
                log.exception("agent %s: could not push their state", agent_id)

    async def close(self) -> None:
        await cancel_and_wait(list(self._tasks))

    async def _state_changed(self, agent_id: int) -> None:
        self.push_soon(agent_id)

    async def _phone_changed(
            self, event: pbx_events.PhoneRegistered | pbx_events.PhoneUnregistered) -> None:
        agent_id = self._interfaces.get(event.endpoint)
        if agent_id is None:
            agent_id = await self.deps.db.run(lambda s: s.scalar(
                select(Agent.id).where(Agent.interface.in_(
                    (f"PJSIP/{event.endpoint}", f"SIP/{event.endpoint}")))))
            if agent_id is None:
                return
            self._interfaces[event.endpoint] = agent_id
        self.push_soon(agent_id)

