"""Assembles the HTTP side: REST routes of every domain, /healthz, the
OpenAPI document, the live WebSocket and the console page."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from agents import http as agents_http
from agents import rota_http as agents_rota_http
from agents import state_http as agents_state_http
from agents.staffing import Staffing
from console import auth, guards, users_http
from console.openapi import build_openapi
from console.routing_table import RouteSpec, json_error
from hotline import login_throttle
from hotline.deps import Deps
from routing import http as routing_http
from speech import http as speech_http
from worksheets import calendar_http, callbacks_http, knowledge_http, lifecycle_http
from worksheets import http as worksheets_http

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
STATUS_KEY: web.AppKey[Any] = web.AppKey("status", object)
WS_OPEN_KEY: web.AppKey[dict[int, int]] = web.AppKey("ws_open", dict)
WS_PER_USER = 8  # a console in a few tabs; 300 from one login is an attack
WS_MAX_MESSAGE = 4096


async def healthz(request: web.Request) -> web.Response:
    deps = request.app[auth.DEPS_KEY]
    status = request.app[STATUS_KEY]()
    db_ok = await _db_ping(deps)
    ok = bool(db_ok and status["ami"]["connected"] and status["fastagi"]["listening"])
    if await auth.logged_in(request) is None:
        # Anonymous (a load balancer's probe): ok or not, nothing about the
        # PBX's address or the counters.
        return web.json_response({"ok": ok}, status=200 if ok else 503)
    body = {"ok": ok, "database": {"up": bool(db_ok), "dialect": deps.db.engine.dialect.name},
            **status}
    return web.json_response(body, status=200 if ok else 503)


async def _db_ping(deps: Deps) -> bool:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(None, deps.db.ping), 5)
    except Exception:
        return False


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(build_openapi(list(request.app[auth.SPECS_KEY].values())))


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def live(request: web.Request) -> web.WebSocketResponse:
    """Live events: ``{"type": ...}`` messages.  Agents see their own orders'
    events and queue events; departments their orders' events; supervisors
    and admins see everything."""
    deps = request.app[auth.DEPS_KEY]
    p = auth.principal(request)
    open_sockets = request.app[WS_OPEN_KEY]
    if open_sockets.get(p.user_id, 0) >= WS_PER_USER:
        return json_error(429, "too_many_sockets",  # type: ignore[return-value]
                          f"at most {WS_PER_USER} live connections per user")
    # Clients only send "ping": a few KiB is plenty, and a big message is refused
    # (the connection closes with 1009) rather than buffered.
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=WS_MAX_MESSAGE)
    open_sockets[p.user_id] = open_sockets.get(p.user_id, 0) + 1
    try:
        return await _serve_live(request, ws, deps, p)
    finally:
        open_sockets[p.user_id] -= 1
        if not open_sockets[p.user_id]:
            del open_sockets[p.user_id]


async def _serve_live(request: web.Request, ws: web.WebSocketResponse, deps: Deps,
                      p: auth.Principal) -> web.WebSocketResponse:
    await ws.prepare(request)

    def accepts(event: dict[str, Any]) -> bool:
        if p.role in ("supervisor", "admin"):
            return True
        if p.role == "agent":
            if event.get("type") == "transcript.ready":
                # A citizen's words go to the agent who has the call, no one else
                # (not to a login without an agent record while the call is queued).
                return p.agent_id is not None and event.get("agent_id") == p.agent_id
            return event.get("agent_id") in (None, p.agent_id)
        if p.role == "department":
            # Only their own orders' events (dispatched to them, returned ...).
            return p.department_id is not None and event.get("department_id") == p.department_id
        return False

    sub = deps.bus.subscribe(accepts, name=p.username)
    await ws.send_json({"type": "hello", "user": p.to_dict()})

    async def writer() -> None:
        while True:
            event = await sub.queue.get()
            await ws.send_str(json.dumps(event, ensure_ascii=False, default=str))

    task = asyncio.create_task(writer(), name=f"ws-writer-{p.username}")
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_json({"type": "pong"})
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        deps.bus.unsubscribe(sub)
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
    return ws


CORE_ROUTES = [
    RouteSpec("GET", "/healthz", healthz,
              "Liveness: ok or not (no login); with a login, the database, AMI link "
              "and FastAGI listener",
              roles=("public",), tags=("health",)),
    RouteSpec("GET", "/api/openapi.json", openapi, "This document", tags=("meta",)),
    RouteSpec("GET", "/api/ws", live, "WebSocket of live events (calls, orders, agents)",
              tags=("live",)),
    RouteSpec("GET", "/", index, "The console page (its data needs a login)",
              roles=("public",), tags=("console",)),
]


def build_app(deps: Deps, staffing: Staffing, status: Any) -> web.Application:
    app = web.Application(middlewares=[auth.auth_middleware], client_max_size=1 << 20)
    specs = CORE_ROUTES + auth.ROUTES + worksheets_http.ROUTES + agents_http.ROUTES
    specs += routing_http.ROUTES
    specs += agents_rota_http.rota_routes() + agents_state_http.ROUTES
    specs += speech_http.ROUTES + callbacks_http.ROUTES + lifecycle_http.ROUTES
    specs += users_http.ROUTES + calendar_http.ROUTES
    specs += knowledge_http.ROUTES
    app[auth.DEPS_KEY] = deps
    app[auth.REFUSALS_KEY] = login_throttle.RecentRefusals()
    app[WS_OPEN_KEY] = {}
    registered: dict[tuple[str, str], RouteSpec] = {}
    app[agents_http.STAFFING_KEY] = staffing
    app[STATUS_KEY] = status
    for spec in specs:
        route = app.router.add_route(spec.method, spec.path, spec.handler)
        # Keyed by the canonical path ("{id}" without its regex), which is
        # what the auth middleware sees; the document shows the same.
        canonical = route.resource.canonical if route.resource is not None else spec.path
        registered[(spec.method, canonical)] = replace(spec, path=canonical)
    app[auth.SPECS_KEY] = registered
    cookie_secure = deps.settings.cookie_secure

    async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
        guards.add_security_headers(response, cookie_secure=cookie_secure)

    app.on_response_prepare.append(security_headers)
    return app
