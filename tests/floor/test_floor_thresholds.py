"""The floor's alert thresholds set by supervisors: validated with every bad
field named, stored and audited, applied at once on the instance that took
the change and, through the relayed event, on every other; an instance that
missed the event picks the change up at its next tick; agents are refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from core.clock import Clock, run_simulated
from core.db import Database
from floor.models import FloorThresholdSet
from hotline.app import Backend
from routing.models import AuditEntry
from tests.conftest import make_database_url
from tests.console.test_http import login
from tests.console.test_lifecycle_http import NOW
from tests.helpers import prepare_database, settings_for_test


async def console(http: aiohttp.ClientSession, headers: dict[str, str]) -> Any:
    ws = await http.ws_connect("/api/ws", headers=headers)
    assert (await ws.receive_json(timeout=60))["type"] == "hello"
    snapshot = await ws.receive_json(timeout=60)
    return ws, snapshot["state"]["floor"]["thresholds"]


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message = await ws.receive_json(timeout=120)
        if message["type"] == kind:
            return message


def test_supervisors_set_thresholds_checked_stored_audited_and_applied(database_url, tmp_path):
    prepare_database(database_url, NOW)
    settings = settings_for_test(database_url, tmp_path)

    async def main() -> dict[str, Any]:
        backend = Backend(settings, clock=Clock.for_running_loop(NOW))
        await backend.start()
        out: dict[str, Any] = {}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                sup, agent = await login(http, "sup"), await login(http, "agent")
                ws, out["snapshot"] = await console(http, sup)
                async with http.put("/api/floor/thresholds", headers=sup,
                                    json={"long_wait_seconds": "soon"}) as r:
                    out["bad_type"] = (r.status, (await r.json())["error"]["field"])
                async with http.put("/api/floor/thresholds", headers=sup, json={
                        "long_wait_seconds": 2, "service_level_target": 2,
                        "draft_minutes": 0, "colour": "red"}) as r:
                    out["bad"] = (r.status, await r.json())
                async with http.put("/api/floor/thresholds", headers=agent,
                                    json={"long_wait_seconds": 20}) as r:
                    out["agent"] = r.status
                async with http.put("/api/floor/thresholds", headers=sup, json={
                        "long_wait_seconds": 20, "service_level_target": 0.8}) as r:
                    out["put"] = (r.status, await r.json())
                out["event"] = await next_of(ws, "floor.thresholds")
                out["applied"] = backend.floor.thresholds  # type: ignore[union-attr]
                async with http.put("/api/floor/thresholds", headers=sup,
                                    json={"long_wait_seconds": 20}) as r:
                    out["same"] = (await r.json())["version"]
                async with http.get("/api/floor/thresholds", headers=sup) as r:
                    out["get"] = await r.json()
                async with http.get("/api/floor", headers=sup) as r:
                    out["floor"] = (await r.json())["thresholds"]
                # Another instance's change this one did not hear of (a row
                # written without the event): taken at the next tick, and told
                # to this instance's consoles.
                db = Database(settings.database_url)
                db.call(lambda s: s.add(FloorThresholdSet(
                    long_wait_seconds=45, service_level_target=0.85,
                    service_level_min_offered=5, draft_minutes=12, set_at=NOW)))
                db.close()
                out["missed"] = await next_of(ws, "floor.thresholds")
                await ws.close()
        finally:
            await backend.stop()
        db = Database(settings.database_url)
        out["audit"] = db.call(lambda s: [(a.action, a.detail) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "floor_thresholds"))])
        out["rows"] = db.call(lambda s: len(s.scalars(select(FloorThresholdSet)).all()))
        db.close()
        return out

    out = run_simulated(main())
    assert out["snapshot"]["long_wait_seconds"] == 60 and out["snapshot"]["version"] is None
    assert out["bad_type"] == (400, "long_wait_seconds")
    status, body = out["bad"]
    assert status == 400 and body["error"]["field"] == "long_wait_seconds"
    assert {p["field"]: p["code"] for p in body["error"]["problems"]} == {
        "long_wait_seconds": "range", "service_level_target": "range",
        "draft_minutes": "range", "colour": "unknown_field"}
    assert out["agent"] == 403
    status, put = out["put"]
    assert status == 200 and put["thresholds"]["long_wait_seconds"] == 20
    assert put["thresholds"]["service_level_target"] == 0.8
    assert put["thresholds"]["draft_minutes"] == 10  # not named: as it was
    assert out["event"]["version"] == put["version"]
    assert out["event"]["thresholds"]["long_wait_seconds"] == 20
    assert out["applied"].long_wait_seconds == 20
    assert out["applied"].service_level_target == 0.8
    assert out["same"] == put["version"]  # nothing changed: no new version
    assert out["get"]["thresholds"] == put["thresholds"]
    assert out["get"]["defaults"]["long_wait_seconds"] == 60
    assert out["floor"]["long_wait_seconds"] == 20 and out["floor"]["version"] == put["version"]
    assert out["missed"]["thresholds"]["long_wait_seconds"] == 45
    assert out["missed"]["thresholds"]["service_level_min_offered"] == 5
    assert out["audit"] == [("floor_thresholds",
                             "long_wait_seconds: 60 -> 20; service_level_target: 0.9 -> 0.8")]
    assert out["rows"] == 2


@pytest.fixture
def postgres_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


@pytest.mark.postgres
def test_a_change_on_one_instance_is_applied_on_the_other(postgres_url, tmp_path):
    prepare_database(postgres_url, NOW)

    async def main() -> dict[str, Any]:
        clock = Clock.for_running_loop(NOW)
        backends = [Backend(replace(settings_for_test(postgres_url, tmp_path / str(i)),
                                    config_check_seconds=3600.0), clock=clock)
                    for i in range(2)]
        for backend in backends:
            await backend.start()
        a = aiohttp.ClientSession(f"http://127.0.0.1:{backends[0].http_port}")
        b = aiohttp.ClientSession(f"http://127.0.0.1:{backends[1].http_port}")
        try:
            # Instance 1's periodic check of the stored settings is an hour
            # away: only the announcement relayed from instance 0 can tell it.
            floor = backends[1].floor
            assert floor is not None
            ws, _ = await console(b, await login(b, "sup"))
            async with a.put("/api/floor/thresholds", headers=await login(a, "sup"),
                             json={"long_wait_seconds": 30}) as r:
                assert r.status == 200, await r.text()
            heard = await next_of(ws, "floor.thresholds")
            for _ in range(100):  # the floor's own subscription, on the same delivery
                if floor.thresholds.long_wait_seconds == 30:
                    break
                await asyncio.sleep(0)
            async with b.get("/api/floor", headers=await login(b, "sup")) as r:
                shown = (await r.json())["thresholds"]
            await ws.close()
            return {"heard": heard, "other": floor.thresholds.long_wait_seconds,
                    "shown": shown}
        finally:
            await a.close()
            await b.close()
            for backend in backends:
                await backend.stop()

    out = run_simulated(main())
    assert out["heard"]["thresholds"]["long_wait_seconds"] == 30
    assert out["other"] == 30 and out["shown"]["long_wait_seconds"] == 30
