"""REST handlers for swaps, leave and overtime (see :mod:`agents.requests`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from agents import requests, rota
from agents.roster import SlotKey
from agents.rota_http import BadInput, _day, _handled, _int, _own_agent, _staffing
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, read_json
from core.live_events import RotaChanged, RotaRequested


def _slot(data: dict[str, Any], day_key: str, shift_key: str, shifts: int) -> SlotKey:
    if day_key not in data or shift_key not in data:
        raise BadInput(f"{day_key} and {shift_key} are required")
    return _day(data[day_key], day_key), _int(data[shift_key], shift_key, 0, shifts - 1)


def _reason(data: dict[str, Any]) -> str:
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        raise BadInput("reason must be a string of at most 200 characters")
    return reason


@_handled
async def list_requests(request: web.Request) -> web.Response:
    p = principal(request)
    status = request.query.get("status")
    if status not in (None, "pending", "approved", "refused", "cancelled"):
        raise BadInput("status must be pending, approved, refused or cancelled")
    mine = p.agent_id if p.role == "agent" else None
    if p.role == "agent" and mine is None:
        _own_agent(request)
    rows = await request.app[DEPS_KEY].db.run(
        lambda s: requests.list_requests(s, mine, status))
    return web.json_response({"requests": rows})


@_handled
async def create_request(request: web.Request) -> web.Response:
    agent_id = _own_agent(request)
    data = await read_json(request)
    deps, staffing = request.app[DEPS_KEY], _staffing(request)
    config, now, local_now = staffing.config, deps.clock.now(), staffing.local_now()
    reason, kind = _reason(data), data.get("kind")
    if kind == "swap":
        mine = _slot(data, "day", "shift", config.shifts_per_day)
        theirs = _slot(data, "other_day", "other_shift", config.shifts_per_day)
        other = _int(data.get("other_agent_id"), "other_agent_id", 1, 2**31)

        def swap(s: Session) -> dict[str, Any]:
            row = requests.request_swap(s, config, agent_id=agent_id, mine=mine,
                                        other_agent_id=other, theirs=theirs, reason=reason,
                                        now=now, local_now=local_now)
            return {**requests.request_dict(row), "coverage": requests.ChangeCheck().to_dict()}

        body = await deps.db.run(swap)
    elif kind == "leave":
        first = _day(data.get("day"), "day")
        last = _day(data.get("end_day", data.get("day")), "end_day")

        def leave(s: Session) -> dict[str, Any]:
            row, check = requests.request_leave(s, config, agent_id=agent_id, first=first,
                                                last=last, reason=reason, now=now,
                                                local_now=local_now)
            return {**requests.request_dict(row), "coverage": check.to_dict()}

        body = await deps.db.run(leave)
    else:
        raise BadInput("kind must be swap or leave")
    deps.bus.publish(RotaRequested(agent_id=agent_id, request_id=body["id"], kind=kind))
    return web.json_response(body, status=201)


@_handled
async def decide_request(request: web.Request) -> web.Response:
    data = await read_json(request)
    request_id = _int(data.get("id"), "id", 1, 2**31)
    approve = data.get("approve")
    note = data.get("note", "")
    if not isinstance(approve, bool) or not isinstance(note, str) or len(note) > 1000:
        raise BadInput("approve must be true or false, note a string")
    deps, staffing = request.app[DEPS_KEY], _staffing(request)
    config, now, local_now = staffing.config, deps.clock.now(), staffing.local_now()
    user_id = principal(request).user_id

    def work(s: Session) -> dict[str, Any]:
        check = requests.decide(s, config, request_id, approve=approve, user_id=user_id,
                                note=note, now=now, local_now=local_now)
        return check.to_dict()

    check = await deps.db.run(work)
    deps.bus.publish(RotaChanged(what="request", request_id=request_id,
                                 status="approved" if approve else "refused"))
    return web.json_response({"id": request_id, "status": "approved" if approve else "refused",
                              "coverage": check})


@_handled
async def cancel_request(request: web.Request) -> web.Response:
    agent_id = _own_agent(request)
    data = await read_json(request)
    request_id = _int(data.get("id"), "id", 1, 2**31)
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    await deps.db.run(lambda s: requests.cancel(s, request_id, agent_id, now))
    return web.json_response({"id": request_id, "status": "cancelled"})


@_handled
async def grant_overtime(request: web.Request) -> web.Response:
    data = await read_json(request)
    deps, staffing = request.app[DEPS_KEY], _staffing(request)
    config = staffing.config
    agent_id = _int(data.get("agent_id"), "agent_id", 1, 2**31)
    if "day" in data or "shift" in data:
        key = _slot(data, "day", "shift", config.shifts_per_day)
    else:
        now_slot = rota.shift_at(config, staffing.local_now())
        key = (now_slot.day, now_slot.index)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 200:
        raise BadInput("note must be a string of at most 200 characters")
    user_id, now = principal(request).user_id, deps.clock.now()
    grant = await deps.db.run(lambda s: requests.grant_overtime(
        s, config, agent_id=agent_id, key=key, user_id=user_id, note=note, now=now).id)
    deps.bus.publish(RotaChanged(what="overtime", agent_id=agent_id,
                                 day=key[0].isoformat(), shift=key[1]))
    return web.json_response({"id": grant, "agent_id": agent_id, "day": key[0].isoformat(),
                              "shift": key[1]}, status=201)


_ID_BODY = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}

ROUTES = [
    RouteSpec("GET", "/api/rota/requests", list_requests,
              "Swap and leave requests (an agent sees their own)",
              roles=("agent", "supervisor"), tags=("rota",),
              params=(("status", "query", "pending, approved, refused, cancelled"),)),
    RouteSpec("POST", "/api/rota/requests", create_request,
              "Ask for a swap (refused at once if it breaks a rule) or leave",
              roles=("agent",), tags=("rota",), body={
                  "type": "object", "required": ["kind", "day"], "properties": {
                      "kind": {"enum": ["swap", "leave"]}, "day": {"type": "string"},
                      "shift": {"type": "integer"}, "end_day": {"type": "string"},
                      "other_agent_id": {"type": "integer"}, "other_day": {"type": "string"},
                      "other_shift": {"type": "integer"}, "reason": {"type": "string"}}}),
    RouteSpec("POST", "/api/rota/requests/decide", decide_request,
              "Approve (every rule re-checked) or refuse a pending request",
              roles=("supervisor",), tags=("rota",), body={
                  "type": "object", "required": ["id", "approve"], "properties": {
                      "id": {"type": "integer"}, "approve": {"type": "boolean"},
                      "note": {"type": "string"}}}),
    RouteSpec("POST", "/api/rota/requests/cancel", cancel_request,
              "Withdraw one of your pending requests", roles=("agent",), tags=("rota",),
              body=_ID_BODY),
    RouteSpec("POST", "/api/rota/overtime", grant_overtime,
              "Allow an agent to work a shift (default: the running one)",
              roles=("supervisor",), tags=("rota",), body={
                  "type": "object", "required": ["agent_id"], "properties": {
                      "agent_id": {"type": "integer"}, "day": {"type": "string"},
                      "shift": {"type": "integer"}, "note": {"type": "string"}}}),
]
