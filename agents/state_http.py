"""REST handlers for live agent states, time reports, alerts and the list of
pause reasons."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import alerts
from agents.models import PauseReason
from agents.reports import agent_report
from agents.rota_http import BadInput, _day, _handled, _int, _staffing
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, read_json
from core.config_sync import announce
from routing.lists import audit


async def live_states(request: web.Request) -> web.Response:
    return web.json_response({"agents": _staffing(request).states.snapshot()})


@_handled
async def report(request: web.Request) -> web.Response:
    deps, staffing = request.app[DEPS_KEY], _staffing(request)
    q, tz = request.query, deps.settings.tz
    first = _day(q["start"], "start") if "start" in q else staffing.local_now().date()
    last = _day(q["end"], "end") if "end" in q else first
    if last < first or (last - first).days > 92:
        raise BadInput("end must be on or after start, at most 92 days later")
    lo = datetime.combine(first, time(0), tz)
    hi = min(datetime.combine(last + timedelta(days=1), time(0), tz), deps.clock.now())
    rows = await deps.db.run(lambda s: agent_report(s, lo, hi))
    return web.json_response({"start": first.isoformat(), "end": last.isoformat(),
                              "agents": rows})


@_handled
async def list_alerts(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    hours = _int(request.query.get("hours", 24), "hours", 1, 24 * 31)
    since = deps.clock.now() - timedelta(hours=hours)
    open_only = request.query.get("open") in ("1", "true")
    rows = await deps.db.run(lambda s: alerts.list_alerts(s, since, open_only))
    return web.json_response({"alerts": rows})


@_handled
async def acknowledge_alert(request: web.Request) -> web.Response:
    data = await read_json(request)
    alert_id = _int(data.get("id"), "id", 1, 2**31)
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    if not await deps.db.run(lambda s: alerts.acknowledge(s, alert_id, now)):
        return json_error(404, "not_found", f"no alert {alert_id}")
    return web.json_response({"id": alert_id, "acknowledged": True})


def _reason_dict(r: PauseReason) -> dict[str, Any]:
    return {"code": r.code, "label": r.label, "max_minutes": r.max_minutes, "active": r.active}


async def list_pause_reasons(request: web.Request) -> web.Response:
    rows = await request.app[DEPS_KEY].db.run(lambda s: [
        _reason_dict(r) for r in s.scalars(select(PauseReason).order_by(PauseReason.id))])
    return web.json_response({"pause_reasons": rows})


@_handled
async def put_pause_reason(request: web.Request) -> web.Response:
    """Create or change one reason, named by its code."""
    data = await read_json(request)
    code, label = data.get("code"), data.get("label")
    if not isinstance(code, str) or not code.isascii() or not 1 <= len(code) <= 24 \
            or not code.replace("-", "").replace("_", "").isalnum():
        raise BadInput("code must be 1-24 letters, digits, - or _")
    if label is not None and (not isinstance(label, str) or not 1 <= len(label) <= 40):
        raise BadInput("label must be a string of 1-40 characters")
    who, now = principal(request), request.app[DEPS_KEY].clock.now()
    minutes = data.get("max_minutes")
    minutes = None if minutes is None else _int(minutes, "max_minutes", 1, 24 * 60)
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise BadInput("active must be true or false")

    def work(s: Session) -> tuple[dict[str, Any], bool]:
        row = s.scalar(select(PauseReason).where(PauseReason.code == code))
        created = row is None
        if row is None:
            if label is None or minutes is None:
                raise BadInput("a new reason needs a label and max_minutes")
            row = PauseReason(code=code, label=label, max_minutes=minutes, active=active)
            s.add(row)
        else:
            row.label = label if label is not None else row.label
            row.max_minutes = minutes if minutes is not None else row.max_minutes
            row.active = active
        s.flush()
        audit(s, user_id=who.user_id, action="pause_reason", target=code,
              detail=json.dumps(_reason_dict(row), ensure_ascii=False), now=now)
        return _reason_dict(row), created

    row, created = await request.app[DEPS_KEY].db.run(work)
    await _staffing(request).states.reload_pause_reasons()
    announce(request.app[DEPS_KEY], "pause_reasons")  # the elected backend raises overruns
    return web.json_response(row, status=201 if created else 200)


ROUTES = [
    RouteSpec("GET", "/api/agents/states", live_states,
              "What each agent is doing now and for how long", roles=("supervisor",),
              tags=("agents",)),
    RouteSpec("GET", "/api/agents/report", report,
              "Login, pause, talk and wrap-up time and calls handled per agent",
              roles=("supervisor",), tags=("agents",),
              params=(("start", "query", "first day (default today)"),
                      ("end", "query", "last day (default start)"))),
    RouteSpec("GET", "/api/agents/alerts", list_alerts,
              "No-shows and pauses past their limit", roles=("supervisor",), tags=("agents",),
              params=(("hours", "query", "look back this many hours (default 24)"),
                      ("open", "query", "true: only unacknowledged"))),
    RouteSpec("POST", "/api/agents/alerts/acknowledge", acknowledge_alert,
              "Mark an alert as seen", roles=("supervisor",), tags=("agents",),
              body={"type": "object", "required": ["id"],
                    "properties": {"id": {"type": "integer"}}}),
    RouteSpec("GET", "/api/pause-reasons", list_pause_reasons,
              "The reasons an agent may pause for, with their time limits",
              roles=("agent", "supervisor"), tags=("agents",)),
    RouteSpec("PUT", "/api/pause-reasons", put_pause_reason,
              "Create or change a pause reason (by code)", roles=("supervisor",),
              tags=("agents",), body={
                  "type": "object", "required": ["code"], "properties": {
                      "code": {"type": "string"}, "label": {"type": "string"},
                      "max_minutes": {"type": "integer"}, "active": {"type": "boolean"}}}),
]
