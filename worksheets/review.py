"""统一答复: a department's answer is reviewed by a hotline supervisor before
it closes the order and before the 回访.

* accept: every co-handling part must be answered (加派); the order closes
  (办结, ``closed_at``: completion counts from here), and so do the orders
  merged into it (并案), each with the same reply, so that each of their
  callers gets their own 回访.
* send back, with a reason: the lead's answer (the order returns to
  ``accepted``) or one part's; the department answers again, and the
  on-time verdict is taken from that later answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from worksheets import parts
from worksheets.lifecycle import LifecycleError, _expect, _log, _order, _text
from worksheets.models import WorkOrder


def accept(session: Session, order_id: int, *, now: datetime, user_id: int | None,
           note: str = "") -> WorkOrder:
    order = _order(session, order_id)
    _expect(order, "answered", doing="accepted as the reply to the citizen")
    waiting = parts.unanswered(session, order.id)
    if waiting:
        raise LifecycleError("parts_open", f"{len(waiting)} co-handling part(s) of "
                                           f"{order.number} are not answered yet")
    order.status, order.closed_at = "closed", now
    late = order.due_at is not None and order.answered_at is not None \
        and order.answered_at > order.due_at
    _log(session, order, "review_accepted", now, user_id,
         ("answered late" if late else "answered on time") + (f": {note.strip()}"
                                                              if note.strip() else ""))
    for merged in session.scalars(select(WorkOrder).where(
            WorkOrder.merged_into_id == order.id, WorkOrder.status == "merged")):
        merged.status, merged.closed_at = "closed", now
        merged.reply, merged.answered_at = order.reply, order.answered_at
        _log(session, merged, "closed_with", now, user_id, f"closed with {order.number}")
    return order


def send_back(session: Session, order_id: int, *, reason: str, now: datetime,
              user_id: int | None, part_id: int | None = None) -> WorkOrder:
    order = _order(session, order_id)
    _expect(order, "answered", doing="sent back")
    reason = _text(reason, "the reason for sending the answer back")
    if part_id is not None:
        parts.send_back(session, part_id, order, reason=reason, now=now, user_id=user_id)
        return order
    order.status, order.answered_at = "accepted", None
    _log(session, order, "review_sent_back", now, user_id, reason)
    return order
