"""REST routes of the reports: figures per queue, category, agent or
department, per day, week or month, as JSON or an audited CSV/XLSX export.

Before answering, the roll-ups are brought up to date (reports.rollup
.refresh: only the days whose calls or orders changed since the last
refresh are recounted).  A department's login sees its own department only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from console.auth import DEPS_KEY, principal
from console.exports import FORMATS, send_export
from console.routing_table import RouteSpec, json_error
from reports.query import ReportError, ReportRequest, parse_dates, report
from reports.rollup import RollupConfig, refresh

REQUEST_DAYS = 4  # day roll-ups a request may recount before answering (calls and orders)

# Exported columns: (field, heading); numbers as numbers, rates as fractions.
COLUMNS = (
    ("period", "期间"), ("key", "编码"), ("label", "名称"), ("calls", "来电"),
    ("offered", "进入队列"), ("answered", "接通"), ("abandoned", "放弃"),
    ("service_level", "服务水平(15秒)"), ("abandon_rate", "放弃率"),
    ("asa_seconds", "平均应答时长(秒)"), ("aht_seconds", "平均通话时长(秒)"),
    ("submitted", "受理工单"), ("closed", "办结"), ("completion_rate", "办结率"),
    ("on_time_rate", "按时办结率"), ("return_rate", "退回率"),
    ("satisfaction_rate", "回访满意率"), ("service_rating", "热线服务评价"),
    ("within_target_minutes", "10分钟内提交率"),
)
DEPARTMENT_COLUMNS = (("overdue_now", "当前超期"),)


def _request(request: web.Request) -> ReportRequest:
    deps = request.app[DEPS_KEY]
    q = request.query
    today = deps.clock.now().astimezone(deps.settings.tz).date()
    first, last = parse_dates(q.get("from"), q.get("to"), today)
    dimension, key = q.get("dimension", "all"), q.get("key") or None
    p = principal(request)
    if p.role == "department":  # their own department, whatever was asked
        dimension, key = "department", str(p.department_id)
    result = ReportRequest(dimension, q.get("period", "day"), first, last, key)
    result.check()
    return result


async def _figures(request: web.Request) -> tuple[ReportRequest, dict[str, Any]]:
    deps = request.app[DEPS_KEY]
    asked = _request(request)
    config = RollupConfig.from_settings(deps.settings)
    now = deps.clock.now()
    # Today's changes at once, unless the background job (reports.rollup
    # .refresh_job) is recounting: then the report is read as it stands, and
    # ``pending_days`` says how many days are still to be counted in.
    done = await deps.db.run(lambda s: refresh(s, config, now, max_days=REQUEST_DAYS,
                                                 wait=False))
    result = await deps.db.run(lambda s: report(
        s, asked, now=now, completion_target=deps.settings.completion_target))
    result["pending_days"] = done.pending
    result["service_level_target"] = deps.settings.service_level_target
    result["completion_target"] = deps.settings.completion_target
    return asked, result


def _refused(request: web.Request) -> web.Response | None:
    p = principal(request)
    if p.role == "department" and p.department_id is None:
        return json_error(403, "no_department", "this login is not linked to a department")
    return None


async def get_report(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    try:
        _, result = await _figures(request)
    except ReportError as e:
        return json_error(400, e.code, str(e))
    return web.json_response(result)


async def export_report(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        return json_error(400, "bad_format", "format is csv or xlsx")
    try:
        asked, result = await _figures(request)
    except ReportError as e:
        return json_error(400, e.code, str(e))
    columns = COLUMNS + (DEPARTMENT_COLUMNS if asked.dimension == "department" else ())
    rows = [[row.get(field) for field, _ in columns] for row in result["rows"]]
    name = f"report-{asked.dimension}-{asked.period}-{result['from']}-{result['to']}"
    return await send_export(request, fmt=fmt, name=name, sheet="报表",
                             headings=[h for _, h in columns], rows=rows,
                             detail=f"key {asked.key}" if asked.key else "")


PARAMS = (("dimension", "query", "all (default), queue, category, agent or department"),
          ("period", "query", "day (default), week or month"),
          ("from", "query", "first day, YYYY-MM-DD (default: 30 days before to)"),
          ("to", "query", "last day, YYYY-MM-DD (default: today)"),
          ("key", "query", "one queue, category, agent id or department id only"))

ROUTES = [
    RouteSpec("GET", "/api/reports", get_report,
              "Calls offered, answered, abandoned, service level, ASA, AHT, completion, "
              "on-time, return and satisfaction rates per period and key, with totals "
              "(departments: their own)", roles=("supervisor", "department"),
              tags=("reports",), params=PARAMS),
    RouteSpec("GET", "/api/reports/export", export_report,
              "The same report as CSV or XLSX (audited)", roles=("supervisor", "department"),
              tags=("reports",),
              params=(*PARAMS, ("format", "query", "csv (default) or xlsx"))),
]
