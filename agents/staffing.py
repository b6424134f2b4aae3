"""Keeps the queues staffed from the rota, over AMI.

An agent of the team on duty who logs into the console is added to every
service queue (QueueAdd) with the penalties of their skills; outside their
shift they are refused unless a supervisor allowed overtime.  At each
shift change, members whose team went off duty are removed.  After an AMI
reconnect (Asterisk restarted: dynamic members are gone) the logged-in
agents are added again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, Team
from hotline.deps import Deps
from pbx.ami import AmiError

log = logging.getLogger(__name__)


class StaffingError(Exception):
    pass


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
    overtime: bool = False
    queues: dict[str, int] = field(default_factory=dict)


class Staffing:
    def __init__(self, deps: Deps, config: rota.RotaConfig | None = None) -> None:
        self.deps = deps
        self.config = config or rota.RotaConfig()
        self.logged_in: dict[int, AgentOnQueues] = {}
        self.overtime_allowed: set[int] = set()

    def team_on_duty(self) -> int:
        return rota.team_on_duty(self.config, self.deps.clock.now(), self.deps.settings.tz)

    async def queue_login(self, agent_id: int) -> AgentOnQueues:
        def load(s: Session) -> tuple[Agent, Team]:
            agent = s.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise StaffingError("unknown or inactive agent")
            team = s.get(Team, agent.team_id)
            assert team is not None
            return agent, team

        agent, team = await self.deps.db.run(load)
        on_duty = self.team_on_duty()
        overtime = agent_id in self.overtime_allowed
        if team.rota_index != on_duty and not overtime:
            raise StaffingError(
                f"{team.name} is not on duty now; a supervisor must allow overtime"
            )
        member = AgentOnQueues(agent.id, agent.number, agent.interface, agent.member_name,
                               team.rota_index, overtime)
        member.queues = penalties(agent.skills, self.deps.routing.queues())
        await self._add(member)
        self.logged_in[agent_id] = member
        self.deps.bus.publish("agent.login", agent_id=agent_id, member=member.member_name,
                              queues=sorted(member.queues))
        return member

    async def _add(self, member: AgentOnQueues) -> None:
        ami = self._ami()
        for queue, penalty in member.queues.items():
            try:
                await ami.send("QueueAdd", {
                    "Queue": queue, "Interface": member.interface, "Penalty": penalty,
                    "MemberName": member.member_name, "Paused": "false",
                })
            except AmiError as exc:
                if "already" not in exc.message.lower():
                    raise StaffingError(f"QueueAdd {queue}: {exc.message}") from exc

    async def queue_logout(self, agent_id: int) -> None:
        member = self.logged_in.pop(agent_id, None)
        if member is None:
            return
        ami = self._ami()
        for queue in member.queues:
            try:
                await ami.send("QueueRemove", {"Queue": queue, "Interface": member.interface})
            except AmiError as exc:
                log.warning("QueueRemove %s %s: %s", queue, member.member_name, exc.message)
        self.deps.bus.publish("agent.logout", agent_id=agent_id, member=member.member_name)

    async def pause(self, agent_id: int, paused: bool, reason: str = "") -> None:
        member = self.logged_in.get(agent_id)
        if member is None:
            raise StaffingError("not logged into the queues")
        await self._ami().send("QueuePause", {
            "Interface": member.interface, "Paused": "true" if paused else "false",
            "Reason": reason,
        })
        self.deps.bus.publish("agent.pause", agent_id=agent_id, paused=paused, reason=reason)

    async def resync(self) -> None:
        """After a (re)connect: put the logged-in agents back on their queues."""
        for member in list(self.logged_in.values()):
            try:
                await self._add(member)
            except (StaffingError, AmiError) as exc:
                log.error("could not restore %s to the queues: %s", member.member_name, exc)

    async def shift_changes(self) -> None:
        """Runs for the process's life: at each shift change, log off-duty agents out."""
        while True:
            now = self.deps.clock.now()
            change = rota.next_shift_change(self.config, now, self.deps.settings.tz)
            await asyncio.sleep(max((change - now).total_seconds(), 0.001))
            on_duty = self.team_on_duty()
            self.deps.bus.publish("shift.change", team_index=on_duty)
            for agent_id, member in list(self.logged_in.items()):
                if member.team_index != on_duty and not member.overtime:
                    log.info("shift over for %s; removing from the queues", member.member_name)
                    await self.queue_logout(agent_id)

    def _ami(self):  # type: ignore[no-untyped-def]
        if self.deps.ami is None or not self.deps.ami.connected:
            raise StaffingError("the PBX is not connected")
        return self.deps.ami
