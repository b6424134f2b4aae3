"""REST handlers of the agent's desk: the pop, the order form's data, and the
read-only look-up of any order (audited)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.http import STAFFING_KEY
from calls.models import Call
from console.auth import DEPS_KEY, Principal, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.live_events import OrderChanged
from core.logmask import mask_number
from routing.lists import audit
from routing.rules import normalize_number
from worksheets import districts
from worksheets.call_access import agent_may_see_call
from worksheets.deadlines import CATEGORIES
from worksheets.http import order_error, order_settled, order_to_dict
from worksheets.models import Department, WorkOrder
from worksheets.no_order import NO_ORDER_REASONS, close_without_order
from worksheets.pop import build_pop, department_names, order_brief
from worksheets.service import WorkOrderError

LOOKUP_LIMIT = 50
# A call in wrap-up still shows its pop: the agent's newest answered call
# with a draft, answered at most this long ago.
RECENT_CALL = timedelta(hours=2)


def _current_uniqueid(request: web.Request, agent_id: int) -> str | None:
    live = request.app[STAFFING_KEY].states.agents.get(agent_id)
    return live.uniqueid if live is not None else None


def _current_call(s: Session, uniqueid: str | None, agent_id: int, now: datetime
                  ) -> Call | None:
    """The call on the agent's screen: ringing or on it, else the newest one
    still waiting for its order (wrap-up)."""
    if uniqueid:
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        if call is not None:
            return call
    return s.scalar(
        select(Call).join(WorkOrder, WorkOrder.call_id == Call.id)
        .where(Call.agent_id == agent_id, WorkOrder.status == "draft",
               Call.answered_at >= now - RECENT_CALL)
        .order_by(Call.answered_at.desc()).limit(1))


def _pop_options(request: web.Request) -> dict[str, Any]:
    deps = request.app[DEPS_KEY]
    return {"now": deps.clock.now(), "tz": deps.settings.tz,
            "target_minutes": deps.settings.order_target_minutes}


async def my_pop(request: web.Request) -> web.Response:
    """The pop of the agent's current call (for a reload)."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    if p.agent_id is None:
        return json_error(403, "unlinked", "this login is not linked to an agent")
    agent_id, uniqueid = p.agent_id, _current_uniqueid(request, p.agent_id)
    options = _pop_options(request)

    def work(s: Session) -> dict[str, Any] | None:
        call = _current_call(s, uniqueid, agent_id, options["now"])
        if call is None or not agent_may_see_call(s, call, agent_id):
            return None
        return build_pop(s, call, full_number=True, **options)

    return web.json_response({"pop": await deps.db.run(work)})


async def call_pop(request: web.Request) -> web.Response:
    """One call's pop: its agents (offered or answered) and supervisors."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    call_id = path_id(request, "call_id", "no such call")
    options = _pop_options(request)

    def work(s: Session) -> dict[str, Any] | None:
        call = s.get(Call, call_id)
        if call is None or (p.role == "agent" and not agent_may_see_call(s, call, p.agent_id)):
            return None
        return build_pop(s, call, full_number=True, **options)

    pop = await deps.db.run(work)
    if pop is None:
        return json_error(404, "not_found", f"no call {call_id} of yours")
    return web.json_response({"pop": pop})


async def order_form(request: web.Request) -> web.Response:
    """What the order form chooses from."""
    deps = request.app[DEPS_KEY]

    def work(s: Session) -> list[dict[str, Any]]:
        rows = s.scalars(select(Department).where(Department.active).order_by(Department.id))
        return [{"id": d.id, "code": d.code, "name": d.name,
                 "contact_number": d.contact_phone or None} for d in rows]

    return web.json_response({
        "districts": districts.to_list(), "categories": list(CATEGORIES),
        "complexities": ["ordinary", "complex"], "departments": await deps.db.run(work),
        "no_order_reasons": list(NO_ORDER_REASONS),
        "target_minutes": deps.settings.order_target_minutes})


async def close_no_order(request: web.Request) -> web.Response:
    """Close the call's draft without an order, with the reason."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "no such work order")
    data = await read_json(request)
    reason, note = data.get("reason"), data.get("note", "")
    if not isinstance(note, str):
        return order_error(WorkOrderError("note must be a string", field="note"))
    if p.role == "agent" and p.agent_id is None:
        return json_error(403, "unlinked", "this login is not linked to an agent")
    now = deps.clock.now()

    def work(s: Session) -> dict[str, Any]:
        return order_to_dict(close_without_order(
            s, order_id, agent_id=p.agent_id if p.role == "agent" else None,
            reason=reason if isinstance(reason, str) else "", note=note, now=now,
            user_id=p.user_id))

    try:
        order = await deps.db.run(work)
    except WorkOrderError as exc:
        return order_error(exc)
    deps.bus.publish(OrderChanged(step="no_order", order_id=order["id"], number=order["number"],
                                  status=order["status"], agent_id=order["agent_id"],
                                  department_id=None))
    await order_settled(request, order)
    return web.json_response(order)


