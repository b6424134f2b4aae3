"""Tables owned by routing: the service queues callers are put in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ServiceQueue(Base):
    """An Asterisk queue serving one category of call (or the general queue)."""

    __tablename__ = "service_queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # "hotline-help"
    category: Mapped[str] = mapped_column(String(16))  # help, complaint, ..., general
    menu_key: Mapped[str] = mapped_column(String(1))  # "1".."5", "0"
    label: Mapped[str] = mapped_column(String(50))  # 求助
    overflow_seconds: Mapped[int] = mapped_column(Integer, default=0)


class LegacyLine(Base):
    """A number of one of the old department hotlines 12345 replaced.

    ``kind``: ``dual`` (双轨运行: still rings into 12345; the dialled number
    pre-selects the category and the department, and the IVR skips the
    menu), ``merged`` (merged outright, kept as retired: it no longer
    routes) or ``special`` (a special line that stays separate, such as
    discipline inspection or forest fire: kept for referral, never routed).
    """

    __tablename__ = "legacy_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16), default="")  # "": merged, special
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(8), default="dual")  # dual | merged | special
    note: Mapped[str] = mapped_column(String(200), default="")  # e.g. where to refer callers


class PriorityCaller(Base):
    """A registered vulnerable caller (elderly, disabled): queued ahead of others."""

    __tablename__ = "priority_callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(32))  # elderly, disabled, other
    priority: Mapped[int] = mapped_column(Integer, default=5)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class BlockedNumber(Base):
    """An abusive caller: hears a polite message and is not queued, until expiry."""

    __tablename__ = "blocked_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class RoutingRuleSet(Base):
    """A version of the routing rules (JSON); the newest row is in force."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who changed what in the lists and rules, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
