"""REST handlers for the rota: viewing and exporting it, its settings, the
coverage and demand checks, swaps, leave, overtime and handover notes.

Agents act for themselves (their login's agent); supervisors decide and
see everything; admins may do anything (and alone change the settings).
Ids of requests travel in the body, not the path.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from agents import demand, export, requests, rota
from agents.models import HandoverNote
from agents.roster import ShiftPolicy, all_slots, load_roster, save_settings
from agents.shift_duty import handover_notes
from agents.staffing import Staffing
from console.auth import DEPS_KEY, principal
from console.exports import send_export
from console.routing_table import RouteSpec, json_error, read_json
from core.config_sync import announce
from core.live_events import RotaChanged

ROTA_PAGE = Path(__file__).resolve().parent.parent / "console" / "static" / "rota.html"
MAX_DAYS = 366


class BadInput(Exception):
    pass


def _staffing(request: web.Request) -> Staffing:
    from agents.http import STAFFING_KEY as key  # one key, shared with the queue routes

    return request.app[key]


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(f"{name} must be a date such as 2026-12-01") from None


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise BadInput(f"{name} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    return number


def _period(request: web.Request, default_days: int) -> tuple[date, int]:
    staffing = _staffing(request)
    q = request.query
    start = _day(q["start"], "start") if "start" in q else staffing.local_now().date()
    return start, _int(q.get("days", default_days), "days", 1, MAX_DAYS)


def _change_error(exc: requests.RotaChangeError) -> web.Response:
    status = {"not_found": 404, "invalid": 400}.get(exc.code, 409)
    return web.json_response({"error": {"code": exc.code, "message": str(exc),
                                         "short_hours": [s.to_dict() for s in exc.short]}},
                             status=status)


def _handled(handler: Any) -> Any:
    """Turn bad input and refused changes into clear 4xx answers."""
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadInput as exc:
            return json_error(400, "invalid", str(exc))
        except requests.RotaChangeError as exc:
            return _change_error(exc)
        except rota.RotaError as exc:
            return json_error(400, "rota_rules", str(exc))

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _own_agent(request: web.Request) -> int:
    agent_id = principal(request).agent_id
    if agent_id is None:
        raise web.HTTPForbidden(text='{"error": {"code": "forbidden", "message": "this login is '
                                'not linked to an agent"}}', content_type="application/json")
    return agent_id


# ------------------------------------------------------------------- the rota
@_handled
async def show_rota(request: web.Request) -> web.Response:
    start, days = _period(request, 7)
    staffing = _staffing(request)
    config = staffing.config
    rows = await request.app[DEPS_KEY].db.run(lambda s: export.rota_rows(s, config, start, days))
    now = rota.shift_at(config, staffing.local_now())
    return web.json_response({"start": start.isoformat(), "days": days, "shifts": rows,
                              "now": {"day": now.day.isoformat(), "shift": now.index,
                                      "team_index": now.team_index}})


@_handled
async def export_rota(request: web.Request) -> web.Response:
    start, days = _period(request, 28)
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise BadInput("format must be csv or xlsx")
    config = _staffing(request).config
    rows = await request.app[DEPS_KEY].db.run(lambda s: export.rota_rows(s, config, start, days))
    return await send_export(request, fmt=fmt, name=f"rota-{start.isoformat()}-{days}d",
                             sheet="排班表", headings=export.HEADINGS,
                             rows=[export.cells(r) for r in rows],
                             detail=f"from {start.isoformat()}, {days} days")


def config_dict(config: rota.RotaConfig, policy: ShiftPolicy) -> dict[str, Any]:
    return {"shift_starts": [t.strftime("%H:%M") for t in config.shift_starts],
            "team_count": config.team_count, "pattern": rota.format_pattern(config.cycle),
            "epoch": config.epoch.isoformat(), "min_rest_hours": config.min_rest_hours,
            "min_on_duty": config.min_on_duty, "no_show_minutes": policy.no_show_minutes,
            "wrapup_seconds": policy.wrapup_seconds,
            "early_login_minutes": policy.early_login_minutes}


async def get_config(request: web.Request) -> web.Response:
    staffing = _staffing(request)
    return web.json_response(config_dict(staffing.config, staffing.policy))


@_handled
async def put_config(request: web.Request) -> web.Response:
    data = await read_json(request)
    staffing = _staffing(request)
    config, policy = config_from(data, staffing.config, staffing.policy)
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    await deps.db.run(lambda s: save_settings(s, config, policy, now))
    await staffing.reload_settings()
    announce(deps, "rota_settings")  # every backend's shift changes and check-ins
    deps.bus.publish(RotaChanged(what="settings"))
    return web.json_response(config_dict(staffing.config, staffing.policy))


def config_from(data: dict[str, Any], config: rota.RotaConfig,
                policy: ShiftPolicy) -> tuple[rota.RotaConfig, ShiftPolicy]:
    """New settings from a partial JSON body over the current ones (validated)."""
    try:
        starts = (tuple(time.fromisoformat(t) for t in data["shift_starts"])
                  if "shift_starts" in data else config.shift_starts)
    except (TypeError, ValueError):
        raise BadInput("shift_starts must be a list of HH:MM times") from None
    teams = _int(data.get("team_count", config.team_count), "team_count", 1, 20)
    pattern = (rota.parse_pattern(str(data["pattern"])) if "pattern" in data
               else (config.pattern if teams == config.team_count and
                     starts == config.shift_starts else None))
    new = rota.RotaConfig(
        shift_starts=starts, team_count=teams, pattern=pattern,
        epoch=_day(data.get("epoch", config.epoch.isoformat()), "epoch"),
        min_rest_hours=float(_int(data.get("min_rest_hours", config.min_rest_hours),
                                  "min_rest_hours", 0, 72)),
        min_on_duty=_int(data.get("min_on_duty", config.min_on_duty), "min_on_duty", 0, 500))
    new_policy = ShiftPolicy(
        _int(data.get("no_show_minutes", policy.no_show_minutes), "no_show_minutes", 1, 120),
        _int(data.get("wrapup_seconds", policy.wrapup_seconds), "wrapup_seconds", 0, 600),
        _int(data.get("early_login_minutes", policy.early_login_minutes),
             "early_login_minutes", 0, 120))
    rota.validate(new)
    return new, new_policy


@_handled
async def coverage(request: web.Request) -> web.Response:
    start, days = _period(request, 56)
    config = _staffing(request).config

    def work(s: Session) -> list[dict[str, object]]:
        roster = load_roster(s, config, start, start + timedelta(days=days - 1))
        return [x.to_dict() for x in roster.shortfalls(all_slots(config, start, days))]

    short = await request.app[DEPS_KEY].db.run(work)
    return web.json_response({"start": start.isoformat(), "days": days,
                              "min_on_duty": config.min_on_duty, "ok": not short,
                              "short_hours": short})


@_handled
async def staffing_needs(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    staffing = _staffing(request)
    q = request.query
    day = _day(q["date"], "date") if "date" in q else staffing.local_now().date()
    weeks = _int(q.get("weeks", 4), "weeks", 1, 52)
    target, level = deps.settings.service_level_seconds, deps.settings.service_level_target
    level = min(max(level, 0.01), 0.999)
    config, policy, tz = staffing.config, staffing.policy, deps.settings.tz

    def work(s: Session) -> dict[str, Any]:
        need = demand.demand_from_history(s, day, tz, weeks=weeks,
                                          wrapup_seconds=policy.wrapup_seconds)
        hours = demand.hourly_staffing(need, load_roster(s, config, day - timedelta(days=1), day),
                                       day, target_seconds=target, service_level=level)
        return demand.staffing_report(need, hours, target_seconds=target, service_level=level)

    return web.json_response({"date": day.isoformat(), **await deps.db.run(work)})


async def rota_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(ROTA_PAGE)


# -------------------------------------------------------- handover notes
async def get_handover(request: web.Request) -> web.Response:
    staffing = _staffing(request)
    current = rota.shift_at(staffing.config, staffing.local_now())
    previous = rota.shift_at(staffing.config, current.start - timedelta(seconds=1))
    db = request.app[DEPS_KEY].db
    return web.json_response({
        "shift": {"day": current.day.isoformat(), "shift": current.index},
        "from_previous_shift": await db.run(lambda s: handover_notes(s, previous)),
        "this_shift": await db.run(lambda s: handover_notes(s, current)),
    })


@_handled
async def post_handover(request: web.Request) -> web.Response:
    data = await read_json(request)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 4000:
        raise BadInput("text must be a non-empty string of at most 4000 characters")
    deps, staffing = request.app[DEPS_KEY], _staffing(request)
    current = rota.shift_at(staffing.config, staffing.local_now())
    note = HandoverNote(day=current.day, shift_index=current.index,
                        author_id=principal(request).user_id, text=text.strip(),
                        created_at=deps.clock.now())

    def work(s: Session) -> int:
        s.add(note)
        s.flush()
        return note.id

    note_id = await deps.db.run(work)
    return web.json_response({"id": note_id, "day": current.day.isoformat(),
                              "shift": current.index}, status=201)


def rota_routes() -> list[RouteSpec]:
    from agents.rota_requests_http import ROUTES as REQUEST_ROUTES

    period = (("start", "query", "first day, YYYY-MM-DD (default today)"),
              ("days", "query", "number of days"))
    return [
        RouteSpec("GET", "/rota.html", rota_page, "The rota page (its data needs a login)",
                  roles=("public",), tags=("console",)),
        RouteSpec("GET", "/api/rota", show_rota, "The rota: every shift, its team and agents",
                  roles=("agent", "supervisor"), tags=("rota",), params=period),
        RouteSpec("GET", "/api/rota/export", export_rota, "The rota as CSV or XLSX",
                  roles=("agent", "supervisor"), tags=("rota",),
                  params=(*period, ("format", "query", "csv or xlsx"))),
        RouteSpec("GET", "/api/rota/config", get_config, "Shift times, pattern and policies",
                  roles=("agent", "supervisor"), tags=("rota",)),
        RouteSpec("PUT", "/api/rota/config", put_config,
                  "Change shift times, team count, pattern and policies (checked first)",
                  roles=("admin",), tags=("rota",), body={"type": "object"}),
        RouteSpec("GET", "/api/rota/coverage", coverage, "Hours staffed below the minimum",
                  roles=("supervisor",), tags=("rota",), params=period),
        RouteSpec("GET", "/api/rota/staffing", staffing_needs,
                  "Agents needed per hour (Erlang C, 15 s) against the rota",
                  roles=("supervisor",), tags=("rota",),
                  params=(("date", "query", "the day (default today)"),
                          ("weeks", "query", "weeks of call history (default 4)"))),
        RouteSpec("GET", "/api/rota/handover", get_handover,
                  "Handover notes from the previous shift and this one",
                  roles=("agent", "supervisor"), tags=("rota",)),
        RouteSpec("POST", "/api/rota/handover", post_handover,
                  "Write a handover note for the next shift", roles=("agent", "supervisor"),
                  tags=("rota",), body={"type": "object", "required": ["text"],
                                        "properties": {"text": {"type": "string"}}}),
        *REQUEST_ROUTES,
    ]
