"""Staffing from demand: agents needed per hour (Erlang C) against the rota.

Demand for an hour of the day is the mean number of calls that reached a
queue in that hour over the history window (by default the four weeks
before the day looked at); the handle time is the mean talk time of the
answered calls in the window plus the wrap-up time.  From both,
:func:`agents.erlang.agents_needed` gives the fewest agents answering the
target share of calls within the target time (90 % in 15 s, GB/T
33358-2016), and the gap is the rostered agents minus that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import erlang, rota
from agents.roster import Roster
from calls.models import Call

DEFAULT_AHT_SECONDS = 240.0  # when there is no answered call in the window yet


@dataclass(frozen=True)
class Demand:
    """Calls per hour of the day (24 values) and the average handle time."""

    calls_per_hour: tuple[float, ...]
    aht_seconds: float
    days: int  # days of history behind the figures
    answered: int  # answered calls behind the handle time


@dataclass(frozen=True)
class HourStaffing:
    hour: datetime  # local wall-clock start
    calls: float
    traffic_erlangs: float
    needed: int
    rostered: int

    @property
    def gap(self) -> int:
        """Rostered minus needed: negative means short."""
        return self.rostered - self.needed

    def to_dict(self) -> dict[str, Any]:
        return {"hour": self.hour.isoformat(), "calls": round(self.calls, 2),
                "traffic_erlangs": round(self.traffic_erlangs, 3), "needed": self.needed,
                "rostered": self.rostered, "gap": self.gap}


def demand_from_history(session: Session, day: date, tz: tzinfo, *, weeks: int = 4,
                        wrapup_seconds: float = 10.0) -> Demand:
    """Hourly demand and handle time from the calls of the ``weeks`` before ``day``."""
    days = weeks * 7
    start = datetime.combine(day - timedelta(days=days), time(0), tz)
    end = datetime.combine(day, time(0), tz)
    rows = session.execute(select(Call.queued_at, Call.talk_seconds, Call.outcome)
                           .where(Call.queued_at.is_not(None), Call.queued_at >= start,
                                  Call.queued_at < end)).all()
    counts = [0] * 24
    talk: list[int] = []
    for queued_at, talk_seconds, outcome in rows:
        assert queued_at is not None  # filtered above
        counts[queued_at.astimezone(tz).hour] += 1
        if outcome == "answered" and talk_seconds is not None:
            talk.append(talk_seconds)
    aht = (sum(talk) / len(talk) + wrapup_seconds) if talk else DEFAULT_AHT_SECONDS
    return Demand(tuple(c / days for c in counts), aht, days, len(talk))


def hourly_staffing(demand: Demand, roster: Roster, day: date, *, target_seconds: float = 15,
                    service_level: float = 0.9) -> list[HourStaffing]:
    """Needed and rostered agents for each local hour of ``day``."""
    out = []
    for h in range(24):
        hour = datetime.combine(day, time(h))
        s = rota.shift_at(roster.config, hour)
        calls = demand.calls_per_hour[h]
        out.append(HourStaffing(
            hour, calls, erlang.traffic_erlangs(calls, demand.aht_seconds),
            erlang.agents_needed(calls, demand.aht_seconds, target_seconds, service_level),
            len(roster.agents_on(s.day, s.index)),
        ))
    return out


def staffing_report(demand: Demand, hours: list[HourStaffing], *, target_seconds: float,
                    service_level: float) -> dict[str, Any]:
    """The JSON shape shared by the REST route and the CLI."""
    return {
        "target": {"seconds": target_seconds, "service_level": service_level},
        "aht_seconds": round(demand.aht_seconds, 1), "history_days": demand.days,
        "answered_calls": demand.answered,
        "hours": [h.to_dict() for h in hours],
        "short_hours": [h.hour.isoformat() for h in hours if h.gap < 0],
    }