def _lookup_row(order: WorkOrder, names: dict[int, str], *, caller_on_line: str | None,
                viewer: Principal) -> dict[str, Any]:
    row = order_brief(order, names)
    whole = caller_on_line is not None and normalize_number(order.caller_number) == caller_on_line
    row["caller_number"] = order.caller_number if whole or viewer.role != "agent" \
        else mask_number(order.caller_number)
    row["caller_name"] = order.caller_name
    return row


async def lookup_orders(request: web.Request) -> web.Response:
    """Any order by its number or by the citizen's phone, read-only; audited."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    number = request.query.get("number", "").strip()
    phone = normalize_number(request.query.get("phone", ""))
    if bool(number) == bool(phone):
        return json_error(400, "invalid", "give either number or phone")
    if len(number) > 32 or (phone and not 3 <= len(phone) <= 20):
        return json_error(400, "invalid", "that is not an order number or a phone number")
    uniqueid = _current_uniqueid(request, p.agent_id) if p.agent_id is not None else None
    now = deps.clock.now()

    def work(s: Session) -> list[dict[str, Any]]:
        on_line = None
        if p.agent_id is not None:
            call = _current_call(s, uniqueid, p.agent_id, now)
            on_line = normalize_number(call.caller_number) if call is not None else None
        stmt = select(WorkOrder).order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        if number:
            stmt = stmt.where(WorkOrder.number == number.upper())
        else:
            stmt = stmt.where(WorkOrder.caller_number.in_(_forms(phone)))
        orders = list(s.scalars(stmt.limit(LOOKUP_LIMIT)))
        names = department_names(s)
        audit(s, user_id=p.user_id, action="order_lookup",
              target=number.upper() if number else mask_number(phone),
              detail=f"{len(orders)} found", now=now)
        return [_lookup_row(o, names, caller_on_line=on_line, viewer=p) for o in orders]

    return web.json_response({"orders": await deps.db.run(work)})


def _forms(digits: str) -> list[str]:
    """The ways a number may be stored on an order (as the caller id came)."""
    return [digits, "+86" + digits, "0086" + digits, "86" + digits]


ROUTES = [
    RouteSpec("GET", "/api/agent/pop", my_pop,
              "The screen pop of your current call (ringing, on it, or in wrap-up), as pushed "
              "live in call.pop", roles=("agent",), tags=("agent desk",)),
    RouteSpec("GET", "/api/calls/{call_id}/pop", call_pop,
              "One call's screen pop (agents: calls offered to or answered by them)",
              roles=("agent", "supervisor"), tags=("agent desk",),
              params=(("call_id", "path", "call id"),)),
    RouteSpec("GET", "/api/order-form", order_form,
              "What the order form chooses from: districts, categories, departments with "
              "their contact numbers, reasons to close a call without an order, the target",
              roles=("agent", "supervisor"), tags=("agent desk",)),
    RouteSpec("POST", "/api/work-orders/{order_id}/close-no-order", close_no_order,
              "Close a call's draft without an order (prank, silence, wrong number, special "
              "line), counted apart in the figures", roles=("agent", "supervisor"),
              tags=("agent desk",), params=(("order_id", "path", "work order id"),),
              body={"type": "object", "required": ["reason"],
                    "properties": {"reason": {"enum": list(NO_ORDER_REASONS)},
                                   "note": {"type": "string", "maxLength": 1000}}}),
    RouteSpec("GET", "/api/lookup/orders", lookup_orders,
              "Any order by number or by the citizen's phone, read-only (no recordings or "
              "transcripts; the number masked unless it is your caller's); audited",
              roles=("agent", "supervisor"), tags=("agent desk",),
              params=(("number", "query", "order number"),
                      ("phone", "query", "the citizen's phone number"))),
]
