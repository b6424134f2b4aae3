"""Wrap-up until the order is submitted (or a maximum), then ready by itself.

Asterisk's own wrap-up is the queues' fixed ``wrapuptime``.  When the call
the agent just finished still has a draft order, the backend holds them:
a QueuePause in every queue with the reason ``wrap-up`` (shown as the
wrap_up state, not as a pause), lifted when the order is submitted or
closed without one, when the agent asks to be ready, or after
``HOTLINE_WRAPUP_MAX_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from agents.state import WRAPUP_REASON
from calls.models import Call
from pbx.commands import AmiError
from worksheets.models import WorkOrder

if TYPE_CHECKING:
    from agents.staffing import Staffing

log = logging.getLogger(__name__)


class WrapUpHold:
    def __init__(self, staffing: Staffing, max_seconds: float) -> None:
        self.staffing = staffing
        self.max_seconds = max_seconds
        self._held: set[int] = set()  # agents we paused for wrap-up
        self._lock = asyncio.Lock()  # holds and releases in the order they came
        staffing.states.on_wrapup(self._wrapup)

    def _wrapup(self, agent_id: int, uniqueid: str | None, started: bool) -> None:
        work = self._hold(agent_id, uniqueid) if started else self._release(agent_id)
        self.staffing.spawn(work, f"wrapup-{agent_id}")

    async def _hold(self, agent_id: int, uniqueid: str | None) -> None:
        async with self._lock:
            if uniqueid is None or not await self._draft_left(uniqueid):
                return  # submitted during the call: the queues' wrapuptime only
            member = self.staffing.logged_in.get(agent_id)
            if member is None or not self.staffing.states.hold_wrapup(agent_id,
                                                                      self.max_seconds):
                return
            self._held.add(agent_id)
            try:
                await self.staffing.pause_member(member, True, WRAPUP_REASON)
            except AmiError as exc:
                log.warning("wrap-up pause of %s: %s", member.member_name, exc.message)

    async def _release(self, agent_id: int) -> None:
        async with self._lock:
            if agent_id not in self._held:
                return
            self._held.discard(agent_id)
            live = self.staffing.states.agents.get(agent_id)
            if live is not None and live.paused_in and live.reason != WRAPUP_REASON:
                return  # they paused for something else meanwhile: leave it
            member = self.staffing.logged_in.get(agent_id)
            if member is None or agent_id in self.staffing.leaving:
                return  # logged out, or their shift ended (the shift-end pause stands)
            try:
                await self.staffing.pause_member(member, False, "")
            except AmiError as exc:
                log.warning("wrap-up end of %s: %s", member.member_name, exc.message)

    async def _draft_left(self, uniqueid: str) -> bool:
        return await self.staffing.deps.db.run(lambda s: s.scalar(
            select(WorkOrder.id).join(Call, WorkOrder.call_id == Call.id)
            .where(Call.uniqueid == uniqueid, WorkOrder.status == "draft")) is not None)

    async def order_done(self, agent_id: int) -> bool:
        """The agent's order is in: ready now (False: they were not in wrap-up)."""
        ended = await self.staffing.states.end_wrapup(agent_id)
        if not ended and agent_id in self._held:
            await self._release(agent_id)  # the pause outlived the wrap-up
        return ended
