"""REST handlers for calls, work orders and departments."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import exists, false, or_, select
from sqlalchemy.orm import Session

from agents.http import STAFFING_KEY
from calls import records
from calls.models import Call
from console.auth import DEPS_KEY, Principal, principal
from console.exports import FORMATS, send_export
from console.routing_table import RouteSpec, bad_request, json_error, path_id, read_json
from core.live_events import OrderChanged
from core.logmask import mask_number
from worksheets import attachments, lifecycle, merging, parts, service, visits
from worksheets.districts import CODES, NAMES
from worksheets.models import Department, WorkOrder
from worksheets.order_models import OrderPart
from worksheets.stats import department_stats, period_stats


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def call_to_dict(call: Call, *, full_number: bool) -> dict[str, Any]:
    return {
        "id": call.id, "uniqueid": call.uniqueid,
        "caller_number": call.caller_number if full_number else mask_number(call.caller_number),
        "caller_name": call.caller_name, "dialed_number": call.dialed_number,
        "ivr_choice": call.ivr_choice, "category": call.category, "queue": call.queue,
        "outcome": call.outcome, "agent_id": call.agent_id, "member_name": call.member_name,
        "entered_at": _iso(call.entered_at), "queued_at": _iso(call.queued_at),
        "answered_at": _iso(call.answered_at), "ended_at": _iso(call.ended_at),
        "hold_seconds": call.hold_seconds, "talk_seconds": call.talk_seconds,
        "source": call.source,
    }


def order_to_dict(order: WorkOrder) -> dict[str, Any]:
    return {
        "id": order.id, "number": order.number, "call_id": order.call_id,
        "caller_number": order.caller_number, "caller_name": order.caller_name,
        "category": order.category, "complexity": order.complexity, "status": order.status,
        "title": order.title, "description": order.description,
        "department_id": order.department_id, "agent_id": order.agent_id,
        "answered_on_call": order.answered_on_call, "created_at": _iso(order.created_at),
        "submitted_at": _iso(order.submitted_at), "deadline_days": order.deadline_days,
        "due_date": _iso(order.due_date), "due_at": _iso(order.due_at),
        "closed_at": _iso(order.closed_at), "satisfaction": order.satisfaction,
        "accepted_at": _iso(order.accepted_at), "reply": order.reply, "returns": order.returns,
        "extension_days": order.extension_days, "extension_reason": order.extension_reason,
        "visited_at": _iso(order.visited_at), "visit_result": order.visit_result,
        "kb_article_id": order.kb_article_id, "kb_article_version": order.kb_article_version,
        "deadline_fallback": order.deadline_fallback, "survey_answer": order.survey_answer,
        "visit_attempts": order.visit_attempts, "visit_next_try": _iso(visits.next_try(order)),
        "visit_calling": order.visit_calling_since is not None,
        "warned_at": _iso(order.warned_at), "urged_at": _iso(order.urged_at),
        "urge_note": order.urge_note,
        "district": order.district, "district_name": NAMES.get(order.district or "", ""),
        "address": order.address, "answered_at": _iso(order.answered_at),
        "merged_into_id": order.merged_into_id,
        "referral_line": order.referral_line, "referral_mode": order.referral_mode,
        "referred_at": _iso(order.referred_at),
    }


ORDER_ERROR_STATUS = {"not_found": 404, "not_yours": 403, "not_draft": 409, "invalid": 400}


def order_error(exc: service.WorkOrderError) -> web.Response:
    """A refused submission: its code, and the form's field when one is wrong."""
    body: dict[str, Any] = {"code": exc.code, "message": str(exc)}
    if exc.field is not None:
        body["field"] = exc.field
    return web.json_response({"error": body}, status=ORDER_ERROR_STATUS.get(exc.code, 400))


def order_for(order: WorkOrder, p: Principal) -> dict[str, Any]:
    """The order as ``p`` may see it: a department never learns who reported
    (举报) to the hotline, on any route."""
    data = order_to_dict(order)
    if p.role == "department" and order.category == "report":
        data["caller_number"] = data["caller_name"] = ""
        data["reporter_hidden"] = True
    return data


