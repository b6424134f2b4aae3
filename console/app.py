"""Assembles the HTTP side: REST routes of every domain, /healthz, the
OpenAPI document, the live WebSocket and the console page."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from admin import http as admin_http
from agents import call_controls
from agents import http as agents_http
from agents import rota_http as agents_rota_http
from agents import state_http as agents_state_http
from agents.staffing import Staffing
from console import auth, guards, users_http
from console.live import WS_OPEN_KEY, live
from console.openapi import build_openapi
from console.routing_table import RouteSpec
from core import login_throttle
from floor import http as floor_http
from hotline.deps import Deps
from reports import http as reports_http
from routing import http as routing_http
from speech import http as speech_http
from worksheets import (
    agent_tasks,
    attachments_http,
    calendar_http,
    callbacks_http,
    desk_http,
    knowledge_http,
    lifecycle_http,
    orders_http,
    parts_http,
)
from worksheets import http as worksheets_http

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
STATUS_KEY: web.AppKey[Any] = web.AppKey("status", object)


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
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


# The console's assets: ES modules, styles, vendored libraries.  Served by
# name from console/static only (no listing, no path outside it); they hold
# no data, so they need no login, like the page itself.
ASSET_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
               ".svg": "image/svg+xml", ".png": "image/png", ".wav": "audio/wav"}


async def asset(request: web.Request) -> web.FileResponse:
    path = (STATIC / request.match_info["path"]).resolve()
    kind = ASSET_TYPES.get(path.suffix)
    if kind is None or not path.is_relative_to(STATIC) or not path.is_file():
        raise web.HTTPNotFound()
    if kind.startswith("text/"):
        kind += "; charset=utf-8"
    # Revalidated on each load (ETag/Last-Modified): an upgrade shows at once.
    return web.FileResponse(path, headers={"Content-Type": kind, "Cache-Control": "no-cache"})


CORE_ROUTES = [
    RouteSpec("GET", "/healthz", healthz,
              "Liveness: ok or not (no login); with a login, the database, AMI link "
              "and FastAGI listener",
              roles=("public",), tags=("health",)),
    RouteSpec("GET", "/api/openapi.json", openapi, "This document", tags=("meta",)),
    RouteSpec("GET", "/api/ws", live,
              "WebSocket of live events this user may see: a snapshot, then numbered "
              "events; ?stream=S&after=N resumes (see console/live.py)",
              tags=("live",)),
    RouteSpec("GET", "/", index, "The console page (its data needs a login)",
              roles=("public",), tags=("console",)),
    RouteSpec("GET", "/static/{path:.+}", asset,
              "The console's scripts, styles and vendored libraries (no data)",
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
    specs += admin_http.ROUTES
    specs += desk_http.ROUTES + call_controls.ROUTES + agent_tasks.ROUTES
    specs += floor_http.ROUTES
    specs += orders_http.ROUTES + parts_http.ROUTES + attachments_http.ROUTES
    specs += reports_http.ROUTES
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
