"""A work order after dispatch: the department's side, the hotline's
supervision, and the reply to the citizen (回访).

    dispatched --accept--> accepted --reply--> answered --review: accept--> closed
        |                     |    ^              |                          |
        +------return---------+    +--review: send back with a reason--+    visit
        v                                                                    |
    returned --redispatch (hotline)--> dispatched   <--reopen (supervisor)--+

* accept (签收): the department signs for the order.
* return (退回): the department sends it back with a reason (wrong
  department, not the government's business ...); the hotline dispatches it
  again, to the same or another department, and the deadline starts again
  from that dispatch: the department that gets it is held to its own full
  time, and the misroute shows in the return rate.
* reply (办结回复): the department's answer; on time when given by
  ``due_at`` (``answered_at``).  It closes nothing yet: a hotline supervisor
  reviews it (统一答复, worksheets/review.py) and accepts it, which closes
  the order (completion counts then), or sends it back with a reason.
  Co-handling departments (加派) answer their parts (worksheets/parts.py).
* extension: a department may ask once, for a complex help order, for 1-5
  more working days with a reason; a supervisor approves (the deadline moves,
  ``deadline_days`` grows) or refuses.
* visit (回访): an agent calls the citizen about a closed order and records
  satisfied / basically satisfied / dissatisfied, or unreachable.  A
  dissatisfied citizen's order stays closed but is listed for supervisors,
  who may reopen it (dispatched again to its department, a fresh deadline).

Every step is an :class:`OrderEvent` with who did it.  Functions raise
:class:`LifecycleError` (a code and a message for the HTTP answer).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import and_, case, exists, or_, select, union_all
from sqlalchemy.orm import Session

from worksheets.calendar import WorkingCalendar
from worksheets.calendar_store import set_order_deadline
from worksheets.deadlines import Deadline, DeadlineError, deadline_for, extend_deadline
from worksheets.models import Department, OrderEvent, WorkOrder
from worksheets.order_models import OrderPart

VISIT_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable")
MAX_TEXT = 2000


class LifecycleError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _order(session: Session, order_id: int, *, department_id: int | None = None) -> WorkOrder:
    # populate_existing: the row as locked, not as this session read it earlier.
    order = session.get(WorkOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None or (department_id is not None and order.department_id != department_id):
        # Another department's order is not shown to exist.
        raise LifecycleError("not_found", f"no work order {order_id}")
    return order


def _expect(order: WorkOrder, *statuses: str, doing: str) -> None:
    if order.status not in statuses:
        raise LifecycleError("wrong_status", f"work order {order.number} is {order.status}; "
                                             f"only a {' or '.join(statuses)} order can be {doing}")


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise LifecycleError("invalid", f"{what} must not be empty")
    if len(value) > MAX_TEXT:
        raise LifecycleError("invalid", f"{what} is longer than {MAX_TEXT} characters")
    return value


def _log(session: Session, order: WorkOrder, kind: str, now: datetime, user_id: int | None,
         detail: str = "") -> None:
    session.add(OrderEvent(order_id=order.id, at=now, kind=kind, user_id=user_id,
                           department_id=order.department_id, detail=detail))


# ------------------------------------------------------------ the department

def accept(session: Session, order_id: int, *, department_id: int, user_id: int | None,
           now: datetime) -> WorkOrder:
    order = _order(session, order_id, department_id=department_id)
    _expect(order, "dispatched", doing="signed for")
    order.status, order.accepted_at = "accepted", now
    _log(session, order, "accepted", now, user_id)
    return order


def return_order(session: Session, order_id: int, *, department_id: int, reason: str,
                 user_id: int | None, now: datetime) -> WorkOrder:
    order = _order(session, order_id, department_id=department_id)
    _expect(order, "dispatched", "accepted", doing="returned")
    reason = _text(reason, "the reason for returning")
    order.status, order.returns = "returned", order.returns + 1
    order.extension_days, order.extension_reason = None, ""
    _log(session, order, "returned", now, user_id, reason)
    return order


def reply(session: Session, order_id: int, *, department_id: int, text: str,
          user_id: int | None, now: datetime) -> WorkOrder:
    order = _order(session, order_id, department_id=department_id)
    _expect(order, "dispatched", "accepted", doing="answered")
    order.reply = _text(text, "the reply")
    order.status, order.answered_at = "answered", now
    if order.accepted_at is None:
        order.accepted_at = now
    order.extension_days, order.extension_reason = None, ""
    late = order.due_at is not None and now > order.due_at
    _log(session, order, "replied", now, user_id, "late" if late else "on time")
    return order


def request_extension(session: Session, order_id: int, *, department_id: int, days: int,
                      reason: str, user_id: int | None, now: datetime,
                      calendar: WorkingCalendar, tz: tzinfo) -> WorkOrder:
    order = _order(session, order_id, department_id=department_id)
    _expect(order, "dispatched", "accepted", doing="extended")
    reason = _text(reason, "the reason for the extension")
    if order.extension_days is not None:
        raise LifecycleError("pending", "an extension request is already waiting for a "
                                        "supervisor")
    _check_extension(session, order, days, calendar, tz)
    order.extension_days, order.extension_reason = days, reason
    _log(session, order, "extension_requested", now, user_id, f"{days} working days: {reason}")
    return order


def _check_extension(session: Session, order: WorkOrder, days: int, calendar: WorkingCalendar,
                     tz: tzinfo) -> Deadline:
    if order.due_date is None or order.due_at is None or order.deadline_days is None:
        raise LifecycleError("invalid", f"work order {order.number} has no deadline")
    # Once in the order's whole life: a redispatch or a reopen starts the
    # deadline again at the base days, but does not allow a second extension.
    granted = session.scalar(select(OrderEvent.id).where(
        OrderEvent.order_id == order.id, OrderEvent.kind == "extension_approved").limit(1))
    if granted is not None:
        raise LifecycleError("not_extendable", f"work order {order.number} has had its one "
                                               "extension")
    current = Deadline(order.deadline_days, order.due_date, order.due_at,
                       order.deadline_fallback)
    try:
        return extend_deadline(current, category=order.category, complexity=order.complexity,
                               extra_days=days, calendar=calendar, tz=tz)
    except DeadlineError as exc:
        raise LifecycleError("not_extendable", str(exc)) from None


# --------------------------------------------------------------- the hotline

def decide_extension(session: Session, order_id: int, *, approve: bool, user_id: int | None,
                     now: datetime, calendar: WorkingCalendar, tz: tzinfo,
                     note: str = "") -> WorkOrder:
    order = _order(session, order_id)
    if order.extension_days is None:
        raise LifecycleError("no_request", f"work order {order.number} has no extension "
                                           "request")
    _expect(order, "dispatched", "accepted", doing="extended")
    days = order.extension_days
    if approve:
        set_order_deadline(order, _check_extension(session, order, days, calendar, tz))
        _log(session, order, "extension_approved", now, user_id,
             f"{days} working days, due {order.due_date}" + (f": {note}" if note else ""))
    else:
        _log(session, order, "extension_refused", now, user_id, note.strip())
    order.extension_days, order.extension_reason = None, ""
    return order


def redispatch(session: Session, order_id: int, *, department_id: int | None,
               user_id: int | None,
               now: datetime, calendar: WorkingCalendar, tz: tzinfo, note: str = "",
               reopen: bool = False) -> WorkOrder:
    """Dispatch a returned order again (or, with ``reopen``, a closed one
    whose citizen was not satisfied); the deadline starts again.
    ``department_id`` None: the department it had."""
    order = _order(session, order_id)
    if reopen:
        _expect(order, "closed", doing="reopened")
        if order.answered_on_call:
            raise LifecycleError("wrong_status", "a consultation answered on the call cannot "
                                                 "be reopened; take a new call")
    else:
        _expect(order, "returned", doing="dispatched again")
    department_id = order.department_id if department_id is None else department_id
    department = session.get(Department, department_id) if department_id else None
    if department is None or not department.active:
        raise LifecycleError("invalid", f"no active department {department_id}")
    co_handles = session.scalar(select(OrderPart.id).where(
        OrderPart.order_id == order.id, OrderPart.department_id == department.id,
        OrderPart.status != "dropped"))
    if co_handles is not None:
        # As lead it could never answer or return its part: the order would stick.
        raise LifecycleError("invalid", f"{department.name} already co-handles this order "
                                        "(加派): choose another department or drop its part")
    try:
        deadline = deadline_for(order.category, order.complexity, now, calendar, tz)
    except DeadlineError as exc:  # a help order stored without its complexity
        raise LifecycleError("invalid", f"order {order.number} cannot be dispatched: {exc}") \
            from None
    order.department_id = department.id
    set_order_deadline(order, deadline, dispatched_at=now)
    order.status, order.accepted_at, order.closed_at = "dispatched", None, None
    order.answered_at = None
    if reopen:
        # A new answer will need a new 回访; the old verdict stays in the history.
        order.reply, order.visited_at, order.visit_result = "", None, None
        order.satisfaction = None
        # Every co-handling department looks at the matter again too (加派).
        for part in session.scalars(select(OrderPart).where(
                OrderPart.order_id == order.id, OrderPart.status != "dropped")):
            part.status, part.dispatched_at = "dispatched", now
            part.accepted_at = part.answered_at = None
            part.reply = ""
            # ... with the order's fresh deadline (an extension of its own is spent).
            part.deadline_days = part.due_date = part.due_at = part.deadline_from = None
            part.deadline_fallback = False
            part.extension_days, part.extension_reason = None, ""
    kind = "reopened" if reopen else "redispatched"
    _log(session, order, kind, now, user_id,
         f"to {department.name}, due {order.due_date}" + (f": {note.strip()}" if note.strip()
                                                          else ""))
    return order


def visit(session: Session, order_id: int, *, result: str, note: str, user_id: int | None,
          now: datetime) -> WorkOrder:
    """回访: the citizen's verdict on a closed order."""
    if result not in VISIT_RESULTS:
        raise LifecycleError("invalid", f"result must be one of {', '.join(VISIT_RESULTS)}")
    order = _order(session, order_id)
    _expect(order, "closed", doing="visited")
    if order.answered_on_call:
        raise LifecycleError("wrong_status", "a consultation answered on the call has no 回访; "
                                             "its survey answer is its rating")
    if order.visited_at is not None:
        raise LifecycleError("wrong_status", f"work order {order.number} has had its 回访 "
                                             f"({order.visit_result})")
    order.visited_at, order.visit_result = now, result
    if result != "unreachable":
        order.satisfaction = result
    _log(session, order, "visited", now, user_id, result + (f": {note.strip()}"
                                                            if note.strip() else ""))
    return order


