"""The rota of a period as rows, CSV and XLSX (排班表).

One row per shift: date, weekday, shift times, the team whose shift it is,
the agents who actually work it (swaps, leave and overtime applied) and
whether it is short.  The XLSX is written by hand (a zip of a few XML
parts, inline strings, no styles): enough for Excel, WPS and LibreOffice,
and no dependency.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, Team
from agents.roster import load_roster
from hotline.spreadsheet import safe_row

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


def _cells(row: dict[str, Any]) -> list[str | int]:
    agents = " ".join(f"{a['name']}({a['number']})" for a in row["agents"])
    return [row["date"], row["weekday"], row["shift"] + 1, row["start"][11:], row["end"][11:],
            row["team"], agents, row["count"], "是" if row["short"] else ""]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for row in rows:
        writer.writerow(safe_row(_cells(row)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _column(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name


def _sheet_xml(table: list[list[str | int]]) -> str:
    lines = []
    for r, cells in enumerate(table, start=1):
        parts = []
        for c, value in enumerate(cells):
            ref = f"{_column(c)}{r}"
            if isinstance(value, int):
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f"{escape(value)}</t></is></c>")
        lines.append(f'<row r="{r}">{"".join(parts)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(lines)}</sheetData></worksheet>')


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="排班表" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """One worksheet, 排班表, with the same columns as the CSV."""
    table: list[list[str | int]] = [list(HEADINGS), *(_cells(r) for r in rows)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", _sheet_xml(table))
    return buffer.getvalue()
