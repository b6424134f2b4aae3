"""Issue 14, logins: a flood of wrong passwords must not hold the database,
old hashes are upgraded, failures are throttled (never forty colleagues
behind one office address), and the same-origin rule for cookies."""

from __future__ import annotations

import asyncio
import hashlib
import logging

import aiohttp
from sqlalchemy import select

from core import accounts
from core.passwords import HashingPool
from tests.console.test_http import login, run_with_backend
from tests.helpers import PASSWORD


def _pbkdf2(password: str) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
    return f"pbkdf2_sha256$200000${salt.hex()}${digest.hex()}"


def test_a_flood_of_wrong_logins_does_not_hold_the_database(database_url, tmp_path):
    """Before: each login hashed on the database's one thread, so /api/me
    (and the IVR) waited behind every login in the flood."""
    async def body(http, backend):
        agent = await login(http, "agent")
        finished: list[str] = []
        reached = asyncio.Event()

        class Watched(HashingPool):
            async def _run(self, fn, *args):
                if self.waiting + 1 >= 8:  # the flood has reached the hashing
                    reached.set()
                return await super()._run(fn, *args)

        backend.deps.hashing.close()
        backend.deps.hashing = Watched()

        async def wrong(i: int) -> int:
            # Unknown users too: they cost a (dummy) hash like everyone else.
            async with http.post("/api/login", json={"username": f"nobody{i}",
                                                     "password": "wrong-password"}) as r:
                finished.append("login")
                return r.status

        floods = [asyncio.create_task(wrong(i)) for i in range(24)]
        await reached.wait()
        async with http.get("/api/me", headers=agent) as r:
            me = r.status
        logins_done_before_me = len(finished)
        ivr_step = await backend.deps.db.run(lambda s: s.scalar(select(accounts.User.id)))
        logins_done_before_ivr = len(finished)
        statuses = await asyncio.gather(*floods)
        return me, logins_done_before_me, ivr_step, logins_done_before_ivr, statuses

    me, before_me, ivr_step, before_ivr, statuses = run_with_backend(database_url, tmp_path,
                                                                     body)
    assert me == 200 and ivr_step is not None
    assert before_me < 24 and before_ivr < 24
    assert statuses == [401] * 24


def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded_to_argon2id(database_url, tmp_path):
    async def body(http, backend):
        def set_old(s):
            user = s.scalar(select(accounts.User).where(accounts.User.username == "sup"))
            user.password_hash = _pbkdf2(PASSWORD)
        await backend.deps.db.run(set_old)
        await login(http, "sup")
        return await backend.deps.db.run(lambda s: s.scalar(
            select(accounts.User.password_hash).where(accounts.User.username == "sup")))

    stored = run_with_backend(database_url, tmp_path, body)
    assert stored.startswith("$argon2id$")


def test_failed_logins_are_throttled_per_user_and_address_and_logged(database_url, tmp_path,
                                                                      caplog):
    async def body(http, backend):
        out = []
        for _ in range(6):
            async with http.post("/api/login", json={"username": "agent",
                                                     "password": "guess-guess"}) as r:
                out.append((r.status, r.headers.get("Retry-After")))
        # Now even the right password waits; another user from the same address does not.
        async with http.post("/api/login", json={"username": "agent",
                                                 "password": PASSWORD}) as r:
            right = (r.status, r.headers.get("Retry-After"))
        async with http.post("/api/login", json={"username": "sup",
                                                 "password": PASSWORD}) as r:
            other = r.status
        await asyncio.sleep(15 * 60 + 1)  # the window passes (virtual time)
        async with http.post("/api/login", json={"username": "agent",
                                                 "password": PASSWORD}) as r:
            later = r.status
        return out, right, other, later

    with caplog.at_level(logging.WARNING, logger="console.auth"):
        out, right, other, later = run_with_backend(database_url, tmp_path, body)
    assert [s for s, _ in out[:5]] == [401] * 5
    assert out[5][0] == 429 and 0 < int(out[5][1]) <= 15 * 60 + 1
    assert right[0] == 429 and right[1]
    assert other == 200 and later == 200
    assert sum("failed login for 'agent'" in m for m in caplog.messages) == 5


def test_forty_agents_behind_one_office_address_are_never_refused(database_url, tmp_path):
    async def body(http, backend):
        def make(s):
            for i in range(40):
                accounts.create_user(s, username=f"office{i}", password=PASSWORD, role="agent",
                                     now=backend.deps.clock.now())
        await backend.deps.db.run(make)

        async def shift_change(i: int) -> list[int]:
            statuses = []
            for password in ("typo-typo", PASSWORD):  # each mistypes once first
                async with http.post("/api/login", json={"username": f"office{i}",
                                                         "password": password}) as r:
                    statuses.append(r.status)
            return statuses

        return await asyncio.gather(*(shift_change(i) for i in range(40)))

    results = run_with_backend(database_url, tmp_path, body)
    assert results == [[401, 200]] * 40


def test_cookie_writes_and_websockets_from_another_origin_are_refused(database_url, tmp_path):
    async def body(http, backend):
        async with http.post("/api/login", json={"username": "sup", "password": PASSWORD}) as r:
            token = (await r.json())["token"]
        cookie = {"Cookie": f"hotline_session={token}"}
        here = f"http://127.0.0.1:{backend.http_port}"
        out = {}
        async with http.post("/api/logout", headers={**cookie, "Origin": "http://evil.example"}
                             ) as r:
            out["evil_write"] = r.status
        async with http.post("/api/logout", headers=cookie) as r:
            out["no_origin_write"] = r.status
        async with http.post("/api/callbacks/1/close", data='{"note": "x"}',
                             headers={**cookie, "Origin": here,
                                      "Content-Type": "text/plain"}) as r:
            out["text_plain"] = r.status
        try:
            async with http.ws_connect("/api/ws", headers={**cookie,
                                                           "Origin": "http://evil.example"}):
                out["evil_ws"] = "open"
        except aiohttp.WSServerHandshakeError as exc:
            out["evil_ws"] = exc.status
        async with http.ws_connect("/api/ws", headers={**cookie, "Origin": here}) as ws:
            out["own_ws"] = (await ws.receive_json())["type"]
        async with http.get("/api/me", headers=cookie) as r:
            out["read"] = r.status
            out["headers"] = dict(r.headers)
        async with http.post("/api/logout", headers={**cookie, "Origin": here}) as r:
            out["own_write"] = r.status
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out["evil_write"] == 403 and out["no_origin_write"] == 403
    assert out["text_plain"] == 415
    assert out["evil_ws"] == 403 and out["own_ws"] == "hello"
    assert out["read"] == 200 and out["own_write"] == 200
    assert "frame-ancestors 'none'" in out["headers"]["Content-Security-Policy"]
    assert out["headers"]["X-Content-Type-Options"] == "nosniff"


def test_secure_cookie_setting(database_url, tmp_path):
    from dataclasses import replace

    from tests.helpers import prepare_database, settings_for_test

    prepare_database(database_url)
    settings = replace(settings_for_test(database_url, tmp_path), cookie_secure=True)

    async def main():
        from hotline.app import Backend

        backend = Backend(settings)
        await backend.start()
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                async with http.post("/api/login", json={"username": "sup",
                                                         "password": PASSWORD}) as r:
                    return r.headers.getall("Set-Cookie")
        finally:
            await backend.stop()

    from core.clock import run_simulated

    cookies = run_simulated(main())
    assert any("Secure" in c and "HttpOnly" in c for c in cookies)
