"""Sending a CSV or XLSX export over HTTP, audited: who exported what, when
(``/api/audit``, action ``export``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web

from console.auth import DEPS_KEY, principal
from core import spreadsheet
from routing.lists import audit

FORMATS = ("csv", "xlsx")


async def send_export(request: web.Request, *, fmt: str, name: str, sheet: str,
                      headings: Sequence[str], rows: Iterable[Sequence[Any]],
                      detail: str = "") -> web.Response:
    """``name`` without its extension; ``detail`` says what was asked for
    (period, dimension...), written into the audit entry with the row count."""
    deps = request.app[DEPS_KEY]
    rows = list(rows)
    body, kind = spreadsheet.export(fmt, sheet, headings, rows)
    user_id = principal(request).user_id
    note = f"{fmt}, {len(rows)} rows" + (f", {detail}" if detail else "")
    await deps.db.run(lambda s: audit(s, user_id=user_id, action="export", target=name,
                                      detail=note, now=deps.clock.now()))
    return web.Response(body=body, headers={
        "Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
