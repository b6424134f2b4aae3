"""REST handlers for agents: joining the queues, pausing, and the live queues."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, Team
from agents.staffing import Staffing, StaffingError, UnknownPauseReason
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.accounts import User
from floor.service import FLOOR_KEY
from pbx.commands import AmiConnectionLost, AmiError, AmiTimeout, QueueFigures
from routing.lists import audit

STAFFING_KEY: web.AppKey[Staffing] = web.AppKey("staffing", Staffing)


def _agent_id(request: web.Request) -> int | None:
    return principal(request).agent_id


async def queue_login(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    if agent_id is None:
        return json_error(403, "forbidden", "this login is not linked to an agent")
    try:
        member = await request.app[STAFFING_KEY].queue_login(agent_id)
    except (StaffingError, AmiError) as exc:
        return json_error(409, "refused", str(exc))
    if member.starts_at is not None:  # checked in early: joins when the shift starts
        return web.json_response({"member": member.member_name, "queues": member.queues,
                                  "status": "scheduled",
                                  "starts_at": member.starts_at.isoformat()})
    return web.json_response({"member": member.member_name, "queues": member.queues,
                              "status": "joined"})


async def queue_logout(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    if agent_id is None:
        return json_error(403, "forbidden", "this login is not linked to an agent")
    try:
        await request.app[STAFFING_KEY].queue_logout(agent_id)
    except (StaffingError, AmiError) as exc:
        return json_error(409, "refused", str(exc))
    return web.json_response({"ok": True})


async def pause(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    if agent_id is None:
        return json_error(403, "forbidden", "this login is not linked to an agent")
    data = await read_json(request)
    paused, reason = data.get("paused", True), data.get("reason", "")
    if not isinstance(paused, bool) or not isinstance(reason, str) or len(reason) > 40:
        return json_error(400, "invalid", "paused must be true/false, reason a short string")
    if paused and not reason:
        return json_error(400, "invalid", "a pause needs a reason (GET /api/pause-reasons)")
    try:
        code = await request.app[STAFFING_KEY].pause(agent_id, paused, reason)
    except UnknownPauseReason as exc:
        return json_error(400, "unknown_reason", str(exc))
    except (StaffingError, AmiError) as exc:
        return json_error(409, "refused", str(exc))
    return web.json_response({"ok": True, "paused": paused, "reason": code})


async def me(request: web.Request) -> web.Response:
    """The agent's own state, shift, phone and call (agents.desk)."""
    agent_id = _agent_id(request)
    if agent_id is None:
        return json_error(403, "unlinked", "this login is not linked to an agent")
    data = await request.app[STAFFING_KEY].desk.me(agent_id)
    if data is None:
        return json_error(404, "not_found", "your agent no longer exists")
    return web.json_response(data)


async def end_wrapup(request: web.Request) -> web.Response:
    """Ready now: end the wrap-up before the order is in (or its maximum)."""
    agent_id = _agent_id(request)
    if agent_id is None:
        return json_error(403, "unlinked", "this login is not linked to an agent")
    ended = await request.app[STAFFING_KEY].order_done(agent_id)
    return web.json_response({"ok": True, "ended": ended})


