"""Calls that need no order: a prank, silence, a wrong number, a caller who
wanted one of the special lines.  The call's draft is closed with the reason
(status ``no_order``) instead of being dispatched, and counted apart in the
figures (worksheets.stats)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from calls.models import Call
from calls.records import record_event, require_aware
from worksheets.models import OrderEvent, WorkOrder
from worksheets.service import WorkOrderError

NO_ORDER_REASONS = ("prank", "silence", "wrong_number", "special_line")
NO_ORDER = "no_order"


def close_without_order(session: Session, order_id: int, *, agent_id: int | None, reason: str,
                        note: str, now: datetime, user_id: int | None) -> WorkOrder:
    """Close the call's draft with ``reason``; ``agent_id`` None: a supervisor
    (no ownership check).  Raises :class:`WorkOrderError` (with its field)."""
    require_aware(now)
    if reason not in NO_ORDER_REASONS:
        raise WorkOrderError(f"reason must be one of {', '.join(NO_ORDER_REASONS)}",
                             field="reason")
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise WorkOrderError(f"unknown work order {order_id}", code="not_found")
    if agent_id is not None and order.agent_id != agent_id:
        raise WorkOrderError("this work order belongs to another agent", code="not_yours")
    if order.status != "draft":
        raise WorkOrderError(f"work order {order.number} is not a draft (it is {order.status})",
                             code="not_draft")
    order.status, order.no_order_reason = NO_ORDER, reason
    order.submitted_at = order.closed_at = now
    order.description = (order.description + "\n" + note.strip()).strip()[:4000]
    detail = f"{order.number} closed without an order: {reason}"
    if order.call_id is not None:
        call = session.get(Call, order.call_id)
        if call is not None:
            record_event(session, call, "no_order", now, reason)
    session.add(OrderEvent(order_id=order.id, at=now, user_id=user_id, kind=NO_ORDER,
                           detail=detail))
    session.flush()
    return order
