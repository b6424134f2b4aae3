"""Issue 14: taking access away (disable, reset password, end sessions) by API
and CLI; expired sessions purged."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import aiohttp
from sqlalchemy import func, select

from core import accounts
from core.db import Database
from tests.console.test_http import login, run_with_backend
from tests.e2e.test_cli import env_for
from tests.helpers import PASSWORD, prepare_database

ROLES = ("agent", "sup", "dept", "admin")


def test_admin_disables_resets_and_logs_out_users_and_others_may_not(database_url, tmp_path):
    async def body(http, backend):
        ids = dict(await backend.deps.db.run(lambda s: s.execute(
            select(accounts.User.username, accounts.User.id)).all()))
        heads = {name: await login(http, name) for name in ROLES}
        admin, out = heads["admin"], {}

        async def status(method, path, who, **kw):
            async with http.request(method, path, headers=who, **kw) as r:
                return r.status, await r.json()

        for name in ("agent", "sup", "dept"):
            out[f"{name}_list"] = (await status("GET", "/api/users", heads[name]))[0]
            out[f"{name}_disable"] = (await status(
                "POST", f"/api/users/{ids['admin']}/disable", heads[name]))[0]
        out["list"] = (await status("GET", "/api/users", admin))[1]["users"]
        out["disable"] = await status("POST", f"/api/users/{ids['agent']}/disable", admin)
        out["disabled_token"] = (await status("GET", "/api/me", heads["agent"]))[0]
        async with http.post("/api/login", json={"username": "agent",
                                                 "password": PASSWORD}) as r:
            out["disabled_login"] = r.status
        out["enable"] = (await status("POST", f"/api/users/{ids['agent']}/enable", admin))[0]
        agent = await login(http, "agent")
        out["reset"] = await status("POST", f"/api/users/{ids['agent']}/password", admin,
                                    json={"password": "brand-new-pass-1"})
        out["after_reset_token"] = (await status("GET", "/api/me", agent))[0]
        async with http.post("/api/login", json={"username": "agent",
                                                 "password": PASSWORD}) as r:
            out["old_password"] = r.status
        async with http.post("/api/login", json={"username": "agent",
                                                 "password": "brand-new-pass-1"}) as r:
            out["new_password"] = r.status
        out["generated"] = await status("POST", f"/api/users/{ids['sup']}/password", admin,
                                        json={})
        async with http.post("/api/login", json={
                "username": "sup", "password": out["generated"][1]["password"]}) as r:
            out["generated_login"] = r.status
        out["end"] = await status("POST", f"/api/users/{ids['dept']}/end-sessions", admin)
        out["ended_token"] = (await status("GET", "/api/me", heads["dept"]))[0]
        out["self"] = (await status("POST", f"/api/users/{ids['admin']}/disable", admin))[0]
        async with http.get("/api/audit", headers=admin) as r:
            out["audit"] = [e["action"] for e in (await r.json())["entries"]]
        return out

    out = run_with_backend(database_url, tmp_path, body)
    for name in ("agent", "sup", "dept"):
        assert out[f"{name}_list"] == 403 and out[f"{name}_disable"] == 403
    assert {u["username"] for u in out["list"]} >= set(ROLES)
    assert out["disable"][0] == 200 and out["disable"][1]["user"]["active"] is False
    assert out["disable"][1]["sessions_ended"] == 1
    assert out["disabled_token"] == 401 and out["disabled_login"] == 401
    assert out["enable"] == 200
    assert out["reset"][0] == 200 and "password" not in out["reset"][1]
    assert out["after_reset_token"] == 401 and out["old_password"] == 401
    assert out["new_password"] == 200
    assert out["generated"][0] == 200 and out["generated_login"] == 200
    assert out["end"][0] == 200 and out["end"][1]["sessions_ended"] == 1
    assert out["ended_token"] == 401
    assert out["self"] == 409
    assert {"user_disable", "user_enable", "user_password_reset",
            "user_logout_all"} <= set(out["audit"])


def test_expired_sessions_are_purged_when_the_backend_runs(database_url, tmp_path):
    async def body(http, backend):
        await login(http, "agent")
        now = backend.deps.clock.now()

        def old_session(s):
            user_id = s.scalar(select(accounts.User.id).where(accounts.User.username == "sup"))
            s.add(accounts.LoginSession(token_hash="x" * 64, user_id=user_id,
                                        created_at=now - timedelta(days=2),
                                        expires_at=now - timedelta(days=1)))
        await backend.deps.db.run(old_session)
        await backend._purge_logins_once()
        return await backend.deps.db.run(lambda s: s.scalar(
            select(func.count()).select_from(accounts.LoginSession)))

    assert run_with_backend(database_url, tmp_path, body) == 1  # the agent's live one


def test_cli_disables_and_resets_a_password_from_standard_input(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url)
    env = env_for(url, tmp_path / "var")
    hotline = [sys.executable, "-m", "hotline.cli", "user"]
    off = subprocess.run([*hotline, "disable", "--username", "agent"], env=env,
                         capture_output=True, text=True, timeout=120)
    reset = subprocess.run([*hotline, "reset-password", "--username", "sup",
                            "--password-stdin"], input="from-stdin-99\n", env=env,
                           capture_output=True, text=True, timeout=120)
    unknown = subprocess.run([*hotline, "end-sessions", "--username", "nobody"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert off.returncode == 0, off.stderr
    assert reset.returncode == 0 and "from-stdin-99" not in reset.stdout
    assert unknown.returncode == 2 and "no user" in unknown.stderr
    db = Database(url)
    try:
        agent_active, sup_hash = db.call(lambda s: (
            s.scalar(select(accounts.User.active).where(accounts.User.username == "agent")),
            s.scalar(select(accounts.User.password_hash).where(
                accounts.User.username == "sup"))))
    finally:
        db.close()
    from core.passwords import verify_password

    assert agent_active is False
    assert verify_password("from-stdin-99", sup_hash)


def test_ending_a_login_closes_its_live_connections(database_url, tmp_path):
    """A disabled user, or one logged out, hears nothing more: the open
    WebSockets close with 4401 (on another instance, within a check period)."""

    async def body(http, backend):
        ids = dict(await backend.deps.db.run(lambda s: s.execute(
            select(accounts.User.username, accounts.User.id)).all()))
        admin, out = await login(http, "admin"), {}

        async def opened(head):
            ws = await http.ws_connect("/api/ws", headers=head)
            assert (await ws.receive_json())["type"] == "hello"
            assert (await ws.receive_json())["type"] == "snapshot"
            return ws

        agent_head, other_head = await login(http, "agent"), await login(http, "agent")
        agent_ws, other_ws = await opened(agent_head), await opened(other_head)
        sup_ws = await opened(await login(http, "sup"))
        # Logout ends one session: its socket closes, the same user's other stays.
        async with http.post("/api/logout", headers=agent_head) as r:
            out["logout"] = r.status
        msg = await agent_ws.receive()
        out["logged_out"] = (msg.type, msg.data, msg.extra)
        async with http.post(f"/api/users/{ids['agent']}/disable", headers=admin) as r:
            out["disable"] = r.status
        msg = await other_ws.receive()
        out["disabled"] = (msg.type, msg.data, msg.extra)
        out["sup_open"] = not sup_ws.closed
        await sup_ws.close()
        return out

    out = run_with_backend(database_url, tmp_path, body)
    closed = (aiohttp.WSMsgType.CLOSE, 4401, "session ended; log in again")
    assert out["logout"] == 200 and out["logged_out"] == closed
    assert out["disable"] == 200 and out["disabled"] == closed
    assert out["sup_open"] is True
