"""Keeps the queues staffed from the rota, over AMI.

An agent rostered for the running shift (their team's, or one taken by a
swap or granted as overtime) who logs into the console is added to every
service queue (QueueAdd) with the penalties of their skills; outside their
shifts they are refused.  An agent of the next shift may check in up to
``early_login_minutes`` before it and is added when it starts.

At each shift change, agents no longer rostered leave the queues: at once
if idle, otherwise they are paused (reason ``shift-end``, so no new call
reaches them) and removed when their call and wrap-up are over.
``no_show_minutes`` into a shift, rostered agents not on the queues are
flagged to supervisors (by one backend of several: ``alerts``).  Each
backend changes shifts for the agents it follows.

Who is on the queues is Asterisk's to say: after every resync of the PBX
model, agents on its queues whom this process did not log in (it
restarted, or another backend logged them in) are adopted (and taken off
if their shift is over), and logged-in agents missing from them (Asterisk
restarted: dynamic members are gone) are added again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.alerts import raise_alert
from agents.desk import AgentDesk
from agents.models import Agent, HandoverNote, PauseReason, Team
from agents.roster import ShiftPolicy, SlotKey, load_roster, load_settings
from agents.state import SHIFT_END_REASON, AgentStates
from agents.wrapup import WrapUpHold
from hotline.deps import Deps
from hotline.live_events import (
    AgentCheckedIn,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    ShiftChanged,
)
from hotline.tasks import cancel_and_wait
from pbx import model_events as me
from pbx.commands import AmiError, PbxCommands
from pbx.model import PbxModel
from pbx.model_events import agent_number
from pbx.state import MemberState

log = logging.getLogger(__name__)


class StaffingError(Exception):
    pass


class UnknownPauseReason(StaffingError):
    """The reason is not on the supervisors' list."""


def penalties(skills: str, queues: list[str]) -> dict[str, int]:
    """Queue -> penalty from a skills string such as "complaint:0,help:1".

    Lower is preferred; queues the agent has no skill for get 2, the
    general queue 1 unless named.
    """
    by_category: dict[str, int] = {}
    for part in skills.split(","):
        name, _, value = part.strip().partition(":")
        if name:
            by_category[name] = int(value) if value.isdigit() else 0
    out = {}
    for queue in queues:
        category = queue.removeprefix("hotline-")
        out[queue] = by_category.get(category, 1 if category == "general" else 2)
    return out


@dataclass
class AgentOnQueues:
    agent_id: int
    number: str
    interface: str
    member_name: str
    team_index: int
    overtime: bool = False  # kept for callers; overtime is now a rostered shift
    queues: dict[str, int] = field(default_factory=dict)
    starts_at: datetime | None = None  # checked in early: joins at this instant


