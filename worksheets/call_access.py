"""Who may read a call's words (its description and transcript).

A call's transcript is a citizen's own words: only the agent whose phone
the call rang (``offered``), who answered it, or who holds its work order
reads it; supervisors and admins read all.  An agent login not linked to
an agent reads none.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calls.models import Call, CallEvent
from calls.records import OFFERED
from worksheets.models import WorkOrder


def agent_may_see_call(session: Session, call: Call, agent_id: int | None) -> bool:
    if agent_id is None:
        return False
    if call.agent_id == agent_id:
        return True
    offered = session.scalar(select(CallEvent.id).where(
        CallEvent.call_id == call.id, CallEvent.kind == OFFERED,
        CallEvent.detail == str(agent_id)))
    if offered is not None:
        return True
    return session.scalar(select(WorkOrder.id).where(
        WorkOrder.call_id == call.id, WorkOrder.agent_id == agent_id)) is not None
