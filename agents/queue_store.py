"""The queues each agent on the queues is on, with their penalties, in the
database (``agent_queue_members``): written whole when staffing adds an
agent, one change at a time when a supervisor moves them or changes a
penalty (so another backend's change meanwhile stays), dropped when they
log off; read by every backend that adopts them, follows a change another
backend made, or puts them back after Asterisk restarted."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from agents.models import AgentQueueMember


def save_queues(session: Session, agent_id: int, queues: dict[str, int], now: datetime) -> None:
    """The agent's queues are exactly ``queues`` (queue -> penalty) from now on
    (a login: the whole set is this backend's to say)."""
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


@dataclass(frozen=True)
class QueueChange:
    """One change to an agent's queues (a supervisor's move or penalty)."""

    add: Mapping[str, int] = field(default_factory=dict)  # on these, with these penalties
    penalties: Mapping[str, int] = field(default_factory=dict)  # where still on
    remove: frozenset[str] = frozenset()

    def applied(self, queues: Mapping[str, int]) -> dict[str, int]:
        out = {**queues, **self.add}
        out.update((q, p) for q, p in self.penalties.items() if q in out)
        return {q: p for q, p in out.items() if q not in self.remove}


def change_queues(session: Session, agent_id: int, change: QueueChange, now: datetime, *,
                  known: Mapping[str, int]) -> None:
    """Store only ``change``: the agent's other stored queues stay as they are,
    so changes two backends make at once to different queues (each from its
    own, perhaps stale, copy) both stay.  A penalty for a queue no longer
    stored is dropped: the agent was moved off it meanwhile.  With nothing
    stored for the agent yet (on the queues since before they were stored),
    ``known`` (the caller's queues) is stored whole, with the change."""
    mine = AgentQueueMember.agent_id == agent_id
    session.flush()
    if session.scalar(select(AgentQueueMember.queue).where(mine).limit(1)) is None:
        save_queues(session, agent_id, change.applied(known), now)
        return
    if change.remove:
        session.execute(delete(AgentQueueMember).where(
            mine, AgentQueueMember.queue.in_(sorted(change.remove))))
    for queue, penalty in change.penalties.items():
        session.execute(update(AgentQueueMember).where(mine, AgentQueueMember.queue == queue)
                        .values(penalty=penalty, updated_at=now))
    if change.add:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(AgentQueueMember).values([
            {"agent_id": agent_id, "queue": q, "penalty": p, "updated_at": now}
            for q, p in change.add.items()])
        # A row another backend added meanwhile (the same move) is updated, not a clash.
        session.execute(stmt.on_conflict_do_update(
            index_elements=["agent_id", "queue"],
            set_={"penalty": stmt.excluded.penalty, "updated_at": stmt.excluded.updated_at}))


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
