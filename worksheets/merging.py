"""并案: a supervisor merges duplicate orders about one matter (the same
place and problem, several callers) into one.

The duplicates stop being worked (status ``merged``, ``merged_into_id``)
but keep their numbers, callers and history; the main order is the one
the departments handle.  When the main order closes (review.accept) each
duplicate closes with its reply, so every caller gets their 回访
(per caller: the duplicates are on the 回访 list like any closed order).
Departments are counted for the main order only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.logmask import mask_number
from worksheets.lifecycle import LifecycleError, _log, _order
from worksheets.models import WorkOrder

MERGEABLE = ("dispatched", "accepted", "returned", "answered")
MAX_MERGE = 50


def merge(session: Session, main_id: int, duplicate_ids: list[int], *, now: datetime,
          user_id: int | None, note: str = "") -> WorkOrder:
    if not duplicate_ids or len(duplicate_ids) > MAX_MERGE:
        raise LifecycleError("invalid", f"name 1 to {MAX_MERGE} duplicate orders")
    if main_id in duplicate_ids or len(set(duplicate_ids)) != len(duplicate_ids):
        raise LifecycleError("invalid", "each duplicate once, and not the main order")
    # Lock in id order: two supervisors merging overlapping sets do not deadlock.
    locked = {i: _order(session, i) for i in sorted([main_id, *duplicate_ids])}
    main = locked[main_id]
    if main.status not in MERGEABLE or main.merged_into_id is not None:
        raise LifecycleError("wrong_status", f"work order {main.number} is {main.status}; "
                                             "merge into an open order")
    for dup_id in duplicate_ids:
        dup = locked[dup_id]
        if dup.status not in MERGEABLE:
            raise LifecycleError("wrong_status", f"work order {dup.number} is {dup.status}; "
                                                 "only an open order can be merged")
    for dup_id in duplicate_ids:
        dup = locked[dup_id]
        dup.status, dup.merged_into_id = "merged", main.id
        dup.extension_days, dup.extension_reason = None, ""
        # Orders merged into the duplicate earlier follow it into the main one.
        for earlier in session.scalars(select(WorkOrder).where(
                WorkOrder.merged_into_id == dup.id)):
            earlier.merged_into_id = main.id
        detail = f"merged into {main.number}" + (f": {note.strip()}" if note.strip() else "")
        _log(session, dup, "merged", now, user_id, detail)
        _log(session, main, "merged_in", now, user_id, f"{dup.number} (another caller)")
    session.flush()
    return main


def callers(session: Session, order: WorkOrder) -> list[dict[str, Any]]:
    """Every caller of a merged matter: the main order's, then the duplicates'."""
    rows = [order, *session.scalars(select(WorkOrder).where(
        WorkOrder.merged_into_id == order.id).order_by(WorkOrder.id))]
    return [{"order_id": o.id, "number": o.number, "caller_number": mask_number(o.caller_number),
             "caller_name": o.caller_name, "category": o.category,
             "visit_result": o.visit_result,
             "visited_at": o.visited_at.isoformat() if o.visited_at else None} for o in rows]
