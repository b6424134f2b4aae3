"""The agent's controls on their OWN call: hang up, blind transfer.

The call is the one the agent's state says they are on; their leg is the
channel bridged with the caller's in the PBX model (no copy of PBX state).
A transfer goes, through the named command BlindTransfer, only to a
context that lists what is allowed (pbx.transfer_plan): another service
queue, a department's contact number, or 110/119/120.  Each control is
audited and written on the call's timeline.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.http import STAFFING_KEY
from agents.models import Agent
from calls.models import Call
from calls.records import record_event
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, read_json
from pbx.commands import AmiConnectionLost, AmiError, AmiTimeout, PbxCommands
from pbx.model import base_interface
from pbx.transfer_plan import (
    DEPARTMENT_CONTEXT,
    EMERGENCY_CONTEXT,
    EMERGENCY_NUMBERS,
    QUEUE_CONTEXT,
)
from routing.lists import audit
from routing.models import ServiceQueue
from worksheets.models import Department

TARGETS = ("queue", "department", "emergency")


class ControlRefused(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.field is not None:
            body["field"] = self.field
        return web.json_response({"error": body}, status=self.status)


async def _own_leg(request: web.Request) -> tuple[PbxCommands, str, str]:
    """(the PBX's commands, caller's uniqueid, the agent's channel) of the agent's call."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    if p.agent_id is None:
        raise ControlRefused(403, "unlinked", "this login is not linked to an agent")
    live = request.app[STAFFING_KEY].states.agents.get(p.agent_id)
    if live is None or live.state != "on_call" or not live.uniqueid:
        raise ControlRefused(409, "no_call", "you are not on a call")
    pbx = deps.pbx
    if pbx is None or not pbx.connected:
        raise ControlRefused(503, "pbx_down", "the PBX is not connected")
    interface = await deps.db.run(lambda s: s.scalar(
        select(Agent.interface).where(Agent.id == p.agent_id)))
    mine = [c for c in pbx.bridged_with(live.uniqueid) if base_interface(c) == interface]
    if not mine:
        raise ControlRefused(409, "no_call", "your phone is not bridged with the caller")
    return pbx.commands, live.uniqueid, mine[0]


def _target(s: Session, data: dict[str, Any]) -> tuple[str, str, str]:
    """(context, extension, what, for the record) of a transfer request."""
    to = data.get("to")
    if to == "queue":
        queue = data.get("queue")
        if not isinstance(queue, str) or s.scalar(
                select(ServiceQueue.id).where(ServiceQueue.name == queue)) is None:
            raise ControlRefused(400, "invalid", "no such service queue", "queue")
        return QUEUE_CONTEXT, queue, f"queue {queue}"
    if to == "department":
        department_id = data.get("department_id")
        department = s.get(Department, department_id) if isinstance(department_id, int) \
            and not isinstance(department_id, bool) else None
        if department is None or not department.active:
            raise ControlRefused(400, "invalid", "no such department", "department_id")
        if not department.contact_phone:
            raise ControlRefused(422, "not_allowed", f"{department.name} has no contact number",
                                 "department_id")
        return DEPARTMENT_CONTEXT, department.contact_phone, f"department {department.code}"
    if to == "emergency":
        number = data.get("number")
        if number not in EMERGENCY_NUMBERS:
            raise ControlRefused(422, "not_allowed", "only 110, 119 or 120", "number")
        return EMERGENCY_CONTEXT, str(number), f"emergency {number}"
    raise ControlRefused(400, "invalid", f"to is one of {', '.join(TARGETS)}", "to")


async def _note(request: web.Request, uniqueid: str, action: str, detail: str) -> None:
    deps, p = request.app[DEPS_KEY], principal(request)
    now = deps.clock.now()

    def work(s: Session) -> None:
        audit(s, user_id=p.user_id, action=action, target=uniqueid, detail=detail, now=now)
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        if call is not None:
            record_event(s, call, action, now, detail)

    await deps.db.run(work)


async def _send(command: Any) -> str:
    """Send; 'sent' or 'unconfirmed' (no answer: it may have been done, never re-sent)."""
    try:
        await command
    except (AmiTimeout, AmiConnectionLost):
        return "unconfirmed"
    except AmiError as exc:
        raise ControlRefused(502, "pbx_error", f"the PBX refused: {exc.message}") from None
    return "sent"


async def hang_up(request: web.Request) -> web.Response:
    """End the agent's own call (their leg: the caller goes on to the survey)."""
    try:
        commands, uniqueid, channel = await _own_leg(request)
        await _note(request, uniqueid, "agent_hangup", channel)
        status = await _send(commands.hangup(channel))
    except ControlRefused as refused:
        return refused.response()
    return web.json_response({"ok": True, "status": status}, status=202)


async def transfer(request: web.Request) -> web.Response:
    """Blind-transfer the agent's caller to a queue, a department or 110/119/120."""
    data = await read_json(request)
    try:
        commands, uniqueid, channel = await _own_leg(request)
        context, exten, what = await request.app[DEPS_KEY].db.run(lambda s: _target(s, data))
        await _note(request, uniqueid, "transferred", what)
        status = await _send(commands.blind_transfer(channel, context, exten))
    except ControlRefused as refused:
        return refused.response()
    return web.json_response({"ok": True, "status": status, "target": what}, status=202)


ROUTES = [
    RouteSpec("POST", "/api/agent/call/hangup", hang_up,
              "Hang up your own call (the caller goes on to the survey); audited",
              roles=("agent",), tags=("agent desk",)),
    RouteSpec("POST", "/api/agent/call/transfer", transfer,
              "Blind-transfer your caller to another service queue, a department's contact "
              "number, or 110/119/120 in an emergency (AMI BlindTransfer); audited",
              roles=("agent",), tags=("agent desk",),
              body={"type": "object", "required": ["to"],
                    "properties": {"to": {"enum": list(TARGETS)},
                                   "queue": {"type": "string"},
                                   "department_id": {"type": "integer"},
                                   "number": {"enum": list(EMERGENCY_NUMBERS)}}}),
]
