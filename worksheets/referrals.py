"""The special lines kept apart from 12345 (DOMAIN.md: 7 of the city's
old hotlines stay separate).  When a matter belongs to one, the agent
refers the caller (tells them the number) or transfers the call (the
agent console's transfer, agentapi's), and the order records which line
and how: the call is not lost from the hotline's records.

The seven are data: the lines a Chinese city keeps apart from 12345 under
the State Council's 2021 guidance (emergency 110/119/120/122 are not
12345's either, but those are transfers of emergencies, not referrals).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from worksheets.lifecycle import LifecycleError, _log, _order
from worksheets.models import WorkOrder

SPECIAL_LINES: tuple[tuple[str, str], ...] = (
    ("12388", "纪检监察举报"),
    ("12380", "组织系统干部监督举报"),
    ("12339", "国家安全举报"),
    ("12389", "公安机关和民警违法违纪举报"),
    ("12355", "青少年服务台（共青团）"),
    ("12338", "妇女维权（妇联）"),
    ("12119", "森林草原防火"),
)
LINES = dict(SPECIAL_LINES)
MODES = ("refer", "transfer")


def record(session: Session, order_id: int, *, line: str, mode: str, note: str,
           agent_id: int | None, user_id: int | None, now: datetime) -> WorkOrder:
    """Record the referral on the call's order (the agent's own, or any for a
    supervisor: ``agent_id`` None).  Once per order."""
    if line not in LINES:
        raise LifecycleError("invalid", f"line must be one of {', '.join(LINES)}")
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
         f"{verb} {line} {LINES[line]}" + (f": {note.strip()[:500]}" if note.strip() else ""))
    return order
