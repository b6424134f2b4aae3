"""Tables owned by the floor: the alerts supervisors acknowledge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class FloorAlert(Base):
    """A wait over its threshold, a queue's service level under target, a
    draft past 10 minutes: raised once per subject (``key``) until it is
    acknowledged.  No-shows and pause overruns stay in ``staffing_alerts``."""

    __tablename__ = "floor_alerts"
    __table_args__ = (Index("ix_floor_alerts_key_open", "key", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # long_wait | service_level | draft_late
    key: Mapped[str] = mapped_column(String(120))  # what it is about: kind:subject
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    detail: Mapped[str] = mapped_column(String(300))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
