"""The rota of a period as rows, CSV and XLSX (排班表).

One row per shift: date, weekday, shift times, the team whose shift it is,
the agents who actually work it (swaps, leave and overtime applied) and
whether it is short.  CSV and XLSX are written by core.spreadsheet
(openpyxl).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, Team
from agents.roster import load_roster
from core import spreadsheet

WEEKDAYS = "一二三四五六日"
COLUMNS = ("date", "weekday", "shift", "start", "end", "team", "agents", "count", "short")
HEADINGS = ("日期", "星期", "班次", "开始", "结束", "值班班组", "值班人员", "人数", "缺员")


def rota_rows(session: Session, config: rota.RotaConfig, first_day: date,
              days: int) -> list[dict[str, Any]]:
    """Every shift of ``days`` days from ``first_day`` with its team and agents."""
    last_day = first_day + timedelta(days=days - 1)
    roster = load_roster(session, config, first_day, last_day)
    names = dict(session.execute(select(Agent.id, Agent.name)).all())
    numbers = dict(session.execute(select(Agent.id, Agent.number)).all())
    teams = {t.rota_index: t for t in session.scalars(select(Team))}
    rows = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        for index in range(config.shifts_per_day):
            s = rota.slot(config, day, index)
            team_indexes = rota.teams_for(config, day, index)
            on = sorted(roster.agents_on(day, index), key=lambda a: numbers.get(a, ""))
            rows.append({
                "date": day.isoformat(), "weekday": "周" + WEEKDAYS[day.weekday()],
                "shift": index, "start": s.start.isoformat(timespec="minutes"),
                "end": s.end.isoformat(timespec="minutes"),
                "team": "、".join(teams[t].name if t in teams else f"team {t}"
                                 for t in team_indexes),
                "team_indexes": team_indexes,
                "agents": [{"id": a, "number": numbers.get(a), "name": names.get(a)}
                           for a in on],
                "count": len(on), "short": len(on) < config.min_on_duty,
            })
    return rows


def cells(row: dict[str, Any]) -> list[str | int]:
    agents = " ".join(f"{a['name']}({a['number']})" for a in row["agents"])
    return [row["date"], row["weekday"], row["shift"] + 1, row["start"][11:], row["end"][11:],
            row["team"], agents, row["count"], "是" if row["short"] else ""]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows the Chinese correctly."""
    return spreadsheet.to_csv(HEADINGS, (cells(r) for r in rows))


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """One worksheet, 排班表, with the same columns as the CSV."""
    return spreadsheet.to_xlsx("排班表", HEADINGS, (cells(r) for r in rows))
