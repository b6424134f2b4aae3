"""REST handlers for a work order after dispatch (worksheets/lifecycle.py):
departments sign for, return, extend and answer their orders; supervisors
decide extensions, dispatch returned orders again and reopen; agents make
the 回访 calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, Principal, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.live_events import OrderChanged
from worksheets import lifecycle, part_supervision, parts, supervision
from worksheets.agent_tasks import verdict_refusal
from worksheets.http import order_for
from worksheets.lifecycle import LifecycleError
from worksheets.models import WorkOrder

HTTP_STATUS = {"not_found": 404, "wrong_status": 409, "pending": 409, "no_request": 409,
               "not_extendable": 422, "invalid": 400, "parts_open": 409, "too_many": 409,
               "bad_type": 415, "too_large": 413,
               # 回访 verdicts: only after a call reached the citizen, or the attempts
               "not_reached": 409, "attempts_left": 409}
# 回访 is a pool of work for every agent (they call the citizen, so they see
# the number); deciding where a returned order goes is the supervisor's.
WORKLISTS = {"department": ("department",), "extensions": ("supervisor",),
             "returned": ("supervisor",), "review": ("supervisor",), "overdue": ("supervisor",),
             "visits": ("supervisor", "agent"),
             "dissatisfied": ("supervisor",)}

Step = Callable[[Session, int, Principal, dict[str, Any], Any], Any]


def _department(p: Principal) -> int:
    if p.department_id is None:
        raise LifecycleError("no_department", "this login is not linked to a department")
    return p.department_id


Told = Callable[[Session, WorkOrder, dict[str, Any], str], list[OrderChanged] | None]


def order_changed(step: str, order: WorkOrder, department_id: int | None) -> OrderChanged:
    """``order``'s step told to its agent, ``department_id`` and the supervisors."""
    return OrderChanged(step=step, order_id=order.id, number=order.number, status=order.status,
                        agent_id=order.agent_id, department_id=department_id)


def _step(event: str, action: Step, told: Told | None = None) -> Callable[[web.Request], Any]:
    """A handler: read the JSON body, run ``action`` in one transaction,
    answer with the order, publish ``event`` (to the lead department, or the
    events ``told`` makes from the order and the body, in the transaction)."""
    step = event.removeprefix("order.")

    async def handler(request: web.Request) -> web.Response:
        deps = request.app[DEPS_KEY]
        p = principal(request)
        order_id = path_id(request, "order_id", "no such work order")
        data = await read_json(request) if request.can_read_body else {}

        def work(s: Session) -> tuple[dict[str, Any], list[OrderChanged] | None]:
            row = action(s, order_id, p, data, deps)
            return order_for(row, p), told(s, row, data, step) if told else None

        try:
            order, events = await deps.db.run(work)
        except LifecycleError as exc:
            status = 403 if exc.code == "no_department" else HTTP_STATUS.get(exc.code, 400)
            return json_error(status, exc.code, str(exc))
        if events is None:
            # A co-handling department's step (加派) is told to it, not to the lead.
            department_id = p.department_id if p.role == "department" \
                else order["department_id"]
            events = [OrderChanged(
                step=step, order_id=order["id"], number=order["number"],
                status=order["status"], agent_id=order["agent_id"],
                department_id=department_id)]
        for event in events:
            deps.bus.publish(event)
        return web.json_response(order)

    return handler


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise LifecycleError("invalid", f"{key} must be a string")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise LifecycleError("invalid", f"{key} must be a whole number")
    return value


def _co_handles(s: Session, order_id: int, department_id: int) -> bool:
    """The department holds a co-handling part of the order, not the lead (加派)."""
    order = s.get(WorkOrder, order_id)
    return order is not None and order.department_id != department_id and \
        parts.for_department(s, order_id, department_id) is not None


