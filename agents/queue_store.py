"""The queues each agent on the queues is on, with their penalties, in the
database (``agent_queue_members``): written when staffing adds an agent and
when a supervisor moves them or changes a penalty, dropped when they log
off; read by every backend that adopts them, follows a change another
backend made, or puts them back after Asterisk restarted."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agents.models import AgentQueueMember


def save_queues(session: Session, agent_id: int, queues: dict[str, int], now: datetime) -> None:
    """The agent's queues are exactly ``queues`` (queue -> penalty) from now on."""
    rows = {r.queue: r for r in session.scalars(
        select(AgentQueueMember).where(AgentQueueMember.agent_id == agent_id))}
    for queue, gone in rows.items():
        if queue not in queues:
            session.delete(gone)
    for queue, penalty in queues.items():
        row = rows.get(queue)
        if row is None:
            session.add(AgentQueueMember(agent_id=agent_id, queue=queue, penalty=penalty,
                                         updated_at=now))
        elif row.penalty != penalty:
            row.penalty, row.updated_at = penalty, now


def forget_queues(session: Session, agent_id: int) -> None:
    session.execute(delete(AgentQueueMember).where(AgentQueueMember.agent_id == agent_id))


def stored_queues(session: Session, agent_ids: Iterable[int] | None = None
                  ) -> dict[int, dict[str, int]]:
    """agent id -> queue -> penalty, for ``agent_ids`` (every agent when None)."""
    stmt = select(AgentQueueMember)
    if agent_ids is not None:
        stmt = stmt.where(AgentQueueMember.agent_id.in_(list(agent_ids)))
    out: dict[int, dict[str, int]] = {}
    for row in session.scalars(stmt):
        out.setdefault(row.agent_id, {})[row.queue] = row.penalty
    return out


def queues_stamp(session: Session) -> Hashable:
    """Changes whenever any agent's stored queues do (a few hundred rows at most)."""
    return tuple(sorted(
        (r.agent_id, r.queue, r.penalty) for r in session.execute(
            select(AgentQueueMember.agent_id, AgentQueueMember.queue,
                   AgentQueueMember.penalty))))
