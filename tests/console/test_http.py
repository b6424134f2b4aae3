"""The REST API's guard rails: logins, roles, the OpenAPI document, /healthz."""

from __future__ import annotations

import re

import aiohttp
import pytest

from core.clock import run_simulated
from hotline.app import Backend
from tests.helpers import PASSWORD, prepare_database, settings_for_test


def run_with_backend(database_url, tmp_path, body):
    prepare_database(database_url)
    settings = settings_for_test(database_url, tmp_path)

    async def main():
        backend = Backend(settings)
        await backend.start()
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                return await body(http, backend)
        finally:
            await backend.stop()

    return run_simulated(main())


async def login(http, username):
    async with http.post("/api/login", json={"username": username, "password": PASSWORD}) as r:
        assert r.status == 200
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


def test_every_route_but_public_ones_requires_login(database_url, tmp_path):
    async def body(http, backend):
        app_specs = backend._runner.app[__import__("console.auth").auth.SPECS_KEY]
        statuses = {}
        for (method, path), spec in app_specs.items():
            url = re.sub(r"\{[a-z_]+\}", "1", path)
            async with http.request(method, url) as r:
                statuses[(method, path)] = (r.status, spec.public)
        return statuses

    statuses = run_with_backend(database_url, tmp_path, body)
    assert statuses
    for (method, path), (status, public) in statuses.items():
        if public:
            assert status != 401, (method, path)
        else:
            assert status == 401, (method, path)


def test_login_roles_and_openapi(database_url, tmp_path):
    async def body(http, backend):
        out = {}
        async with http.post("/api/login", json={"username": "agent", "password": "nope"}) as r:
            out["bad"] = r.status
        async with http.post("/api/login", data=b"not json",
                             headers={"Content-Type": "application/json"}) as r:
            out["garbage"] = (r.status, (await r.json())["error"]["code"])
        agent, sup = await login(http, "agent"), await login(http, "sup")
        async with http.get("/api/calls", headers=agent) as r:
            out["agent_calls"] = r.status
        async with http.get("/api/calls", headers=sup) as r:
            out["sup_calls"] = r.status
        async with http.get("/api/me", headers=agent) as r:
            out["me"] = (await r.json())["role"]
        async with http.get("/api/openapi.json", headers=agent) as r:
            out["openapi"] = await r.json()
        async with http.post("/api/work-orders/1/submit", headers=agent,
                             json={"title": 5}) as r:
            out["bad_submit"] = r.status
        async with http.post("/api/logout", headers=agent) as r:
            out["logout"] = r.status
        async with http.get("/api/me", headers=agent) as r:
            out["after_logout"] = r.status
        out["routes"] = {(s.method, s.path) for s in backend._runner.app[
            __import__("console.auth").auth.SPECS_KEY].values()}
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out["bad"] == 401
    assert out["garbage"] == (400, "bad_json")
    assert out["agent_calls"] == 403 and out["sup_calls"] == 200
    assert out["me"] == "agent"
    assert out["bad_submit"] == 400
    assert out["logout"] == 200 and out["after_logout"] == 401
    doc = out["openapi"]
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == out["routes"]


def test_healthz_reports_each_part_to_a_login_and_only_ok_to_anyone(database_url, tmp_path):
    async def body(http, backend):
        async with http.get("/healthz") as r:
            anonymous = r.status, await r.json()
        async with http.get("/healthz", headers=await login(http, "sup")) as r:
            return anonymous, r.status, await r.json()

    anonymous, status, data = run_with_backend(database_url, tmp_path, body)
    assert anonymous == (503, {"ok": False})  # no AMI host, port or counters
    assert data["database"]["up"] is True
    assert data["fastagi"]["listening"] is True
    assert data["ami"]["connected"] is False  # no PBX configured in this test
    assert status == 503 and data["ok"] is False


@pytest.mark.parametrize("kind", ["sqlite"])
def test_backend_refuses_an_unmigrated_database(kind, tmp_path):
    from hotline.app import StartupError

    settings = settings_for_test(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)

    async def main():
        await Backend(settings).start()

    with pytest.raises(StartupError, match="hotline migrate"):
        run_simulated(main())


def test_a_route_without_declared_roles_is_denied_not_exposed():
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from console import auth

    async def secret(_request):
        return web.Response(text="secret")

    async def main():
        app = web.Application()
        app.router.add_get("/undeclared", secret)
        app[auth.SPECS_KEY] = {}
        request = make_mocked_request("GET", "/undeclared", app=app)
        match = await app.router.resolve(request)
        match.add_app(app)
        request._match_info = match
        return await auth.auth_middleware(request, secret)

    response = asyncio.run(main())
    assert response.status == 403
