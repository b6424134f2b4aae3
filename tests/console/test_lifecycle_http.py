"""The work-order lifecycle over HTTP, as each role uses it: the department
signs for, returns, asks for more time and answers; the supervisor decides
and dispatches again; the agent makes the 回访.  Roles are enforced."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import select

from calls import records
from calls.models import Call
from core.clock import Clock, run_simulated
from core.db import Database
from core.live_events import OrderChanged
from hotline.app import Backend
from tests.console.test_http import login
from tests.helpers import prepare_database, record_answer, settings_for_test
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department, OrderEvent

NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)


def seed_orders(url: str) -> tuple[list[int], int, int]:
    """Three orders dispatched to the 'dept' user's department (one complex)."""
    db = Database(url)
    try:
        def work(s):
            mine, other = list(s.scalars(select(Department.id).order_by(Department.id)))[:2]
            ids = []
            for i, complexity in enumerate(("ordinary", "complex", "ordinary")):
                uid = f"9.{i}"
                records.start_call(s, uniqueid=uid, now=NOW, caller_number="13800138000")
                order = record_answer(s, uid, member_name="m", agent_id=None,
                                      hold_seconds=1, now=NOW)
                service.submit_work_order(
                    s, order.id, agent_id=None, title="噪音扰民", description="", category="help",
                    complexity=complexity, department_id=mine, answered_on_call=False, now=NOW,
                    calendar=WorkingCalendar.default(), tz=ZoneInfo("Asia/Shanghai"))
                ids.append(order.id)
            return ids, mine, other
        return db.call(work)
    finally:
        db.close()


async def with_backend(settings, body):
    backend = Backend(settings, clock=Clock.for_running_loop(NOW))
    await backend.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
            return await body(backend, http)
    finally:
        await backend.stop()


