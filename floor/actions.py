"""A supervisor's actions on an agent's queue membership, through staffing's
record of who is on which queue (so staffing's resync keeps what was done)
and the named PBX commands."""

from __future__ import annotations

from agents.queue_store import QueueChange
from agents.staffing import Staffing, StaffingError
from pbx.commands import AmiError

MAX_PENALTY = 99


def _member(staffing: Staffing, agent_id: int):  # type: ignore[no-untyped-def]
    member = staffing.logged_in.get(agent_id)
    if member is None:
        raise StaffingError("the agent is not on the queues")
    if staffing.model is None or not staffing.model.connected:
        raise StaffingError("the PBX is not connected")
    return member, staffing.model.commands


async def move(staffing: Staffing, agent_id: int, to_queue: str, from_queue: str | None,
               penalty: int | None) -> dict[str, int]:
    """Put the agent on ``to_queue`` (with ``penalty``, or the one they had on
    ``from_queue``, else 0) and take them off ``from_queue`` when given."""
    member, pbx = _member(staffing, agent_id)
    if from_queue is not None and from_queue not in member.queues:
        raise StaffingError(f"the agent is not on {from_queue}")
    if penalty is None:
        penalty = member.queues.get(from_queue, 0) if from_queue else 0
    adding = to_queue not in member.queues
    leaving = from_queue if from_queue != to_queue else None
    # Stored first (every backend follows, and the one putting agents back
    # after an Asterisk restart reads it), only what changes; what failed is
    # stored back after.
    change = QueueChange(add={to_queue: penalty} if adding else {},
                         remove=frozenset([leaving] if leaving is not None else []))
    await staffing.store_queues(member, change)
    try:
        if adding:
            try:
                await pbx.queue_add(to_queue, member.interface, member.member_name, penalty)
            except AmiError as exc:
                raise StaffingError(f"QueueAdd {to_queue}: {exc.message}") from exc
            member.queues[to_queue] = penalty
        if leaving is not None:
            # Forgotten first: staffing's resync must not put them back.  (Gone
            # already when another backend's stored queues were read meanwhile.)
            member.queues.pop(leaving, None)
            try:
                await pbx.queue_remove(leaving, member.interface)
            except AmiError as exc:
                raise StaffingError(f"QueueRemove {leaving}: {exc.message}") from exc
    except StaffingError:
        touched = {*change.add, *change.remove}
        await staffing.store_queues(member, QueueChange(
            add={q: p for q, p in member.queues.items() if q in touched},
            remove=frozenset(touched - set(member.queues))))
        raise
    return dict(member.queues)


async def set_penalty(staffing: Staffing, agent_id: int, queue: str, penalty: int
                      ) -> dict[str, int]:
    member, pbx = _member(staffing, agent_id)
    if queue not in member.queues:
        raise StaffingError(f"the agent is not on {queue}")
    try:
        await pbx.queue_penalty(member.interface, penalty, queue)
    except AmiError as exc:
        raise StaffingError(f"QueuePenalty {queue}: {exc.message}") from exc
    member.queues[queue] = penalty
    await staffing.store_queues(member, QueueChange(penalties={queue: penalty}))
    return dict(member.queues)
