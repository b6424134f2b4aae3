"""A 加派 part held to its own deadline over HTTP: the supervisor urges the
co-handling department (told to it live, not to the lead), the department
asks for more time on the order's extension route, the request is on the
supervisors' lists and the floor, the supervisor approves on the part's
route (its deadline moves, the lead's not); the part's own 80 % warning
reaches its department live."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select

from core.clock import Clock, run_simulated
from core.db import Database
from hotline.app import Backend
from tests.console.test_http import login
from tests.console.test_lifecycle_http import NOW, with_backend
from tests.console.test_orders_http import setup
from worksheets import parts
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart


def give_part(settings, order_id: int, department_id: int, at: datetime) -> int:
    db = Database(settings.database_url)
    try:
        def work(s):
            parts.add(s, s.get(WorkOrder, order_id), [department_id], now=at, user_id=None)
            return s.scalar(select(OrderPart.id).where(OrderPart.order_id == order_id))
        return db.call(work)
    finally:
        db.close()


async def post_json(http, path, who, data=None):
    async with http.post(path, headers=who, json=data or {}) as r:
        return r.status, await r.json()


async def events(http, who):
    ws = await http.ws_connect("/api/ws", headers=who)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"

    async def next_of(kind):
        while True:
            event = await ws.receive_json()
            if event["type"] == kind:
                return event
    return ws, next_of


def test_urge_and_extension_of_a_part(tmp_path):
    settings, ids = setup(tmp_path)
    order_id = ids["complex"]  # complex help: due Monday 7 December
    part_id = give_part(settings, order_id, ids["other"], NOW)

    async def body(backend, http):
        dept, dept2 = await login(http, "dept"), await login(http, "dept2")
        sup, out = await login(http, "sup"), {}

        def post(path, who, data=None):
            return post_json(http, path, who, data)

        async def my_part(who):
            async with http.get("/api/worklists/department", headers=who) as r:
                return {o["id"]: o for o in (await r.json())["work_orders"]}[order_id]

        ws2, heard2 = await events(http, dept2)
        ws1, heard1 = await events(http, dept)
        wss, heard_sup = await events(http, sup)
        out["dept_urges"] = (await post(f"/api/order-parts/{part_id}/urge", dept,
                                        {"note": "x"}))[0]
        out["urge"] = await post(f"/api/order-parts/{part_id}/urge", sup,
                                 {"note": "请协办单位今日答复"})
        out["urged_live"] = await asyncio.wait_for(heard2("order.co_urged"), 5)
        out["mine_after_urge"] = await my_part(dept2)
        # The lead hears its own steps, not the part's 催办: the next it gets is its accept.
        await post(f"/api/work-orders/{order_id}/accept", dept)
        out["lead_heard"] = (await asyncio.wait_for(ws1.receive_json(), 5))["type"]
        # The department asks for its part on the order's route.
        out["bad_days"] = (await post(f"/api/work-orders/{order_id}/extension", dept2,
                                      {"days": 9, "reason": "需协调"}))[0]
        out["ask"] = await post(f"/api/work-orders/{order_id}/extension", dept2,
                                {"days": 3, "reason": "需协调燃气公司"})
        async with http.get("/api/worklists/extensions", headers=sup) as r:
            out["listed"] = (await r.json())["work_orders"]
        while True:  # the floor's approvals list follows the request
            orders = (await asyncio.wait_for(heard_sup("floor.orders"), 5))["figures"]
            if orders.get("extensions"):
                out["floor"] = orders["extensions"]
                break
        out["dept_decides"] = (await post(f"/api/order-parts/{part_id}/extension/decision",
                                          dept2, {"approve": True}))[0]
        out["no_approve"] = (await post(f"/api/order-parts/{part_id}/extension/decision",
                                        sup, {}))[0]
        out["approve"] = await post(f"/api/order-parts/{part_id}/extension/decision", sup,
                                    {"approve": True, "note": "同意"})
        out["decided_live"] = await asyncio.wait_for(heard2("order.co_extension_decided"), 5)
        out["mine_after"] = await my_part(dept2)
        out["again"] = await post(f"/api/order-parts/{part_id}/extension/decision", sup,
                                  {"approve": True})
        for ws in (ws1, ws2, wss):
            await ws.close()
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["dept_urges"] == 403
    assert out["urge"][0] == 200 and out["urge"][1]["part"]["urge_note"] == "请协办单位今日答复"
    assert out["urge"][1]["urge_note"] == ""  # the lead's order is not urged
    assert (out["urged_live"]["order_id"], out["urged_live"]["department_id"]) == (
        order_id, ids["other"])
    assert out["mine_after_urge"]["my_part"]["urge_note"] == "请协办单位今日答复"
    assert out["lead_heard"] == "order.accepted"
    assert out["bad_days"] == 422
    assert out["ask"][0] == 200 and out["ask"][1]["extension_days"] is None  # not the lead's
    [listed] = out["listed"]
    assert listed["id"] == order_id
    assert [(r["id"], r["extension_days"], r["extension_reason"])
            for r in listed["part_requests"]] == [(part_id, 3, "需协调燃气公司")]
    assert [(r["order_id"], r["part_id"], r["days"], r["department_id"]) for r in out["floor"]] \
        == [(order_id, part_id, 3, ids["other"])]
    assert (out["dept_decides"], out["no_approve"]) == (403, 400)
    assert out["approve"][0] == 200
    assert (out["approve"][1]["due_date"], out["approve"][1]["part"]["due_date"]) == (
        "2026-12-07", "2026-12-10")
    assert out["decided_live"]["department_id"] == ids["other"]
    mine = out["mine_after"]["my_part"]
    assert (mine["due_date"], mine["extended"], mine["extension_days"]) == (
        "2026-12-10", True, None)
    assert out["again"][0] == 409 and out["again"][1]["error"]["code"] == "no_request"


def test_the_part_department_is_warned_live_at_80_percent_of_its_time(tmp_path):
    settings, ids = setup(tmp_path)
    order_id = ids["plain"]  # dispatched Monday 10:00, due Thursday 3 December 23:59:59
    added = NOW + timedelta(days=1)  # the part: Tuesday 10:00
    give_part(settings, order_id, ids["other"], added)
    start = datetime(2026, 12, 3, 3, tzinfo=UTC)  # Thursday 11:00: the lead's 80 % is past

    async def main():
        backend = Backend(settings, clock=Clock.for_running_loop(start))
        await backend.start()
        assert backend.deps is not None
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                ws, heard = await events(http, await login(http, "dept2"))
                warning = await asyncio.wait_for(heard("order.deadline_warning"), 3600)
                await ws.close()
                return backend.deps.clock.now(), warning
        finally:
            await backend.stop()

    at, warning = run_simulated(main())
    # 80 % of Tuesday 10:00 -> Thursday 23:59:59 local is Thursday 11:35:59 local;
    # the job looks every 5 minutes.
    assert datetime(2026, 12, 3, 3, 35, 59, tzinfo=UTC) <= at <= \
        datetime(2026, 12, 3, 3, 41, tzinfo=UTC)
    assert (warning["order_id"], warning["department_id"], warning["due_date"]) == (
        order_id, ids["other"], "2026-12-03")