def _lead_or_part(lead: Callable[..., Any], part: Callable[..., Any]) -> Step:
    """A department's step on the order it leads, or on its co-handling part."""
    def step(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
        department, now = _department(p), deps.clock.now()
        if _co_handles(s, order_id, department):
            part(s, order_id, department, data, now, p.user_id)
            return s.get(WorkOrder, order_id)
        return lead(s, order_id, department, data, now, p.user_id)
    return step


_accept = _lead_or_part(
    lambda s, oid, dept, data, now, uid: lifecycle.accept(
        s, oid, department_id=dept, user_id=uid, now=now),
    lambda s, oid, dept, data, now, uid: parts.accept(s, oid, dept, now=now, user_id=uid))
_return = _lead_or_part(
    lambda s, oid, dept, data, now, uid: lifecycle.return_order(
        s, oid, department_id=dept, reason=_str(data, "reason"), user_id=uid, now=now),
    lambda s, oid, dept, data, now, uid: parts.return_part(
        s, oid, dept, reason=_str(data, "reason"), now=now, user_id=uid))
_reply = _lead_or_part(
    lambda s, oid, dept, data, now, uid: lifecycle.reply(
        s, oid, department_id=dept, text=_str(data, "reply"), user_id=uid, now=now),
    lambda s, oid, dept, data, now, uid: parts.answer(
        s, oid, dept, text=_str(data, "reply"), now=now, user_id=uid))


def _extension(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    """The lead asks for the order, a co-handling department for its part (加派)."""
    department = _department(p)
    asked: dict[str, Any] = dict(days=_int(data, "days"), reason=_str(data, "reason"),
                                 user_id=p.user_id, now=deps.clock.now(),
                                 calendar=deps.calendar.fresh(s), tz=deps.settings.tz)
    if _co_handles(s, order_id, department):
        part_supervision.request_extension(s, order_id, department, **asked)
        return s.get(WorkOrder, order_id)
    return lifecycle.request_extension(s, order_id, department_id=department, **asked)


def _decide(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    approve = data.get("approve")
    if not isinstance(approve, bool):
        raise LifecycleError("invalid", "approve must be true or false")
    return lifecycle.decide_extension(s, order_id, approve=approve, user_id=p.user_id,
                                      now=deps.clock.now(), calendar=deps.calendar.fresh(s),
                                      tz=deps.settings.tz, note=_str(data, "note"))


def _redispatch(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    return lifecycle.redispatch(s, order_id, department_id=_int(data, "department_id"),
                                user_id=p.user_id, now=deps.clock.now(),
                                calendar=deps.calendar.fresh(s), tz=deps.settings.tz,
                                note=_str(data, "note"))


def _reopen(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    department_id = _int(data, "department_id") if "department_id" in data else None
    return lifecycle.redispatch(s, order_id, department_id=department_id, user_id=p.user_id,
                                now=deps.clock.now(), calendar=deps.calendar.fresh(s),
                                tz=deps.settings.tz, note=_str(data, "note"), reopen=True)


def _urge(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    return supervision.urge(s, order_id, note=_str(data, "note"), user_id=p.user_id,
                            now=deps.clock.now())


def _visit(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    order = s.get(WorkOrder, order_id)
    if order is not None and order.status == "closed" and order.visited_at is None:
        refused = verdict_refusal(s, order, _str(data, "result"))
        if refused is not None:
            raise LifecycleError(*refused)
    return lifecycle.visit(s, order_id, result=_str(data, "result"), note=_str(data, "note"),
                           user_id=p.user_id, now=deps.clock.now())


async def worklist(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    kind = request.match_info["kind"]
    if kind not in WORKLISTS:
        return json_error(404, "not_found", f"no work list {kind!r}; there are "
                                            f"{', '.join(WORKLISTS)}")
    if p.role != "admin" and p.role not in WORKLISTS[kind]:
        return json_error(403, "forbidden", f"the {kind} list is not for {p.role}s")
    if kind == "department" and p.department_id is None:
        return json_error(403, "no_department", "this login is not linked to a department")
    def work(s: Session) -> list[dict[str, Any]]:
        out = []
        for order in lifecycle.worklist(s, kind, department_id=p.department_id,
                                        now=deps.clock.now()):
            row = order_for(order, p)
            if kind == "department" and order.department_id != p.department_id:
                part = parts.for_department(s, order.id, p.department_id or 0, lock=False)
                # Its part's own deadline, warning, 催办 and extension request.
                row["my_part"] = None if part is None else {
                    "id": part.id, "status": part.status, "reply": part.reply,
                    **parts.fields(part, order)}
            elif kind == "extensions":
                row["part_requests"] = [
                    d for d in parts.to_dicts(s, order.id) if d["extension_days"] is not None
                    and d["status"] in parts.OPEN]
            out.append(row)
        return out

    orders = await deps.db.run(work)
    return web.json_response({"work_orders": orders})


def _route(path: str, action: Step, event: str, summary: str, roles: tuple[str, ...],
           body: dict[str, Any] | None = None, told: Told | None = None) -> RouteSpec:
    return RouteSpec("POST", f"/api/work-orders/{{order_id}}/{path}", _step(event, action, told),
                     summary, roles=roles, tags=("work orders",), body=body,
                     params=(("order_id", "path", "work order id"),))


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


TEXT = {"type": "string"}
ROUTES = [
    _route("accept", _accept, "order.accepted", "Sign for an order (签收): department",
           ("department",)),
    _route("return", _return, "order.returned",
           "Send an order back to the hotline (退回) with the reason: department",
           ("department",), _obj(reason=TEXT)),
    _route("reply", _reply, "order.answered",
           "Answer the order (办结回复), or one's co-handling part of it (加派); on time "
           "or late; a supervisor's review closes it (统一答复): department",
           ("department",), _obj(reply=TEXT)),
    _route("extension", _extension, "order.extension_requested",
           "Ask once for 1-5 more working days (complex help only) for the order, or for "
           "one's co-handling part of it (加派; a supervisor decides on "
           "/api/order-parts/{id}/extension/decision): department",
           ("department",), _obj(days={"type": "integer", "minimum": 1, "maximum": 5},
                                 reason=TEXT)),
    _route("extension/decision", _decide, "order.extension_decided",
           "Approve (the deadline moves) or refuse an extension request: supervisor",
           ("supervisor",), {"type": "object", "required": ["approve"],
                             "properties": {"approve": {"type": "boolean"}, "note": TEXT}}),
    _route("redispatch", _redispatch, "order.dispatched",
           "Dispatch a returned order again (the deadline starts again): supervisor",
           ("supervisor",), {"type": "object", "required": ["department_id"],
                                     "properties": {"department_id": {"type": "integer"},
                                                    "note": TEXT}}),
    _route("reopen", _reopen, "order.reopened",
           "Reopen a closed order (the citizen was not satisfied): dispatched again, "
           "to its department unless another is given", ("supervisor",),
           {"type": "object", "properties": {"department_id": {"type": "integer"},
                                             "note": TEXT}}),
    _route("urge", _urge, "order.urged",
           "催办: press the department about an open order; the note is recorded and shown "
           "to it (live and on its list): supervisor", ("supervisor",), _obj(note=TEXT)),
    _route("visit", _visit, "order.visited",
           "Record the 回访 (reply call to the citizen): satisfied, basically_satisfied, "
           "dissatisfied or unreachable", ("agent", "supervisor"),
           {"type": "object", "required": ["result"],
            "properties": {"result": {"enum": list(lifecycle.VISIT_RESULTS)}, "note": TEXT}}),
    RouteSpec("GET", "/api/worklists/{kind}", worklist,
              "Orders waiting for you, most urgent first: department (its open orders and "
              "co-handling parts), extensions, returned, review (answers to accept, 统一答复), "
              "overdue (督办), visits (回访 to make), dissatisfied",
              roles=("department", "supervisor", "agent"), tags=("work orders",),
              params=(("kind", "path", ", ".join(WORKLISTS)),)),
]
