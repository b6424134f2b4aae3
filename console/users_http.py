"""Admins take access away: disable or enable a user, reset a password, end
every session of a user.  Each step is audited (``/api/audit``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.kinds import user_dump
from console.auth import DEPS_KEY, principal
from console.live import end_live
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core import accounts
from core.passwords import HashingBusy
from routing.lists import audit

ADMIN = ("admin",)


def _user_dict(user: accounts.User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "active": user.active, "agent_id": user.agent_id,
            "department_id": user.department_id}


NO_USER = "no such user"


async def list_users(request: web.Request) -> web.Response:
    def work(s: Session) -> list[dict[str, Any]]:
        return [user_dump(s, u) for u in s.scalars(select(accounts.User).order_by(
            accounts.User.username))]
    users = await request.app[DEPS_KEY].db.run(work)
    return web.json_response({"users": users})


async def _change(request: web.Request, action: str, change: Any) -> web.Response:
    """Apply ``change(session, user_id)`` to the user in the path, audited."""
    user_id = path_id(request, "user_id", NO_USER)
    deps = request.app[DEPS_KEY]
    actor = principal(request)
    now = deps.clock.now()

    def work(s: Session) -> dict[str, Any]:
        result = change(s, user_id)
        user = s.get(accounts.User, user_id)
        assert user is not None
        audit(s, user_id=actor.user_id, action=action, target=f"user {user.username}",
              detail=result.get("detail", ""), now=now)
        return {"user": _user_dict(user), **{k: v for k, v in result.items()
                                              if k != "detail"}}
    try:
        answer = await deps.db.run(work)
    except accounts.AuthError as exc:
        return json_error(404, "not_found", str(exc))
    if action != "user_enable":  # their sessions ended: so do their live connections
        await end_live(request.app, user_id)
    return web.json_response(answer)


async def disable(request: web.Request) -> web.Response:
    if path_id(request, "user_id", NO_USER) == principal(request).user_id:
        return json_error(409, "own_account", "an admin cannot disable their own login")
    return await _change(request, "user_disable", lambda s, uid: {
        "sessions_ended": _ended(s, uid, lambda: accounts.set_active(s, uid, False))})


async def enable(request: web.Request) -> web.Response:
    return await _change(request, "user_enable",
                         lambda s, uid: (accounts.set_active(s, uid, True), {})[1])


async def end_sessions(request: web.Request) -> web.Response:
    return await _change(request, "user_logout_all", lambda s, uid: {
        "sessions_ended": _ended(s, uid, lambda: _exists(s, uid))})


async def reset_password(request: web.Request) -> web.Response:
    data = await read_json(request)
    password = data.get("password")
    generated = password is None
    if generated:
        password = accounts.generate_password()
    if not isinstance(password, str):
        return json_error(400, "invalid", "password must be a string (or absent: generated)")
    try:
        accounts.check_new_password(password)
        hashed = await request.app[DEPS_KEY].hashing.hash(password)
    except accounts.AuthError as exc:
        return json_error(400, "invalid", str(exc))
    except HashingBusy as exc:
        return json_error(503, "busy", str(exc))

    def change(s: Session, uid: int) -> dict[str, Any]:
        ended = _ended(s, uid, lambda: accounts.set_password_hash(s, uid, hashed))
        return {"sessions_ended": ended, **({"password": password} if generated else {})}
    return await _change(request, "user_password_reset", change)


def _exists(s: Session, user_id: int) -> None:
    if s.get(accounts.User, user_id) is None:
        raise accounts.AuthError(f"no user {user_id}")


def _ended(s: Session, user_id: int, step: Any) -> int:
    """Run ``step`` (which ends the user's sessions, or not) and count the sessions ended."""
    before = accounts.session_count(s, user_id)
    step()
    accounts.end_sessions(s, user_id)
    return before


def _path(action: str) -> str:
    return f"/api/users/{{user_id:\\d+}}/{action}"


ROUTES = [
    RouteSpec("GET", "/api/users", list_users, "Users and whether they may log in",
              roles=ADMIN, tags=("users",)),
    RouteSpec("POST", _path("disable"), disable,
              "Disable a user: no login, every session ended", roles=ADMIN, tags=("users",),
              params=(("user_id", "path", "user id"),)),
    RouteSpec("POST", _path("enable"), enable, "Let a disabled user log in again",
              roles=ADMIN, tags=("users",), params=(("user_id", "path", "user id"),)),
    RouteSpec("POST", _path("end-sessions"), end_sessions, "Log a user out everywhere",
              roles=ADMIN, tags=("users",), params=(("user_id", "path", "user id"),)),
    RouteSpec("POST", _path("password"), reset_password,
              "Set a new password (or generate one); every session ends", roles=ADMIN,
              tags=("users",), params=(("user_id", "path", "user id"),),
              body={"type": "object", "properties": {"password": {"type": "string"}}}),
]
