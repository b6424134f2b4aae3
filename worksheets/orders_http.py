"""REST handlers for what issue #13 added around an order: districts and
the department suggestion (with the rules an admin edits), the
supervisor's review (统一答复), 加派 parts, 并案, special-line referrals,
and when the 回访 falls due.  Attachments are in attachments_http.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, bad_request, json_error, path_id, read_json
from core.live_events import OrderChanged
from worksheets import dept_rules, merging, parts, referrals, review, visits
from worksheets.districts import CODES, district_problem, to_list
from worksheets.http import order_to_dict
from worksheets.lifecycle import LifecycleError
from worksheets.lifecycle_http import HTTP_STATUS, TEXT, _int, _obj, _route, _str, order_changed
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart


async def districts(request: web.Request) -> web.Response:
    return web.json_response({"districts": to_list()})


async def special_lines(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    return web.json_response({"lines": await deps.db.run(referrals.special_lines),
                              "modes": list(referrals.MODES)})


async def suggest_department(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    data = await read_json(request)
    district = data.get("district")
    if district is not None and district_problem(district):
        raise bad_request("invalid", district_problem(district) or "", field="district")
    text = f"{data.get('title') or ''}\n{data.get('description') or ''}"
    found = await deps.db.run(lambda s: [x.to_dict() for x in dept_rules.suggest(
        s, category=data.get("category"), district=district, text=text)])
    return web.json_response({"suggestions": found})


async def get_rules(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    return web.json_response(await deps.db.run(dept_rules.current))


async def put_rules(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    data, who = await read_json(request), principal(request)
    try:
        stored = await deps.db.run(lambda s: dept_rules.store(
            s, {"rules": data.get("rules")}, user_id=who.user_id, now=deps.clock.now()))
    except dept_rules.DepartmentRulesError as exc:
        return web.json_response({"error": {"code": "invalid_rules", "message": str(exc),
                                            "problems": exc.problems}}, status=400)
    return web.json_response(stored)


async def visits_due(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    hours = deps.settings.visit_hours
    return web.json_response(await deps.db.run(
        lambda s: visits.due(s, deps.clock.now(), hours)))


async def reassign_part(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    data = await read_json(request)
    part_id = path_id(request, "part_id", "no such part")
    department_id = data.get("department_id")
    if department_id is not None and (not isinstance(department_id, int)
                                      or isinstance(department_id, bool)):
        raise bad_request("invalid", "department_id must be a department id or null",
                          field="department_id")

    def work(s: Session) -> dict[str, Any]:
        return order_to_dict(parts.reassign(s, part_id, department_id=department_id,
                                            now=deps.clock.now(), user_id=p.user_id,
                                            note=_str(data, "note")))
    try:
        order = await deps.db.run(work)
    except LifecycleError as exc:
        return json_error(HTTP_STATUS.get(exc.code, 400), exc.code, str(exc))
    deps.bus.publish(OrderChanged(
        step="co_dispatched", order_id=order["id"], number=order["number"],
        status=order["status"], agent_id=order["agent_id"], department_id=department_id))
    return web.json_response(order)


# ------------------------------------------------ order steps (lifecycle_http)

def _review(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise LifecycleError("invalid", "accept must be true or false")
    if accept:
        return review.accept(s, order_id, now=deps.clock.now(), user_id=p.user_id,
                             note=_str(data, "note"))
    part_id = _int(data, "part_id") if data.get("part_id") is not None else None
    return review.send_back(s, order_id, reason=_str(data, "reason"), now=deps.clock.now(),
                            user_id=p.user_id, part_id=part_id)


def _review_told(s: Session, order: WorkOrder, data: dict[str, Any],
                 step: str) -> list[OrderChanged] | None:
    """A part sent back is told to the part's department, not the lead's."""
    if data.get("accept") is not False or data.get("part_id") is None:
        return None
    part = s.get(OrderPart, data["part_id"])
    return [order_changed(step, order, part.department_id if part else None)]


def _ids(data: dict[str, Any], key: str) -> list[int]:
    value = data.get(key)
    if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise LifecycleError("invalid", f"{key} must be a list of ids")
    return value


async def add_parts(request: web.Request) -> web.Response:
    """加派 later: each department given a part hears of it live."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    data = await read_json(request)
    order_id = path_id(request, "order_id", "no such work order")

    def work(s: Session) -> dict[str, Any]:
        return order_to_dict(parts.add_later(s, order_id, _ids(data, "department_ids"),
                                             now=deps.clock.now(), user_id=p.user_id))
    try:
        order = await deps.db.run(work)
    except LifecycleError as exc:
        return json_error(HTTP_STATUS.get(exc.code, 400), exc.code, str(exc))
    for i, department_id in enumerate((order["department_id"], *data["department_ids"])):
        deps.bus.publish(OrderChanged(
            step="co_dispatched", order_id=order["id"], number=order["number"],
            status=order["status"], agent_id=None if i else order["agent_id"],
            department_id=department_id))
    return web.json_response(order)


