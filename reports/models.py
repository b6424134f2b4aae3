"""The report roll-up tables (migration 0014).

``report_dirty``: an hour (UTC, ``YYYY-MM-DD HH``) whose calls (kind
``c``) or orders (``o``) changed, written by database triggers on
``calls`` and ``work_orders`` so that every write is seen, ORM or not;
reports/rollup.py claims the marks, recomputes the local days they touch
and deletes them.  ``report_calls_daily`` and ``report_orders_daily``: one
row per local day, dimension (``all``, ``queue``, ``category``, ``agent``,
``department``) and key, holding sums, never rates (rates of a period are
sums over its days).  ``week`` (its Monday) and ``month`` (its 1st) are
stored so that a period's sums are one GROUP BY on either database.
``formula`` (migration 0023) is the counting that wrote the row
(``reports.rollup.FORMULA``); NULL when a release before 0023 wrote it.
A refresh recounts every day with a row of a NULL or older formula (the
index on ``formula, day`` finds them).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ReportDirty(Base):
    __tablename__ = "report_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(1))
    hour: Mapped[str] = mapped_column(String(13))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class _Daily:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    # Nullable, no server default: an older release's insert leaves it NULL.
    formula: Mapped[int | None] = mapped_column(Integer, default=None)


CALL_SUMS = ("calls", "offered", "answered", "abandoned", "ivr_only", "within_target",
             "hold_sum", "talk_sum", "talk_n")
ORDER_SUMS = ("orders", "submitted", "closed", "closed_on_time", "dispatched", "returned",
              "rated", "satisfied", "surveyed", "survey_satisfied", "quick", "judged",
              "drafts_unsubmitted", "returned_by", "came_back")


class CallsDaily(_Daily, Base):
    __tablename__ = "report_calls_daily"
    __table_args__ = (Index("ix_report_calls_daily_dim_day", "dim", "day"),
                      Index("ix_report_calls_daily_formula_day", "formula", "day"))

    calls: Mapped[int] = mapped_column(Integer, default=0)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    ivr_only: Mapped[int] = mapped_column(Integer, default=0)
    within_target: Mapped[int] = mapped_column(Integer, default=0)
    hold_sum: Mapped[int] = mapped_column(Integer, default=0)
    talk_sum: Mapped[int] = mapped_column(Integer, default=0)
    talk_n: Mapped[int] = mapped_column(Integer, default=0)


class OrdersDaily(_Daily, Base):
    __tablename__ = "report_orders_daily"
    __table_args__ = (Index("ix_report_orders_daily_dim_day", "dim", "day"),
                      Index("ix_report_orders_daily_formula_day", "formula", "day"))

    orders: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)  # dispatched, returns > 0
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    surveyed: Mapped[int] = mapped_column(Integer, default=0)
    survey_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    quick: Mapped[int] = mapped_column(Integer, default=0)  # submitted within the target
    judged: Mapped[int] = mapped_column(Integer, default=0)
    drafts_unsubmitted: Mapped[int] = mapped_column(Integer, default=0)
    # department rows only: orders this department sent back (退回), and of
    # those the ones it holds again (department_stats' return rate)
    returned_by: Mapped[int] = mapped_column(Integer, default=0)
    came_back: Mapped[int] = mapped_column(Integer, default=0)
