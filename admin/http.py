"""The admin's REST routes: list, create, edit and deactivate teams,
agents, departments and the old hotlines' lines; create and edit users
(disable, enable, passwords and sessions are console/users_http.py);
imports of CSV or XLSX files.  Admin only; every change audited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from admin import imports, service
from admin.fields import AdminError
from admin.kinds import KINDS, USERS, Kind
from agents.http import STAFFING_KEY
from console.auth import DEPS_KEY, principal
from console.live import end_live
from console.routing_table import RouteSpec, json_error, path_id, read_json
from core import accounts
from core.passwords import HashingBusy

ADMIN = ("admin",)
MANAGED = ("teams", "agents", "departments", "lines")
MAX_UPLOAD = 4 << 20  # a city's lists: thousands of rows, well under this


def refused(exc: AdminError) -> web.Response:
    first = exc.problems[0]
    return web.json_response({"error": {
        "code": "invalid", "message": f"{first.field}: {first.message}", "field": first.field,
        "problems": [p.to_dict() for p in exc.problems]}}, status=400)


async def _answer(request: web.Request, work: Callable[[Session], Any]) -> web.Response:
    try:
        return web.json_response(await request.app[DEPS_KEY].db.run(work))
    except AdminError as exc:
        return refused(exc)
    except LookupError as exc:
        return json_error(404, "not_found", str(exc.args[0]))


def _lister(kind: Kind) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        now = request.app[DEPS_KEY].clock.now()
        return await _answer(request, lambda s: {kind.name: service.listing(s, kind, now)})
    return handler


def _creator(kind: Kind) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        data, who = await read_json(request), principal(request)
        now = request.app[DEPS_KEY].clock.now()
        return await _answer(request, lambda s: kind.dump(s, service.create(
            s, kind, data, user_id=who.user_id, now=now)))
    return handler


async def _left_service(request: web.Request, kind: Kind, row_id: int) -> None:
    """A deactivated agent still on the queues leaves them now (on this
    instance; the queues refuse their next login)."""
    if kind.name == "agents":
        await request.app[STAFFING_KEY].queue_logout(row_id)


def _editor(kind: Kind) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        data, who = await read_json(request), principal(request)
        now, row_id = request.app[DEPS_KEY].clock.now(), path_id(request, "row_id", "no such row")

        def work(s: Session) -> Any:
            row = service.find(s, kind, row_id)
            changes = service.edit(s, kind, row, data, user_id=who.user_id, now=now)
            return {**kind.dump(s, row), "changed": sorted(changes)}
        answer = await _answer(request, work)
        if answer.status == 200 and data.get("active") is False:
            await _left_service(request, kind, row_id)
        return answer
    return handler


def _deactivator(kind: Kind) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        who, now = principal(request), request.app[DEPS_KEY].clock.now()
        row_id = path_id(request, "row_id", "no such row")

        def work(s: Session) -> Any:
            row = service.find(s, kind, row_id)
            service.deactivate(s, kind, row, user_id=who.user_id, now=now)
            return kind.dump(s, row)
        answer = await _answer(request, work)
        if answer.status == 200:
            await _left_service(request, kind, row_id)
        return answer
    return handler


# -- users ---------------------------------------------------------------------

async def create_user(request: web.Request) -> web.Response:
    data, who = await read_json(request), principal(request)
    deps = request.app[DEPS_KEY]
    password = data.pop("password", None)
    generated = password is None
    password = accounts.generate_password() if generated else password
    try:
        accounts.check_new_password(password)
        hashed = await deps.hashing.hash(password)
    except accounts.AuthError as exc:
        return refused(AdminError.one("password", "password", value=str(exc)))
    except HashingBusy as exc:
        return json_error(503, "busy", str(exc))
    now = deps.clock.now()

    def work(s: Session) -> Any:
        data.setdefault("display_name", data.get("username"))
        user = service.create(s, USERS, data, user_id=who.user_id, now=now,
                              extra={"password_hash": hashed, "created_at": now})
        return {"user": USERS.dump(s, user), **({"password": password} if generated else {})}
    return await _answer(request, work)


async def edit_user(request: web.Request) -> web.Response:
    """A changed role or link ends the user's sessions: what they may see changed."""
    data, who = await read_json(request), principal(request)
    now, user_id = request.app[DEPS_KEY].clock.now(), path_id(request, "user_id", "no such user")
    if user_id == who.user_id and data.get("role", "admin") != "admin":
        return json_error(409, "own_account", "an admin cannot take their own role away")
    ended: list[int] = []

    def work(s: Session) -> Any:
        user = service.find(s, USERS, user_id)
        changes = service.edit(s, USERS, user, data, user_id=who.user_id, now=now)
        if {"role", "agent", "department"} & set(changes):
            ended.append(accounts.end_sessions(s, user.id))
        return {"user": USERS.dump(s, user), "changed": sorted(changes),
                "sessions_ended": ended[0] if ended else 0}
    answer = await _answer(request, work)
    if ended:
        await end_live(request.app, user_id)
    return answer


