"""Login, sessions and role checks for every HTTP and WebSocket route.

A token comes from ``Authorization: Bearer <token>`` (API clients, the
demo's agents) or the ``hotline_session`` cookie (browsers; SameSite=Strict
so another site cannot ride on it, and :mod:`console.guards` refuses
cookie requests that change something, and WebSocket upgrades, from
another origin).  Each route names the roles it admits;
a route that names none admits any logged-in user; only routes marked
public (``/healthz``, ``/api/login``, the static console shell) admit
anyone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web, web_urldispatcher

from console import guards
from console.routing_table import SPEC_KEY, RouteSpec, json_error, read_json
from core import accounts, login_throttle
from core.db import FieldTooLong
from core.passwords import HashingBusy, needs_rehash
from hotline.deps import Deps

log = logging.getLogger(__name__)

COOKIE = "hotline_session"
DEPS_KEY: web.AppKey[Deps] = web.AppKey("deps", Deps)
SPECS_KEY: web.AppKey[dict[tuple[str, str], RouteSpec]] = web.AppKey("specs", dict)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    agent_id: int | None
    department_id: int | None

    @property
    def linked(self) -> bool:
        """Agent and department logins need their agent or department."""
        if self.role == "agent":
            return self.agent_id is not None
        if self.role == "department":
            return self.department_id is not None
        return True

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.user_id, "username": self.username, "display_name": self.display_name,
            "role": self.role, "agent_id": self.agent_id, "department_id": self.department_id,
        }


REFUSALS_KEY: web.AppKey[login_throttle.RecentRefusals] = web.AppKey(
    "login_refusals", login_throttle.RecentRefusals)
PRINCIPAL_KEY: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
TOKEN_KEY: web.RequestKey[str] = web.RequestKey("token", str)


def _token(request: web.Request) -> tuple[str | None, bool]:
    """The session token, and whether it came from the cookie."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None, False
    cookie = request.cookies.get(COOKIE)
    return cookie, cookie is not None


def _principal(user: accounts.User) -> Principal:
    return Principal(user.id, user.username, user.display_name, user.role, user.agent_id,
                     user.department_id)


def admits(spec: RouteSpec, role: str) -> bool:
    """Whether a logged-in user of ``role`` may use the route: those it names,
    any role when it names none, and admins everywhere."""
    return not spec.roles or role in spec.roles or role == "admin"


@web.middleware
async def auth_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await _guarded(request, handler)
    except FieldTooLong as exc:
        # A text longer than its column (a 900 KB block reason, say).
        return json_error(400, "too_long", str(exc))


async def _guarded(request: web.Request, handler):  # type: ignore[no-untyped-def]
    route = request.match_info.route
    resource = route.resource
    key = (request.method, resource.canonical if resource is not None else "")
    spec = request.app[SPECS_KEY].get(key)
    if spec is None and request.method == "HEAD":
        spec = request.app[SPECS_KEY].get(("GET", key[1]))
    if spec is None:
        if isinstance(route, web.AbstractRoute) and not isinstance(
                route, web_urldispatcher.SystemRoute):
            # A handler with no declared roles: deny rather than expose it.
            return json_error(403, "forbidden", "this route declares no roles")
        return await handler(request)  # aiohttp's own 404/405
    request[SPEC_KEY] = spec
    token, by_cookie = _token(request)
    if (guards.needs_same_origin(request, by_cookie) or (
            request.method not in guards.SAFE_METHODS and "Origin" in request.headers)) \
            and not guards.same_origin(request):
        return json_error(403, "cross_origin", "refused: the request comes from another origin")
    if spec.public:
        return await handler(request)
    if not token:
        return json_error(401, "login_required", "log in first (POST /api/login)")
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    user = await deps.db.run(lambda s: accounts.user_for_token(s, token, now))
    if user is None:
        return json_error(401, "login_required", "session expired or unknown; log in again")
    principal = _principal(user)
    if not admits(spec, principal.role):
        return json_error(403, "forbidden", f"this needs the role {' or '.join(spec.roles)}")
    if spec.roles and principal.role in spec.roles and not principal.linked:
        # The route acts for the login's agent or department: without one it
        # would act for nobody (or, worse, see what belongs to everyone).
        return json_error(403, "unlinked",
                          f"this {principal.role} login is linked to no {principal.role}")
    request[PRINCIPAL_KEY] = principal
    request[TOKEN_KEY] = token
    return await handler(request)


