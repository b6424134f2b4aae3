"""Callbacks and 回访 as one list for agents, each task saying why it
cannot be dialled now (instead of a dead button), and whether a 回访
verdict may be recorded: a satisfaction verdict only after a 回访 call
reached the citizen (since the order was last closed), "unreachable" only
after the attempts (worksheets.visits records it by itself then)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error
from routing.rules import normalize_number
from worksheets import callbacks, lifecycle, visits
from worksheets.callbacks import MAX_ATTEMPTS, REACHED
from worksheets.models import CallbackTask, OrderEvent, WorkOrder

VERDICTS = ("satisfied", "basically_satisfied", "dissatisfied")


def reached_since_closed(session: Session, order: WorkOrder) -> bool:
    """A 回访 call reached the citizen after the order was (last) closed."""
    stmt = select(OrderEvent.id).where(OrderEvent.order_id == order.id,
                                       OrderEvent.kind == "visit_call",
                                       OrderEvent.detail == REACHED)
    if order.closed_at is not None:
        stmt = stmt.where(OrderEvent.at >= order.closed_at)
    return session.scalar(stmt.limit(1)) is not None


def verdict_refusal(session: Session, order: WorkOrder, result: str) -> tuple[str, str] | None:
    """(code, message) when the 回访 verdict ``result`` may not be recorded yet."""
    if result == "unreachable":
        if order.visit_attempts < MAX_ATTEMPTS:
            return "attempts_left", (f"tried {order.visit_attempts} of {MAX_ATTEMPTS} times: "
                                     "call the citizen again before giving up")
        return None
    if result in VERDICTS and not reached_since_closed(session, order):
        return "not_reached", "record the citizen's verdict after a 回访 call reached them"
    return None


def _why_not(*, calling: bool, attempts: int, next_try: datetime | None, now: datetime,
             number: str, allowed: Callable[[str], bool], pbx_up: bool,
             busy: bool) -> str | None:
    if calling:
        return "calling"
    if attempts >= MAX_ATTEMPTS:
        return "max_attempts"
    if not number or not allowed(number):
        return "number_not_allowed"
    if next_try is not None and now < next_try:
        return "too_soon"
    if busy:
        return "busy"
    if not pbx_up:
        return "pbx_down"
    return None


def agent_tasks(session: Session, *, agent_id: int, now: datetime,
                allowed: Callable[[str], bool], pbx_up: bool) -> list[dict[str, Any]]:
    busy = session.scalar(select(CallbackTask.id).where(
        CallbackTask.status == "calling", CallbackTask.agent_id == agent_id)) is not None
    out: list[dict[str, Any]] = []
    for task in callbacks.list_tasks(session, ("open", "calling"), 200, reveal=True):
        next_try = datetime.fromisoformat(task["next_attempt_at"]) \
            if task["next_attempt_at"] else None
        why = _why_not(calling=task["status"] == "calling", attempts=task["attempts"],
                       next_try=next_try, now=now,
                       number=normalize_number(task["caller_number"]), allowed=allowed,
                       pbx_up=pbx_up, busy=busy)
        out.append({**task, "kind": "callback", "order": None, "can_dial": why is None,
                    "why_not": why, "next_try_at": task["next_attempt_at"],
                    "can_record_verdict": False, "verdicts": []})
    for order in lifecycle.worklist(session, "visits", limit=200, now=now):
        next_try = visits.next_try(order)
        why = _why_not(calling=order.visit_calling_since is not None,
                       attempts=order.visit_attempts, next_try=next_try, now=now,
                       number=normalize_number(order.caller_number), allowed=allowed,
                       pbx_up=pbx_up, busy=busy)
        verdicts = [v for v in (*VERDICTS, "unreachable")
                    if verdict_refusal(session, order, v) is None]
        out.append({
            "kind": "visit", "id": order.id, "status": "calling"
            if order.visit_calling_since is not None else "open",
            "caller_number": order.caller_number, "caller_name": order.caller_name,
            "created_at": order.closed_at.isoformat() if order.closed_at else None,
            "attempts": order.visit_attempts, "max_attempts": MAX_ATTEMPTS,
            "order": {"id": order.id, "number": order.number, "title": order.title,
                      "category": order.category},
            "can_dial": why is None, "why_not": why,
            "next_try_at": next_try.isoformat() if next_try else None,
            "can_record_verdict": bool(verdicts), "verdicts": verdicts})
    return out


async def list_agent_tasks(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    if p.agent_id is None:
        return json_error(403, "unlinked", "this login is not linked to an agent")
    agent_id, now = p.agent_id, deps.clock.now()
    allowed = deps.routing.rules.callback_allowed
    pbx_up = deps.dialer is not None and deps.pbx is not None and deps.pbx.connected
    tasks = await deps.db.run(lambda s: agent_tasks(s, agent_id=agent_id, now=now,
                                                    allowed=allowed, pbx_up=pbx_up))
    return web.json_response({"tasks": tasks, "max_attempts": MAX_ATTEMPTS})


ROUTES = [
    RouteSpec("GET", "/api/agent/tasks", list_agent_tasks,
              "Callbacks and 回访 as one list: each says why it cannot be dialled now "
              "(why_not) and which 回访 verdicts may be recorded", roles=("agent",),
              tags=("agent desk",)),
]
