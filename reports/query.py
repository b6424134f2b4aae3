"""Reports read from the daily roll-ups: per queue, category, agent or
department (or the whole centre), per day, week or month.

Sums are added up in the database (one GROUP BY per roll-up table); the
rates are made from the sums here, with the definitions of
``worksheets.stats`` (service level over calls offered, ASA over answered
calls, completion over accepted orders, on-time over closed ones, return
rate, satisfaction from the 回访 only, the 10-minute target over judged
orders).  Per department the return rate is ``department_stats``'s: orders
it sent back over every order dispatched to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from agents.models import Agent
from reports.models import CALL_SUMS, ORDER_SUMS, CallsDaily, OrdersDaily
from reports.rollup import DIMENSIONS
from worksheets.lifecycle import open_work
from worksheets.models import Department
from worksheets.stats import call_rates, ratio

PERIODS = ("day", "week", "month")
MAX_DAYS = 400


class ReportError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReportRequest:
    dimension: str = "all"
    period: str = "day"
    first: date | None = None
    last: date | None = None  # inclusive
    key: str | None = None  # one queue, category, agent or department only

    def check(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ReportError("bad_dimension", f"dimension is one of {', '.join(DIMENSIONS)}")
        if self.period not in PERIODS:
            raise ReportError("bad_period", f"period is one of {', '.join(PERIODS)}")
        if self.first is None or self.last is None or self.last < self.first:
            raise ReportError("bad_range", "from and to are dates, from not after to")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ReportError("bad_range", f"at most {MAX_DAYS} days")
        if self.key is not None and self.dimension in ("agent", "department") \
                and not self.key.isdigit():
            raise ReportError("bad_key", f"key is a {self.dimension} id")


def rates(row: dict[str, Any], dimension: str) -> dict[str, Any]:
    """The figures of one row of sums."""
    submitted = row.get("submitted", 0)
    if dimension == "department":
        dispatched_to = submitted + row.get("returned_by", 0) - row.get("came_back", 0)
        return_rate = ratio(row.get("returned_by", 0), dispatched_to)
    else:
        return_rate = ratio(row.get("returned", 0), row.get("dispatched", 0))
    return {
        **call_rates({n: row.get(n, 0) for n in CALL_SUMS}),
        "completion_rate": ratio(row.get("closed", 0), submitted),
        "on_time_rate": ratio(row.get("closed_on_time", 0), row.get("closed", 0)),
        "return_rate": return_rate,
        "satisfaction_rate": ratio(row.get("satisfied", 0), row.get("rated", 0)),
        "service_rating": ratio(row.get("survey_satisfied", 0), row.get("surveyed", 0)),
        "within_target_minutes": ratio(row.get("quick", 0), row.get("judged", 0)),
    }


def _sums(session: Session, table: Any, names: tuple[str, ...], request: ReportRequest,
          by_period: bool) -> list[Any]:
    columns = [func.sum(getattr(table, n)).label(n) for n in names]
    period = getattr(table, request.period)
    groups = [period, table.key] if by_period else [table.key]
    query = select(*groups, *columns).where(
        table.dim == request.dimension, table.day >= request.first, table.day <= request.last)
    if request.key is not None:
        query = query.where(table.key == request.key)
    return list(session.execute(query.group_by(*groups)))


def _merge(session: Session, request: ReportRequest, by_period: bool) -> dict[tuple, dict]:
    merged: dict[tuple, dict[str, Any]] = {}
    for table, names in ((CallsDaily, CALL_SUMS), (OrdersDaily, ORDER_SUMS)):
        for row in _sums(session, table, names, request, by_period):
            values = row._mapping
            group = (values[request.period].isoformat(), values["key"]) if by_period \
                else ("", values["key"])
            target = merged.setdefault(group, {n: 0 for n in (*CALL_SUMS, *ORDER_SUMS)})
            for n in names:
                target[n] = int(values[n] or 0)
    return merged


def labels(session: Session, dimension: str) -> dict[str, str]:
    if dimension == "agent":
        return {str(i): f"{name} ({number})" for i, number, name in
                session.execute(select(Agent.id, Agent.number, Agent.name))}
    if dimension == "department":
        return {str(i): name for i, name in session.execute(select(Department.id, Department.name))}
    return {}


def _overdue(session: Session, now: datetime, key: str | None) -> dict[str, int]:
    """Work still owed past due now, per department, as the lead or for a
    加派 part (the backlog, whatever the period; ``lifecycle.open_work``)."""
    work = open_work()
    query = select(work.c.department_id, func.count(distinct(work.c.order_id))).where(
        work.c.due_at < now)
    if key is not None:
        query = query.where(work.c.department_id == int(key))
    return {str(d): n for d, n in session.execute(query.group_by(work.c.department_id))}


def report(session: Session, request: ReportRequest, *, now: datetime,
           completion_target: float = 0.96) -> dict[str, Any]:
    """Rows per period and key, and one total per key over the whole range."""
    request.check()
    names = labels(session, request.dimension)
    overdue = _overdue(session, now, request.key) if request.dimension == "department" else {}

    def rows(by_period: bool) -> list[dict[str, Any]]:
        out = []
        for (period, key), sums in sorted(_merge(session, request, by_period).items()):
            row = {"period": period or None, "key": key, "label": names.get(key, key), **sums,
                   **rates(sums, request.dimension)}
            if request.dimension == "department":
                row["overdue_now"] = overdue.get(key, 0)
                row["below_target"] = row["completion_rate"] is not None and \
                    row["completion_rate"] < completion_target
            out.append(row)
        return out

    return {"dimension": request.dimension, "period": request.period,
            "from": request.first.isoformat() if request.first else None,
            "to": request.last.isoformat() if request.last else None,
            "rows": rows(True), "totals": rows(False)}


def parse_dates(first: str | None, last: str | None, today: date,
                default_days: int = 30) -> tuple[date, date]:
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=default_days - 1)
    except ValueError:
        raise ReportError("bad_range", "from and to are dates (YYYY-MM-DD)") from None
    return start, end
