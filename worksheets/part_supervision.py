"""A co-handling part (加派) held to its own deadline, as the lead is by
supervision.py and lifecycle.py: its department is warned at 80 % of the
part's time, a supervisor urges it (催办), and it may ask once for more time.

* The part's deadline is the order's until a supervisor approves the part's
  extension: then the part has its own (``OrderPart.due_at``), and the later
  of the two holds (a lead that is dispatched again runs on a fresh, maybe
  later, deadline: its parts are never held to less).  The order's (the
  lead's) deadline does not move with a part's extension.
* The part's time runs from the later of its dispatch and the order's
  (``deadline_from``); the warning comes at 80 % of it, once per dispatch
  (a part dispatched again, or a lead dispatched again, is warned again),
  compare-and-set so that one of several instances warns.
* Extension: the same limits as the lead's (complex help only, 1-5 working
  days, once in the part's life: an order extended as a whole has extended
  its parts too); approved or refused by a supervisor.

Every step is an :class:`OrderEvent` with the part's department.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from worksheets.calendar import WorkingCalendar
from worksheets.deadlines import WARN_SHARE, Deadline, DeadlineError, extend_deadline
from worksheets.lifecycle import OPEN_ORDER, LifecycleError, _order, _text, part_due_at
from worksheets.models import OrderEvent, WorkOrder
from worksheets.order_models import OrderPart
from worksheets.parts import OPEN, _open_part, _part_log, deadline


def starts(part: OrderPart, order: WorkOrder) -> datetime:
    """When the part's time began: its dispatch, or the order's if later."""
    if order.deadline_from is not None and order.deadline_from > part.dispatched_at:
        return order.deadline_from
    return part.dispatched_at


def warning_due(part: OrderPart, order: WorkOrder, now: datetime) -> bool:
    due, start = deadline(part, order), starts(part, order)
    if due is None or now >= due.due_at or part.status not in OPEN:
        return False
    if part.warned_at is not None and part.warned_at >= start:
        return False  # warned for this dispatch already
    return now >= start + (due.due_at - start) * WARN_SHARE


def warn_parts(session: Session, now: datetime) -> list[tuple[WorkOrder, OrderPart]]:
    """Warn (once per dispatch) every open part past 80 % of its time."""
    candidates = session.execute(select(WorkOrder, OrderPart).join(
        OrderPart, OrderPart.order_id == WorkOrder.id).where(
        OrderPart.status.in_(OPEN), WorkOrder.status.in_(OPEN_ORDER),
        WorkOrder.due_at.is_not(None), part_due_at() > now,
        or_(OrderPart.warned_at.is_(None), OrderPart.warned_at < OrderPart.dispatched_at,
            and_(WorkOrder.deadline_from.is_not(None),
                 OrderPart.warned_at < WorkOrder.deadline_from)),
    ).order_by(part_due_at(), OrderPart.id)).all()
    warned = []
    for order, part in candidates:
        if not warning_due(part, order, now):
            continue
        start = starts(part, order)
        # Compare-and-set: several instances run this job; one warns.
        if not session.execute(update(OrderPart).where(
                OrderPart.id == part.id,
                or_(OrderPart.warned_at.is_(None), OrderPart.warned_at < start))
                .values(warned_at=now).execution_options(synchronize_session=False)).rowcount:
            continue
        part.warned_at = now
        due = deadline(part, order)
        _part_log(session, part, "co_deadline_warning", now, None,
                  f"{int(WARN_SHARE * 100)} % of the time used: due "
                  f"{due.due_date if due else '?'}")
        warned.append((order, part))
    session.flush()
    return warned


def _locked(session: Session, part_id: int) -> tuple[WorkOrder, OrderPart]:
    """The part's order, then the part, both locked (one lock order with parts.py)."""
    order_id = session.scalar(select(OrderPart.order_id).where(OrderPart.id == part_id))
    if order_id is None:
        raise LifecycleError("not_found", f"no co-handling part {part_id}")
    order = _order(session, order_id)
    part = session.get(OrderPart, part_id, with_for_update=True, populate_existing=True)
    assert part is not None
    return order, part