def _merge(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    return merging.merge(s, order_id, _ids(data, "duplicate_ids"), now=deps.clock.now(),
                         user_id=p.user_id, note=_str(data, "note"))


def _merge_told(s: Session, main: WorkOrder, data: dict[str, Any],
                step: str) -> list[OrderChanged]:
    """The main order's department, and each duplicate's (its order is now
    ``merged``), with the duplicate's agent."""
    dups = [s.get(WorkOrder, i) for i in data["duplicate_ids"]]
    return [order_changed(step, main, main.department_id),
            *(order_changed(step, d, d.department_id) for d in dups if d is not None)]


def _referral(s, order_id, p, data, deps):  # type: ignore[no-untyped-def]
    if p.role == "agent" and p.agent_id is None:
        raise LifecycleError("not_found", f"no work order {order_id}")
    return referrals.record(s, order_id, line=_str(data, "line"), mode=_str(data, "mode"),
                            note=_str(data, "note"),
                            agent_id=p.agent_id if p.role == "agent" else None,
                            user_id=p.user_id, now=deps.clock.now())


IDS = {"type": "array", "items": {"type": "integer"}}
ROUTES = [
    RouteSpec("GET", "/api/districts", districts,
              "The city's districts and counties (codes for an order's district)",
              tags=("work orders",)),
    RouteSpec("GET", "/api/special-lines", special_lines,
              "The special lines kept apart from 12345 (referrals; admins keep them as lines "
              "of kind special)", tags=("work orders",)),
    RouteSpec("POST", "/api/department-suggestions", suggest_department,
              "The departments the rules suggest for a category, district and text, best "
              "first, each with why", roles=("agent", "supervisor"), tags=("work orders",),
              body={"type": "object", "properties": {
                  "category": {"type": ["string", "null"]},
                  "district": {"enum": [*CODES, None]},
                  "title": TEXT, "description": TEXT}}),
    RouteSpec("GET", "/api/department-rules", get_rules,
              "The department-suggestion rules in force, with their version",
              roles=("supervisor",), tags=("routing",)),
    RouteSpec("PUT", "/api/department-rules", put_rules,
              "Replace the department-suggestion rules (validated, every problem named; a "
              "new version, audited)", roles=("admin",), tags=("routing",),
              body={"type": "object", "required": ["rules"],
                    "properties": {"rules": {"type": "array"}}}),
    RouteSpec("GET", "/api/visits/due", visits_due,
              "回访 still to make: counts open, due soon and overdue (HOTLINE_VISIT_HOURS "
              "after closing), and the due-soon and overdue orders", roles=("supervisor",),
              tags=("work orders",)),
    RouteSpec("POST", "/api/order-parts/{part_id:\\d+}/reassign", reassign_part,
              "Give a returned co-handling part to another department, or drop it "
              "(department_id null): supervisor", roles=("supervisor",),
              tags=("work orders",), params=(("part_id", "path", "part id"),),
              body={"type": "object", "required": ["department_id"],
                    "properties": {"department_id": {"type": ["integer", "null"]},
                                   "note": TEXT}}),
    _route("review", _review, "order.reviewed",
           "统一答复: accept the answer (closes the order, and the orders merged into it; "
           "every co-handling part must be answered) or send it back with a reason (the "
           "lead's, or part_id's): supervisor", ("supervisor",),
           {"type": "object", "required": ["accept"],
            "properties": {"accept": {"type": "boolean"}, "reason": TEXT, "note": TEXT,
                           "part_id": {"type": ["integer", "null"]}}}, told=_review_told),
    RouteSpec("POST", "/api/work-orders/{order_id:\\d+}/parts", add_parts,
              "加派: add co-handling departments to an open order (each part has the "
              "order's deadline; each hears of it live): supervisor", roles=("supervisor",),
              tags=("work orders",), params=(("order_id", "path", "work order id"),),
              body=_obj(department_ids=IDS)),
    _route("merge", _merge, "order.merged",
           "并案: merge duplicate orders into this one; their callers are kept and each "
           "gets a 回访 when it closes: supervisor", ("supervisor",),
           {"type": "object", "required": ["duplicate_ids"],
            "properties": {"duplicate_ids": IDS, "note": TEXT}}, told=_merge_told),
    _route("referral", _referral, "order.referred",
           "Record that the caller was referred or transferred to a special line "
           "(12388 ...): the agent's own order, or a supervisor", ("agent", "supervisor"),
           {"type": "object", "required": ["line", "mode"],
            "properties": {"line": {"type": "string", "description": "GET /api/special-lines"},
                           "mode": {"enum": list(referrals.MODES)}, "note": TEXT}}),
]
