"""Tables owned by the agents domain: teams, agents, the rota's settings and
changes, pause reasons, agent state history and staffing alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Team(Base):
    """One of the six teams (班) of the 六班四运转 rota."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # "A".."F"
    name: Mapped[str] = mapped_column(String(50))  # "一班"
    rota_index: Mapped[int] = mapped_column(Integer)  # 0..5, position in the rotation
    # A team disbanded by an admin: kept for the agents and rota history that name it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Agent(Base):
    """A call taker and the phone that rings for them."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # "1001": login and extension
    name: Mapped[str] = mapped_column(String(50))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    interface: Mapped[str] = mapped_column(String(80))  # "PJSIP/1001": what the queue rings
    skills: Mapped[str] = mapped_column(String(200), default="")  # "complaint:0,help:1": penalties
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def member_name(self) -> str:
        """The queue member name; Asterisk logs it as the agent in queue_log."""
        return f"agent-{self.number}"


class RotaSettings(Base):
    """The rota's shape and the shift-change policy: one row (id 1).

    Absent row: the defaults of :class:`agents.rota.RotaConfig` and
    :class:`agents.roster.ShiftPolicy`.
    """

    __tablename__ = "rota_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_starts: Mapped[str] = mapped_column(String(100))  # "00:00,06:00,12:00,18:00"
    team_count: Mapped[int] = mapped_column(Integer)
    pattern: Mapped[str] = mapped_column(String(200))  # "0,1,2,3,-,-"
    epoch: Mapped[date] = mapped_column(Date)
    min_rest_hours: Mapped[float] = mapped_column(Float)
    min_on_duty: Mapped[int] = mapped_column(Integer)
    no_show_minutes: Mapped[int] = mapped_column(Integer)
    wrapup_seconds: Mapped[int] = mapped_column(Integer)
    early_login_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RotaRequest(Base):
    """A swap or a leave asked for by an agent, decided by a supervisor.

    swap: ``agent`` gives up shift (day, shift_index) and works
    (other_day, other_shift_index) instead; ``other_agent`` the reverse.
    leave: ``agent`` works no shift starting on day .. end_day.
    """

    __tablename__ = "rota_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # swap | leave
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | refused | cancelled
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    shift_index: Mapped[int | None] = mapped_column(Integer, default=None)
    end_day: Mapped[date | None] = mapped_column(Date, default=None)
    other_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    other_day: Mapped[date | None] = mapped_column(Date, default=None)
    other_shift_index: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class OvertimeGrant(Base):
    """A supervisor's permission for an agent to work one extra shift."""

    __tablename__ = "overtime_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    shift_index: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")


class HandoverNote(Base):
    """A note written during one shift for the team taking over (交接班记录)."""

    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the shift it was written in
    shift_index: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QueueCheckIn(Base):
    """An agent of the next shift who checked in early: joins the queues when it
    starts (kept here, not in one backend's memory: the shift change is run by
    the elected backend, and survives a restart or a takeover)."""

    __tablename__ = "queue_checkins"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentQueueMember(Base):
    """A queue an agent logged in is on, with their penalty there, as staffing
    or a supervisor (move, penalty) last set it: every backend reads it, so
    the one that puts agents back after Asterisk restarted, or adopts them,
    does so as the supervisor left them.  Rows go when the agent logs off."""

    __tablename__ = "agent_queue_members"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    penalty: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShiftChange(Base):
    """The change into one shift, run once by the elected backend: announced,
    its agents moved on and off the queues (``done_at``), its no-shows checked.
    A backend taking over finds what its predecessor left undone here."""

    __tablename__ = "shift_changes"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shift_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_index: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(80))  # the backend that started it
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    no_shows_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PauseReason(Base):
    """A reason an agent may pause for, kept by supervisors, with a time limit."""

    __tablename__ = "pause_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # "break"
    label: Mapped[str] = mapped_column(String(40))  # "休息": what the console shows
    max_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentStatePeriod(Base):
    """One stretch of time an agent spent in one state (open while ``ended_at`` is None)."""

    __tablename__ = "agent_state_periods"
    __table_args__ = (Index("ix_agent_state_periods_agent_started", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    # logged_out | available | ringing | on_call | wrap_up | paused
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40), default="")  # pause reason
    uniqueid: Mapped[str | None] = mapped_column(String(64), default=None)  # the call
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class StaffingAlert(Base):
    """Something a supervisor must see: a no-show, a pause past its limit."""

    __tablename__ = "staffing_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # no_show | pause_overrun
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    detail: Mapped[str] = mapped_column(String(300))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
