"""Every backend follows who is on Asterisk's queues, from the PBX model.

Part of :class:`agents.staffing.Staffing` (a mixin, for the file's size):
agents another backend logged in are adopted when their members appear (or
after a resync, for those this process did not log in: it restarted), and
forgotten when Asterisk reports them taken off every queue by anyone.  A
member a resync finds gone was taken off by nobody (Asterisk restarted): it
is kept, and the backend in charge puts it back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from agents import rota
from agents.models import Agent
from agents.queue_store import stored_queues
from agents.state import SHIFT_END_REASON
from pbx import model_events as me
from pbx.model_events import agent_number
from pbx.state import MemberState

if TYPE_CHECKING:
    from agents.staffing import AgentOnQueues
    from pbx.model import PbxModel

log = logging.getLogger("agents.staffing")


class FollowsPbx:
    # Provided by Staffing.
    model: PbxModel | None
    logged_in: dict[int, AgentOnQueues]
    leaving: set[int]
    in_charge: bool
    ready: asyncio.Event
    _joining: dict[int, str]
    _adopting: set[str]
    _lost: dict[str, set[str]]
    _resync_lock: asyncio.Lock
    deps: Any
    states: Any
    config: rota.RotaConfig

    if TYPE_CHECKING:
        def _spawn(self, coro: Any, name: str) -> None: ...
        async def member(self, agent_id: int) -> AgentOnQueues: ...
        async def _add(self, member: AgentOnQueues) -> None: ...
        async def guarded(self, action: object, member: AgentOnQueues, what: str) -> None: ...
        async def queue_logout(self, agent_id: int) -> None: ...
        async def end_shift_for(self, agent_id: int, member: AgentOnQueues) -> None: ...
        async def rostered(self, key: tuple[Any, int]) -> set[int]: ...
        async def refresh_queues(self, agent_id: int | None = None) -> None: ...
        def local_now(self) -> Any: ...

    def follow(self, model: PbxModel) -> None:
        """Follow who is on Asterisk's queues: adopt agents whose members appear
        (another backend logged them in) and, after each resync, those this
        process does not know (it restarted); forget those taken off."""
        self.model = model
        model.subscribe(me.Resynced.NAME, self._resynced)
        model.subscribe(me.MemberAdded.NAME, self._member_added)
        model.subscribe(me.MemberRemoved.NAME, self._member_removed)

    def _resynced(self, _event: me.Resynced) -> None:
        # Not on the model's dispatcher: the QueueAdds' own events must flow.
        self._spawn(self.resync(), "staffing-resync")

    def _member_added(self, e: me.MemberAdded) -> None:
        if e.resync or agent_number(e.member_name) is None or self.model is None:
            return  # a resync's differences are settled by resync()
        known = self._by_member(e.member_name)
        if known is not None:
            if e.queue not in known.queues:
                # Moved by a supervisor through another backend: the penalty it
                # stored (before the QueueAdd) is read now; 2 until then.
                known.queues[e.queue] = 2
                self._spawn(self._refresh_quietly(known.agent_id), f"queues-{e.member_name}")
            return
        state = self.model.state.members.get((e.queue, e.interface))
        if state is None or not state.dynamic or e.member_name in self._adopting:
            return
        if e.member_name in self._joining.values():
            return
        self._spawn(self._adopt_now(e.member_name), f"adopt-{e.member_name}")

    def _member_removed(self, e: me.MemberRemoved) -> None:
        if e.resync:
            # Nobody took them off: Asterisk lost them (restarted).  They stay
            # logged in, and the one in charge puts them back (resync()).
            self._lost.setdefault(e.member_name, set()).add(e.queue)
            return
        if self.model is None:
            return
        member = self._by_member(e.member_name)
        if self.model.members_of(e.member_name):
            if member is not None and member.agent_id not in self._joining:
                # Taken off one queue (a supervisor's move, through any backend):
                # not to be put back after Asterisk restarts.
                member.queues.pop(e.queue, None)
            return
        self._lost.pop(e.member_name, None)
        if member is not None and member.agent_id not in self._joining:
            del self.logged_in[member.agent_id]
            self.leaving.discard(member.agent_id)

    async def _refresh_quietly(self, agent_id: int) -> None:
        try:
            await self.refresh_queues(agent_id)
        except Exception:  # noqa: BLE001 - database away: the periodic check heals it
            log.warning("agent %d: stored queues not read", agent_id)

    def _by_member(self, member_name: str) -> AgentOnQueues | None:
        return next((m for m in self.logged_in.values() if m.member_name == member_name), None)

    async def _adopt_now(self, member_name: str) -> None:
        assert self.model is not None
        queues = {m.queue: m for m in self.model.members_of(member_name) if m.dynamic}
        if queues and self._by_member(member_name) is None:
            await self._adopt(member_name, queues)

    async def resync(self) -> None:
        """Make staffing and Asterisk's queues agree, from the model's members."""
        async with self._resync_lock:  # two resyncs in a row: one after the other
            await self._agree_with_pbx()
        self.ready.set()

    def on_pbx(self) -> dict[str, dict[str, MemberState]]:
        """Agents' dynamic members at the PBX: member name -> queue -> member."""
        assert self.model is not None
        found: dict[str, dict[str, MemberState]] = {}
        for m in self.model.state.members.values():
            # Static members (queues.conf) are the configuration's, not staffing's.
            if m.dynamic and agent_number(m.name) is not None:
                found.setdefault(m.name, {})[m.queue] = m
        return found

    async def _agree_with_pbx(self) -> None:
        on_pbx = self.on_pbx()
        known = {m.member_name for m in self.logged_in.values()}
        for member_name, queues in sorted(on_pbx.items()):
            if member_name not in known:
                await self._adopt(member_name, queues)
        if not self.in_charge:
            return  # putting back what Asterisk lost is done once, by the one in charge
        if self._lost:
            try:  # as the supervisor left them, whichever backend they used
                await self.refresh_queues()
            except Exception:  # noqa: BLE001 - database away: put back what is known
                log.warning("stored queues not read; putting agents back as known here")
        for member in list(self.logged_in.values()):
            lost = self._lost.pop(member.member_name, set())
            missing = {q: p for q, p in member.queues.items()
                       if q in lost and q not in on_pbx.get(member.member_name, {})}
            if missing:  # Asterisk restarted: it forgets dynamic members
                log.warning("%s is missing from %d queue(s) at the PBX; adding again",
                            member.member_name, len(missing))
                await self.guarded(self._add(replace(member, queues=missing)), member,
                                    "rejoin the queues")

    async def _adopt(self, member_name: str, queues: dict[str, MemberState]) -> None:
        """An agent on Asterisk's queues whom this process did not log in."""
        from agents.staffing import StaffingError  # (it imports this module)

        number = agent_number(member_name)
        self._adopting.add(member_name)
        try:
            agent_id = await self.deps.db.run(lambda s: s.scalar(
                select(Agent.id).where(Agent.number == number)))
            if agent_id is None:
                return
            try:
                member = await self.member(agent_id)
            except StaffingError as exc:
                log.warning("%s is on the queues but %s; left as Asterisk has it",
                            member_name, exc)
                return
            stored = (await self.deps.db.run(lambda s: stored_queues(s, [agent_id]))
                      ).get(agent_id, {})
        finally:
            self._adopting.discard(member_name)
        if agent_id in self.logged_in or agent_id in self._joining:
            return  # logged in here while we looked them up
        on_pbx = {m.queue for m in self.model.members_of(member_name)} if self.model else set()
        member.queues = {q: stored.get(q, member.queues.get(q, 2))
                         for q in set(queues) | on_pbx}
        self.logged_in[agent_id] = member
        log.info("%s found on %d queue(s) at the PBX; following them", member_name, len(queues))
        if not self.in_charge:
            return
        if all_shift_end(queues.values()):
            if self.states.is_idle(agent_id):
                await self.guarded(self.queue_logout(agent_id), member, "leave the queues")
            return
        current = rota.shift_at(self.config, self.local_now())
        if agent_id not in await self.rostered((current.day, current.index)):
            await self.end_shift_for(agent_id, member)


def all_shift_end(members: Iterable[MemberState]) -> bool:
    listed = list(members)
    return bool(listed) and all(m.paused and m.paused_reason == SHIFT_END_REASON
                                for m in listed)
