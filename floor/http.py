"""REST routes of the live floor: its snapshot, alert acknowledgement, and
the supervisors' actions (each audited: who, what, when)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.fields import AdminError
from admin.http import refused
from agents.http import PHONE_RE, STAFFING_KEY
from agents.models import Agent
from agents.staffing import StaffingError, UnknownPauseReason
from calls.models import Call
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json, row_id
from core.accounts import User
from core.config_sync import announce
from floor import actions, alerts, thresholds
from floor.events import FloorAlertAcked
from floor.service import FLOOR_KEY, THRESHOLDS_PART
from pbx.commands import AmiError
from routing.lists import audit
from speech.call_recordings import find_call_recording

SUPERVISORS = ("supervisor",)  # admins pass every role check


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def _audit(request: web.Request, action: str, target: str, detail: str) -> None:
    deps, p = request.app[DEPS_KEY], principal(request)
    now = deps.clock.now()
    await deps.db.run(lambda s: audit(s, user_id=p.user_id, action=action, target=target,
                                      detail=detail[:300], now=now))


async def floor_snapshot(request: web.Request) -> web.Response:
    floor = request.app.get(FLOOR_KEY)
    if floor is None:
        return json_error(503, "floor_down", "the live floor is not running")
    return web.json_response(floor.snapshot())


async def acknowledge(request: web.Request) -> web.Response:
    data = await read_json(request)
    source, alert_id = data.get("source", "floor"), _int(data.get("id"))
    if source not in alerts.SOURCES or alert_id is None or isinstance(data.get("id"), bool):
        return json_error(400, "invalid", "source is floor or staffing; id the alert's")
    deps, p = request.app[DEPS_KEY], principal(request)
    now = deps.clock.now()
    if not await deps.db.run(lambda s: alerts.acknowledge(s, source, alert_id,
                                                          user_id=p.user_id, now=now)):
        return json_error(404, "not_found", f"no {source} alert {alert_id}")
    floor = request.app.get(FLOOR_KEY)
    if floor is not None:
        floor.acknowledged(source, alert_id)
    deps.bus.publish(FloorAlertAcked(source=source, alert_id=alert_id, by=p.username,
                                     at=now.isoformat()))
    return web.json_response({"source": source, "id": alert_id, "acknowledged": True})


async def get_thresholds(request: web.Request) -> web.Response:
    floor = request.app.get(FLOOR_KEY)
    if floor is None:
        return json_error(503, "floor_down", "the live floor is not running")
    row = await request.app[DEPS_KEY].db.run(thresholds.newest)
    return web.json_response(_thresholds_answer(row, floor.defaults))


def _thresholds_answer(row: Any, defaults: thresholds.Thresholds) -> dict[str, Any]:
    return {"thresholds": thresholds.applied(row, defaults).to_dict(),
            "version": row.id if row is not None else None,
            "set_at": row.set_at.isoformat() if row is not None else None,
            "defaults": defaults.to_dict(), "editable": list(thresholds.EDITABLE)}


async def put_thresholds(request: web.Request) -> web.Response:
    """Change some or all thresholds: stored (the newest in force everywhere),
    audited, applied here and, through core.config_sync, on every instance."""
    floor = request.app.get(FLOOR_KEY)
    if floor is None:
        return json_error(503, "floor_down", "the live floor is not running")
    data, deps, p = await read_json(request), request.app[DEPS_KEY], principal(request)
    now = deps.clock.now()

    def work(s: Session) -> tuple[dict[str, Any], bool]:
        thresholds.lock(s)  # two supervisors' partial changes: one after the other
        row = thresholds.newest(s)
        old = thresholds.applied(row, floor.defaults)
        made = thresholds.store(s, thresholds.parse(data, old), old, user_id=p.user_id,
                                now=now)
        return _thresholds_answer(made or row, floor.defaults), made is not None

    try:
        answer, changed = await deps.db.run(work)
    except AdminError as exc:
        return refused(exc)
    if changed:
        floor.apply_thresholds(answer["version"], answer["thresholds"])  # here: at once
        announce(deps, THRESHOLDS_PART)  # and on every other instance
    return web.json_response(answer)


# ---------------------------------------------------------------- actions
AgentAction = Callable[[web.Request, Agent, dict[str, Any]], Awaitable[web.Response]]


def on_agent(handler: AgentAction) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Load the path's agent and the body; PBX and staffing refusals as codes."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        data = await read_json(request) if request.can_read_body else {}
        agent_id = path_id(request, "agent_id", "no such agent")
        deps = request.app[DEPS_KEY]
        agent = await deps.db.run(lambda s: s.get(Agent, agent_id))
        if agent is None:
            return json_error(404, "not_found", "no such agent")
        try:
            return await handler(request, agent, data)
        except UnknownPauseReason as exc:
            return json_error(400, "unknown_reason", str(exc))
        except (StaffingError, AmiError) as exc:
            return json_error(409, "refused", str(exc))

    return wrapped


@on_agent
async def force_pause(request: web.Request, agent: Agent, data: dict[str, Any]) -> web.Response:
    paused, reason = data.get("paused", True), data.get("reason", "")
    if not isinstance(paused, bool) or not isinstance(reason, str) or len(reason) > 40:
        return json_error(400, "invalid", "paused must be true/false, reason a short string")
    if paused and not reason:
        return json_error(400, "invalid", "a pause needs a reason (GET /api/pause-reasons)")
    code = await request.app[STAFFING_KEY].pause(agent.id, paused, reason)
    await _audit(request, "force_pause" if paused else "force_resume", agent.member_name, code)
    return web.json_response({"agent_id": agent.id, "paused": paused, "reason": code})


@on_agent
async def log_off(request: web.Request, agent: Agent, data: dict[str, Any]) -> web.Response:
    staffing = request.app[STAFFING_KEY]
    if agent.id not in staffing.logged_in and not await staffing.checked_in(agent.id):
        return json_error(409, "refused", f"{agent.name} is not on the queues")
    await staffing.queue_logout(agent.id)
    await _audit(request, "force_logoff", agent.member_name, "")
    return web.json_response({"agent_id": agent.id, "logged_in": False})


def _queue(request: web.Request, value: Any) -> str | None:
    queues = request.app[DEPS_KEY].routing.queues()
    return value if isinstance(value, str) and value in queues else None


def _penalty(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and \
            0 <= value <= actions.MAX_PENALTY:
        return value
    return None


@on_agent
async def move_queue(request: web.Request, agent: Agent, data: dict[str, Any]) -> web.Response:
    to, source = _queue(request, data.get("to")), data.get("from")
    penalty = data.get("penalty")
    if to is None or (source is not None and _queue(request, source) is None):
        return json_error(400, "invalid", "to (and from) must be service queues")
    if penalty is not None and _penalty(penalty) is None:
        return json_error(400, "invalid", f"penalty is 0 to {actions.MAX_PENALTY}")
    queues = await actions.move(request.app[STAFFING_KEY], agent.id, to, source, penalty)
    await _audit(request, "move_queue", agent.member_name, f"{source or '-'} -> {to}")
    return web.json_response({"agent_id": agent.id, "queues": queues})


@on_agent
async def penalty(request: web.Request, agent: Agent, data: dict[str, Any]) -> web.Response:
    queue, value = _queue(request, data.get("queue")), _penalty(data.get("penalty"))
    if queue is None or value is None:
        return json_error(400, "invalid", f"queue is a service queue, penalty 0 to "
                                          f"{actions.MAX_PENALTY}")
    queues = await actions.set_penalty(request.app[STAFFING_KEY], agent.id, queue, value)
    await _audit(request, "set_penalty", agent.member_name, f"{queue}: {value}")
    return web.json_response({"agent_id": agent.id, "queues": queues})


async def recording(request: web.Request) -> web.StreamResponse:
    """The whole call's recording, to play in the page; each playback audited."""
    deps = request.app[DEPS_KEY]
    key = request.match_info["call_id"]
    call_id = row_id(key)
    # By id, or by the caller's Uniqueid (what live events name a call by).
    where = Call.id == call_id if call_id is not None else Call.uniqueid == key[:64]
    call = await deps.db.run(lambda s: s.scalar(select(Call).where(where)))
    if call is None:
        return json_error(404, "not_found", "no such call")
    settings = deps.settings
    path = find_call_recording(settings.recordings_dir, call.uniqueid,
                               call.answered_at or call.entered_at, settings.tz)
    if path is None:
        return json_error(404, "no_recording", "this call has no recording")
    # A player reads in ranges: one playback is audited once, at its first byte.
    if not request.http_range.start:
        await _audit(request, "recording_play", call.uniqueid, path.name)
    return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                           "Cache-Control": "no-store"})


