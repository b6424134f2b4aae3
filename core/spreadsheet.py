"""CSV and XLSX exports, written the same way everywhere.

CSV: UTF-8 with a byte-order mark (so that Excel shows the Chinese), CRLF.
XLSX: written by openpyxl (write-only, one sheet per export).

A department name, a team or an agent's name is typed by people; one that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some spreadsheets skip first) would be a formula when the CSV is opened in
Excel or WPS.  In CSV such text gets a leading apostrophe (OWASP's advice);
in XLSX it is stored as a string cell, which no spreadsheet evaluates
(openpyxl would otherwise write it as a formula).  Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def to_csv(headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow(safe_row(["" if v is None else v for v in row]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheet: str, headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        c = WriteOnlyCell(ws, value=value)
        c.data_type = "s"  # never a formula, whatever it starts with
        return c

    ws.append([cell(h) for h in headings])
    for row in rows:
        ws.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export(fmt: str, sheet: str, headings: Sequence[str],
           rows: Iterable[Sequence[Any]]) -> tuple[bytes, str]:
    """(body, content type) of a ``csv`` or ``xlsx`` export."""
    rows = list(rows)
    if fmt == "xlsx":
        return to_xlsx(sheet, headings, rows), XLSX_TYPE
    return to_csv(headings, rows), CSV_TYPE
