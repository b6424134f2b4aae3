"""Tables around a dispatched order: the parts of a 加派 (co-handling
departments), the department-suggestion rules, and attachments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class OrderPart(Base):
    """A co-handling department's part of a 加派 order (the lead's part is the
    order itself: its department, status, reply).

    status: dispatched -> accepted (签收) -> answered; returned (退回, the
    hotline gives the part to another department or drops it); the part has
    the order's deadline until a supervisor grants it an extension of its
    own (worksheets/part_supervision.py): then ``due_at`` and the others,
    and the later of the two deadlines holds.
    """

    __tablename__ = "order_parts"
    __table_args__ = (UniqueConstraint("order_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="dispatched")
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reply: Mapped[str] = mapped_column(Text, default="")
    returns: Mapped[int] = mapped_column(Integer, default=0)
    # The part's own deadline, set by an approved extension (None: the order's):
    # counted from the order's dispatch then (``deadline_from``), so that a
    # working-day year loaded later counts it again (calendar_store.py).
    deadline_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    deadline_fallback: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    deadline_days: Mapped[int | None] = mapped_column(Integer, default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Warned at 80 % of the part's time (once per dispatch), and the latest 催办.
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    urge_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The department's pending request for more time (complex help only, once).
    extension_days: Mapped[int | None] = mapped_column(Integer, default=None)
    extension_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class DepartmentRuleSet(Base):
    """A version of the department-suggestion rules (JSON; the newest is in force)."""

    __tablename__ = "department_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderAttachment(Base):
    """A photo or document on an order; the file lives under the recordings'
    shared directory (``path`` relative to it), so every instance reads it."""

    __tablename__ = "order_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
