"""The bookkeeping of 回访 calls, kept on the order (the PBX side is
:mod:`worksheets.callback_dialer`).

Limited and spaced like callbacks (worksheets/callbacks.py): a citizen not
reached is tried again no sooner than ``RETRY_GAP``, ``MAX_ATTEMPTS``
times in all; after the last one the 回访 is recorded as unreachable and
the order leaves the agents' list.  An agent who does not answer their own
phone, hangs up first, or a call the PBX refuses or never reports, does
not use up an attempt.  A call under way is marked on the order
(``visit_calling_since``): one agent at a time, on every instance.  The
call belongs to the backend placing it (``visit_owner``, with a lease it
renews); when that backend is gone, the elected one follows the call to its
end if it is still going at the PBX, or closes it as lost
(``worksheets.callback_dialer.CallbackDialer.sweep``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from worksheets import lifecycle
from worksheets.callbacks import (
    CITIZEN_NOT_REACHED,
    MAX_ATTEMPTS,
    REACHED,
    RESULTS,
    RETRY_GAP,
    CallbackError,
    LeftCall,
)
from worksheets.models import OrderEvent, WorkOrder


@dataclass(frozen=True)
class VisitClaim:
    order_id: int
    number: str  # the order's number (BJ...)
    caller_number: str


def next_try(order: WorkOrder) -> datetime | None:
    """When the citizen may be called again (None: now)."""
    if order.visit_attempts and order.visit_last_try_at is not None:
        return order.visit_last_try_at + RETRY_GAP
    return None


def claim(session: Session, order_id: int, *, now: datetime, owner: str | None = None,
          lease_until: datetime | None = None, agent_id: int | None = None) -> VisitClaim:
    """Mark a 回访 call as under way, by ``agent_id`` through the backend ``owner``
    (whose lease it renews); raises :class:`CallbackError`."""
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise CallbackError("not_found", f"no work order {order_id}")
    if order.status != "closed" or order.answered_on_call or order.visited_at:
        raise CallbackError("not_open", f"work order {order.number} has no 回访 to make")
    if order.visit_calling_since is not None:
        raise CallbackError("not_open", "this citizen is being called already")
    if order.visit_attempts >= MAX_ATTEMPTS:
        raise CallbackError("not_open", f"the citizen of {order.number} was tried "
                                        f"{MAX_ATTEMPTS} times")
    wait = next_try(order)
    if wait is not None and now < wait:
        minutes = -(-int((wait - now).total_seconds()) // 60)
        raise CallbackError("too_soon", "the citizen was not reached at the last attempt; "
                                        f"try again in {minutes} min")
    # Compare-and-set: two agents (on two instances) clicking at once, one wins.
    won = session.execute(update(WorkOrder).where(
        WorkOrder.id == order_id, WorkOrder.visit_calling_since.is_(None),
        WorkOrder.visited_at.is_(None)).values(
            visit_calling_since=now, visit_last_try_at=now, visit_owner=owner,
            visit_lease_until=lease_until, visit_agent_id=agent_id,
            visit_uniqueid=None, visit_action_id=None)).rowcount
    if not won:
        raise CallbackError("not_open", "this citizen is being called already")
    return VisitClaim(order.id, order.number, order.caller_number)


def finish(session: Session, order_id: int, result: str, *, now: datetime,
           user_id: int | None) -> WorkOrder | None:
    """The call is over: write it to the order's history and count it."""
    if result not in RESULTS:
        raise ValueError(f"unknown call result {result!r}")
    order = session.get(WorkOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None or order.visit_calling_since is None:
        return order  # settled already (idempotent)
    order.visit_calling_since = None
    order.visit_owner = order.visit_lease_until = order.visit_uniqueid = None
    order.visit_action_id = None
    session.add(OrderEvent(order_id=order_id, at=now, kind="visit_call", user_id=user_id,
                           department_id=order.department_id, detail=result))
    if result in CITIZEN_NOT_REACHED:
        order.visit_attempts += 1
        if order.visit_attempts >= MAX_ATTEMPTS and order.visited_at is None:
            session.flush()
            lifecycle.visit(session, order_id, result="unreachable",
                            note=f"not reached in {MAX_ATTEMPTS} attempts", user_id=user_id,
                            now=now)
    elif result == REACHED:
        pass  # the agent records the citizen's verdict
    return order


def set_action(session: Session, order_id: int, action_id: str) -> None:
    """The ActionID of the call's Originate, stored before it is sent."""
    session.execute(update(WorkOrder).where(
        WorkOrder.id == order_id, WorkOrder.visit_calling_since.is_not(None))
        .values(visit_action_id=action_id))


def agent_channel(session: Session, order_id: int, uniqueid: str) -> None:
    """The agent answered: the PBX now dials the citizen from that channel."""
    session.execute(update(WorkOrder).where(
        WorkOrder.id == order_id, WorkOrder.visit_calling_since.is_not(None),
        WorkOrder.visit_uniqueid.is_(None)).values(visit_uniqueid=uniqueid))


def channel_of_action(session: Session, action_id: str, uniqueid: str) -> bool:
    """As :func:`worksheets.callbacks.channel_of_action`, for a 回访 call."""
    return bool(session.execute(update(WorkOrder).where(
        WorkOrder.visit_action_id == action_id, WorkOrder.visit_calling_since.is_not(None),
        WorkOrder.visit_uniqueid.is_(None)).values(visit_uniqueid=uniqueid)).rowcount)


def stale(session: Session, now: datetime, owner: str, *, alone: bool,
          max_call: timedelta) -> list[LeftCall]:
    """回访 calls under way whose backend is gone (as
    :func:`worksheets.callbacks.stale_attempts` for callback attempts)."""
    calling = WorkOrder.visit_calling_since.is_not(None)
    not_mine = WorkOrder.visit_owner.is_(None) | (WorkOrder.visit_owner != owner)
    if alone:
        gone = not_mine
    else:
        expired = (WorkOrder.visit_owner.is_not(None) & (WorkOrder.visit_owner != owner)
                   & (WorkOrder.visit_lease_until.is_(None)
                      | (WorkOrder.visit_lease_until < now)))
        gone = expired | (WorkOrder.visit_owner.is_(None)
                          & (WorkOrder.visit_calling_since < now - max_call))
    out = []
    for order in session.scalars(select(WorkOrder).where(calling, gone)):
        answered = session.scalar(select(OrderEvent.id).where(
            OrderEvent.order_id == order.id, OrderEvent.kind == "visit_call_answered",
            OrderEvent.at >= order.visit_calling_since).limit(1)) is not None
        out.append(LeftCall(order.id, order.visit_owner, order.visit_agent_id,
                            order.visit_uniqueid, answered, order.visit_calling_since))
    return out


def take_over(session: Session, order_id: int, previous: str | None, owner: str,
              lease_until: datetime) -> bool:
    """Become the owner of a 回访 call left by ``previous`` (compare-and-set)."""
    was = (WorkOrder.visit_owner.is_(None) if previous is None
           else WorkOrder.visit_owner == previous)
    return bool(session.execute(update(WorkOrder).where(
        WorkOrder.id == order_id, WorkOrder.visit_calling_since.is_not(None), was)
        .values(visit_owner=owner, visit_lease_until=lease_until)).rowcount)


# ------------------------------------------------------------ due and overdue

DUE_SOON_SHARE = 0.8  # as the departments' warning (worksheets/supervision.py)


def due_at(order: WorkOrder, hours: int) -> datetime | None:
    """When the 回访 of a closed order is due (HOTLINE_VISIT_HOURS after closing)."""
    if order.status != "closed" or order.answered_on_call or order.closed_at is None:
        return None
    return order.closed_at + timedelta(hours=hours)


def state(order: WorkOrder, now: datetime, hours: int) -> str | None:
    """None (no 回访 to make), ``done``, ``open``, ``due_soon`` or ``overdue``."""
    due = due_at(order, hours)
    if due is None:
        return None
    if order.visited_at is not None:
        return "done"
    if now > due:
        return "overdue"
    assert order.closed_at is not None
    if now >= order.closed_at + timedelta(hours=hours) * DUE_SOON_SHARE:
        return "due_soon"
    return "open"


def due(session: Session, now: datetime, hours: int, limit: int = 200) -> dict[str, Any]:
    """The 回访 still to make, for the floor: counts and the due-soon and
    overdue orders, most overdue first."""
    pending = list(session.scalars(select(WorkOrder).where(
        WorkOrder.status == "closed", WorkOrder.visited_at.is_(None),
        WorkOrder.answered_on_call.is_(False)).order_by(WorkOrder.closed_at, WorkOrder.id)))
    out: dict[str, Any] = {"hours": hours, "open": 0, "due_soon": 0, "overdue": 0,
                           "orders": []}
    for order in pending:
        label = state(order, now, hours)
        if label is None:
            continue
        out[label] += 1
        if label != "open" and len(out["orders"]) < limit:
            out["orders"].append({"id": order.id, "number": order.number,
                                  "visit_state": label,
                                  "visit_due_at": due_at(order, hours).isoformat(),  # type: ignore[union-attr]
                                  "visit_attempts": order.visit_attempts,
                                  "closed_at": order.closed_at.isoformat()
                                  if order.closed_at else None})
    return out
