"""The special lines kept apart from 12345 (DOMAIN.md: 7 of the city's
old hotlines stay separate, such as 12388 discipline inspection).  When a
matter belongs to one, the agent refers the caller (tells them the
number) or transfers the call (the agent console's transfer, agentapi's),
and the order records which line and how: the call is not lost from the
hotline's records.

The lines are data: ``legacy_lines`` rows of kind ``special`` (an admin
keeps them; the demo seeds seven), active ones only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.models import LegacyLine
from worksheets.lifecycle import LifecycleError, _log, _order
from worksheets.models import WorkOrder

MODES = ("refer", "transfer")


def special_lines(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(LegacyLine).where(
        LegacyLine.kind == "special", LegacyLine.active).order_by(LegacyLine.number))
    return [{"number": r.number, "name": r.label, "note": r.note} for r in rows]


def record(session: Session, order_id: int, *, line: str, mode: str, note: str,
           agent_id: int | None, user_id: int | None, now: datetime) -> WorkOrder:
    """Record the referral on the call's order (the agent's own, or any for a
    supervisor: ``agent_id`` None).  Once per order."""
    names = {x["number"]: x["name"] for x in special_lines(session)}
    if line not in names:
        raise LifecycleError("invalid", f"line must be one of the special lines: "
                                        f"{', '.join(names) or 'none is kept'}")
    if mode not in MODES:
        raise LifecycleError("invalid", "mode must be refer or transfer")
    order = _order(session, order_id)
    if agent_id is not None and order.agent_id != agent_id:
        raise LifecycleError("not_found", f"no work order {order_id}")
    if order.referral_line is not None:
        raise LifecycleError("wrong_status", f"work order {order.number} was referred to "
                                             f"{order.referral_line} already")
    if not (order.status in ("draft", "no_order")
            or (order.status == "closed" and order.answered_on_call)):
        raise LifecycleError("wrong_status", "a referral is recorded on the call's order, "
                                             "while it is a draft or once closed on the call")
    order.referral_line, order.referral_mode, order.referred_at = line, mode, now
    verb = "referred to" if mode == "refer" else "transferred to"
    _log(session, order, "referred", now, user_id,
         f"{verb} {line} {names[line]}" + (f": {note.strip()[:500]}" if note.strip() else ""))
    return order