def test_department_supervisor_and_agent_each_do_their_part(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    (plain, complex_, bounced), mine, other = seed_orders(url)
    settings = settings_for_test(url, tmp_path)

    async def main():
        backend = Backend(settings, clock=Clock.for_running_loop(NOW))
        await backend.start()
        out = {}
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                dept, sup = await login(http, "dept"), await login(http, "sup")
                agent = await login(http, "agent")

                async def post(path, who, body=None):
                    async with http.post(path, headers=who, json=body or {}) as r:
                        return r.status, await r.json()

                async with http.get("/api/worklists/department", headers=dept) as r:
                    out["dept_list"] = [o["id"] for o in (await r.json())["work_orders"]]
                async with http.get("/api/worklists/extensions", headers=dept) as r:
                    out["dept_sees_extensions"] = r.status
                out["agent_accepts"] = (await post(f"/api/work-orders/{plain}/accept", agent))[0]
                out["accept"] = await post(f"/api/work-orders/{plain}/accept", dept)
                out["reply"] = await post(f"/api/work-orders/{plain}/reply", dept,
                                          {"reply": "已协调施工方夜间停工"})
                out["reply_again"] = await post(f"/api/work-orders/{plain}/reply", dept,
                                                {"reply": "again"})
                async with http.get("/api/worklists/visits", headers=agent) as r:
                    out["visits_before_review"] = [o["id"] for o in (await r.json())[
                        "work_orders"]]
                out["dept_reviews"] = (await post(f"/api/work-orders/{plain}/review", dept,
                                                  {"accept": True}))[0]
                async with http.get("/api/worklists/review", headers=sup) as r:
                    out["review_list"] = [o["id"] for o in (await r.json())["work_orders"]]
                out["review"] = await post(f"/api/work-orders/{plain}/review", sup,
                                           {"accept": True})
                out["review_again"] = (await post(f"/api/work-orders/{plain}/review", sup,
                                                  {"accept": True}))[0]
                out["ext_bad"] = await post(f"/api/work-orders/{complex_}/extension", dept,
                                            {"days": "three", "reason": "x"})
                out["ext"] = await post(f"/api/work-orders/{complex_}/extension", dept,
                                        {"days": 2, "reason": "需住建局配合"})
                out["dept_decides"] = (await post(
                    f"/api/work-orders/{complex_}/extension/decision", dept,
                    {"approve": True}))[0]
                out["decide"] = await post(f"/api/work-orders/{complex_}/extension/decision",
                                           sup, {"approve": True, "note": "同意"})
                out["return"] = await post(f"/api/work-orders/{bounced}/return", dept,
                                           {"reason": "应由交通局办理"})
                async with http.get("/api/worklists/returned", headers=sup) as r:
                    out["returned_list"] = [o["id"] for o in (await r.json())["work_orders"]]
                async with http.get("/api/worklists/returned", headers=agent) as r:
                    out["agent_returned_list"] = r.status
                out["agent_redispatch"] = (await post(f"/api/work-orders/{bounced}/redispatch",
                                                      agent, {"department_id": other}))[0]
                out["redispatch"] = await post(f"/api/work-orders/{bounced}/redispatch", sup,
                                               {"department_id": other})
                out["dept_after"] = (await post(f"/api/work-orders/{bounced}/accept", dept))[0]
                async with http.get("/api/worklists/visits", headers=agent) as r:
                    out["visits"] = [o["id"] for o in (await r.json())["work_orders"]]
                out["visit_unreached"] = await post(f"/api/work-orders/{plain}/visit", agent,
                                                    {"result": "satisfied"})
                out["give_up_early"] = await post(f"/api/work-orders/{plain}/visit", agent,
                                                  {"result": "unreachable"})
                # A 回访 call reached the citizen (as worksheets.visits.finish records it).
                await backend.deps.db.run(lambda s: s.add(OrderEvent(
                    order_id=plain, at=NOW, kind="visit_call", detail="reached")))
                out["visit"] = await post(f"/api/work-orders/{plain}/visit", agent,
                                          {"result": "basically_satisfied", "note": "基本满意"})
                out["visit_again"] = (await post(f"/api/work-orders/{plain}/visit", agent,
                                                 {"result": "satisfied"}))[0]
                async with http.get(f"/api/work-orders/{plain}", headers=sup) as r:
                    out["history"] = [h["kind"] for h in (await r.json())["history"]]
                async with http.get("/api/worklists/nonsense", headers=sup) as r:
                    out["bad_list"] = r.status
        finally:
            await backend.stop()
        return out

    out = run_simulated(main())
    assert sorted(out["dept_list"]) == sorted([plain, complex_, bounced])
    assert out["dept_sees_extensions"] == 403 and out["agent_accepts"] == 403
    assert out["accept"][0] == 200 and out["accept"][1]["status"] == "accepted"
    assert out["reply"][0] == 200 and out["reply"][1]["status"] == "answered"
    assert out["reply_again"][0] == 409
    # 统一答复: no 回访 before the hotline accepts the answer; only supervisors review.
    assert out["visits_before_review"] == [] and out["dept_reviews"] == 403
    assert out["review_list"] == [plain]
    assert out["review"][0] == 200 and out["review"][1]["status"] == "closed"
    assert out["review_again"] == 409
    assert out["ext_bad"][0] == 400
    assert out["ext"][0] == 200 and out["ext"][1]["extension_days"] == 2
    assert out["dept_decides"] == 403
    assert out["decide"][0] == 200 and out["decide"][1]["due_date"] == "2026-12-09"
    assert out["return"][1]["status"] == "returned" and out["returned_list"] == [bounced]
    assert out["agent_returned_list"] == 403 and out["agent_redispatch"] == 403
    assert out["redispatch"][1]["department_id"] == other
    assert out["dept_after"] == 404  # no longer theirs
    assert out["visits"] == [plain]
    assert out["visit_unreached"][0] == 409
    assert out["visit_unreached"][1]["error"]["code"] == "not_reached"
    assert out["give_up_early"][1]["error"]["code"] == "attempts_left"
    assert out["visit"][1]["satisfaction"] == "basically_satisfied"
    assert out["visit_again"] == 409  # one 回访 per answer
    assert out["history"] == ["dispatched", "accepted", "replied", "review_accepted",
                              "visit_call", "visited"]
    assert out["bad_list"] == 404


def test_departments_hear_live_events_of_their_own_orders_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    (mine_order, _c, _b), mine, other = seed_orders(url)
    settings = settings_for_test(url, tmp_path)

    async def body(backend, http):
        dept = await login(http, "dept")
        ws = await http.ws_connect("/api/ws", headers=dept)
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        # another department's order moves: not for them
        backend.deps.bus.publish(OrderChanged(
            step="accepted", order_id=999, number="BJ-other", status="accepted", agent_id=None,
            department_id=other))
        async with http.post(f"/api/work-orders/{mine_order}/accept", headers=dept):
            pass
        got = await ws.receive_json(timeout=5)
        await ws.close()
        return got

    got = run_simulated(with_backend(settings, body))
    assert got["type"] == "order.accepted" and got["order_id"] == mine_order
    assert got["department_id"] == mine


def test_logins_not_linked_see_no_orders_and_agents_only_their_own_calls(tmp_path):
    from core import accounts
    from tests.helpers import PASSWORD

    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    seed_orders(url)  # answered by no known agent: agent_id unset
    db = Database(url)
    db.call(lambda s: accounts.create_user(s, username="loose", password=PASSWORD,
                                           role="department", now=NOW))

    def draft(s):  # a draft: no department yet
        records.start_call(s, uniqueid="8.1", now=NOW, caller_number="13900000000")
        return record_answer(s, "8.1", member_name="m", agent_id=None,
                             hold_seconds=1, now=NOW).department_id
    assert db.call(draft) is None
    call_id = db.call(lambda s: s.scalar(select(Call.id)))
    db.close()
    settings = settings_for_test(url, tmp_path)

    async def body(backend, http):
        loose, agent = await login(http, "loose"), await login(http, "agent")
        sup = await login(http, "sup")
        out = {}
        async with http.get("/api/work-orders", headers=loose) as r:
            out["loose_orders"] = (await r.json())["work_orders"]
        async with http.get("/api/work-orders", headers=agent) as r:
            out["agent_orders"] = (await r.json())["work_orders"]
        async with http.get(f"/api/calls/{call_id}", headers=agent) as r:
            out["agent_call"] = r.status
        async with http.get(f"/api/calls/{call_id}", headers=sup) as r:
            out["sup_call"] = r.status
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["loose_orders"] == [] and out["agent_orders"] == []
    assert out["agent_call"] == 404 and out["sup_call"] == 200


def test_department_accounts_for_supervisors_and_each_department_its_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    (plain, _complex, _bounced), mine, _other = seed_orders(url)
    settings = settings_for_test(url, tmp_path)

    async def body(backend, http):
        dept, sup = await login(http, "dept"), await login(http, "sup")
        agent = await login(http, "agent")
        async with http.post(f"/api/work-orders/{plain}/reply", headers=dept,
                             json={"reply": "已处理"}):
            pass
        async with http.post(f"/api/work-orders/{plain}/review", headers=sup,
                             json={"accept": True}):
            pass
        out = {}
        async with http.get("/api/stats/departments", headers=sup) as r:
            out["sup"] = await r.json()
        async with http.get("/api/stats/departments", headers=dept) as r:
            out["dept"] = (await r.json())["departments"]
        async with http.get("/api/stats/departments", headers=agent) as r:
            out["agent"] = r.status
        async with http.get("/api/stats/departments?format=csv", headers=sup) as r:
            out["csv"] = (r.headers["Content-Type"], (await r.read()).decode("utf-8-sig"))
        async with http.get("/api/stats/departments?from=yesterday", headers=sup) as r:
            out["bad"] = (r.status, (await r.json())["error"]["code"])
        return out

    out = run_simulated(with_backend(settings, body))
    rows = out["sup"]["departments"]
    assert out["sup"]["completion_target"] == 0.96 and len(rows) > 2
    worst = rows[0]
    assert (worst["department_id"], worst["received"], worst["closed"]) == (mine, 3, 1)
    assert worst["completion_rate"] == round(1 / 3, 4) and worst["below_target"]
    assert [r["department_id"] for r in out["dept"]] == [mine]
    assert out["agent"] == 403
    assert out["csv"][0].startswith("text/csv")
    assert out["csv"][1].splitlines()[0].startswith("department_id,department,received")
    assert out["bad"] == (400, "invalid")