# ------------------------------------------------------ supervisors' phones
async def set_phone(request: web.Request) -> web.Response:
    """An admin sets (or clears, with null) a supervisor's own phone."""
    deps = request.app[DEPS_KEY]
    user_id = path_id(request, "user_id", "no such user")
    data = await read_json(request)
    phone = data.get("phone")
    if phone is not None and (not isinstance(phone, str) or not PHONE_RE.fullmatch(phone)):
        return json_error(400, "invalid", "phone is a PJSIP endpoint, e.g. PJSIP/9001, or null")
    if phone is not None and phone.split("/", 1)[1].lower() == "trunk":
        return json_error(400, "invalid", "that is the trunk")

    def work(s: Session) -> str | None:
        user = s.get(User, user_id)
        if user is None:
            return "not_found"
        if user.role not in ("supervisor", "admin"):
            return "not_supervisor"
        if phone is not None:
            taken = s.scalar(select(Agent.id).where(Agent.interface == phone)) is not None or \
                s.scalar(select(User.id).where(User.phone == phone, User.id != user.id))
            if taken:
                return "taken"
        user.phone = phone
        audit(s, user_id=principal(request).user_id, action="user_phone", target=user.username,
              detail=phone or "(none)", now=deps.clock.now())
        return None

    problem = await deps.db.run(work)
    if problem == "not_found":
        return json_error(404, "not_found", "no such user")
    if problem == "not_supervisor":
        return json_error(400, "invalid", "only supervisors and admins have a phone here")
    if problem == "taken":
        return json_error(409, "taken", "that phone is an agent's or another user's")
    return web.json_response({"user_id": user_id, "phone": phone})