class Staffing:
    def __init__(self, deps: Deps, config: rota.RotaConfig | None = None,
                 model: PbxModel | None = None) -> None:
        self.deps = deps
        self.model = model
        self.config = config or rota.RotaConfig(min_on_duty=5)
        self.policy = ShiftPolicy()
        self.logged_in: dict[int, AgentOnQueues] = {}
        self.waiting: dict[int, AgentOnQueues] = {}
        self.leaving: set[int] = set()
        self.states = AgentStates(deps, self.policy.wrapup_seconds)
        self.states.on_idle(self._agent_idle)
        self.desk = AgentDesk(self)  # each agent's own view, pushed when it changes
        hold = deps.settings.wrapup_max_seconds if deps.settings is not None else 0
        self.wrapup = WrapUpHold(self, hold) if hold > 0 else None
        self._tasks: set[asyncio.Task[None]] = set()
        # Whether this backend raises the no-show alerts (the elected one of several).
        self.alerts = True
        self._resync_lock = asyncio.Lock()
        self._joining: set[int] = set()

    # ---------------------------------------------------------------- life
    async def start(self) -> None:
        """Load the stored rota settings and start following agent states."""
        await self.reload_settings()
        await self.states.start()

    async def reload_settings(self) -> None:
        self.config, self.policy = await self.deps.db.run(load_settings)
        self.states.wrapup_seconds = self.policy.wrapup_seconds

    async def close(self) -> None:
        await self.states.close()
        await self.desk.close()
        await cancel_and_wait(list(self._tasks))

    # --------------------------------------------------------------- lookups
    def local_now(self) -> datetime:
        return self.deps.clock.now().astimezone(self.deps.settings.tz).replace(tzinfo=None)

    def aware(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.deps.settings.tz)

    def team_on_duty(self) -> int:
        return rota.team_on_duty(self.config, self.deps.clock.now(), self.deps.settings.tz)

    async def rostered(self, key: SlotKey) -> set[int]:
        """The agents who work the shift ``key`` (swaps, leave, overtime applied)."""
        config = self.config
        return await self.deps.db.run(
            lambda s: load_roster(s, config, key[0], key[0]).agents_on(*key))

    # ------------------------------------------------------------ the queues
    async def queue_login(self, agent_id: int) -> AgentOnQueues:
        """Join the queues now, or at the start of a shift beginning soon."""
        if agent_id in self.logged_in and agent_id not in self.leaving:
            return self.logged_in[agent_id]
        member = await self._member(agent_id)
        current = rota.shift_at(self.config, self.local_now())
        if agent_id in await self.rostered((current.day, current.index)):
            if agent_id in self.leaving:  # rostered again (overtime): keep them on
                self.leaving.discard(agent_id)
                await self._pause_member(member, False, "")
                return self.logged_in[agent_id]
            await self._join(member)
            return member
        upcoming = rota.shift_at(self.config, current.end)
        early = timedelta(minutes=self.policy.early_login_minutes)
        soon = current.end - self.local_now() <= early
        if soon and agent_id in await self.rostered((upcoming.day, upcoming.index)):
            member.starts_at = self.aware(upcoming.start)
            self.waiting[agent_id] = member
            self.deps.bus.publish(AgentCheckedIn(agent_id=agent_id,
                                                 starts_at=member.starts_at.isoformat()))
            return member
        raise StaffingError("you are not rostered for this shift; a supervisor must allow "
                            "overtime")

    async def _member(self, agent_id: int) -> AgentOnQueues:
        def load(s: Session) -> tuple[Agent, Team]:
            agent = s.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise StaffingError("unknown or inactive agent")
            team = s.get(Team, agent.team_id)
            assert team is not None
            return agent, team

        agent, team = await self.deps.db.run(load)
        member = AgentOnQueues(agent.id, agent.number, agent.interface, agent.member_name,
                               team.rota_index)
        member.queues = penalties(agent.skills, self.deps.routing.queues())
        return member

    async def _join(self, member: AgentOnQueues) -> None:
        member.starts_at = None
        # Joining: a resync meanwhile sees them on some queues; not to be adopted.
        self._joining.add(member.agent_id)
        try:
            await self._add(member)
        finally:
            self._joining.discard(member.agent_id)
        self.logged_in[member.agent_id] = member
        self.deps.bus.publish(AgentLoggedIn(agent_id=member.agent_id,
                                            member=member.member_name,
                                            queues=sorted(member.queues)))

    async def _add(self, member: AgentOnQueues) -> None:
        pbx = self._pbx()
        for queue, penalty in member.queues.items():
            try:
                await pbx.queue_add(queue, member.interface, member.member_name, penalty)
            except AmiError as exc:
                raise StaffingError(f"QueueAdd {queue}: {exc.message}") from exc

    async def queue_logout(self, agent_id: int) -> None:
        """Leave the queues now (a waiting check-in is simply dropped)."""
        self.waiting.pop(agent_id, None)
        self.leaving.discard(agent_id)
        member = self.logged_in.pop(agent_id, None)
        if member is None:
            return
        pbx = self._pbx()
        for queue in member.queues:
            try:
                await pbx.queue_remove(queue, member.interface)
            except AmiError as exc:
                log.warning("QueueRemove %s %s: %s", queue, member.member_name, exc.message)
        self.deps.bus.publish(AgentLoggedOut(agent_id=agent_id, member=member.member_name))

    async def pause(self, agent_id: int, paused: bool, reason: str = "") -> str:
        """Pause for a reason on the supervisors' list, or resume; returns the reason's code."""
        member = self.logged_in.get(agent_id)
        if member is None:
            raise StaffingError("not logged into the queues")
        if agent_id in self.leaving:
            raise StaffingError("your shift has ended: you leave the queues after this call")
        code = await self._reason_code(reason) if paused else ""
        await self._pause_member(member, paused, code)
        self.deps.bus.publish(AgentPaused(agent_id=agent_id, paused=paused, reason=code))
        return code

    async def _reason_code(self, reason: str) -> str:
        named = (PauseReason.code == reason) | (PauseReason.label == reason)
        row = await self.deps.db.run(lambda s: s.scalar(
            select(PauseReason).where(PauseReason.active, named)))
        if row is None:
            raise UnknownPauseReason(f"unknown pause reason {reason!r}: choose one from "
                                     "GET /api/pause-reasons")
        return row.code

    async def _pause_member(self, member: AgentOnQueues, paused: bool, reason: str) -> None:
        await self._pbx().pause(member.interface, paused, reason)

    pause_member = _pause_member

    async def order_done(self, agent_id: int) -> bool:
        """The agent's order for their last call is in: their wrap-up ends."""
        if self.wrapup is not None:
            return await self.wrapup.order_done(agent_id)
        return await self.states.end_wrapup(agent_id)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` off the PBX model's handler loop (cancelled at close)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- resync
    def follow(self, model: PbxModel) -> None:
        """After each resync of the model: adopt the agents Asterisk has on its
        queues (this backend restarted), put back those it lost (it restarted)."""
        self.model = model
        model.subscribe(me.Resynced.NAME, self._resynced)
        self.desk.follow(model)

    def _resynced(self, _event: me.Resynced) -> None:
        # Not on the model's dispatcher: the QueueAdds' own events must flow.
        self.spawn(self.resync(), "staffing-resync")

    async def resync(self) -> None:
        """Make staffing and Asterisk's queues agree, from the model's members."""
        async with self._resync_lock:  # two resyncs in a row: one after the other
            await self._agree_with_pbx()

    async def _agree_with_pbx(self) -> None:
        assert self.model is not None
        on_pbx: dict[str, dict[str, MemberState]] = {}
        for m in self.model.state.members.values():
            # Static members (queues.conf) are the configuration's, not staffing's.
            if m.dynamic and agent_number(m.name) is not None:
                on_pbx.setdefault(m.name, {})[m.queue] = m
        known = {m.member_name for m in self.logged_in.values()}
        for member_name, queues in sorted(on_pbx.items()):
            if member_name not in known:
                await self._adopt(member_name, queues)
        for member in list(self.logged_in.values()):
            missing = {q: p for q, p in member.queues.items()
                       if q not in on_pbx.get(member.member_name, {})}
            if missing:  # Asterisk restarted: it forgets dynamic members
                log.warning("%s is missing from %d queue(s) at the PBX; adding again",
                            member.member_name, len(missing))
                await self._guarded(self._add(replace(member, queues=missing)), member,
                                    "rejoin the queues")

    async def _adopt(self, member_name: str, queues: dict[str, MemberState]) -> None:
        """An agent on Asterisk's queues whom this process did not log in."""
        number = agent_number(member_name)
        agent_id = await self.deps.db.run(lambda s: s.scalar(
            select(Agent.id).where(Agent.number == number)))
        if agent_id is None:
            return
        try:
            member = await self._member(agent_id)
        except StaffingError as exc:
            log.warning("%s is on the queues but %s; left as Asterisk has it", member_name, exc)
            return
        if agent_id in self.logged_in or agent_id in self._joining:
            return  # logged in here while we looked them up
        member.queues = {q: member.queues.get(q, 2) for q in queues}
        self.logged_in[agent_id] = member
        log.info("%s found on %d queue(s) at the PBX; following them", member_name, len(queues))
        if all(m.paused and m.paused_reason == SHIFT_END_REASON for m in queues.values()):
            self.leaving.add(agent_id)
            if self.states.is_idle(agent_id):
                await self._guarded(self.queue_logout(agent_id), member, "leave the queues")
            return
        current = rota.shift_at(self.config, self.local_now())
        if agent_id not in await self.rostered((current.day, current.index)):
            await self._end_shift_for(agent_id, member)

    # --------------------------------------------------------- shift changes
    async def shift_changes(self) -> None:
        """Runs for the process's life: shift changes and the no-show checks after them."""
        cursor = self.deps.clock.now()
        no_show_done: SlotKey | None = None
        while True:
            local = max(self.local_now(), cursor.astimezone(self.deps.settings.tz)
                        .replace(tzinfo=None))
            current = rota.shift_at(self.config, local)
            key = (current.day, current.index)
            no_show_at = self.aware(current.start + timedelta(
                minutes=self.policy.no_show_minutes))
            if no_show_done != key and self.aware(local) < no_show_at:
                await self._sleep_until(no_show_at)
                await self._check_no_shows(key)
                no_show_done = key
                continue
            change_at = self.aware(current.end)
            await self._sleep_until(change_at)
            await self._change_shift(change_at)
            cursor = change_at

    async def _sleep_until(self, instant: datetime) -> None:
        await asyncio.sleep(max((instant - self.deps.clock.now()).total_seconds(), 0.001))

    async def _change_shift(self, at: datetime) -> None:
        local = at.astimezone(self.deps.settings.tz).replace(tzinfo=None)
        new = rota.shift_at(self.config, local)
        on = await self.rostered((new.day, new.index))
        notes = await self.deps.db.run(lambda s: handover_notes(
            s, rota.shift_at(self.config, local - timedelta(seconds=1))))
        # Every instance changes shifts (for the agents it follows): each tells its own
        # consoles, not relayed.
        self.deps.bus.publish(ShiftChanged(team_index=new.team_index, day=new.day.isoformat(),
                                           shift=new.index, handover=notes), relay=False)
        for agent_id, member in list(self.waiting.items()):
            del self.waiting[agent_id]
            if agent_id in on:
                await self._guarded(self._join(member), member, "join the queues")
        for agent_id, member in list(self.logged_in.items()):
            if agent_id in on or agent_id in self.leaving:
                continue
            await self._end_shift_for(agent_id, member)

    async def _end_shift_for(self, agent_id: int, member: AgentOnQueues) -> None:
        """Off the queues now if idle, else paused and off after the call."""
        if self.states.is_idle(agent_id):
            log.info("shift over for %s; removing from the queues", member.member_name)
            await self._guarded(self.queue_logout(agent_id), member, "leave the queues")
        else:
            log.info("shift over for %s; leaves after the call", member.member_name)
            self.leaving.add(agent_id)
            await self._guarded(self._pause_member(member, True, SHIFT_END_REASON),
                                member, "pause at shift end")

    async def _guarded(self, action: object, member: AgentOnQueues, what: str) -> None:
        """One agent's AMI failure must not stop the shift change for the others."""
        try:
            await action  # type: ignore[misc]
        except (StaffingError, AmiError) as exc:
            log.error("%s could not %s: %s", member.member_name, what, exc)

    def _agent_idle(self, agent_id: int) -> None:
        if agent_id not in self.leaving:
            return
        task = asyncio.create_task(self.queue_logout(agent_id), name=f"shift-end-{agent_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check_no_shows(self, key: SlotKey) -> None:
        if not self.alerts:
            return
        # On Asterisk's queues counts too: another backend may have logged them in.
        present = set(self.logged_in) | self.states.on_queues()
        absent = sorted((await self.rostered(key)) - present)
        if not absent:
            return
        names = await self.deps.db.run(lambda s: {
            a.id: a.member_name for a in s.scalars(select(Agent).where(Agent.id.in_(absent)))})
        for agent_id in absent:
            await raise_alert(self.deps, "no_show", agent_id,
                              f"{names.get(agent_id, agent_id)} is rostered for the shift of "
                              f"{key[0]} #{key[1] + 1} and not on the queues "
                              f"{self.policy.no_show_minutes} minutes in")

    def _pbx(self) -> PbxCommands:
        if self.model is None or not self.model.connected:
            raise StaffingError("the PBX is not connected")
        return self.model.commands


def handover_notes(session: Session, shift: rota.ShiftSlot) -> list[dict[str, object]]:
    """Notes written during ``shift``, oldest first."""
    from hotline.accounts import User

    rows = session.execute(
        select(HandoverNote, User.display_name).join(User, HandoverNote.author_id == User.id)
        .where(HandoverNote.day == shift.day, HandoverNote.shift_index == shift.index)
        .order_by(HandoverNote.created_at, HandoverNote.id)).all()
    return [{"id": n.id, "author": name, "text": n.text, "created_at": n.created_at.isoformat(),
             "day": n.day.isoformat(), "shift": n.shift_index} for n, name in rows]
