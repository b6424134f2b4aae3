"""`hotline import agents|departments|lines FILE` and the admin's upload:
a city's lists from CSV or XLSX.

The first row names the columns: the API's field names (``number``,
``name``, ``team``...) or their Chinese headers (工号, 姓名, 班组...).  A
row whose key (an agent's number, a department's code, a line's number)
exists changes that record; any other row creates one.  Empty cells leave
a field as it is (or at its default).  Every row is checked and every bad
row reported by its line in the file; if any row is bad, or on a dry run,
nothing is written (one transaction, rolled back).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from admin import service
from admin.fields import AdminError, Problem
from admin.kinds import Kind
from routing.lists import audit
from routing.rules import normalize_number

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20000
MAX_LINES = 2 * MAX_ROWS  # blank lines included
MAX_COLUMNS = 64


class FileProblem(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header...)."""


@dataclass
class Row:
    line: int  # in the file, the header being line 1 (a spreadsheet's row number)
    cells: dict[str, Any]  # header as written -> value


@dataclass
class Report:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[tuple[int, Problem]] = field(default_factory=list)
    # ids of the rows this import deactivated (agents leave the queues after it)
    deactivated: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ok": self.ok, "dry_run": self.dry_run,
                "imported": self.ok and not self.dry_run, "rows": self.rows,
                "created": self.created, "changed": self.changed, "unchanged": self.unchanged,
                "problems": [{"line": line, **p.to_dict()} for line, p in self.problems]}

    def lines(self) -> list[str]:
        """The report in words, one bad row problem a line (for the command)."""
        out = [f"line {line}: {p.field}: {p.message}" for line, p in self.problems]
        verb = "would create" if self.dry_run else "created"
        if self.ok:
            out.append(f"{self.rows} rows: {verb} {self.created}, "
                       f"{'would change' if self.dry_run else 'changed'} {self.changed}, "
                       f"{self.unchanged} unchanged" + (" (dry run: nothing written)"
                                                        if self.dry_run else ""))
        else:
            bad = len({line for line, _ in self.problems})
            out.append(f"{bad} of {self.rows} rows are bad: nothing imported")
        return out


def form_of(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".xlsx"):
        return "xlsx"
    raise FileProblem(f"{filename}: a .csv or .xlsx file, please")


def read_rows(data: bytes, form: str) -> list[Row]:
    table = _csv_table(data) if form == "csv" else _xlsx_table(data)
    header_line, header = next(((n, cells) for n, cells in table if any(_filled(c) for c in cells)),
                               (0, []))
    if not header:
        raise FileProblem("the file is empty (the first row names the columns)")
    names = [str(c).strip() if _filled(c) else "" for c in header]
    rows: list[Row] = []
    for line, cells in table:
        if line <= header_line or not any(_filled(c) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem(f"more than {MAX_ROWS} rows: split the file")
        extra = [c for c in cells[len(names):] if _filled(c)]
        row = Row(line, {n: c for n, c in zip(names, cells, strict=False) if n})
        if extra:
            row.cells[""] = extra
        rows.append(row)
    return rows


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _csv_table(data: bytes) -> list[tuple[int, list[Any]]]:
    # Excel and WPS in China save CSV as GB18030 (GBK) unless told otherwise.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem("the CSV is neither UTF-8 nor GB18030")
    if "\0" in text:
        raise FileProblem("not a CSV file (an .xlsx sent as CSV?)")
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        start = 1
        for cells in reader:
            out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileProblem(f"line {reader.line_num}: {exc}") from None
    return out


def _xlsx_table(data: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        raise FileProblem(f"not an XLSX workbook ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        table = []
        # Read row by row and stop early: a small, highly compressed workbook
        # may declare millions of rows or columns.
        for n, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), 1):
            if n > MAX_LINES:
                raise FileProblem(f"more than {MAX_ROWS} rows: split the file")
            table.append((n, list(cells)))
        return table
    finally:
        book.close()


def _headers(kind: Kind) -> dict[str, str]:
    out = {}
    for f in kind.fields:
        for name in (f.name, *f.aliases):
            out[name.lower()] = f.name
    return out


def _key(kind: Kind, value: Any) -> str:
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
    return normalize_number(text) if kind.name == "lines" else text


def import_rows(s: Session, kind: Kind, rows: list[Row], *, user_id: int | None,
                now: datetime, dry_run: bool, via: str) -> Report:
    """Check and apply every row in ``s``'s transaction; rolled back unless
    every row is good and this is not a dry run."""
    report = Report(kind.name, dry_run, rows=len(rows))
    headers = _headers(kind)
    seen: dict[str, int] = {}
    for row in rows:
        problems, data = [], {}
        for header, value in row.cells.items():
            name = headers.get(header.lower())
            if name is None:
                problems.append(Problem(header or "?", "no_column" if header else "stray_cell"))
            elif _filled(value):
                data[name] = value
        key = data.get(kind.key)
        if key is None:
            problems.append(Problem(kind.key, "key_required"))
        elif _key(kind, key) in seen:
            problems.append(Problem(kind.key, "duplicate_key",
                                    {"value": _key(kind, key), "line": seen[_key(kind, key)]}))
        if problems:
            report.problems += [(row.line, p) for p in problems]
            continue
        seen[_key(kind, key)] = row.line
        try:
            _apply(s, kind, data, report, user_id=user_id, now=now, via=via)
        except AdminError as exc:
            report.problems += [(row.line, p) for p in exc.problems]
    if report.ok and not dry_run:
        audit(s, user_id=user_id, action=f"import_{kind.name}", target=f"{kind.name} ({via})",
              detail=" ".join(report.lines()), now=now)
        return report
    s.rollback()
    if not report.ok:  # who tried, and why nothing changed
        audit(s, user_id=user_id, action=f"import_{kind.name}_refused",
              target=f"{kind.name} ({via})",
              detail=" ".join(report.lines())[:4000], now=now)
    return report


def _apply(s: Session, kind: Kind, data: dict[str, Any], report: Report, *,
           user_id: int | None, now: datetime, via: str) -> None:
    try:
        row = service.find(s, kind, _key(kind, data[kind.key]))
    except LookupError:
        service.create(s, kind, data, user_id=user_id, now=now, via=via)
        report.created += 1
        return
    data = {k: v for k, v in data.items() if k not in kind.fixed}
    changes = service.edit(s, kind, row, data, user_id=user_id, now=now, via=via)
    if changes:
        report.changed += 1
        if changes.get("active", [None, None])[1] is False:
            report.deactivated.append(row.id)
    else:
        report.unchanged += 1
