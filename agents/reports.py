"""Agent time reports from the state history: login, pause, talk and wrap-up
time and calls handled, per agent, for a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agents.models import Agent, AgentStatePeriod


def _overlap(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> float:
    """Seconds of [start, end) inside [lo, hi); an open period runs to ``hi``."""
    stop = min(end or hi, hi)
    return max((stop - max(start, lo)).total_seconds(), 0.0)


def agent_report(session: Session, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """One row per agent with history in [lo, hi): seconds per state and calls handled.

    ``login_seconds`` is every state but logged_out; ``calls_handled``
    counts calls answered (on_call periods) that started in the period.
    """
    periods = session.scalars(select(AgentStatePeriod).where(
        AgentStatePeriod.started_at < hi,
        or_(AgentStatePeriod.ended_at.is_(None), AgentStatePeriod.ended_at > lo))).all()
    agents = {a.id: a for a in session.scalars(select(Agent))}
    rows: dict[int, dict[str, Any]] = {}
    for p in periods:
        row = rows.setdefault(p.agent_id, _empty_row(agents.get(p.agent_id), p.agent_id))
        seconds = _overlap(p.started_at, p.ended_at, lo, hi)
        row["seconds"][p.state] = row["seconds"].get(p.state, 0.0) + seconds
        if p.state == "paused":
            row["pause_by_reason"][p.reason] = row["pause_by_reason"].get(p.reason, 0.0) + seconds
        if p.state == "on_call" and lo <= p.started_at < hi:
            row["calls_handled"] += 1
    for row in rows.values():
        s = row["seconds"]
        row["login_seconds"] = round(sum(v for k, v in s.items() if k != "logged_out"))
        row["pause_seconds"] = round(s.get("paused", 0.0))
        row["talk_seconds"] = round(s.get("on_call", 0.0))
        row["wrapup_seconds"] = round(s.get("wrap_up", 0.0))
        row["available_seconds"] = round(s.get("available", 0.0))
        row["seconds"] = {k: round(v) for k, v in s.items()}
        row["pause_by_reason"] = {k: round(v) for k, v in row["pause_by_reason"].items()}
    return sorted(rows.values(), key=lambda r: r["number"] or "")


def _empty_row(agent: Agent | None, agent_id: int) -> dict[str, Any]:
    return {"agent_id": agent_id, "number": agent.number if agent else None,
            "name": agent.name if agent else None, "seconds": {}, "pause_by_reason": {},
            "calls_handled": 0}
