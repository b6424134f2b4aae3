"""Supervision over HTTP: the department is warned live at 80 % of its
time, an overdue order is on the supervisors' 督办 list, and their 催办 is
shown to the department (live and on its list); roles enforced."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp

from core.clock import Clock, run_simulated
from hotline.app import Backend
from tests.console.test_http import login
from tests.console.test_lifecycle_http import seed_orders
from tests.helpers import prepare_database, settings_for_test

DISPATCHED = datetime(2026, 11, 30, 2, tzinfo=UTC)  # Monday 10:00: due Thu 3 Dec
START = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # Thursday 06:30 in Baoji
OVERDUE = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # Friday 00:30


def test_warning_overdue_list_and_urge(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, DISPATCHED)
    (plain, complex_, third), mine, _other = seed_orders(url)

    async def on_backend(start, body):
        backend = Backend(settings_for_test(url, tmp_path), clock=Clock.for_running_loop(start))
        await backend.start()
        assert backend.deps is not None
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                dept, sup = await login(http, "dept"), await login(http, "sup")
                async with http.ws_connect("/api/ws", headers=dept) as ws:
                    await ws.receive_json()  # hello

                    async def next_of(kind):
                        while True:
                            event = await ws.receive_json()
                            if event["type"] == kind:
                                return event

                    return await body(backend.deps.clock, http, dept, sup, next_of)
        finally:
            await backend.stop()

    async def warned(clock, http, dept, sup, next_of):
        warning = await asyncio.wait_for(next_of("order.deadline_warning"), 3600)
        return {"warned_at": clock.now(), "warning": warning}

    async def overdue(clock, http, dept, sup, next_of):
        out = {}
        async with http.get("/api/worklists/overdue", headers=sup) as r:
            out["overdue"] = [o["id"] for o in (await r.json())["work_orders"]]
        async with http.get("/api/worklists/overdue", headers=dept) as r:
            out["dept_overdue"] = r.status
        async with http.post(f"/api/work-orders/{plain}/urge", headers=dept,
                             json={"note": "x"}) as r:
            out["dept_urge"] = r.status
        async with http.post(f"/api/work-orders/{plain}/urge", headers=sup,
                             json={"note": "请今日办结并回复"}) as r:
            out["urge"] = r.status
        out["urged_live"] = await asyncio.wait_for(next_of("order.urged"), 60)
        async with http.get("/api/worklists/department", headers=dept) as r:
            out["dept_list"] = {o["id"]: o for o in (await r.json())["work_orders"]}
        return out

    async def main():
        return {**await on_backend(START, warned), **await on_backend(OVERDUE, overdue)}

    out = run_simulated(main())
    # 80 % of Mon 10:00 -> Thu 23:59:59 local (309 599 s) is Thu 06:47:59 local;
    # the job looks every 5 minutes.
    assert datetime(2026, 12, 2, 22, 47, 59, tzinfo=UTC) <= out["warned_at"] <= \
        datetime(2026, 12, 2, 22, 53, tzinfo=UTC)
    assert out["warning"]["department_id"] == mine and out["warning"]["due_date"] == "2026-12-03"
    assert set(out["overdue"]) == {plain, third}  # the complex one has 5 days
    assert (out["dept_overdue"], out["dept_urge"], out["urge"]) == (403, 403, 200)
    assert out["urged_live"]["order_id"] == plain
    assert out["dept_list"][plain]["urge_note"] == "请今日办结并回复"
    assert out["dept_list"][plain]["warned_at"] is not None