def order_details(s: Session, order: WorkOrder, p: Principal, *, now: datetime,
                  visit_hours: int, attachment_max_mb: int = 10) -> dict[str, Any]:
    """What a single order's page shows beyond its row: the 加派 parts, the
    attachments, every caller of a merged matter, when the 回访 is due.  A
    department never learns who reported (举报): not of this order, nor of a
    report merged into it."""
    due = visits.due_at(order, visit_hours)
    callers = merging.callers(s, order)
    for caller in callers:
        reported = caller.pop("category") == "report" or order.category == "report"
        if p.role == "department" and reported:
            caller["caller_number"] = caller["caller_name"] = ""
    return {"parts": parts.to_dicts(s, order.id),
            "attachments": attachments.listed(s, order.id),
            "attachment_max_mb": attachment_max_mb,
            "callers": callers,
            "visit_due_at": _iso(due), "visit_state": visits.state(order, now, visit_hours)}


def _limit(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("limit", "100")), 1000))
    except ValueError:
        return 100


def _orders_visible_to(p: Principal, stmt: Any) -> Any:
    # A login not linked to its agent or department sees nothing (not the
    # orders whose agent or department is unset).
    if p.role == "agent":
        return stmt.where(WorkOrder.agent_id == p.agent_id) if p.agent_id is not None \
            else stmt.where(false())
    if p.role == "department":
        if p.department_id is None:
            return stmt.where(false())
        # The lead's orders, and those it co-handles (加派).
        return stmt.where(or_(WorkOrder.department_id == p.department_id, exists().where(
            OrderPart.order_id == WorkOrder.id, OrderPart.department_id == p.department_id,
            OrderPart.status != "dropped")))
    return stmt