async def list_agents(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    staffing = request.app[STAFFING_KEY]

    states = {a["agent_id"]: a for a in staffing.states.snapshot()}

    def work(s: Session) -> list[dict[str, Any]]:
        rows = s.execute(select(Agent, Team).join(Team, Agent.team_id == Team.id)
                         .order_by(Agent.number)).all()
        return [{"id": a.id, "number": a.number, "name": a.name, "team": t.name,
                 "team_index": t.rota_index, "interface": a.interface,
                 "logged_in": a.id in staffing.logged_in,
                 "leaving": staffing.is_leaving(a.id),
                 "state": states[a.id]["state"] if a.id in states else "logged_out",
                 "seconds_in_state": states[a.id]["seconds_in_state"] if a.id in states
                 else None}
                for a, t in rows]

    return web.json_response({"team_on_duty": staffing.team_on_duty(),
                              "agents": await deps.db.run(work)})


async def live_queues(request: web.Request) -> web.Response:
    """QueueSummary's figures, from the live floor (the one PBX model and the
    calls table): no AMI action per request."""
    deps = request.app[DEPS_KEY]
    pbx, floor = deps.pbx, request.app.get(FLOOR_KEY)
    if pbx is None or not pbx.connected or floor is None:
        return json_error(503, "pbx_down", "the PBX is not connected")
    now = deps.clock.now()
    out = []
    for name, q in sorted(floor.queues.items()):
        oldest = q["longest_since"]
        longest = (now - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0
        out.append(QueueFigures(name, q["logged_in"], q["available"], q["waiting"],
                                round(q["asa"] or 0), max(round(longest), 0)))
    return web.json_response({"queues": [asdict(f) for f in out]})


SUPERVISE_MODES = ("listen", "whisper", "barge")
SUPERVISE_LABEL = {"listen": "监听", "whisper": "耳语", "barge": "强插"}
PHONE_RE = re.compile(r"^PJSIP/[A-Za-z0-9_.+-]{1,40}$")


async def supervise(request: web.Request) -> web.Response:
    """Ring the supervisor's phone; when answered, [supervisor-spy] runs
    ChanSpy on the agent's call: listen, whisper (the agent hears the
    supervisor) or barge (both parties do).  Audited."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    agent_id = path_id(request, "agent_id", "no such agent")
    data = await read_json(request)
    mode, phone = data.get("mode", "listen"), data.get("phone")
    if mode not in SUPERVISE_MODES:
        return json_error(400, "invalid", f"mode is one of {', '.join(SUPERVISE_MODES)}")
    if phone is None:  # the supervisor's own phone, as the admin set it
        phone = await deps.db.run(lambda s: s.scalar(select(User.phone).where(
            User.id == p.user_id)))
        if phone is None:
            return json_error(400, "no_phone", "you have no phone on record: an admin sets "
                                               "it (PUT /api/users/{id}/phone)")
    if not isinstance(phone, str) or not PHONE_RE.fullmatch(phone):
        return json_error(400, "invalid", "phone is your softphone, e.g. PJSIP/9001")
    def load(s: Session) -> tuple[Agent | None, bool]:
        taken = s.scalar(select(Agent.id).where(Agent.interface == phone)) is not None
        return s.get(Agent, agent_id), taken

    agent, agents_phone = await deps.db.run(load)
    if agent is None or not agent.active:
        return json_error(404, "not_found", f"no active agent {agent_id}")
    if agents_phone or phone.split("/", 1)[1].lower() == "trunk":
        return json_error(400, "invalid", "that is an agent's phone or the trunk, not yours")
    if not PHONE_RE.fullmatch(agent.interface) or not agent.number.isdigit():
        return json_error(409, "unsupported", f"{agent.name}'s phone {agent.interface} cannot "
                                              "be spied on from here")
    state = request.app[STAFFING_KEY].states.state_of(agent_id)
    if state is None or state["state"] != "on_call":
        return json_error(409, "not_on_call", f"{agent.name} is not on a call now")
    pbx = deps.pbx
    if pbx is None or not pbx.connected:
        return json_error(503, "pbx_down", "the PBX is not connected")
    now = deps.clock.now()
    # Audited before the PBX is asked: a listen must never go unrecorded.
    await deps.db.run(lambda s: audit(s, user_id=p.user_id, action=f"supervise_{mode}",
                                      target=agent.member_name,
                                      detail=f"{phone}, call {state.get('uniqueid') or '?'}",
                                      now=now))
    status = "ringing your phone"
    try:
        await pbx.commands.spy(phone, agent.interface, mode,
                               f'"{SUPERVISE_LABEL[mode]} {agent.number}" <{agent.number}>')
    except (AmiTimeout, AmiConnectionLost):
        status = "unconfirmed: your phone may still ring"  # never re-sent
    except AmiError as exc:
        return json_error(502, "pbx_error", f"the PBX refused: {exc}")
    return web.json_response({"agent": agent.member_name, "mode": mode, "phone": phone,
                              "status": status}, status=202)

ROUTES = [
    RouteSpec("GET", "/api/agent/me", me,
              "Your own state (since when), shift and team, softphone registration and "
              "current call; pushed live as agent.me", roles=("agent",), tags=("agents",)),
    RouteSpec("POST", "/api/agent/wrapup/end", end_wrapup,
              "Ready now: end your wrap-up (it ends by itself when the order is submitted or "
              "after HOTLINE_WRAPUP_MAX_SECONDS)", roles=("agent",), tags=("agents",)),
    RouteSpec("POST", "/api/agent/queues/login", queue_login,
              "Join the service queues during your shift (or check in just before it)",
              roles=("agent",), tags=("agents",)),
    RouteSpec("POST", "/api/agent/queues/logout", queue_logout, "Leave the service queues",
              roles=("agent",), tags=("agents",)),
    RouteSpec("POST", "/api/agent/pause", pause, "Pause or resume taking calls, with a reason",
              roles=("agent",), tags=("agents",),
              body={"type": "object", "properties": {"paused": {"type": "boolean"},
                                                     "reason": {"type": "string"}}}),
    RouteSpec("GET", "/api/agents", list_agents, "Agents, their teams and who is on the queues",
              roles=("supervisor",), tags=("agents",)),
    RouteSpec("POST", "/api/agents/{agent_id}/supervise", supervise,
              "Listen to, whisper to or barge into an agent's call: your phone rings first "
              "(ChanSpy in [supervisor-spy]); audited", roles=("supervisor",), tags=("agents",),
              params=(("agent_id", "path", "agent id"),),
              body={"type": "object",
                    "properties": {"mode": {"enum": list(SUPERVISE_MODES)},
                                   "phone": {"type": "string", "pattern": PHONE_RE.pattern}}}),
    RouteSpec("GET", "/api/queues", live_queues, "Live queue summary from the PBX",
              roles=("supervisor", "agent"), tags=("agents",)),
]