async def logged_in(request: web.Request) -> Principal | None:
    """Who is logged in on a public route (None: nobody)."""
    token, _by_cookie = _token(request)
    if not token:
        return None
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    user = await deps.db.run(lambda s: accounts.user_for_token(s, token, now))
    return _principal(user) if user is not None else None


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL_KEY]


def _too_many(code: str, message: str, retry_after: int) -> web.Response:
    response = json_error(429 if code == "throttled" else 503, code, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


async def login(request: web.Request) -> web.Response:
    data = await read_json(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return json_error(400, "invalid", "username and password are required strings")
    if len(username) > 64 or len(password) > 1024:
        return json_error(400, "invalid", "username or password too long")
    deps = request.app[DEPS_KEY]
    now = deps.clock.now()
    address = guards.client_address(request, deps.settings.trusted_proxies)
    refusals = request.app[REFUSALS_KEY]
    throttled = refusals.check(username, address, deps.clock.monotonic())
    if throttled is not None:  # refused a moment ago: no database work for it
        return _too_many("throttled", throttled.reason, throttled.retry_after)

    def look_up(s):  # type: ignore[no-untyped-def]
        return (login_throttle.check(s, username, address, now),
                accounts.password_hash_for(s, username))

    throttled, stored = await deps.db.run(look_up)
    if throttled is not None:
        refusals.remember(throttled, deps.clock.monotonic())
        log.warning("login refused for %r from %s: %s", username, address, throttled.reason)
        return _too_many("throttled", throttled.reason, throttled.retry_after)
    try:
        # Off the database's threads, in the hashing pool (core.passwords says why).
        ok = await deps.hashing.verify(password, stored)
        upgraded = await deps.hashing.hash(password) if ok and stored and needs_rehash(
            stored) else None
    except HashingBusy as exc:
        return _too_many("busy", str(exc), 1)
    if not ok:
        await deps.db.run(lambda s: login_throttle.record_failure(s, username, address, now))
        log.warning("failed login for %r from %s", username, address)
        return json_error(401, "bad_credentials", "wrong username or password")
    try:
        user, token = await deps.db.run(
            lambda s: accounts.open_session(s, username, now, upgraded))
    except accounts.AuthError as exc:
        return json_error(401, "bad_credentials", str(exc))
    response = web.json_response({"token": token, "user": _principal(user).to_dict()})
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict",
                        secure=deps.settings.cookie_secure,
                        max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


async def logout(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    token = request[TOKEN_KEY]
    await deps.db.run(lambda s: accounts.logout(s, token))
    from console.live import end_live  # the live socket sits above auth

    await end_live(request.app, principal(request).user_id, token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(principal(request).to_dict())


async def session(request: web.Request) -> web.Response:
    """Who is logged in, or nobody: the console asks this at start, so that
    a first visit is not a failed request in the browser's console."""
    who = await logged_in(request)
    return web.json_response({"user": who.to_dict() if who is not None else None})


ROUTES = [
    RouteSpec("POST", "/api/login", login, "Log in; returns a bearer token and sets a cookie",
              roles=("public",), tags=("auth",),
              body={"type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"},
                                   "password": {"type": "string"}}}),
    RouteSpec("POST", "/api/logout", logout, "End this session", tags=("auth",)),
    RouteSpec("GET", "/api/me", me, "Who is logged in", tags=("auth",)),
    RouteSpec("GET", "/api/session", session,
              "Who is logged in, or {\"user\": null} (no login needed)",
              roles=("public",), tags=("auth",)),
]
