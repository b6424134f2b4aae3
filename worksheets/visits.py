"""The bookkeeping of 回访 calls, kept on the order (the PBX side is
:mod:`worksheets.callback_dialer`).

Limited and spaced like callbacks (worksheets/callbacks.py): a citizen not
reached is tried again no sooner than ``RETRY_GAP``, ``MAX_ATTEMPTS``
times in all; after the last one the 回访 is recorded as unreachable and
the order leaves the agents' list.  An agent who does not answer their own
phone, hangs up first, or a call the PBX refuses or never reports, does
not use up an attempt.  A call under way is marked on the order
(``visit_calling_since``): one agent at a time, on every instance, and a
call a stopped backend left behind is closed as lost at the next start.
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


def claim(session: Session, order_id: int, *, now: datetime) -> VisitClaim:
    """Mark a 回访 call as under way; raises :class:`CallbackError`."""
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
        WorkOrder.visited_at.is_(None)).values(visit_calling_since=now,
                                               visit_last_try_at=now)).rowcount
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


def left_calling(session: Session) -> list[int]:
    """Orders with a 回访 call marked under way (at start: a previous run's)."""
    return list(session.scalars(select(WorkOrder.id).where(
        WorkOrder.visit_calling_since.is_not(None))))


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
