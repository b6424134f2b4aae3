"""Who actually works each shift: the rota's teams, adjusted by approved
swaps, leave and overtime; and the check that every hour stays staffed.

The pure rota (:mod:`agents.rota`) says which *team* works a shift; a
:class:`Roster` says which *agents* do.  Services load one with
:func:`load_roster` for the days they look at and ask it questions; the
same object, with a change applied to a copy, tells whether that change
would leave an hour short.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, OvertimeGrant, QueueCheckIn, RotaRequest, RotaSettings, Team

SlotKey = tuple[date, int]  # (day the shift starts, shift index)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ShiftPolicy:
    """What happens around a shift change (stored with the rota settings)."""

    no_show_minutes: int = 10  # flag rostered agents not on the queues by then
    wrapup_seconds: int = 10  # after-call work; matches queues.conf wrapuptime
    early_login_minutes: int = 15  # an agent may check in this early for their shift


def load_settings(session: Session) -> tuple[rota.RotaConfig, ShiftPolicy]:
    """The stored rota configuration and policy, or the defaults."""
    row = session.get(RotaSettings, 1)
    if row is None:
        return rota.RotaConfig(min_on_duty=5), ShiftPolicy()
    config = rota.RotaConfig(
        shift_starts=tuple(time.fromisoformat(t) for t in row.shift_starts.split(",")),
        team_count=row.team_count, epoch=row.epoch, min_rest_hours=row.min_rest_hours,
        pattern=rota.parse_pattern(row.pattern), min_on_duty=row.min_on_duty,
    )
    return config, ShiftPolicy(row.no_show_minutes, row.wrapup_seconds, row.early_login_minutes)


def save_settings(session: Session, config: rota.RotaConfig, policy: ShiftPolicy,
                  now: datetime) -> None:
    """Store a configuration; raises :class:`rota.RotaError` if it breaks the rules."""
    rota.validate(config)
    row = session.get(RotaSettings, 1) or RotaSettings(id=1)
    row.shift_starts = ",".join(t.strftime("%H:%M") for t in config.shift_starts)
    row.team_count, row.pattern = config.team_count, rota.format_pattern(config.cycle)
    row.epoch, row.min_rest_hours = config.epoch, config.min_rest_hours
    row.min_on_duty = config.min_on_duty
    row.no_show_minutes, row.wrapup_seconds = policy.no_show_minutes, policy.wrapup_seconds
    row.early_login_minutes, row.updated_at = policy.early_login_minutes, now
    session.add(row)


@dataclass(frozen=True)
class Shortfall:
    """One hour with fewer agents than the minimum on duty."""

    hour: datetime  # local wall-clock start of the hour
    agents: int
    needed: int

    def describe(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} ({self.agents} of {self.needed} agents)"

    def to_dict(self) -> dict[str, object]:
        return {"hour": self.hour.isoformat(), "agents": self.agents, "needed": self.needed}


@dataclass
class Roster:
    """The agents of each shift in a window of days, changes applied.

    ``moves`` are (agent, slot left, slot taken) in approval order: a swap
    is two moves.  Leave wins over everything: an agent on leave works no
    shift that starts on a day of the leave.
    """

    config: rota.RotaConfig
    teams: dict[int, list[int]]  # rota index -> active agent ids
    team_of: dict[int, int] = field(default_factory=dict)  # agent id -> rota index
    leave: list[tuple[int, date, date]] = field(default_factory=list)
    moves: list[tuple[int, SlotKey, SlotKey]] = field(default_factory=list)
    overtime: list[tuple[int, SlotKey]] = field(default_factory=list)

    def with_changes(self, *, leave: list[tuple[int, date, date]] = (),  # type: ignore[assignment]
                     moves: list[tuple[int, SlotKey, SlotKey]] = (),  # type: ignore[assignment]
                     overtime: list[tuple[int, SlotKey]] = ()) -> Roster:  # type: ignore[assignment]
        """A copy with more changes applied (this roster is left as it is)."""
        other = copy.copy(self)
        other.leave, other.moves = self.leave + list(leave), self.moves + list(moves)
        other.overtime = self.overtime + list(overtime)
        return other

    def agents_on(self, day: date, index: int) -> set[int]:
        """The agents working shift ``index`` of ``day``."""
        on: set[int] = set()
        for team in rota.teams_for(self.config, day, index):
            on.update(self.teams.get(team, ()))
        key = (day, index)
        for agent, left, taken in self.moves:
            if left == key:
                on.discard(agent)
            if taken == key:
                on.add(agent)
        on.update(agent for agent, slot in self.overtime if slot == key)
        return {a for a in on if not self.on_leave(a, day)}

    def on_leave(self, agent_id: int, day: date) -> bool:
        return any(a == agent_id and first <= day <= last for a, first, last in self.leave)

    def slot(self, day: date, index: int) -> rota.ShiftSlot:
        return rota.slot(self.config, day, index)

    def shifts_of(self, agent_id: int, first_day: date, last_day: date) -> list[rota.ShiftSlot]:
        """The agent's shifts starting on ``first_day`` .. ``last_day``, in time order."""
        out = []
        day = first_day
        while day <= last_day:
            for index in range(self.config.shifts_per_day):
                if agent_id in self.agents_on(day, index):
                    out.append(replace(self.slot(day, index),
                                       team_index=self.team_of.get(agent_id, -1)))
            day += timedelta(days=1)
        return out

    def shortfalls(self, slots: list[SlotKey]) -> list[Shortfall]:
        """Every hour of the given shifts staffed below ``config.min_on_duty``."""
        out = []
        for day, index in sorted(set(slots)):
            count = len(self.agents_on(day, index))
            if count < self.config.min_on_duty:
                s = self.slot(day, index)
                hour = s.start
                while hour < s.end:
                    out.append(Shortfall(hour, count, self.config.min_on_duty))
                    hour += HOUR
        return out

    def rest_problems(self, agent_id: int, around: list[date]) -> list[str]:
        """Rest-rule breaches in the agent's shifts two days either side of ``around``."""
        first = min(around) - timedelta(days=2)
        last = max(around) + timedelta(days=2)
        own = self.shifts_of(agent_id, first, last)
        return rota.rest_violations(own, self.config.min_rest_hours)


