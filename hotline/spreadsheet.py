"""Cells of CSV exports that a spreadsheet will not run as formulas.

A department name, a team or an agent's name is typed by people; one that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some spreadsheets skip first) would be a formula when the CSV is opened in
Excel or WPS.  Such text gets a leading apostrophe (OWASP's advice); numbers
stay numbers.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]
