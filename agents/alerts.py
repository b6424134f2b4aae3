"""Alerts for supervisors: no-shows at a shift change, pauses past their limit.

Each is stored (for the day's report) and published live, to supervisors
and admins only (the event's audience); ``subject_agent_id`` names the
agent concerned.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, StaffingAlert
from core.live_events import StaffingAlert as LiveStaffingAlert
from hotline.deps import Deps

log = logging.getLogger(__name__)


async def raise_alert(deps: Deps, kind: str, agent_id: int, detail: str) -> int:
    """Store and publish an alert; returns its id."""
    now = deps.clock.now()

    def work(s: Session) -> int:
        alert = StaffingAlert(kind=kind, agent_id=agent_id, raised_at=now, detail=detail[:300])
        s.add(alert)
        s.flush()
        return alert.id

    alert_id = await deps.db.run(work)
    log.warning("staffing alert %s: %s", kind, detail)
    deps.bus.publish(LiveStaffingAlert(alert_id=alert_id, subject_agent_id=agent_id,
                                       kind=kind, detail=detail,
                                       raised_at=now.isoformat()))
    return alert_id


def list_alerts(session: Session, since: datetime, open_only: bool = False) -> list[dict[str, Any]]:
    query = (select(StaffingAlert, Agent.number, Agent.name)
             .join(Agent, StaffingAlert.agent_id == Agent.id)
             .where(StaffingAlert.raised_at >= since).order_by(StaffingAlert.raised_at.desc()))
    if open_only:
        query = query.where(StaffingAlert.acknowledged_at.is_(None))
    return [{"id": a.id, "kind": a.kind, "agent_id": a.agent_id, "agent_number": number,
             "agent_name": name, "raised_at": a.raised_at.isoformat(), "detail": a.detail,
             "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None}
            for a, number, name in session.execute(query.limit(500))]


def acknowledge(session: Session, alert_id: int, now: datetime) -> bool:
    alert = session.get(StaffingAlert, alert_id)
    if alert is None:
        return False
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
    return True
