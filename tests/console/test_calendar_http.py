"""The calendar over HTTP: supervisors and admins see the missing-2027
warning on 5 December 2026; only an admin loads a year; a refused file
answers every problem; a loaded year moves the flagged order's deadline,
and a second backend on the same database uses it at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import Clock, run_simulated
from hotline.app import Backend
from tests.console.test_http import login
from tests.console.test_lifecycle_http import seed_orders
from tests.helpers import prepare_database, settings_for_test

TODAY = datetime(2026, 12, 5, 2, tzinfo=UTC)  # Saturday 10:00 in Baoji
FIXTURE_2027 = Path(__file__).resolve().parents[1] / "fixtures" / "calendar" / "2027-test.json"


@pytest.fixture
def shared_url(tmp_path):  # several backends share PostgreSQL (SQLite serves one)
    from tests.conftest import make_database_url

    yield from make_database_url("postgresql", tmp_path)


def test_admin_loads_2027_and_every_instance_counts_with_it(tmp_path, shared_url) -> None:
    url = shared_url
    prepare_database(url, TODAY)
    seed_orders(url)  # dispatched 30 Nov 2026: due in December, untouched by 2027
    data = json.loads(FIXTURE_2027.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(data))
    broken["years"][0]["workdays"].append({"name": "x", "date": "2027-02-09"})

    async def main():
        import aiohttp

        first = Backend(settings_for_test(url, tmp_path), clock=Clock.for_running_loop(TODAY))
        second = Backend(settings_for_test(url, tmp_path / "b"),
                         clock=Clock.for_running_loop(TODAY))
        await first.start()
        await second.start()
        out = {}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{first.http_port}") as a, \
                    aiohttp.ClientSession(f"http://127.0.0.1:{second.http_port}") as b:
                admin, sup, dept = (await login(a, "admin"), await login(a, "sup"),
                                    await login(a, "dept"))
                b_sup = await login(b, "sup")
                async with a.get("/api/calendar", headers=sup) as r:
                    out["before"] = await r.json()
                async with a.get("/api/calendar", headers=dept) as r:
                    out["dept_view"] = r.status
                async with a.post("/api/calendar/years", headers=sup, json=data) as r:
                    out["sup_load"] = r.status
                async with a.post("/api/calendar/years", headers=admin, json=broken) as r:
                    out["broken"] = (r.status, await r.json())
                async with b.get("/api/calendar/2027", headers=b_sup) as r:
                    out["b_before"] = await r.json()
                async with a.post("/api/calendar/years", headers=admin, json=data) as r:
                    out["loaded"] = (r.status, await r.json())
                async with b.get("/api/calendar/2027", headers=b_sup) as r:
                    out["b_after"] = await r.json()
                async with b.get("/api/calendar", headers=b_sup) as r:
                    out["after"] = await r.json()
                async with a.get("/api/audit", headers=admin) as r:
                    out["audit"] = [e["action"] for e in (await r.json())["entries"]]
        finally:
            await second.stop()
            await first.stop()
        return out

    out = run_simulated(main())
    assert 2027 not in out["before"]["years"]
    assert any("2027" in w for w in out["before"]["warnings"])
    assert out["dept_view"] == 403 and out["sup_load"] == 403
    status, body = out["broken"]
    assert status == 422 and body["error"]["code"] == "invalid_calendar"
    assert any("2027-02-09 is not a Saturday" in p for p in body["error"]["problems"])
    assert any("both as holiday and as make-up day: 2027-02-09" in p
               for p in body["error"]["problems"])
    assert out["b_before"]["basis"].startswith("fallback")
    status, loaded = out["loaded"]
    assert status == 200 and loaded["years"] == [2027] and loaded["recomputed"] == []
    assert out["b_after"]["loaded"] and out["b_after"]["working_days"] == 248
    assert 2027 in out["after"]["years"] and out["after"]["warnings"] == []
    assert "calendar.load" in out["audit"]
