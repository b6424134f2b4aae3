"""Tables owned by calls: the call record and its timeline.

The table names are those of the release that kept them in worksheets/
(``calls``, ``call_events``): an older release may run beside this one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Call(Base):
    """The record every call leaves, whatever happens to it.

    Keyed by the Uniqueid of the caller's channel as Asterisk reports it
    in AGI (agi_uniqueid) and AMI (Uniqueid), so either side may create it
    and the other completes it.
    """

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    linkedid: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str | None] = mapped_column(String(200), default=None)
    caller_number: Mapped[str] = mapped_column(String(255), default="")
    caller_name: Mapped[str] = mapped_column(String(255), default="")
    dialed_number: Mapped[str] = mapped_column(String(32), default="12345")
    ivr_choice: Mapped[str | None] = mapped_column(String(8), default=None)
    category: Mapped[str | None] = mapped_column(String(16), default=None)
    queue: Mapped[str | None] = mapped_column(String(64), default=None)
    # in_ivr -> queued -> answered | abandoned ; in_ivr -> ivr_hangup
    outcome: Mapped[str] = mapped_column(String(16), default="in_ivr")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    member_name: Mapped[str | None] = mapped_column(String(80), default=None)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    hold_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    talk_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    description_recording: Mapped[str | None] = mapped_column(String(500), default=None)
    source: Mapped[str] = mapped_column(String(16), default="agi")  # agi | ami (reconciled)
    # Set by the IVR: a legacy department line pre-selects the department; a
    # caller adding to an open order links to it; registered callers' priority.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    follows_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id",
                                                                    use_alter=True),
                                                         default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class CallEvent(Base):
    """One step of a call's timeline."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
