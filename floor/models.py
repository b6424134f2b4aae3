"""Tables owned by the floor: the alerts supervisors acknowledge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
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


class FloorThresholdSet(Base):
    """The floor's alert thresholds as a supervisor set them: one row per
    change, the newest in force on every instance (none: the settings')."""

    __tablename__ = "floor_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    long_wait_seconds: Mapped[int] = mapped_column()
    service_level_target: Mapped[float] = mapped_column(Float)
    service_level_min_offered: Mapped[int] = mapped_column()
    draft_minutes: Mapped[int] = mapped_column()
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