_AGENT = (("agent_id", "path", "agent id"),)
ROUTES = [
    RouteSpec("GET", "/api/floor", floor_snapshot,
              "The live floor as now (queues, agents of the shift, orders, trends, open "
              "alerts); changes follow as floor.* events on /api/ws",
              roles=SUPERVISORS, tags=("floor",)),
    RouteSpec("POST", "/api/floor/alerts/acknowledge", acknowledge,
              "Acknowledge a floor or staffing alert (audited)", roles=SUPERVISORS,
              tags=("floor",), body={"type": "object", "required": ["id"], "properties": {
                  "source": {"enum": list(alerts.SOURCES)}, "id": {"type": "integer"}}}),
    RouteSpec("GET", "/api/floor/thresholds", get_thresholds,
              "The alert thresholds in force (long wait, service-level target and the calls "
              "offered before it counts, draft minutes), with the settings' defaults",
              roles=SUPERVISORS, tags=("floor",)),
    RouteSpec("PUT", "/api/floor/thresholds", put_thresholds,
              "Set some or all alert thresholds: every bad field named; stored for every "
              "instance, applied at once, audited", roles=SUPERVISORS, tags=("floor",),
              body={"type": "object", "properties": {
                  "long_wait_seconds": {"type": "integer", "minimum": 5, "maximum": 3600},
                  "service_level_target": {"type": "number", "minimum": 0.5, "maximum": 1},
                  "service_level_min_offered": {"type": "integer", "minimum": 1,
                                                "maximum": 1000},
                  "draft_minutes": {"type": "integer", "minimum": 1, "maximum": 240}}}),
    RouteSpec("POST", "/api/floor/agents/{agent_id}/pause", force_pause,
              "Pause an agent (with a reason) or resume them (audited)", roles=SUPERVISORS,
              tags=("floor",), params=_AGENT,
              body={"type": "object", "properties": {"paused": {"type": "boolean"},
                                                     "reason": {"type": "string"}}}),
    RouteSpec("POST", "/api/floor/agents/{agent_id}/logoff", log_off,
              "Take an agent off the queues (audited)", roles=SUPERVISORS, tags=("floor",),
              params=_AGENT),
    RouteSpec("POST", "/api/floor/agents/{agent_id}/queues", move_queue,
              "Put an agent on a queue, taking them off another when from is given (audited)",
              roles=SUPERVISORS, tags=("floor",), params=_AGENT,
              body={"type": "object", "required": ["to"], "properties": {
                  "to": {"type": "string"}, "from": {"type": ["string", "null"]},
                  "penalty": {"type": ["integer", "null"]}}}),
    RouteSpec("POST", "/api/floor/agents/{agent_id}/penalty", penalty,
              "Change an agent's penalty in a queue (QueuePenalty; audited)",
              roles=SUPERVISORS, tags=("floor",), params=_AGENT,
              body={"type": "object", "required": ["queue", "penalty"], "properties": {
                  "queue": {"type": "string"}, "penalty": {"type": "integer"}}}),
    RouteSpec("GET", "/api/calls/{call_id}/recording", recording,
              "Play back a call's recording (audited)", roles=SUPERVISORS, tags=("floor",),
              params=(("call_id", "path", "call id, or the caller's Uniqueid"),)),
    RouteSpec("PUT", "/api/users/{user_id}/phone", set_phone,
              "Set or clear a supervisor's own phone (rung for listen/whisper/barge)",
              roles=("admin",), tags=("users",), params=(("user_id", "path", "user id"),),
              body={"type": "object", "required": ["phone"], "properties": {
                  "phone": {"type": ["string", "null"]}}}),
]
