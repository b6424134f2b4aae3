"""加派: an order dispatched to a lead department and co-handling departments.

The lead's part is the order itself (its department, status and reply: the
lead's answer is the reply to the citizen).  Each co-handling department
has an :class:`OrderPart` with the order's deadline::

    dispatched --accept--> accepted --answer--> answered
        |                     |
        +------return---------+--> returned --reassign (supervisor)--> dispatched
                                            \\-drop (supervisor)--> dropped

The order closes (the supervisor's review accepts it, worksheets/review.py)
only when every part is answered.  A department uses the same routes for
its part as the lead does for the order (:func:`for_department` tells
which it holds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worksheets.deadlines import Deadline
from worksheets.lifecycle import LifecycleError, _expect, _order, _text
from worksheets.models import Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

OPEN = ("dispatched", "accepted")
MAX_PARTS = 10


def _department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None or not department.active:
        raise LifecycleError("invalid", f"no active department {department_id}")
    return department


def _part_log(session: Session, part: OrderPart, kind: str, now: datetime,
              user_id: int | None, detail: str = "") -> None:
    session.add(OrderEvent(order_id=part.order_id, at=now, kind=kind, user_id=user_id,
                           department_id=part.department_id, detail=detail))


def add(session: Session, order: WorkOrder, department_ids: list[int], *, now: datetime,
        user_id: int | None) -> list[OrderPart]:
    """Give co-handling parts of ``order`` to ``department_ids`` (not the lead,
    each once)."""
    if not department_ids:
        raise LifecycleError("invalid", "name at least one co-handling department")
    existing = {p.department_id for p in of(session, order.id)}
    if len(set(department_ids)) != len(department_ids):
        raise LifecycleError("invalid", "a department is named twice")
    if len(existing) + len(department_ids) > MAX_PARTS:
        raise LifecycleError("invalid", f"at most {MAX_PARTS} co-handling departments")
    added = []
    for department_id in department_ids:
        if department_id == order.department_id:
            raise LifecycleError("invalid", "the lead department cannot also co-handle")
        if department_id in existing:
            raise LifecycleError("invalid", f"department {department_id} co-handles already")
        department = _department(session, department_id)
        part = OrderPart(order_id=order.id, department_id=department.id, dispatched_at=now,
                         status="dispatched", reply="", returns=0)
        session.add(part)
        added.append(part)
        _part_log(session, part, "co_dispatched", now, user_id,
                  f"co-handling: {department.name}, due {order.due_date}")
    session.flush()
    return added


def add_later(session: Session, order_id: int, department_ids: list[int], *, now: datetime,
              user_id: int | None) -> WorkOrder:
    """A supervisor adds co-handling departments to an open order."""
    order = _order(session, order_id)
    _expect(order, "dispatched", "accepted", "answered", doing="given co-handling departments")
    add(session, order, department_ids, now=now, user_id=user_id)
    return order


def of(session: Session, order_id: int) -> list[OrderPart]:
    return list(session.scalars(select(OrderPart).where(OrderPart.order_id == order_id)
                                .order_by(OrderPart.id)))


def for_department(session: Session, order_id: int, department_id: int, *,
                   lock: bool = True) -> OrderPart | None:
    """The department's part of the order, locked unless only read (None: it
    holds no part)."""
    stmt = select(OrderPart).where(
        OrderPart.order_id == order_id, OrderPart.department_id == department_id,
        OrderPart.status != "dropped")
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def _open_part(session: Session, order_id: int, department_id: int, doing: str) -> OrderPart:
    order = _order(session, order_id)  # the order first, then the part: one lock order
    part = for_department(session, order_id, department_id)
    if part is None:
        raise LifecycleError("not_found", f"no work order {order_id}")
    if order.status in ("closed", "merged"):
        raise LifecycleError("wrong_status", f"work order {order.number} is {order.status}")
    if doing == "answered" and part.status not in OPEN:
        raise LifecycleError("wrong_status", f"your part of {order.number} is {part.status}; "
                                             "only a dispatched or accepted part can be answered")
    return part


def accept(session: Session, order_id: int, department_id: int, *, now: datetime,
           user_id: int | None) -> OrderPart:
    part = _open_part(session, order_id, department_id, "signed for")
    if part.status != "dispatched":
        raise LifecycleError("wrong_status", f"your part is {part.status}; only a dispatched "
                                             "part can be signed for")
    part.status, part.accepted_at = "accepted", now
    _part_log(session, part, "co_accepted", now, user_id)
    return part


def return_part(session: Session, order_id: int, department_id: int, *, reason: str,
                now: datetime, user_id: int | None) -> OrderPart:
    part = _open_part(session, order_id, department_id, "returned")
    if part.status not in OPEN:
        raise LifecycleError("wrong_status", f"your part is {part.status}; only a dispatched "
                                             "or accepted part can be returned")
    reason = _text(reason, "the reason for returning")
    part.status, part.returns = "returned", part.returns + 1
    part.extension_days, part.extension_reason = None, ""
    _part_log(session, part, "co_returned", now, user_id, reason)
    return part


def answer(session: Session, order_id: int, department_id: int, *, text: str,
           now: datetime, user_id: int | None) -> OrderPart:
    part = _open_part(session, order_id, department_id, "answered")
    part.reply = _text(text, "the reply")
    part.status, part.answered_at = "answered", now
    part.extension_days, part.extension_reason = None, ""
    if part.accepted_at is None:
        part.accepted_at = now
    order = session.get(WorkOrder, order_id)
    assert order is not None
    late = order.due_at is not None and now > order.due_at
    _part_log(session, part, "co_answered", now, user_id, "late" if late else "on time")
    return part


def _part(session: Session, part_id: int) -> OrderPart:
    part = session.get(OrderPart, part_id, with_for_update=True, populate_existing=True)
    if part is None:
        raise LifecycleError("not_found", f"no co-handling part {part_id}")
    return part


def reassign(session: Session, part_id: int, *, department_id: int | None, now: datetime,
             user_id: int | None, note: str = "") -> WorkOrder:
    """A returned part goes to another department (a fresh part with the
    order's deadline), or is dropped (``department_id`` None)."""
    part = _part(session, part_id)
    order = _order(session, part.order_id)
    if part.status != "returned":
        raise LifecycleError("wrong_status", f"the part is {part.status}; only a returned "
                                             "part can be given to another department")
    part.status = "dropped"
    _part_log(session, part, "co_dropped", now, user_id, note.strip())
    if department_id is not None:
        session.flush()
        add(session, order, [department_id], now=now, user_id=user_id)
    return order


def send_back(session: Session, part_id: int, order: WorkOrder, *, reason: str,
              now: datetime, user_id: int | None) -> OrderPart:
    """The reviewer sends a co-handling answer back (review.py)."""
    part = _part(session, part_id)
    if part.order_id != order.id or part.status != "answered":
        raise LifecycleError("wrong_status", "only an answered part of this order can be sent "
                                             "back")
    part.status, part.answered_at = "accepted", None
    _part_log(session, part, "co_sent_back", now, user_id, reason)
    return part


def unanswered(session: Session, order_id: int) -> list[OrderPart]:
    return [p for p in of(session, order_id) if p.status not in ("answered", "dropped")]


def to_dicts(session: Session, order_id: int) -> list[dict[str, Any]]:
    names = {i: n for i, n in session.execute(select(Department.id, Department.name))}
    order = session.get(WorkOrder, order_id)
    assert order is not None
    return [{"id": p.id, "department_id": p.department_id,
             "department": names.get(p.department_id, ""), "status": p.status,
             "dispatched_at": p.dispatched_at.isoformat(),
             "accepted_at": p.accepted_at.isoformat() if p.accepted_at else None,
             "answered_at": p.answered_at.isoformat() if p.answered_at else None,
             "reply": p.reply, "returns": p.returns, **fields(p, order)}
            for p in of(session, order_id)]


def deadline(part: OrderPart, order: WorkOrder) -> Deadline | None:
    """The part's deadline: its own when later than the order's."""
    if order.due_at is None or order.due_date is None or order.deadline_days is None:
        return None
    if part.due_at is not None and part.due_date is not None and \
            part.deadline_days is not None and part.due_at > order.due_at:
        return Deadline(part.deadline_days, part.due_date, part.due_at,
                        part.deadline_fallback)
    return Deadline(order.deadline_days, order.due_date, order.due_at, order.deadline_fallback)


def fields(part: OrderPart, order: WorkOrder) -> dict[str, Any]:
    """What a part's department and the supervisors see of its deadline."""
    due = deadline(part, order)
    return {"deadline_days": due.days if due else None,
            "due_date": due.due_date.isoformat() if due else None,
            "due_at": due.due_at.isoformat() if due else None,
            "extended": due is not None and part.due_at is not None
                        and due.due_at == part.due_at,
            "warned_at": part.warned_at.isoformat() if part.warned_at else None,
            "urged_at": part.urged_at.isoformat() if part.urged_at else None,
            "urge_note": part.urge_note, "extension_days": part.extension_days,
            "extension_reason": part.extension_reason}
