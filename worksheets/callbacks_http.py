"""REST handlers for callback tasks: the list, click-to-call, closing by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, Principal, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.live_events import CallbackClosed
from routing.lists import audit
from worksheets import callbacks
from worksheets.callback_dialer import CallbackDialer
from worksheets.callbacks import CallbackError

HTTP_STATUS = {"not_found": 404, "no_agent": 403, "not_open": 409, "busy": 409, "too_soon": 409,
               "calling": 409, "closed": 409, "number_not_allowed": 422, "invalid": 400,
               "pbx_down": 503, "pbx_error": 502}


def _error(exc: CallbackError) -> web.Response:
    return json_error(HTTP_STATUS.get(exc.code, 400), exc.code, str(exc))


async def list_callbacks(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    wanted = tuple(s for s in request.query.get("status", "open,calling").split(",") if s)
    unknown = [s for s in wanted if s not in callbacks.STATUSES]
    if unknown or not wanted:
        return json_error(400, "invalid", f"status is a comma list of "
                                          f"{', '.join(callbacks.STATUSES)}")
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 500))
    except ValueError:
        return json_error(400, "invalid", "limit must be a number")
    tasks = await deps.db.run(lambda s: callbacks.list_tasks(s, wanted, limit))
    return web.json_response({"callbacks": tasks, "max_attempts": callbacks.MAX_ATTEMPTS})


async def get_callback(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    task_id = path_id(request, "task_id", f"no callback task {request.match_info['task_id']}")
    task = await deps.db.run(lambda s: callbacks.get_task(s, task_id))
    if task is None:
        return json_error(404, "not_found", f"no callback task {request.match_info['task_id']}")
    return web.json_response(task)


async def _place(request: web.Request, key: str,
                 start: Callable[[CallbackDialer, int, int, Principal], Awaitable[Any]]
                 ) -> web.Response:
    """An agent's click-to-call: ``start(dialer, id, agent_id, principal)``."""
    deps = request.app[DEPS_KEY]
    p = principal(request)
    target = path_id(request, key, f"no such {key.removesuffix('_id')}")
    if p.agent_id is None:
        return json_error(403, "no_agent", "this login is not linked to an agent")
    dialer: CallbackDialer | None = deps.dialer
    if dialer is None:
        return json_error(503, "pbx_down", "no PBX link is configured")
    try:
        started = await start(dialer, target, p.agent_id, p)
    except CallbackError as exc:
        return _error(exc)
    return web.json_response(started, status=202)


async def call_back(request: web.Request) -> web.Response:
    return await _place(request, "task_id",
                        lambda dialer, task, agent, _p: dialer.call(task, agent))


async def call_for_visit(request: web.Request) -> web.Response:
    return await _place(request, "order_id", lambda dialer, order, agent, p:
                        dialer.call_for_visit(order, agent, p.user_id))


_CLOSE_WITH = "give status (done or failed) and a note"


async def close_callback(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    task_id = path_id(request, "task_id", _CLOSE_WITH, status=400)
    data = await read_json(request)
    status, note = data.get("status"), data.get("note", "")
    if not isinstance(status, str) or not isinstance(note, str):
        return json_error(400, "invalid", _CLOSE_WITH)
    now = deps.clock.now()

    def work(s: Session) -> dict[str, Any]:
        task = callbacks.close_by_hand(s, task_id, status, note, now=now)
        audit(s, user_id=p.user_id, action=f"callback_{status}", target=str(task_id),
              detail=note.strip()[:200], now=now)
        return {"id": task.id, "status": task.status, "note": task.note}

    try:
        closed = await deps.db.run(work)
    except CallbackError as exc:
        return _error(exc)
    deps.bus.publish(CallbackClosed(task_id=task_id, status=status))
    return web.json_response(closed)


ROUTES = [
    RouteSpec("GET", "/api/callbacks", list_callbacks,
              "Callers to call back, most urgent first (priority, then oldest); numbers masked",
              roles=("agent", "supervisor"), tags=("callbacks",),
              params=(("status", "query", "comma list: open, calling, done, failed "
                                          "(default open,calling)"),
                      ("limit", "query", "at most this many (1-500)"))),
    RouteSpec("GET", "/api/callbacks/{task_id}", get_callback,
              "One callback task with its attempts", roles=("agent", "supervisor"),
              tags=("callbacks",), params=(("task_id", "path", "callback task id"),)),
    RouteSpec("POST", "/api/callbacks/{task_id}/call", call_back,
              "Call the citizen back: your phone rings first, then the PBX dials them; "
              "you are paused in the queues meanwhile", roles=("agent",), tags=("callbacks",),
              params=(("task_id", "path", "callback task id"),)),
    RouteSpec("POST", "/api/work-orders/{order_id}/visit/call", call_for_visit,
              "回访 by click-to-call: your phone rings first, then the citizen of this closed "
              "order; record their verdict with /visit", roles=("agent",),
              tags=("work orders",), params=(("order_id", "path", "work order id"),)),
    RouteSpec("POST", "/api/callbacks/{task_id}/close", close_callback,
              "Close a task by hand (done or failed) with a note; audited",
              roles=("supervisor",), tags=("callbacks",),
              params=(("task_id", "path", "callback task id"),),
              body={"type": "object", "required": ["status", "note"],
                    "properties": {"status": {"enum": ["done", "failed"]},
                                   "note": {"type": "string"}}}),
]
