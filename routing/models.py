"""Tables owned by routing: the service queues callers are put in."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class ServiceQueue(Base):
    """An Asterisk queue serving one category of call (or the general queue)."""

    __tablename__ = "service_queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # "hotline-help"
    category: Mapped[str] = mapped_column(String(16))  # help, complaint, ..., general
    menu_key: Mapped[str] = mapped_column(String(1))  # "1".."5", "0"
    label: Mapped[str] = mapped_column(String(50))  # 求助
    overflow_seconds: Mapped[int] = mapped_column(Integer, default=0)