# -- imports ----------------------------------------------------------------------

FILE_TYPES = {"text/csv": "csv", imports.XLSX_TYPE: "xlsx"}


async def import_file(request: web.Request) -> web.Response:
    """The file is the body (text/csv or the XLSX type: a page cannot make a
    browser send either to another site without asking first)."""
    kind = request.match_info["kind"]
    if kind not in ("agents", "departments", "lines"):
        return json_error(404, "not_found", "import agents, departments or lines")
    form = FILE_TYPES.get(request.content_type)
    if form is None:
        return json_error(415, "bad_content_type",
                          "send the file as text/csv or " + imports.XLSX_TYPE)
    # Read here, not with request.read(): the app's 1 MB body limit is for
    # JSON, a city's list may be larger.
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body += chunk
        if len(body) > MAX_UPLOAD:
            return json_error(413, "too_large", f"at most {MAX_UPLOAD >> 20} MB")
    dry_run = request.query.get("dry_run", "") in ("1", "true", "yes")
    who, deps = principal(request), request.app[DEPS_KEY]
    loop = asyncio.get_running_loop()
    try:
        # Parsing a workbook is CPU work: off the loop that serves the calls.
        rows = await loop.run_in_executor(None, imports.read_rows, bytes(body), form)
    except imports.FileProblem as exc:
        return json_error(400, "bad_file", str(exc))
    now = deps.clock.now()
    report = await deps.db.run(lambda s: imports.import_rows(
        s, KINDS[kind], rows, user_id=who.user_id, now=now, dry_run=dry_run, via="upload"))
    if report.ok and not dry_run:
        for row_id in report.deactivated:  # as the deactivate route: off the queues now
            await _left_service(request, KINDS[kind], row_id)
    return web.json_response(report.to_dict(), status=200 if report.ok else 400)


def routes() -> list[RouteSpec]:
    out = []
    for name in MANAGED:
        kind = KINDS[name]
        base, tags = f"/api/admin/{name}", ("administration",)
        one = (("row_id", "path", f"{kind.singular} id"),)
        body = {"type": "object", "properties": {f.name: f.schema() for f in kind.fields}}
        out += [
            RouteSpec("GET", base, _lister(kind), f"All {name}, active or not", roles=ADMIN,
                      tags=tags),
            RouteSpec("POST", base, _creator(kind), f"Create a {kind.singular}; audited",
                      roles=ADMIN, tags=tags,
                      body={**body, "required": [f.name for f in kind.fields if f.required]}),
            RouteSpec("PATCH", base + "/{row_id:\\d+}", _editor(kind),
                      f"Change a {kind.singular}'s fields; audited", roles=ADMIN, tags=tags,
                      params=one, body=body),
            RouteSpec("POST", base + "/{row_id:\\d+}/deactivate", _deactivator(kind),
                      f"Take a {kind.singular} out of service (kept for the records that "
                      "name it); audited", roles=ADMIN, tags=tags, params=one),
        ]
    user_fields = {f.name: f.schema() for f in USERS.fields}
    out += [
        RouteSpec("POST", "/api/users", create_user,
                  "Create a login (password absent: one is generated and returned); audited",
                  roles=ADMIN, tags=("users",),
                  body={"type": "object", "required": ["username", "role"],
                        "properties": {**user_fields, "password": {"type": "string"}}}),
        RouteSpec("PATCH", "/api/users/{user_id:\\d+}", edit_user,
                  "Change a login's name, role or link (a new role or link ends its "
                  "sessions); audited", roles=ADMIN, tags=("users",),
                  params=(("user_id", "path", "user id"),),
                  body={"type": "object", "properties": user_fields}),
        RouteSpec("POST", "/api/admin/import/{kind}", import_file,
                  "Import a CSV or XLSX file (the body): every row checked, every bad row "
                  "named by line, nothing imported unless all are good; ?dry_run=1 checks "
                  "only; audited", roles=ADMIN, tags=("administration",),
                  params=(("kind", "path", "agents, departments or lines"),
                          ("dry_run", "query", "1: check the file, change nothing"))),
    ]
    return out


ROUTES = routes()