# ------------------------------------------------------------------ queries

def part_due_at() -> Any:
    """A co-handling part's deadline in SQL: its own (an approved extension)
    when later than the order's, else the order's."""
    return case((and_(OrderPart.due_at.is_not(None), OrderPart.due_at > WorkOrder.due_at),
                 OrderPart.due_at), else_=WorkOrder.due_at)


def _open_part(department_id: int | None = None, statuses: tuple[str, ...] = (
        "dispatched", "accepted"), *, late_at: datetime | None = None,
        asking: bool = False) -> Any:
    """The order has a co-handling part (of ``department_id``) in ``statuses``
    (past its own deadline at ``late_at``; ``asking`` for an extension)."""
    where = [OrderPart.order_id == WorkOrder.id, OrderPart.status.in_(statuses)]
    if department_id is not None:
        where.append(OrderPart.department_id == department_id)
    if asking:
        where.append(OrderPart.extension_days.is_not(None))
    if late_at is not None:
        where.append(part_due_at() < late_at)
    return exists().where(*where)


OPEN_ORDER = ("dispatched", "accepted", "answered")


OPEN_WORK = ("dispatched", "accepted")  # a lead or a part that still owes its answer


def lead_open() -> Any:
    """The lead department still owes its answer."""
    return WorkOrder.status.in_(OPEN_WORK)


