"""REST handlers for the working-day calendar: what is loaded, a year's
days, and an admin loading a year (worksheets/calendar_store.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.live_events import OrderDeadlineRecomputed
from routing.lists import audit
from worksheets.calendar import CalendarDataError
from worksheets.calendar_store import calendar_warnings, load_years, stored_years, year_summary


async def overview(request: web.Request) -> web.Response:
    """The years with an arrangement, who loaded them, and the warnings for today."""
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()

    def work(s: Session) -> dict[str, Any]:
        calendar = deps.calendar.fresh(s)
        return {"years": sorted(calendar.years), "stored": stored_years(s),
                "warnings": calendar_warnings(calendar, now.astimezone(deps.settings.tz).date())}

    return web.json_response(await deps.db.run(work))


async def show_year(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    year = path_id(request, "year", "the year must be a number")
    if not 2000 <= year <= 2100:
        return json_error(404, "not_found", f"no calendar for {year}")
    summary = await deps.db.run(lambda s: year_summary(deps.calendar.fresh(s), year))
    return web.json_response(summary)


async def load(request: web.Request) -> web.Response:
    """Validate and store the years of the body; 422 lists every problem."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    data = await read_json(request)
    now = deps.clock.now()

    def work(s: Session) -> dict[str, Any]:
        result = load_years(s, data, now=now, tz=deps.settings.tz,
                            loaded_by=p.username, user_id=p.user_id)
        audit(s, user_id=p.user_id, action="calendar.load",
              target=",".join(map(str, result.years)),
              detail=f"version {result.version}, {len(result.recomputed)} deadlines "
                     "recomputed", now=now)
        return result.to_dict()

    try:
        result = await deps.db.run(work)
    except CalendarDataError as exc:
        return web.json_response({"error": {"code": "invalid_calendar", "message": str(exc),
                                            "problems": exc.problems}}, status=422)
    for change in result["recomputed"]:
        deps.bus.publish(OrderDeadlineRecomputed(order_id=change["order_id"],
                                                 number=change["number"],
                                                 due_date=change["new_due"]))
    return web.json_response(result)


YEARS_BODY = {"type": "object", "required": ["years"], "properties": {"years": {
    "type": "array", "items": {"type": "object", "required": ["year"], "properties": {
        "year": {"type": "integer"}, "source": {"type": "string"},
        "holidays": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "start": {"type": "string", "format": "date"},
            "end": {"type": "string", "format": "date"}}}},
        "workdays": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "date": {"type": "string", "format": "date"}}}}}}}}}
ROUTES = [
    RouteSpec("GET", "/api/calendar", overview,
              "Years with an official arrangement, the ones loaded by admins, and warnings "
              "(a missing next year from 1 November)", roles=("supervisor",),
              tags=("calendar",)),
    RouteSpec("GET", "/api/calendar/{year}", show_year,
              "A year's days off and make-up days, or that it falls back to Monday-Friday",
              roles=("supervisor",), tags=("calendar",),
              params=(("year", "path", "the year, e.g. 2027"),)),
    RouteSpec("POST", "/api/calendar/years", load,
              "Load years' arrangements (the holidays_cn.json format): validated, stored, used "
              "at once by every instance; open orders' deadlines recomputed: admin",
              roles=("admin",), tags=("calendar",), body=YEARS_BODY),
]
