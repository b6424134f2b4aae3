"""REST handlers for the hotline's side of a co-handling part (加派,
worksheets/part_supervision.py): a supervisor urges the part's department
(催办) and decides its extension request.  Each step is told live to the
part's own department (and to supervisors), not to the lead.  The
department asks for its extension on the order's route
(``POST /api/work-orders/{id}/extension``), as it signs for and answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, Principal, principal
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core.live_events import OrderChanged
from worksheets import part_supervision, parts
from worksheets.http import order_for
from worksheets.lifecycle import LifecycleError
from worksheets.lifecycle_http import HTTP_STATUS, TEXT, _obj, _str
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart

PartStep = Callable[[Session, int, Principal, dict[str, Any], Any],
                    tuple[WorkOrder, OrderPart]]


def _part_step(step: str, action: PartStep) -> Callable[[web.Request], Any]:
    """A handler: run ``action`` on the part in one transaction, answer with
    the order and the part, tell the part's department ``order.<step>``."""

    async def handler(request: web.Request) -> web.Response:
        deps = request.app[DEPS_KEY]
        p = principal(request)
        part_id = path_id(request, "part_id", "no such part")
        data = await read_json(request)

        def work(s: Session) -> tuple[dict[str, Any], int]:
            order, part = action(s, part_id, p, data, deps)
            shown = order_for(order, p)
            shown["part"] = {"id": part.id, "status": part.status,
                             **parts.fields(part, order)}
            return shown, part.department_id

        try:
            order, department_id = await deps.db.run(work)
        except LifecycleError as exc:
            return json_error(HTTP_STATUS.get(exc.code, 400), exc.code, str(exc))
        deps.bus.publish(OrderChanged(
            step=step, order_id=order["id"], number=order["number"], status=order["status"],
            agent_id=None, department_id=department_id))
        return web.json_response(order)

    return handler


def _urge(s, part_id, p, data, deps):  # type: ignore[no-untyped-def]
    return part_supervision.urge(s, part_id, note=_str(data, "note"), user_id=p.user_id,
                                 now=deps.clock.now())


def _decide(s, part_id, p, data, deps):  # type: ignore[no-untyped-def]
    approve = data.get("approve")
    if not isinstance(approve, bool):
        raise LifecycleError("invalid", "approve must be true or false")
    return part_supervision.decide_extension(
        s, part_id, approve=approve, user_id=p.user_id, now=deps.clock.now(),
        calendar=deps.calendar.fresh(s), tz=deps.settings.tz, note=_str(data, "note"))


def _route(path: str, action: PartStep, step: str, summary: str,
           body: dict[str, Any]) -> RouteSpec:
    return RouteSpec("POST", f"/api/order-parts/{{part_id:\\d+}}/{path}",
                     _part_step(step, action), summary, roles=("supervisor",),
                     tags=("work orders",), params=(("part_id", "path", "part id"),),
                     body=body)


ROUTES = [
    _route("urge", _urge, "co_urged",
           "催办 of a co-handling part (加派): press its department; the note is recorded in "
           "the order's history and shown to that department (live and on its list): "
           "supervisor", _obj(note=TEXT)),
    _route("extension/decision", _decide, "co_extension_decided",
           "Approve (the part's deadline moves, the order's not) or refuse a co-handling "
           "part's extension request: supervisor",
           {"type": "object", "required": ["approve"],
            "properties": {"approve": {"type": "boolean"}, "note": TEXT}}),
]