def _expect_open(order: WorkOrder, part: OrderPart, doing: str) -> None:
    if order.status not in OPEN_ORDER or part.status not in OPEN:
        raise LifecycleError("wrong_status", f"the part of {order.number} is {part.status} "
                                             f"(the order {order.status}); only an open part "
                                             f"of an open order can be {doing}")


def urge(session: Session, part_id: int, *, note: str, user_id: int | None,
         now: datetime) -> tuple[WorkOrder, OrderPart]:
    """催办: a supervisor presses a co-handling department about its part."""
    order, part = _locked(session, part_id)
    _expect_open(order, part, "urged")
    part.urged_at, part.urge_note = now, _text(note, "the 催办 note")
    _part_log(session, part, "co_urged", now, user_id, part.urge_note)
    return order, part


def _check_extension(session: Session, order: WorkOrder, part: OrderPart, days: int,
                     calendar: WorkingCalendar, tz: tzinfo) -> Deadline:
    current = deadline(part, order)
    if current is None:
        raise LifecycleError("invalid", f"work order {order.number} has no deadline")
    granted = session.scalar(select(OrderEvent.id).where(
        OrderEvent.order_id == order.id, OrderEvent.department_id == part.department_id,
        OrderEvent.kind == "co_extension_approved").limit(1))
    if granted is not None:
        raise LifecycleError("not_extendable", f"this part of {order.number} has had its one "
                                               "extension")
    try:
        return extend_deadline(current, category=order.category, complexity=order.complexity,
                               extra_days=days, calendar=calendar, tz=tz)
    except DeadlineError as exc:
        raise LifecycleError("not_extendable", str(exc)) from None


def request_extension(session: Session, order_id: int, department_id: int, *, days: int,
                      reason: str, user_id: int | None, now: datetime,
                      calendar: WorkingCalendar, tz: tzinfo) -> OrderPart:
    """The co-handling department asks for 1-5 more working days for its part."""
    part = _open_part(session, order_id, department_id, "extended")
    order = session.get(WorkOrder, order_id)
    assert order is not None
    _expect_open(order, part, "extended")
    reason = _text(reason, "the reason for the extension")
    if part.extension_days is not None:
        raise LifecycleError("pending", "an extension request is already waiting for a "
                                        "supervisor")
    _check_extension(session, order, part, days, calendar, tz)
    part.extension_days, part.extension_reason = days, reason
    _part_log(session, part, "co_extension_requested", now, user_id,
              f"{days} working days: {reason}")
    return part


def decide_extension(session: Session, part_id: int, *, approve: bool, user_id: int | None,
                     now: datetime, calendar: WorkingCalendar, tz: tzinfo,
                     note: str = "") -> tuple[WorkOrder, OrderPart]:
    """A supervisor approves (the part's deadline moves, the order's not) or refuses."""
    order, part = _locked(session, part_id)
    if part.extension_days is None:
        raise LifecycleError("no_request", f"this part of {order.number} has no extension "
                                           "request")
    _expect_open(order, part, "extended")
    days = part.extension_days
    if approve:
        due = _check_extension(session, order, part, days, calendar, tz)
        part.deadline_days, part.due_date, part.due_at = due.days, due.due_date, due.due_at
        part.deadline_from, part.deadline_fallback = order.deadline_from, due.fallback
        _part_log(session, part, "co_extension_approved", now, user_id,
                  f"{days} working days, due {due.due_date}" + (f": {note.strip()}"
                                                                if note.strip() else ""))
    else:
        _part_log(session, part, "co_extension_refused", now, user_id, note.strip())
    part.extension_days, part.extension_reason = None, ""
    return order, part