def part_open() -> Any:
    """A co-handling part (``OrderPart`` joined to its order) still owes its
    answer, on an order not yet closed."""
    return and_(OrderPart.status.in_(OPEN_WORK), WorkOrder.status.in_(OPEN_ORDER))


def lead_overdue(now: datetime) -> Any:
    return and_(WorkOrder.due_at < now, lead_open())


def part_overdue(now: datetime) -> Any:
    """A part still open past its deadline (its own, once extended)."""
    return and_(part_due_at() < now, part_open())


def overdue_at(now: datetime) -> Any:
    """督办: the order, or a co-handling part of it, still open past the
    deadline (a part's own, once extended).  Every overdue figure is built
    from these expressions: per order here, per department from
    :func:`lead_overdue` and :func:`part_overdue` (or :func:`open_work`)."""
    return or_(lead_overdue(now),
               exists().where(OrderPart.order_id == WorkOrder.id, part_overdue(now)))


def open_work() -> Any:
    """Who owes an answer on an open order, and by when (a subquery of
    ``order_id``, ``department_id``, ``due_at``): the lead while the order is
    dispatched or signed for, and each co-handling part still open.  An
    order its lead answered whose part is still open is the part's
    department's open work (and overdue by :func:`overdue_at`)."""
    lead = select(WorkOrder.id.label("order_id"), WorkOrder.department_id.label(
        "department_id"), WorkOrder.due_at.label("due_at")).where(
        WorkOrder.department_id.is_not(None), lead_open())
    part = select(WorkOrder.id, OrderPart.department_id, part_due_at()).join(
        OrderPart, OrderPart.order_id == WorkOrder.id).where(part_open())
    return union_all(lead, part).subquery("open_work")