def all_slots(config: rota.RotaConfig, first_day: date, days: int) -> list[SlotKey]:
    return [(first_day + timedelta(days=d), i)
            for d in range(days) for i in range(config.shifts_per_day)]


def load_roster(session: Session, config: rota.RotaConfig, first_day: date,
                last_day: date) -> Roster:
    """The roster for shifts starting ``first_day`` .. ``last_day`` (changes near it included)."""
    teams: dict[int, list[int]] = {}
    team_of: dict[int, int] = {}
    rows = session.execute(select(Agent.id, Team.rota_index).join(Team, Agent.team_id == Team.id)
                           .where(Agent.active).order_by(Agent.number)).all()
    for agent_id, index in rows:
        teams.setdefault(index, []).append(agent_id)
        team_of[agent_id] = index
    # Swaps may reach a few days outside the window (rest checks look two days out).
    lo, hi = first_day - timedelta(days=7), last_day + timedelta(days=7)
    requests = session.scalars(
        select(RotaRequest).where(RotaRequest.status == "approved", or_(
            (RotaRequest.day <= hi) & (RotaRequest.day >= lo),
            (RotaRequest.other_day <= hi) & (RotaRequest.other_day >= lo),
            (RotaRequest.end_day >= lo) & (RotaRequest.day <= hi),
        )).order_by(RotaRequest.decided_at, RotaRequest.id)).all()
    roster = Roster(config, teams, team_of)
    for r in requests:
        if r.kind == "leave":
            roster.leave.append((r.agent_id, r.day, r.end_day or r.day))
        else:
            roster.moves.extend(swap_moves(r))
    grants = session.scalars(select(OvertimeGrant).where(OvertimeGrant.day >= lo,
                                                         OvertimeGrant.day <= hi)).all()
    roster.overtime.extend((g.agent_id, (g.day, g.shift_index)) for g in grants)
    return roster


def swap_moves(r: RotaRequest) -> list[tuple[int, SlotKey, SlotKey]]:
    """The two moves of a swap request."""
    assert r.shift_index is not None and r.other_day is not None
    assert r.other_shift_index is not None and r.other_agent_id is not None
    mine, theirs = (r.day, r.shift_index), (r.other_day, r.other_shift_index)
    return [(r.agent_id, mine, theirs), (r.other_agent_id, theirs, mine)]


def current_slot_key(config: rota.RotaConfig, local_now: datetime) -> SlotKey:
    s = rota.shift_at(config, local_now)
    return s.day, s.index


def check_in(session: Session, agent_id: int, starts_at: datetime, now: datetime) -> None:
    """An early check-in for the shift starting at ``starts_at`` (again: replaced)."""
    row = session.get(QueueCheckIn, agent_id)
    if row is None:
        session.add(QueueCheckIn(agent_id=agent_id, starts_at=starts_at, checked_in_at=now))
    else:
        row.starts_at, row.checked_in_at = starts_at, now


def check_out(session: Session, agent_id: int) -> None:
    session.execute(delete(QueueCheckIn).where(QueueCheckIn.agent_id == agent_id))
