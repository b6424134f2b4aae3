"""The role truth table: every route × every kind of login, over the real server.

Each status below is written by hand from DOMAIN.md's roles, not derived
from the route declarations, so a change to a declaration (or to the role
check) that lets someone in or keeps someone out shows here.  A route that
is added without a row, or a row whose route is gone, fails the test:
add one line per route.

Columns: anonymous, agent (linked to an agent), unlinked (role agent, no
agent record), supervisor, department (linked), admin.  Requests carry no
meaningful data: ids are 999999 (so an admitted caller gets 404, or 400
for a missing body), bodies are ``{}``.  401 = no login, 403 = refused by
role (or, for admin on an agent's own action, by the handler: an admin has
no phone and no agent record).  A path segment written ``{name=value}``
is sent as ``value``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import aiohttp

from console import auth
from core import accounts
from tests.conftest import make_database_url
from tests.console.test_http import run_with_backend
from tests.helpers import PASSWORD

WHO = ("anon", "agent", "unlinked", "sup", "dept", "admin")

#  METHOD path                                              anon agt unl sup dep adm
TABLE = """
GET    /                                                    200 200 200 200 200 200
GET    /rota.html                                           200 200 200 200 200 200
GET    /static/{path=app.js}                                200 200 200 200 200 200
GET    /healthz                                             503 503 503 503 503 503
POST   /api/login                                           400 400 400 400 400 400
POST   /api/logout                                          401 200 200 200 200 200
GET    /api/me                                              401 200 200 200 200 200
GET    /api/session                                         200 200 200 200 200 200
GET    /api/openapi.json                                    401 200 200 200 200 200
GET    /api/ws                                              401 400 400 400 400 400
POST   /api/agent/pause                                     401 400 403 403 403 403
POST   /api/agent/queues/login                              401 409 403 403 403 403
POST   /api/agent/queues/logout                             401 200 403 403 403 403
GET    /api/agents                                          401 403 403 200 403 200
GET    /api/agents/alerts                                   401 403 403 200 403 200
POST   /api/agents/alerts/acknowledge                       401 403 403 400 403 400
GET    /api/agents/report                                   401 403 403 200 403 200
GET    /api/agents/states                                   401 403 403 200 403 200
POST   /api/agents/{agent_id}/supervise                     401 403 403 400 403 400
GET    /api/audit                                           401 403 403 403 403 200
GET    /api/blocked-numbers                                 401 403 403 200 403 200
POST   /api/blocked-numbers                                 401 403 403 400 403 400
DELETE /api/blocked-numbers/{block_id}                      401 403 403 400 403 400
GET    /api/callbacks                                       401 200 403 200 403 200
GET    /api/callbacks/{task_id}                             401 404 403 404 403 404
POST   /api/callbacks/{task_id}/call                        401 503 403 403 403 403
POST   /api/callbacks/{task_id}/close                       401 403 403 400 403 400
GET    /api/calls                                           401 403 403 200 403 200
GET    /api/calls/{call_id}                                 401 404 403 404 403 404
GET    /api/calls/{call_id}/transcripts                     401 404 403 404 403 404
GET    /api/calendar                                        401 403 403 200 403 200
GET    /api/calendar/{year=2027}                            401 403 403 200 403 200
POST   /api/calendar/years                                  401 403 403 403 403 422
GET    /api/departments                                     401 200 200 200 200 200
GET    /api/kb/articles                                     401 200 403 200 200 200
GET    /api/kb/articles/{article_id}                        401 404 403 404 404 404
GET    /api/kb/categories                                   401 200 403 200 200 200
POST   /api/kb/articles                                     401 403 403 400 403 400
PUT    /api/kb/articles/{article_id}                        401 403 403 400 403 400
POST   /api/kb/suggest                                      401 400 403 400 403 400
GET    /api/kb/expired                                      401 403 403 200 200 200
GET    /api/legacy-lines                                    401 403 403 200 403 200
GET    /api/pause-reasons                                   401 200 403 200 403 200
PUT    /api/pause-reasons                                   401 403 403 400 403 400
GET    /api/priority-callers                                401 403 403 200 403 200
POST   /api/priority-callers                                401 403 403 400 403 400
DELETE /api/priority-callers/{caller_id}                    401 403 403 400 403 400
GET    /api/queues                                          401 503 403 503 403 503
GET    /api/rota                                            401 200 403 200 403 200
GET    /api/rota/config                                     401 200 403 200 403 200
PUT    /api/rota/config                                     401 403 403 403 403 200
GET    /api/rota/coverage                                   401 403 403 200 403 200
GET    /api/rota/export                                     401 200 403 200 403 200
GET    /api/rota/handover                                   401 200 403 200 403 200
POST   /api/rota/handover                                   401 400 403 400 403 400
POST   /api/rota/overtime                                   401 403 403 400 403 400
GET    /api/rota/requests                                   401 200 403 200 403 200
POST   /api/rota/requests                                   401 400 403 403 403 403
POST   /api/rota/requests/cancel                            401 400 403 403 403 403
POST   /api/rota/requests/decide                            401 403 403 400 403 400
GET    /api/rota/staffing                                   401 403 403 200 403 200
GET    /api/routing/rules                                   401 403 403 200 403 200
PUT    /api/routing/rules                                   401 403 403 403 403 400
GET    /api/stats                                           401 403 403 200 403 200
GET    /api/stats/departments                               401 403 403 200 200 200
GET    /api/transcription/failed                            401 403 403 503 403 503
POST   /api/transcription/jobs/{job_id}/retry               401 403 403 503 403 503
GET    /api/transcription/stats                             401 403 403 503 403 503
GET    /api/users                                           401 403 403 403 403 200
POST   /api/users/{user_id}/disable                         401 403 403 403 403 404
POST   /api/users/{user_id}/enable                          401 403 403 403 403 404
POST   /api/users/{user_id}/end-sessions                    401 403 403 403 403 404
POST   /api/users/{user_id}/password                        401 403 403 403 403 404
GET    /api/work-orders                                     401 200 200 200 200 200
GET    /api/work-orders/{order_id}                          401 404 404 404 404 404
POST   /api/work-orders/{order_id}/accept                   401 403 403 403 404 403
POST   /api/work-orders/{order_id}/extension                401 403 403 403 400 403
POST   /api/work-orders/{order_id}/extension/decision       401 403 403 400 403 400
POST   /api/work-orders/{order_id}/redispatch               401 403 403 400 403 400
POST   /api/work-orders/{order_id}/reopen                   401 403 403 404 403 404
POST   /api/work-orders/{order_id}/reply                    401 403 403 403 404 403
POST   /api/work-orders/{order_id}/return                   401 403 403 403 404 403
POST   /api/work-orders/{order_id}/urge                     401 403 403 404 403 404
POST   /api/work-orders/{order_id}/submit                   401 400 403 400 403 400
POST   /api/work-orders/{order_id}/visit                    401 400 403 400 403 400
POST   /api/work-orders/{order_id}/visit/call               401 503 403 403 403 403
GET    /api/worklists/{kind=department}                     401 403 403 403 200 403
GET    /api/worklists/{kind=extensions}                     401 403 403 200 403 200
GET    /api/worklists/{kind=returned}                       401 403 403 200 403 200
GET    /api/worklists/{kind=overdue}                        401 403 403 200 403 200
GET    /api/worklists/{kind=visits}                         401 200 403 200 403 200
GET    /api/worklists/{kind=dissatisfied}                   401 403 403 200 403 200
GET    /api/worklists/{kind=nonsense}                       401 404 403 404 404 404
# --- agentapi ---
GET    /api/agent/me                                        401 200 403 403 403 403
POST   /api/agent/wrapup/end                                401 200 403 403 403 403
POST   /api/agent/call/hangup                               401 409 403 403 403 403
POST   /api/agent/call/transfer                             401 409 403 403 403 403
GET    /api/agent/tasks                                     401 200 403 403 403 403
GET    /api/agent/pop                                       401 200 403 403 403 403
GET    /api/calls/{call_id}/pop                             401 404 403 404 403 404
GET    /api/order-form                                      401 200 403 200 403 200
GET    /api/lookup/orders                                   401 400 403 400 403 400
POST   /api/work-orders/{order_id}/close-no-order           401 400 403 400 403 400
# --- floor ---
GET    /api/floor                                           401 403 403 200 403 200
POST   /api/floor/alerts/acknowledge                        401 403 403 400 403 400
GET    /api/floor/thresholds                                401 403 403 200 403 200
PUT    /api/floor/thresholds                                401 403 403 200 403 200
POST   /api/floor/agents/{agent_id}/pause                   401 403 403 404 403 404
POST   /api/floor/agents/{agent_id}/logoff                  401 403 403 404 403 404
POST   /api/floor/agents/{agent_id}/queues                  401 403 403 404 403 404
POST   /api/floor/agents/{agent_id}/penalty                 401 403 403 404 403 404
GET    /api/calls/{call_id}/recording                       401 403 403 404 403 404
PUT    /api/users/{user_id}/phone                           401 403 403 403 403 404
# --- admin ---
GET    /api/admin/teams                                     401 403 403 403 403 200
POST   /api/admin/teams                                     401 403 403 403 403 400
PATCH  /api/admin/teams/{row_id}                            401 403 403 403 403 404
POST   /api/admin/teams/{row_id}/deactivate                 401 403 403 403 403 404
GET    /api/admin/agents                                    401 403 403 403 403 200
POST   /api/admin/agents                                    401 403 403 403 403 400
PATCH  /api/admin/agents/{row_id}                           401 403 403 403 403 404
POST   /api/admin/agents/{row_id}/deactivate                401 403 403 403 403 404
GET    /api/admin/departments                               401 403 403 403 403 200
POST   /api/admin/departments                               401 403 403 403 403 400
PATCH  /api/admin/departments/{row_id}                      401 403 403 403 403 404
POST   /api/admin/departments/{row_id}/deactivate           401 403 403 403 403 404
GET    /api/admin/lines                                     401 403 403 403 403 200
POST   /api/admin/lines                                     401 403 403 403 403 400
PATCH  /api/admin/lines/{row_id}                            401 403 403 403 403 404
POST   /api/admin/lines/{row_id}/deactivate                 401 403 403 403 403 404
POST   /api/users                                           401 403 403 403 403 400
PATCH  /api/users/{user_id}                                 401 403 403 403 403 404
POST   /api/admin/import/{kind=agents}                      401 403 403 403 403 415
POST   /api/admin/import/{kind=departments}                 401 403 403 403 403 415
POST   /api/admin/import/{kind=lines}                       401 403 403 403 403 415
POST   /api/routing/rules/check                             401 403 403 403 403 400
# --- orders ---
GET    /api/worklists/{kind=review}                         401 403 403 200 403 200
GET    /api/districts                                       401 200 200 200 200 200
GET    /api/special-lines                                   401 200 200 200 200 200
POST   /api/department-suggestions                          401 200 403 200 403 200
GET    /api/department-rules                                401 403 403 200 403 200
PUT    /api/department-rules                                401 403 403 403 403 400
GET    /api/visits/due                                      401 403 403 200 403 200
POST   /api/order-parts/{part_id}/reassign                  401 403 403 404 403 404
POST   /api/order-parts/{part_id}/urge                      401 403 403 404 403 404
POST   /api/order-parts/{part_id}/extension/decision        401 403 403 400 403 400
POST   /api/work-orders/{order_id}/review                   401 403 403 400 403 400
POST   /api/work-orders/{order_id}/parts                    401 403 403 400 403 400
POST   /api/work-orders/{order_id}/merge                    401 403 403 400 403 400
POST   /api/work-orders/{order_id}/referral                 401 400 403 400 403 400
POST   /api/work-orders/{order_id}/attachments              401 404 403 404 404 404
GET    /api/work-orders/{order_id}/attachments              401 404 403 404 404 404
GET    /api/work-orders/{order_id}/attachments/{attachment_id} 401 404 403 404 404 404
"""

# --- reports ---
TABLE += """\
GET    /api/reports                                         401 403 403 200 200 200
GET    /api/reports/export                                  401 403 403 200 200 200
"""

_SEGMENT = re.compile(r"\{([a-z_]+)(?:=([^}]*))?\}")


def table_rows() -> list[tuple[str, str, str, dict[str, int]]]:
    """(method, route template, URL to request, {who: status}) per line."""
    rows = []
    for line in TABLE.strip().splitlines():
        if not line.strip() or line.startswith("#"):
            continue  # a helper's block of rows, commented by name
        method, path, *statuses = line.split()
        assert len(statuses) == len(WHO), line
        template = _SEGMENT.sub(lambda m: "{" + m.group(1) + "}", path)
        url = _SEGMENT.sub(lambda m: m.group(2) if m.group(2) is not None else "999999", path)
        rows.append((method, template, url, dict(zip(WHO, map(int, statuses), strict=True))))
    return rows


def run_backend(tmp_path, body):
    """The backend on a fresh SQLite database with one login per column of TABLE."""

    async def with_unlinked(http, backend):
        await backend.deps.db.run(lambda s: accounts.create_user(
            s, username="unlinked", password=PASSWORD, role="agent", now=datetime.now(UTC)))
        return await body(http, backend)

    return run_with_backend(next(make_database_url("sqlite", tmp_path)), tmp_path,
                            with_unlinked)


async def log_in(http: aiohttp.ClientSession, who: str) -> dict[str, str]:
    if who == "anon":
        return {}
    async with http.post("/api/login", json={"username": who, "password": PASSWORD}) as r:
        assert r.status == 200, who
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


def test_every_route_answers_every_role_as_the_table_says(tmp_path):
    rows = table_rows()

    async def body(http, backend):
        routes = set(backend._runner.app[auth.SPECS_KEY])
        tokens = {who: await log_in(http, who) for who in WHO}
        seen = {}
        for method, template, url, _ in rows:
            for who in WHO:
                headers = tokens[who]
                if template == "/api/logout" and who != "anon":
                    headers = await log_in(http, who)  # keep the shared session alive
                kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
                async with http.request(method, url, headers=headers, **kwargs) as r:
                    seen[(method, url, who)] = r.status
        return routes, seen

    routes, seen = run_backend(tmp_path, body)
    in_table = {(method, template) for method, template, _, _ in rows}
    assert sorted(routes - in_table) == [], "routes without a row in TABLE: add one line each"
    assert sorted(in_table - routes) == [], "rows in TABLE for routes that do not exist"
    wrong = [f"{method} {url} as {who}: expected {want}, got {seen[(method, url, who)]}"
             for method, _, url, expected in rows for who, want in expected.items()
             if seen[(method, url, who)] != want]
    assert wrong == []


def test_given_a_cookie_session_then_the_same_roles_apply(tmp_path):
    """Browsers use the cookie, not the bearer header: same answers."""

    async def body(_, backend):
        out = {}
        # unsafe: the jar would otherwise keep no cookie for an IP address.
        http = aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}",
                                     cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with http:
            await cookie_logins(http, out)
        return out

    out = run_backend(tmp_path, body)
    assert out == {
        ("agent", "/api/calls"): 403, ("agent", "/api/audit"): 403, ("agent", "/api/me"): 200,
        ("sup", "/api/calls"): 200, ("sup", "/api/audit"): 403, ("sup", "/api/me"): 200,
        ("admin", "/api/calls"): 200, ("admin", "/api/audit"): 200, ("admin", "/api/me"): 200,
        ("forged", "/api/me"): 401,
    }


async def cookie_logins(http: aiohttp.ClientSession, out: dict) -> None:
    for who in ("agent", "sup", "admin"):
        http.cookie_jar.clear()
        async with http.post("/api/login", json={"username": who, "password": PASSWORD}) as r:
            assert r.status == 200
        for url in ("/api/calls", "/api/audit", "/api/me"):
            async with http.get(url) as r:
                out[(who, url)] = r.status
    http.cookie_jar.clear()
    async with http.get("/api/me", headers={"Authorization": "Bearer nonsense"}) as r:
        out[("forged", "/api/me")] = r.status


# -- the live WebSocket and what each login hears on it ------------------------

# (event, {who: hears it}); agent_id 1 / department_id 1 are the linked logins' own
# (checked below), 2 someone else's.
# Which live events each login hears is pinned, by hand and per audience,
# in tests/console/test_live_audiences.py; here: who may open the socket.


async def handshake_status(http: aiohttp.ClientSession, headers: dict[str, str]) -> int:
    try:
        ws = await http.ws_connect("/api/ws", headers=headers)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


def test_websocket_refuses_anonymous_and_greets_each_login(tmp_path):
    async def body(http, backend):
        out: dict[str, object] = {}
        out["anon"] = await handshake_status(http, {})
        out["forged"] = await handshake_status(http, {"Authorization": "Bearer forged"})
        sockets = {}
        for who in WHO[1:]:
            headers = await log_in(http, who)
            sockets[who] = await http.ws_connect("/api/ws", headers=headers)
            hello = await sockets[who].receive_json()
            out[f"hello-{who}"] = (hello["type"], hello["user"]["role"])
        for ws in sockets.values():
            out.setdefault("snapshots", []).append((await ws.receive_json())["type"])
            await ws.close()
        return out

    out = run_backend(tmp_path, body)
    assert out["anon"] == 401 and out["forged"] == 401
    for who, role in [("agent", "agent"), ("unlinked", "agent"), ("sup", "supervisor"),
                      ("dept", "department"), ("admin", "admin")]:
        assert out[f"hello-{who}"] == ("hello", role)
    assert out["snapshots"] == ["snapshot"] * 5


def test_each_login_sees_itself_and_its_session_ends_at_logout(tmp_path):
    """/api/me and the login answer say who is logged in, field by field;
    after logout the token and the cookie are dead."""

    async def body(http, backend):
        out = {}
        for who in ("agent", "unlinked", "dept", "admin"):
            async with http.post("/api/login",
                                 json={"username": who, "password": PASSWORD}) as r:
                login = await r.json()
                cookie = r.cookies[auth.COOKIE]
                out[f"cookie-{who}"] = (cookie.value == login["token"], cookie["httponly"],
                                        cookie["samesite"], cookie["max-age"])
            headers = {"Authorization": f"Bearer {login['token']}"}
            async with http.get("/api/me", headers=headers) as r:
                out[who] = await r.json()
            out[f"login-{who}"] = login["user"] == out[who]
            async with http.post("/api/logout", headers=headers) as r:
                out[f"logout-{who}"] = (r.status, await r.json(),
                                        r.cookies[auth.COOKIE].value)
            async with http.get("/api/me", headers=headers) as r:
                out[f"after-{who}"] = r.status
        async with http.post("/api/login", json={"username": "agent", "password": "nope"}) as r:
            out["wrong"] = (r.status, (await r.json())["error"]["code"])
        async with http.post("/api/login", json={"username": "agent", "password": 5}) as r:
            out["typed"] = (r.status, (await r.json())["error"]["field"])
        async with http.post("/api/login", json={"username": "agent"}) as r:
            out["missing"] = (r.status, await r.json())
        async with http.get("/api/me", headers={"Authorization": "Bearer "}) as r:
            out["empty"] = r.status
        async with http.get("/api/me", headers={"Authorization": "Basic abc"}) as r:
            out["basic"] = r.status
        return out

    out = run_backend(tmp_path, body)
    assert set(out["agent"]) == {"id", "username", "display_name", "role", "agent_id",
                                 "department_id"}
    assert (out["agent"]["username"], out["agent"]["display_name"], out["agent"]["role"]) == (
        "agent", "agent", "agent")
    assert isinstance(out["agent"]["agent_id"], int) and out["agent"]["department_id"] is None
    assert (out["unlinked"]["role"], out["unlinked"]["agent_id"]) == ("agent", None)
    assert isinstance(out["dept"]["department_id"], int) and out["dept"]["agent_id"] is None
    assert out["dept"]["role"] == "department" and out["admin"]["role"] == "admin"
    assert len({out[w]["id"] for w in ("agent", "unlinked", "dept", "admin")}) == 4
    for who in ("agent", "unlinked", "dept", "admin"):
        assert out[f"login-{who}"] is True
        assert out[f"cookie-{who}"] == (True, True, "Strict", str(
            int(accounts.SESSION_LIFETIME.total_seconds())))
        assert out[f"logout-{who}"] == (200, {"ok": True}, "")
        assert out[f"after-{who}"] == 401
    assert out["wrong"] == (401, "bad_credentials")
    assert out["typed"] == (400, "password")
    assert out["missing"] == (400, {"error": {
        "code": "invalid", "message": "username and password are required strings"}})
    assert (out["empty"], out["basic"]) == (401, 401)
