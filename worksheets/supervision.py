"""The hotline holding departments to their deadlines: a warning at 80 %
of the time, overdue orders on the supervisors' 督办 list
(``lifecycle.worklist(..., "overdue")``), and a supervisor's 催办 notice
recorded on the order and shown to its department.

80 % is of the wall-clock time from the dispatch the deadline runs from
to the end of its last day: a 3-working-day order dispatched on Monday at
10:00 (due Thursday 23:59:59) is warned on Thursday at about 06:48;
simple to explain to a department, and never after the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.live_events import OrderDeadlineWarning
from worksheets import part_supervision
from worksheets.deadlines import WARN_SHARE
from worksheets.lifecycle import LifecycleError, _expect, _log, _order, _text
from worksheets.models import WorkOrder

if TYPE_CHECKING:
    from hotline.deps import Deps

log = logging.getLogger(__name__)

CHECK_SECONDS = 300  # how often the warning job looks


def warning_due(order: WorkOrder, now: datetime) -> bool:
    if order.deadline_from is None or order.due_at is None or now >= order.due_at:
        return False
    if order.warned_at is not None and order.warned_at >= order.deadline_from:
        return False  # warned for this dispatch already
    return now >= order.deadline_from + (order.due_at - order.deadline_from) * WARN_SHARE


def warn_departments(session: Session, now: datetime) -> list[WorkOrder]:
    """Warn (once per dispatch) every open order past 80 % of its time."""
    candidates = session.scalars(select(WorkOrder).where(
        WorkOrder.status.in_(("dispatched", "accepted")), WorkOrder.due_at > now,
        WorkOrder.deadline_from.is_not(None),
        or_(WorkOrder.warned_at.is_(None), WorkOrder.warned_at < WorkOrder.deadline_from),
    ).order_by(WorkOrder.due_at))
    warned = []
    for order in list(candidates):
        if not warning_due(order, now):
            continue
        # Compare-and-set: several instances run this job; one warns.
        if not session.execute(update(WorkOrder).where(
                WorkOrder.id == order.id, or_(WorkOrder.warned_at.is_(None),
                                              WorkOrder.warned_at < WorkOrder.deadline_from))
                .values(warned_at=now).execution_options(synchronize_session=False)).rowcount:
            continue
        order.warned_at = now
        _log(session, order, "deadline_warning", now, None,
             f"{int(WARN_SHARE * 100)} % of the time used: due {order.due_date}")
        warned.append(order)
    session.flush()
    return warned


def urge(session: Session, order_id: int, *, note: str, user_id: int | None,
         now: datetime) -> WorkOrder:
    """催办: a supervisor presses the department about an open order."""
    order = _order(session, order_id)
    # answered: the lead has, a co-handling part (加派) is still open.
    _expect(order, "dispatched", "accepted", "answered", doing="urged")
    order.urged_at, order.urge_note = now, _text(note, "the 催办 note")
    _log(session, order, "urged", now, user_id, order.urge_note)
    return order


async def deadline_warnings(deps: Deps) -> None:
    """Runs for the process's life: warns departments, live, as orders pass
    80 % of their time (the lead) and as co-handling parts pass 80 % of
    theirs (each part's department, part_supervision.py)."""
    while True:
        now = deps.clock.now()
        try:
            warned = await deps.db.run(lambda s, at=now: _warn_all(s, at))
        except Exception:  # the next round tries again
            log.exception("deadline warnings failed")
            warned = []
        for order_id, number, department_id, due in warned:
            deps.bus.publish(OrderDeadlineWarning(order_id=order_id, number=number,
                                                  department_id=department_id, due_date=due))
        await asyncio.sleep(CHECK_SECONDS)


def _warn_all(s: Session, now: datetime) -> list[tuple[int, str, int | None, str | None]]:
    """(order id, number, department warned, due date) for the lead's warnings
    and the parts'."""
    out: list[tuple[int, str, int | None, str | None]] = [
        (o.id, o.number, o.department_id, o.due_date.isoformat() if o.due_date else None)
        for o in warn_departments(s, now)]
    for order, part in part_supervision.warn_parts(s, now):
        due = part_supervision.deadline(part, order)
        out.append((order.id, order.number, part.department_id,
                    due.due_date.isoformat() if due else None))
    return out


__all__ = ["LifecycleError", "deadline_warnings", "urge", "warn_departments"]
