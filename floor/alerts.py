"""The floor's alerts: stored, raised once per subject, acknowledged (audited).

Kinds here: ``long_wait`` (a caller waiting past the threshold, once per
caller; key ``long_wait:<queue>:<uniqueid>``), ``service_level`` (a queue's
service level today under target, once per queue and day;
``service_level:<queue>:<day>``), ``draft_late`` (a draft past the
10-minute target, once per order; ``draft_late:<number>:<id>``).  The key's
second part is what a console names the alert by (the detail is a log
line, in English).  No-shows and pause overruns are raised by agents/ into
``staffing_alerts``; the floor lists and acknowledges both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import alerts as staffing_alerts
from agents.models import StaffingAlert
from floor.models import FloorAlert
from routing.lists import audit

SOURCES = ("floor", "staffing")


@dataclass(frozen=True)
class Candidate:
    kind: str
    key: str
    detail: str


def raise_new(s: Session, candidates: list[Candidate], now: datetime) -> list[FloorAlert]:
    """Store the candidates whose key was never raised; returns them."""
    if not candidates:
        return []
    keys = [c.key for c in candidates]
    known = set(s.scalars(select(FloorAlert.key).where(FloorAlert.key.in_(keys))))
    made = []
    for c in candidates:
        if c.key in known:
            continue
        known.add(c.key)
        alert = FloorAlert(kind=c.kind, key=c.key[:120], raised_at=now, detail=c.detail[:300])
        s.add(alert)
        made.append(alert)
    s.flush()
    return made


def open_alerts(s: Session, since: datetime) -> list[dict[str, Any]]:
    """Unacknowledged alerts of both kinds raised since ``since``, newest first."""
    rows: list[dict[str, Any]] = [{"source": "floor", "id": a.id, "kind": a.kind, "key": a.key,
             "detail": a.detail, "raised_at": a.raised_at.isoformat()}
            for a in s.scalars(select(FloorAlert).where(
                FloorAlert.raised_at >= since, FloorAlert.acknowledged_at.is_(None))
                .order_by(FloorAlert.raised_at.desc()).limit(200))]
    rows += [{"source": "staffing", "id": a["id"], "kind": a["kind"],
              "key": f"{a['kind']}:{a['agent_name']}:{a['agent_id']}", "detail": a["detail"],
              "raised_at": a["raised_at"], "agent_id": a["agent_id"]}
             for a in staffing_alerts.list_alerts(s, since, open_only=True)]
    rows.sort(key=lambda r: str(r["raised_at"]), reverse=True)
    return rows


def acknowledge(s: Session, source: str, alert_id: int, *, user_id: int, now: datetime
                ) -> bool:
    """Acknowledge (once; again is a no-op) and audit; False if there is no such alert."""
    alert: FloorAlert | StaffingAlert | None
    if source == "floor":
        alert = s.get(FloorAlert, alert_id)
        if alert is not None and alert.acknowledged_at is None:
            alert.acknowledged_by = user_id
    else:
        alert = s.get(StaffingAlert, alert_id)
    if alert is None:
        return False
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        audit(s, user_id=user_id, action="alert_ack", target=f"{source}:{alert_id}",
              detail=f"{alert.kind}: {alert.detail}"[:300], now=now)
    return True
