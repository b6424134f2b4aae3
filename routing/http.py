"""REST handlers for what supervisors and admins keep for the IVR:
blocked numbers, registered vulnerable callers, legacy lines, routing rules,
and the audit log of changes to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.accounts import User
from core.config_sync import announce
from routing import lists
from routing.menu import ROUTING_PART, RoutingTable
from routing.models import AuditEntry, BlockedNumber, LegacyLine, PriorityCaller
from routing.rules import RoutingRules, RulesError, store_rules


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: Any, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise lists.ListError(f"{name} must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise lists.ListError(f"{name} needs a time zone, e.g. 2026-12-31T00:00:00+08:00")
    return parsed


async def _run(request: web.Request, work: Any) -> web.Response:
    deps = request.app[DEPS_KEY]
    try:
        return web.json_response(await deps.db.run(work))
    except (lists.ListError, RulesError) as exc:
        return json_error(400, "rejected", str(exc))


def _block_dict(b: BlockedNumber) -> dict[str, Any]:
    return {"id": b.id, "number": b.number, "reason": b.reason, "created_at": _iso(b.created_at),
            "expires_at": _iso(b.expires_at), "lifted_at": _iso(b.lifted_at)}


async def list_blocked(request: web.Request) -> web.Response:
    def work(s: Session) -> Any:
        rows = s.scalars(select(BlockedNumber).order_by(BlockedNumber.id.desc()).limit(500))
        return {"blocked": [_block_dict(b) for b in rows]}
    return await _run(request, work)


async def add_blocked(request: web.Request) -> web.Response:
    data, who, now = await read_json(request), principal(request), request.app[DEPS_KEY].clock.now()

    def work(s: Session) -> Any:
        expires = _parse_time(data.get("expires_at"), "expires_at")
        return _block_dict(lists.block_number(s, str(data.get("number", "")),
                                              reason=str(data.get("reason", "")),
                                              expires_at=expires, user_id=who.user_id, now=now))
    return await _run(request, work)


async def lift_blocked(request: web.Request) -> web.Response:
    who, now = principal(request), request.app[DEPS_KEY].clock.now()
    block_id = path_id(request, "block_id", "no such block")
    return await _run(request, lambda s: _block_dict(
        lists.lift_block(s, block_id, user_id=who.user_id, now=now)))


def _priority_dict(p: PriorityCaller) -> dict[str, Any]:
    return {"id": p.id, "number": p.number, "reason": p.reason, "priority": p.priority,
            "note": p.note, "created_at": _iso(p.created_at), "expires_at": _iso(p.expires_at)}


async def list_priority(request: web.Request) -> web.Response:
    return await _run(request, lambda s: {"callers": [
        _priority_dict(p) for p in s.scalars(select(PriorityCaller).order_by(PriorityCaller.id))]})


async def add_priority(request: web.Request) -> web.Response:
    data, who, now = await read_json(request), principal(request), request.app[DEPS_KEY].clock.now()

    def work(s: Session) -> Any:
        expires = (_parse_time(data["expires_at"], "expires_at") if data.get("expires_at")
                   else None)
        return _priority_dict(lists.add_priority_caller(
            s, str(data.get("number", "")), reason=str(data.get("reason", "")),
            note=str(data.get("note", "")), user_id=who.user_id, now=now, expires_at=expires))
    return await _run(request, work)


async def remove_priority(request: web.Request) -> web.Response:
    who, now = principal(request), request.app[DEPS_KEY].clock.now()
    row_id = path_id(request, "caller_id", "no such priority caller")

    def work(s: Session) -> Any:
        lists.remove_priority_caller(s, row_id, user_id=who.user_id, now=now)
        return {"ok": True}
    return await _run(request, work)


async def list_legacy(request: web.Request) -> web.Response:
    return await _run(request, lambda s: {"lines": [
        {"id": line.id, "number": line.number, "label": line.label, "category": line.category,
         "department_id": line.department_id, "active": line.active}
        for line in s.scalars(select(LegacyLine).order_by(LegacyLine.number))]})


async def get_rules(request: web.Request) -> web.Response:
    rules = request.app[DEPS_KEY].routing.rules
    return web.json_response({"rules": rules.source})


async def put_rules(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    data, who, now = await read_json(request), principal(request), deps.clock.now()
    queues = set(deps.routing.queues())

    def work(s: Session) -> Any:
        rules = store_rules(s, data.get("rules"), user_id=who.user_id, now=now,
                            known_queues=queues)
        lists.audit(s, user_id=who.user_id, action="rules", target="routing",
                    detail=rules.to_json(), now=now)
        return rules

    try:
        rules = await deps.db.run(work)
    except RulesError as exc:
        return web.json_response({"error": {"code": "invalid_rules", "message": str(exc),
                                            "problems": exc.problems}}, status=400)
    deps.routing = RoutingTable(list(deps.routing.routes()), rules)  # in force at once
    announce(deps, ROUTING_PART)  # and on every other backend
    return web.json_response({"rules": rules.source})


async def check_rules(request: web.Request) -> web.Response:
    """Validate rules without storing them: the editor checks as the admin types."""
    deps = request.app[DEPS_KEY]
    data = await read_json(request)
    try:
        RoutingRules.from_dict(data.get("rules"), set(deps.routing.queues()))
    except RulesError as exc:
        return web.json_response({"error": {"code": "invalid_rules", "message": str(exc),
                                            "problems": exc.problems}}, status=400)
    return web.json_response({"ok": True})


async def list_audit(request: web.Request) -> web.Response:
    """Newest first; ?who= (username), ?action= (prefix), ?target= and ?text=
    (contained), ?from= / ?to= (ISO 8601) narrow it down; at most 500."""
    query = request.query
    try:
        bounds = [_parse_time(query[k], k) if query.get(k) else None for k in ("from", "to")]
    except lists.ListError as exc:
        return json_error(400, "invalid", str(exc))

    def work(s: Session) -> Any:
        stmt = (select(AuditEntry, User.username).outerjoin(User, User.id == AuditEntry.user_id)
                .order_by(AuditEntry.id.desc()).limit(500))
        if query.get("who"):
            stmt = stmt.where(User.username == query["who"])
        if query.get("action"):
            stmt = stmt.where(AuditEntry.action.startswith(query["action"], autoescape=True))
        for key, column in (("target", AuditEntry.target), ("text", AuditEntry.detail)):
            if query.get(key):
                stmt = stmt.where(column.contains(query[key], autoescape=True))
        if bounds[0] is not None:
            stmt = stmt.where(AuditEntry.at >= bounds[0])
        if bounds[1] is not None:
            stmt = stmt.where(AuditEntry.at < bounds[1])
        return {"entries": [
            {"at": _iso(e.at), "user_id": e.user_id, "username": username,
             "action": e.action, "target": e.target, "detail": e.detail}
            for e, username in s.execute(stmt)]}
    return await _run(request, work)


NUMBER = {"type": "string", "description": "phone number; +86 and punctuation are ignored"}
ROUTES = [
    RouteSpec("GET", "/api/blocked-numbers", list_blocked, "Blocked numbers (newest first)",
              roles=("supervisor",), tags=("ivr lists",)),
    RouteSpec("POST", "/api/blocked-numbers", add_blocked,
              "Block a number, with a reason and an expiry (at most a year); audited",
              roles=("supervisor",), tags=("ivr lists",),
              body={"type": "object", "required": ["number", "reason", "expires_at"],
                    "properties": {"number": NUMBER, "reason": {"type": "string"},
                                   "expires_at": {"type": "string", "format": "date-time"}}}),
    RouteSpec("DELETE", "/api/blocked-numbers/{block_id:\\d+}", lift_blocked,
              "Lift a block; audited", roles=("supervisor",), tags=("ivr lists",),
              params=(("block_id", "path", "block id"),)),
    RouteSpec("GET", "/api/priority-callers", list_priority,
              "Registered vulnerable callers (queued ahead)", roles=("supervisor",),
              tags=("ivr lists",)),
    RouteSpec("POST", "/api/priority-callers", add_priority,
              "Register a vulnerable caller (elderly, disabled, other); audited",
              roles=("supervisor",), tags=("ivr lists",),
              body={"type": "object", "required": ["number", "reason"],
                    "properties": {"number": NUMBER,
                                   "reason": {"enum": list(lists.PRIORITY_REASONS)},
                                   "note": {"type": "string"},
                                   "expires_at": {"type": "string", "format": "date-time"}}}),
    RouteSpec("DELETE", "/api/priority-callers/{caller_id:\\d+}", remove_priority,
              "Remove a registered caller; audited", roles=("supervisor",), tags=("ivr lists",),
              params=(("caller_id", "path", "registration id"),)),
    RouteSpec("GET", "/api/legacy-lines", list_legacy,
              "Legacy department numbers ringing into 12345 (双轨运行)", roles=("supervisor",),
              tags=("ivr lists",)),
    RouteSpec("GET", "/api/routing/rules", get_rules, "The routing rules in force",
              roles=("supervisor",), tags=("routing",)),
    RouteSpec("PUT", "/api/routing/rules", put_rules,
              "Replace the routing rules (validated; every problem reported); audited",
              roles=("admin",), tags=("routing",),
              body={"type": "object", "required": ["rules"],
                    "properties": {"rules": {"type": "object"}}}),
    RouteSpec("POST", "/api/routing/rules/check", check_rules,
              "Validate routing rules without storing them (every problem reported)",
              roles=("admin",), tags=("routing",),
              body={"type": "object", "required": ["rules"],
                    "properties": {"rules": {"type": "object"}}}),
    RouteSpec("GET", "/api/audit", list_audit,
              "Who changed what, when: lists, rules, users and the admin's records, newest "
              "first, searchable", roles=("admin",), tags=("routing",),
              params=(("who", "query", "username"), ("action", "query", "action prefix"),
                      ("target", "query", "text in the target"),
                      ("text", "query", "text in the detail"),
                      ("from", "query", "ISO 8601 date-time, inclusive"),
                      ("to", "query", "ISO 8601 date-time, exclusive"))),
]
