"""Keeps the queues staffed from the rota, over AMI.

An agent rostered for the running shift (their team's, or one taken by a
swap or granted as overtime) who logs into the console is added to every
service queue (QueueAdd) with the penalties of their skills; outside their
shifts they are refused.  An agent of the next shift may check in up to
``early_login_minutes`` before it (stored in ``queue_checkins``) and is
added when it starts.

Who is on the queues is Asterisk's to say, and every backend follows it
from the PBX model: agents another backend logged in (or that this one
logged in before it restarted) are adopted when their members appear or
after a resync, and forgotten when Asterisk reports them taken off every
queue.  So an agent can pause or log out through any backend.

What must be done once is done by the backend in charge (the elected one
of several, ``in_charge``; :mod:`agents.shift_duty` runs the shift changes
and the no-show checks): taking off agents whose shift is over (at once if
idle, otherwise paused with reason ``shift-end`` and removed when their
call and wrap-up are over), and putting back agents Asterisk lost (it
restarted: dynamic members are gone).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.desk import AgentDesk
from agents.models import Agent, PauseReason, QueueCheckIn, RotaSettings, Team
from agents.queue_store import (
    QueueChange,
    change_queues,
    forget_queues,
    queues_stamp,
    save_queues,
    stored_queues,
)
from agents.roster import ShiftPolicy, SlotKey, check_in, check_out, load_roster, load_settings
from agents.staffing_follow import FollowsPbx, all_shift_end
from agents.state import SHIFT_END_REASON, AgentStates
from agents.wrapup import WrapUpHold
from core.config_sync import ConfigSync, announce
from core.live_events import (
    AgentCheckedIn,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
)
from core.tasks import cancel_and_wait
from hotline.deps import Deps
from pbx.commands import AmiError, PbxCommands
from pbx.model import PbxModel

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


def pause_reasons_stamp(session: Session) -> tuple[tuple[str, str, int, bool], ...]:
    return tuple((r.code, r.label, r.max_minutes, r.active) for r in session.execute(
        select(PauseReason.code, PauseReason.label, PauseReason.max_minutes,
               PauseReason.active).order_by(PauseReason.code)))


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


class Staffing(FollowsPbx):
    def __init__(self, deps: Deps, config: rota.RotaConfig | None = None,
                 model: PbxModel | None = None) -> None:
        self.deps = deps
        self.model = model
        self.config = config or rota.RotaConfig(min_on_duty=5)
        self.policy = ShiftPolicy()
        self.logged_in: dict[int, AgentOnQueues] = {}
        # Being paused at their shift's end right now (Asterisk says so afterwards).
        self.leaving: set[int] = set()
        self.states = AgentStates(deps, self.policy.wrapup_seconds)
        self.states.on_idle(self._agent_idle)
        self.desk = AgentDesk(self)  # each agent's own view, pushed when it changes
        hold = deps.settings.wrapup_max_seconds if deps.settings is not None else 0
        self.wrapup = WrapUpHold(self, hold) if hold > 0 else None
        self._tasks: set[asyncio.Task[None]] = set()
        # Whether this backend runs the once-only duties (the elected one of several).
        self.in_charge = True
        self._resync_lock = asyncio.Lock()
        self._joining: dict[int, str] = {}  # agent id -> member name
        self._adopting: set[str] = set()
        # Members a resync found gone that nobody took off: member name -> queues.
        self._lost: dict[str, set[str]] = {}
        # Set once the PBX model's first resync has been followed (who is on the queues).
        self.ready = asyncio.Event()

    # ---------------------------------------------------------------- life
    async def start(self) -> None:
        """Load the stored rota settings and start following agent states."""
        await self.reload_settings()
        await self.states.start()

    async def reload_settings(self) -> None:
        self.config, self.policy = await self.deps.db.run(load_settings)
        self.states.wrapup_seconds = self.policy.wrapup_seconds

    def share(self, sync: ConfigSync) -> None:
        """Reload what staffing keeps from the database when another backend
        changed it: pause limits, the rota's settings, agents' queues."""
        async def reasons(_key: str) -> None:
            await self.states.reload_pause_reasons()

        async def settings(_key: str) -> None:
            await self.reload_settings()

        async def queues(key: str) -> None:
            await self.refresh_queues(int(key) if key else None)

        sync.part("pause_reasons", pause_reasons_stamp, reasons)
        sync.part("rota_settings", lambda s: s.scalar(select(RotaSettings.updated_at)),
                  settings)
        sync.part("agent_queues", queues_stamp, queues)

    async def store_queues(self, member: AgentOnQueues, change: QueueChange | None = None
                           ) -> None:
        """Store the agent's queues and penalties: all of them (a login), or
        only ``change`` (this backend's copy may miss another backend's change
        to another queue); every backend follows."""
        agent_id, queues, now = member.agent_id, dict(member.queues), self.deps.clock.now()
        await self.deps.db.run(
            lambda s: save_queues(s, agent_id, queues, now) if change is None
            else change_queues(s, agent_id, change, now, known=queues))
        announce(self.deps, "agent_queues", agent_id)

    async def refresh_queues(self, agent_id: int | None = None) -> None:
        """Take logged-in agents' queues and penalties from the database (a
        supervisor changed them through another backend); an agent without
        stored queues (logged in by an older release) keeps what is known."""
        ids = [agent_id] if agent_id is not None else list(self.logged_in)
        if not ids:
            return
        stored = await self.deps.db.run(lambda s: stored_queues(s, ids))
        for known_id, queues in stored.items():
            member = self.logged_in.get(known_id)
            if member is not None and known_id not in self._joining:
                member.queues.clear()
                member.queues.update(queues)

    async def close(self) -> None:
        await self.states.close()
        await self.desk.close()
        await cancel_and_wait(list(self._tasks))

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn(self, coro: Any, name: str) -> None:
        """Run ``coro`` off the PBX model's handler loop (cancelled at close)."""
        self._spawn(coro, name)

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

    async def checked_in(self, agent_id: int) -> bool:
        """Checked in early for the next shift (stored: any backend may have taken it)."""
        return await self.deps.db.run(lambda s: s.get(QueueCheckIn, agent_id) is not None)

    def is_leaving(self, agent_id: int) -> bool:
        """Their shift is over: paused (``shift-end``) until their call is over."""
        if agent_id in self.leaving:
            return True
        member = self.logged_in.get(agent_id)
        if member is None or self.model is None:
            return False
        # By key, not a scan of every member: asked at every call's end.
        members = self.model.state.members
        return all_shift_end(m for q in member.queues
                             if (m := members.get((q, member.interface))) is not None)

    # ------------------------------------------------------------ the queues
    async def queue_login(self, agent_id: int) -> AgentOnQueues:
        """Join the queues now, or at the start of a shift beginning soon."""
        if agent_id in self.logged_in and not self.is_leaving(agent_id):
            return self.logged_in[agent_id]
        member = await self.member(agent_id)
        current = rota.shift_at(self.config, self.local_now())
        if agent_id in await self.rostered((current.day, current.index)):
            if agent_id in self.logged_in:  # leaving, rostered again (overtime): kept on
                self.leaving.discard(agent_id)
                await self._pause_member(member, False, "")
                return self.logged_in[agent_id]
            await self.join(member)
            return member
        upcoming = rota.shift_at(self.config, current.end)
        early = timedelta(minutes=self.policy.early_login_minutes)
        soon = current.end - self.local_now() <= early
        if soon and agent_id in await self.rostered((upcoming.day, upcoming.index)):
            member.starts_at = starts_at = self.aware(upcoming.start)
            now = self.deps.clock.now()
            await self.deps.db.run(lambda s: check_in(s, agent_id, starts_at, now))
            self.deps.bus.publish(AgentCheckedIn(agent_id=agent_id,
                                                 starts_at=starts_at.isoformat()))
            return member
        raise StaffingError("you are not rostered for this shift; a supervisor must allow "
                            "overtime")

    async def member(self, agent_id: int) -> AgentOnQueues:
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

    async def join(self, member: AgentOnQueues) -> None:
        """Onto every queue of theirs not yet theirs at the PBX (a change resumed
        after a takeover adds only what is missing)."""
        member.starts_at = None
        # Joining: a resync or a member event meanwhile is not an adoption.
        self._joining[member.agent_id] = member.member_name
        try:
            await self._add(member)
        finally:
            self._joining.pop(member.agent_id, None)
        self.logged_in[member.agent_id] = member
        await self.store_queues(member)
        self.deps.bus.publish(AgentLoggedIn(agent_id=member.agent_id,
                                            member=member.member_name,
                                            queues=sorted(member.queues)))

    async def _add(self, member: AgentOnQueues) -> None:
        pbx = self._pbx()
        there = {m.queue for m in self.model.members_of(member.member_name)} \
            if self.model is not None else set()
        for queue, penalty in member.queues.items():
            if queue in there:
                continue
            try:
                await pbx.queue_add(queue, member.interface, member.member_name, penalty)
            except AmiError as exc:
                raise StaffingError(f"QueueAdd {queue}: {exc.message}") from exc

    async def drop_deactivated(self) -> list[int]:
        """Agents on the queues whose record is deactivated leave them, as the
        admin's deactivate route makes them (:meth:`queue_logout`): for a
        deactivation that reached no backend (``hotline import`` or ``hotline
        admin`` from the command line).  The backend in charge, every so often."""
        on = set(self.logged_in)
        if not on:
            return []
        gone = await self.deps.db.run(lambda s: list(s.scalars(select(Agent.id).where(
            Agent.id.in_(on), Agent.active.is_(False)))))
        for agent_id in gone:
            log.info("agent %s is deactivated: off the queues", agent_id)
            await self.queue_logout(agent_id)
        return gone

    async def queue_logout(self, agent_id: int) -> None:
        """Leave the queues now (a check-in for the next shift is simply dropped)."""
        def leave(s: Session) -> None:
            check_out(s, agent_id)
            forget_queues(s, agent_id)

        await self.deps.db.run(leave)
        self.leaving.discard(agent_id)
        member = self.logged_in.pop(agent_id, None)
        if member is None:
            return
        pbx = self._pbx()
        there = {m.queue for m in self.model.members_of(member.member_name)} \
            if self.model is not None else set(member.queues)
        for queue in member.queues:
            if queue not in there:
                continue  # already off (another backend took them off first)
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
        if self.is_leaving(agent_id):
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

    def follow(self, model: PbxModel) -> None:
        super().follow(model)
        self.desk.follow(model)  # phones registering or going: the agent's own view

    # ------------------------------------------------- the one in charge's part
    async def end_shift_for(self, agent_id: int, member: AgentOnQueues) -> None:
        """Off the queues now if idle, else paused and off after the call."""
        if self.states.is_idle(agent_id):
            log.info("shift over for %s; removing from the queues", member.member_name)
            await self.guarded(self.queue_logout(agent_id), member, "leave the queues")
            return
        if self.is_leaving(agent_id):
            return  # paused for it already (by this backend or the one before)
        log.info("shift over for %s; leaves after the call", member.member_name)
        self.leaving.add(agent_id)
        try:
            await self.guarded(self._pause_member(member, True, SHIFT_END_REASON),
                                member, "pause at shift end")
        finally:
            self.leaving.discard(agent_id)

    async def settle_leavers(self) -> None:
        """Take off the queues those paused at their shift's end who are idle now
        (the backend that paused them may have died before their call ended)."""
        for agent_id, member in list(self.logged_in.items()):
            if self.is_leaving(agent_id) and self.states.is_idle(agent_id):
                await self.guarded(self.queue_logout(agent_id), member, "leave the queues")

    async def guarded(self, action: object, member: AgentOnQueues, what: str) -> None:
        """One agent's AMI failure must not stop the shift change for the others."""
        try:
            await action  # type: ignore[misc]
        except (StaffingError, AmiError) as exc:
            log.error("%s could not %s: %s", member.member_name, what, exc)

    def _agent_idle(self, agent_id: int) -> None:
        if self.in_charge and self.is_leaving(agent_id):
            self._spawn(self.queue_logout(agent_id), f"shift-end-{agent_id}")

    def _pbx(self) -> PbxCommands:
        if self.model is None or not self.model.connected:
            raise StaffingError("the PBX is not connected")
        return self.model.commands
