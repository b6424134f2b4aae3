"""Tables owned by the agents domain: teams and agents."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class Team(Base):
    """One of the six teams (班) of the 六班四运转 rota."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # "A".."F"
    name: Mapped[str] = mapped_column(String(50))  # "一班"
    rota_index: Mapped[int] = mapped_column(Integer)  # 0..5, position in the rotation


class Agent(Base):
    """A call taker and the phone that rings for them."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # "1001": login and extension
    name: Mapped[str] = mapped_column(String(50))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    interface: Mapped[str] = mapped_column(String(80))  # "PJSIP/1001": what the queue rings
    skills: Mapped[str] = mapped_column(String(200), default="")  # "complaint:0,help:1" -> penalties
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def member_name(self) -> str:
        """The queue member name; Asterisk logs it as the agent in queue_log."""
        return f"agent-{self.number}"