WORKLISTS = ("department", "extensions", "returned", "review", "overdue", "visits",
             "dissatisfied")


def worklist(session: Session, kind: str, *, department_id: int | None = None,
             limit: int = 100, now: datetime | None = None) -> list[WorkOrder]:
    """The orders waiting for someone, oldest deadline first:
    ``department`` (theirs to handle: as lead, or a co-handling part, 加派),
    ``extensions`` and ``returned`` (the order or a part of it, for
    supervisors), ``review`` (answered, every part answered: 统一答复),
    ``overdue`` (督办: the order or a part still open past the deadline at
    ``now``), ``visits`` (closed, not yet visited, 回访 for agents),
    ``dissatisfied`` (visited, not satisfied, not reopened)."""
    stmt = select(WorkOrder)
    if kind == "department":
        stmt = stmt.where(or_(
            and_(WorkOrder.department_id == department_id,
                 WorkOrder.status.in_(("dispatched", "accepted"))),
            and_(WorkOrder.status.in_(OPEN_ORDER), _open_part(department_id))))
    elif kind == "extensions":
        stmt = stmt.where(or_(
            and_(WorkOrder.extension_days.is_not(None),
                 WorkOrder.status.in_(("dispatched", "accepted"))),
            and_(WorkOrder.status.in_(OPEN_ORDER), _open_part(asking=True))))
    elif kind == "returned":
        stmt = stmt.where(or_(WorkOrder.status == "returned",
                              and_(WorkOrder.status.in_(OPEN_ORDER),
                                   _open_part(statuses=("returned",)))))
    elif kind == "review":
        stmt = stmt.where(WorkOrder.status == "answered",
                          ~_open_part(statuses=("dispatched", "accepted", "returned")))
    elif kind == "overdue" and now is not None:
        stmt = stmt.where(overdue_at(now))
    elif kind == "visits":
        stmt = stmt.where(WorkOrder.status == "closed", WorkOrder.visited_at.is_(None),
                          WorkOrder.answered_on_call.is_(False))
    elif kind == "dissatisfied":
        stmt = stmt.where(WorkOrder.status == "closed", WorkOrder.visit_result == "dissatisfied")
    else:
        raise LifecycleError("invalid", f"list is one of {', '.join(WORKLISTS)}")
    order = WorkOrder.closed_at if kind in ("visits", "dissatisfied") else WorkOrder.due_at
    if kind == "review":
        order = WorkOrder.answered_at
    return list(session.scalars(stmt.order_by(order, WorkOrder.id).limit(limit)))


def history(session: Session, order_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                           .order_by(OrderEvent.at, OrderEvent.id))
    return [{"at": e.at.isoformat(), "kind": e.kind, "user_id": e.user_id, "detail": e.detail}
            for e in rows]