async def list_calls(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    outcome = request.query.get("outcome")
    limit = _limit(request)

    def work(s: Session) -> list[dict[str, Any]]:
        stmt = select(Call).order_by(Call.id.desc()).limit(limit)
        if outcome:
            stmt = stmt.where(Call.outcome == outcome)
        return [call_to_dict(c, full_number=False) for c in s.scalars(stmt)]

    return web.json_response({"calls": await deps.db.run(work)})


async def get_call(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    call_id = path_id(request, "call_id", "call id must be a number", status=400)

    p = principal(request)

    def work(s: Session) -> dict[str, Any] | None:
        call = s.get(Call, call_id)
        if call is None or (p.role == "agent" and (p.agent_id is None
                                                   or call.agent_id != p.agent_id)):
            return None  # agents see the calls they answered
        data = call_to_dict(call, full_number=True)
        data["timeline"] = [
            {"at": _iso(e.at), "kind": e.kind, "detail": e.detail}
            for e in records.call_timeline(s, call_id)
        ]
        order = s.scalar(select(WorkOrder).where(WorkOrder.call_id == call_id))
        data["work_order"] = order_to_dict(order) if order is not None else None
        return data

    data = await deps.db.run(work)
    if data is None:
        return json_error(404, "not_found", f"no call {call_id}")
    return web.json_response(data)


async def list_orders(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    status = request.query.get("status")
    limit = _limit(request)

    def work(s: Session) -> list[dict[str, Any]]:
        stmt = _orders_visible_to(p, select(WorkOrder)).order_by(WorkOrder.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(WorkOrder.status == status)
        return [order_for(o, p) for o in s.scalars(stmt)]

    return web.json_response({"work_orders": await deps.db.run(work)})


async def get_order(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "work order id must be a number", status=400)

    def work(s: Session) -> dict[str, Any] | None:
        stmt = _orders_visible_to(p, select(WorkOrder).where(WorkOrder.id == order_id))
        order = s.scalar(stmt)
        if order is None:
            return None
        return {**order_for(order, p), "history": lifecycle.history(s, order.id),
                **order_details(s, order, p, now=deps.clock.now(),
                                visit_hours=deps.settings.visit_hours,
                                attachment_max_mb=deps.settings.attachment_max_mb)}

    data = await deps.db.run(work)
    if data is None:
        return json_error(404, "not_found", f"no work order {order_id} visible to you")
    return web.json_response(data)


SUBMIT_SCHEMA = {
    "type": "object",
    "required": ["title", "category"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "description": {"type": "string"},
        "category": {"enum": ["help", "complaint", "report", "consult", "suggest"]},
        "complexity": {"enum": ["ordinary", "complex", None]},
        "department_id": {"type": ["integer", "null"]},
        "answered_on_call": {"type": "boolean"},
        "district": {"enum": list(CODES),
                     "description": "the district code (GET /api/districts); required"},
        "address": {"type": "string", "maxLength": 200,
                    "description": "where the matter is (street, estate, building)"},
        "co_department_ids": {"type": "array", "items": {"type": "integer"},
                              "description": "加派: co-handling departments besides the lead"},
        "kb_article_id": {"type": ["integer", "null"],
                          "description": "the knowledge-base article answered from; a "
                                         "consultation with it and no department is closed"},
    },
}


def _address(data: dict[str, Any]) -> str:
    address = data.get("address", "")
    if not isinstance(address, str) or len(address.strip()) > 200:
        raise bad_request("invalid", "address is text of at most 200 characters", field="address")
    return address.strip()


def _check_submit(data: dict[str, Any]) -> tuple[str, str] | None:
    """(field, problem) of the first missing or wrongly typed field, None if all fit."""
    for key in ("category", "title"):
        if not data.get(key):
            return key, f"{key} is required"
    for key in ("title", "description", "category"):
        if key in data and not isinstance(data[key], str):
            return key, f"{key} must be a string"
    if data.get("complexity") is not None and not isinstance(data["complexity"], str):
        return "complexity", "complexity must be 'ordinary', 'complex' or null"
    for key in ("department_id", "kb_article_id"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return key, f"{key} must be an integer or null"
    if not isinstance(data.get("answered_on_call", False), bool):
        return "answered_on_call", "answered_on_call must be true or false"
    return None


async def submit_order(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "work order id must be a number", status=400)
    data = await read_json(request)
    problem = _check_submit(data)
    if problem:
        return order_error(service.WorkOrderError(problem[1], field=problem[0]))
    co = data.get("co_department_ids") or []
    if not isinstance(co, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                           for i in co):
        raise bad_request("invalid", "co_department_ids must be a list of department ids",
                          field="co_department_ids")
    if p.role == "agent" and p.agent_id is None:
        return json_error(403, "forbidden", "this login is not linked to an agent")

    def work(s: Session) -> dict[str, Any]:
        order = service.submit_work_order(
            s, order_id, agent_id=p.agent_id if p.role == "agent" else None,
            title=data.get("title", ""), description=data.get("description", ""),
            category=data.get("category", ""), complexity=data.get("complexity"),
            department_id=data.get("department_id"),
            answered_on_call=bool(data.get("answered_on_call", False)),
            now=deps.clock.now(), calendar=deps.calendar.fresh(s), tz=deps.settings.tz,
            kb_article_id=data.get("kb_article_id"), district=data.get("district"),
            district_required=True, address=_address(data),
        )
        if co:
            if order.status != "dispatched":
                raise service.WorkOrderError("co-handling departments need a dispatched order")
            try:
                parts.add(s, order, co, now=deps.clock.now(), user_id=p.user_id)
            except lifecycle.LifecycleError as exc:
                raise service.WorkOrderError(str(exc)) from None
        return order_to_dict(order)

    try:
        result = await deps.db.run(work)
    except service.WorkOrderError as exc:
        return order_error(exc)
    for i, department_id in enumerate((result["department_id"], *co)):  # lead, co-handlers
        deps.bus.publish(OrderChanged(
            step="submitted", order_id=result["id"], number=result["number"],
            status=result["status"], agent_id=None if i else result["agent_id"],
            department_id=department_id))
    await order_settled(request, result)
    return web.json_response(result)


async def order_settled(request: web.Request, order: dict[str, Any]) -> None:
    """The agent's order for their call is in: their wrap-up ends."""
    if order.get("agent_id") is not None and order.get("call_id") is not None:
        await request.app[STAFFING_KEY].order_done(order["agent_id"])


async def list_departments(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]

    def work(s: Session) -> list[dict[str, Any]]:
        rows = s.scalars(select(Department).where(Department.active).order_by(Department.id))
        return [{"id": d.id, "code": d.code, "name": d.name, "legacy_number": d.legacy_number}
                for d in rows]

    return web.json_response({"departments": await deps.db.run(work)})


def _period(request: web.Request, default_days: int = 1) -> tuple[datetime, datetime]:
    """``from``/``to`` of the query (default: the last ``default_days`` local
    days, today included); raises a 400 answer."""
    deps = request.app[DEPS_KEY]
    tz = deps.settings.tz
    try:
        if "from" in request.query:
            start = datetime.fromisoformat(request.query["from"])
            end = datetime.fromisoformat(request.query.get("to", ""))
        else:
            end = datetime.combine(deps.clock.now().astimezone(tz).date(), time(), tz) \
                + timedelta(days=1)
            start = end - timedelta(days=default_days)
    except ValueError:
        raise bad_request("invalid", "from and to must be ISO 8601 date-times") from None
    start, end = (t if t.tzinfo else t.replace(tzinfo=tz) for t in (start, end))
    if end <= start or end - start > timedelta(days=366):
        raise bad_request("invalid", "to must follow from, by at most a year")
    return start, end


async def stats(request: web.Request) -> web.Response:
    """Figures for a period (default: today, local time)."""
    deps = request.app[DEPS_KEY]
    tz = deps.settings.tz
    start, end = _period(request)
    result = await deps.db.run(lambda s: period_stats(
        s, start, end, tz=tz, target_seconds=deps.settings.service_level_seconds,
        order_target_minutes=deps.settings.order_target_minutes,
        now=deps.clock.now()).to_dict())
    result["service_level_target"] = deps.settings.service_level_target
    return web.json_response(result)


async def department_accounts(request: web.Request) -> web.StreamResponse:
    """Each department's completion, on-time, return and satisfaction rates
    (default: the last 30 days); departments see their own row.  CSV with
    ``format=csv``."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    start, end = _period(request, default_days=30)
    target = deps.settings.completion_target
    if p.role == "department" and p.department_id is None:
        return json_error(403, "no_department", "this login is not linked to a department")
    only = p.department_id if p.role == "department" else None
    rows = [r.to_dict() for r in await deps.db.run(lambda s: department_stats(
        s, start, end, now=deps.clock.now(), completion_target=target, department_id=only))]
    fmt = request.query.get("format", "json")
    if fmt in FORMATS:
        names = list(rows[0]) if rows else ["department"]
        return await send_export(request, fmt=fmt, name="departments", sheet="部门考核",
                                 headings=names, rows=[[r[n] for n in names] for r in rows],
                                 detail=f"{start.isoformat()} to {end.isoformat()}")
    return web.json_response({"from": start.isoformat(), "to": end.isoformat(),
                              "completion_target": target, "departments": rows})


ROUTES = [
    RouteSpec("GET", "/api/stats", stats,
              "Service level, abandon rate, ASA, AHT, completion, on-time and satisfaction "
              "rates, per hour (default: today)", roles=("supervisor",), tags=("reports",),
              params=(("from", "query", "ISO 8601 start (default: today 00:00 local)"),
                      ("to", "query", "ISO 8601 end"))),
    RouteSpec("GET", "/api/stats/departments", department_accounts,
              "Departments held to account: completion (target HOTLINE_COMPLETION_TARGET), "
              "on-time, return and satisfaction rates, open and overdue orders (default: last "
              "30 days; departments: their own row)", roles=("supervisor", "department"),
              tags=("reports",),
              params=(("from", "query", "ISO 8601 start"), ("to", "query", "ISO 8601 end"),
                      ("format", "query", "json (default), csv or xlsx"))),
    RouteSpec("GET", "/api/calls", list_calls, "Recent call records (numbers masked)",
              roles=("supervisor",), tags=("calls",),
              params=(("limit", "query", "at most this many (1-1000)"),
                      ("outcome", "query", "answered, abandoned, ivr_hangup, queued, in_ivr"))),
    RouteSpec("GET", "/api/calls/{call_id}", get_call,
              "One call with its timeline and order (agents: the calls they answered)",
              roles=("supervisor", "agent"), tags=("calls",),
              params=(("call_id", "path", "call id"),)),
    RouteSpec("GET", "/api/work-orders", list_orders,
              "Work orders visible to you (agents: theirs; departments: theirs)",
              tags=("work orders",), params=(("status", "query", "draft, dispatched, closed"),
                                             ("limit", "query", "at most this many"))),
    RouteSpec("GET", "/api/work-orders/{order_id}", get_order, "One work order",
              tags=("work orders",), params=(("order_id", "path", "work order id"),)),
    RouteSpec("POST", "/api/work-orders/{order_id}/submit", submit_order,
              "Complete a draft order and dispatch it (or close a consultation answered on "
              "the call); sets its deadline", roles=("agent", "supervisor"),
              tags=("work orders",), body=SUBMIT_SCHEMA,
              params=(("order_id", "path", "work order id"),)),
    RouteSpec("GET", "/api/departments", list_departments, "Departments orders can go to",
              tags=("work orders",)),
]
