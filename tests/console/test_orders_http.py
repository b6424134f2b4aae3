"""Issue #13's order routes as each role uses them: districts and the
department suggestion, its rules, 加派 with a second department's login,
the review, 并案, referrals, attachments, and the 回访 due list."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from calls import records
from core import accounts
from core.clock import run_simulated
from core.db import Database
from core.live_events import OrderChanged
from tests.console.test_http import login
from tests.console.test_lifecycle_http import NOW, seed_orders, with_backend
from tests.helpers import PASSWORD, prepare_database, record_answer, settings_for_test
from worksheets.models import Department, WorkOrder

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 200


def setup(tmp_path, **overrides):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    (plain, complex_, bounced), mine, other = seed_orders(url)
    db = Database(url)

    def more(s):
        accounts.create_user(s, username="dept2", password=PASSWORD, role="department",
                             now=NOW, department_id=other)
        records.start_call(s, uniqueid="d.1", now=NOW, caller_number="13900000000")
        return record_answer(s, "d.1", member_name="m", agent_id=None,
                             hold_seconds=1, now=NOW).id
    draft = db.call(more)
    codes = db.call(lambda s: {d.code: d.id for d in s.scalars(select(Department))})
    db.close()
    settings = replace(settings_for_test(url, tmp_path), **overrides)
    return settings, dict(plain=plain, complex=complex_, bounced=bounced, mine=mine,
                          other=other, draft=draft, codes=codes)


def test_districts_suggestions_and_the_rules_an_admin_edits(tmp_path):
    settings, ids = setup(tmp_path)

    async def body(backend, http):
        agent, admin = await login(http, "agent"), await login(http, "admin")
        sup, out = await login(http, "sup"), {}
        async with http.get("/api/districts", headers=agent) as r:
            out["districts"] = [d["code"] for d in (await r.json())["districts"]]
        async with http.post("/api/department-suggestions", headers=agent, json={
                "category": "help", "district": "weibin", "title": "小区路灯不亮"}) as r:
            out["suggested"] = [s["code"] for s in (await r.json())["suggestions"]]
        async with http.post("/api/department-suggestions", headers=agent,
                             json={"district": "渭滨区"}) as r:
            out["bad_district"] = (r.status, (await r.json())["error"].get("field"))
        async with http.put("/api/department-rules", headers=admin, json={"rules": [
                {"department": "XX"}]}) as r:
            out["invalid"] = (r.status, (await r.json())["error"]["problems"])
        async with http.put("/api/department-rules", headers=admin, json={"rules": [
                {"department": "CGJ", "keywords": ["路灯"]}]}) as r:
            out["stored"] = (r.status, (await r.json())["version"])
        async with http.get("/api/department-rules", headers=sup) as r:
            out["in_force"] = (await r.json())["rules"]
        async with http.post("/api/department-suggestions", headers=agent, json={
                "category": "help", "district": "weibin", "title": "小区路灯不亮"}) as r:
            out["suggested_after"] = [s["code"] for s in (await r.json())["suggestions"]]
        async with http.get("/api/audit", headers=admin) as r:
            out["audit"] = [e["action"] for e in (await r.json())["entries"]]
        # The console's submission names the district.
        submit = {"title": "路灯", "category": "help", "complexity": "ordinary",
                  "department_id": ids["mine"]}
        async with http.post(f"/api/work-orders/{ids['draft']}/submit", headers=sup,
                             json=submit) as r:
            out["no_district"] = (r.status, (await r.json())["error"].get("field"))
        async with http.post(f"/api/work-orders/{ids['draft']}/submit", headers=sup,
                             json={**submit, "district": "fengxiang",
                                   "co_department_ids": [ids["other"]]}) as r:
            order = await r.json()
            out["submitted"] = (r.status, order["district"], order["district_name"])
        async with http.get(f"/api/work-orders/{ids['draft']}", headers=sup) as r:
            out["parts"] = [p["department_id"] for p in (await r.json())["parts"]]
        return out

    out = run_simulated(with_backend(settings, body))
    assert len(out["districts"]) == 13 and out["districts"][0] == "weibin"
    assert out["suggested"] == ["WBQ"]
    assert out["bad_district"] == (400, "district")
    assert out["invalid"][0] == 400 and any("rules[0].department" in p
                                            for p in out["invalid"][1])
    assert out["stored"] == (200, 2) and out["in_force"][0]["department"] == "CGJ"
    assert out["suggested_after"] == ["CGJ"] and "department_rules" in out["audit"]
    assert out["no_district"] == (400, "district")
    assert out["submitted"] == (200, "fengxiang", "凤翔区")
    assert out["parts"] == [ids["other"]]


def test_a_co_handling_department_works_its_part_and_the_supervisor_closes(tmp_path):
    settings, ids = setup(tmp_path)
    plain = ids["plain"]

    async def body(backend, http):
        dept, dept2 = await login(http, "dept"), await login(http, "dept2")
        sup, out = await login(http, "sup"), {}

        async def post(path, who, data=None):
            async with http.post(path, headers=who, json=data or {}) as r:
                return r.status, await r.json()

        out["dept2_before"] = (await post(f"/api/work-orders/{plain}/accept", dept2))[0]
        out["dept_adds"] = (await post(f"/api/work-orders/{plain}/parts", dept,
                                       {"department_ids": [ids["other"]]}))[0]
        ws = await http.ws_connect("/api/ws", headers=dept2)
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        out["add"] = (await post(f"/api/work-orders/{plain}/parts", sup,
                                 {"department_ids": [ids["other"]]}))[0]
        heard = await ws.receive_json(timeout=5)
        out["heard"] = (heard["type"], heard["order_id"], heard["department_id"])
        await ws.close()
        async with http.get("/api/worklists/department", headers=dept2) as r:
            listed = (await r.json())["work_orders"]
            out["dept2_list"] = [(o["id"], o["my_part"]["status"]) for o in listed]
        async with http.get(f"/api/work-orders/{plain}", headers=dept2) as r:
            out["dept2_sees"] = r.status
        out["accept2"] = (await post(f"/api/work-orders/{plain}/accept", dept2))[0]
        out["lead_reply"] = (await post(f"/api/work-orders/{plain}/reply", dept,
                                        {"reply": "已修复"}))[1]["status"]
        out["early_review"] = await post(f"/api/work-orders/{plain}/review", sup,
                                         {"accept": True})
        out["reply2"] = (await post(f"/api/work-orders/{plain}/reply", dept2,
                                    {"reply": "已配合"}))[0]
        out["review"] = (await post(f"/api/work-orders/{plain}/review", sup,
                                    {"accept": True}))[1]["status"]
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["dept2_before"] == 404 and out["dept_adds"] == 403 and out["add"] == 200
    assert out["heard"] == ("order.co_dispatched", plain, ids["other"])
    assert out["dept2_list"] == [(plain, "dispatched")] and out["dept2_sees"] == 200
    assert out["accept2"] == 200 and out["lead_reply"] == "answered"
    assert out["early_review"][0] == 409
    assert out["early_review"][1]["error"]["code"] == "parts_open"
    assert out["reply2"] == 200 and out["review"] == "closed"


def test_merge_referral_and_the_visits_due_over_http(tmp_path):
    settings, ids = setup(tmp_path)

    async def body(backend, http):
        sup, agent, dept = (await login(http, "sup"), await login(http, "agent"),
                            await login(http, "dept"))
        out = {}
        async with http.post(f"/api/work-orders/{ids['plain']}/merge", headers=sup,
                             json={"duplicate_ids": [ids["complex"]], "note": "同一路灯"}) as r:
            out["merge"] = r.status
        async with http.post(f"/api/work-orders/{ids['plain']}/merge", headers=dept,
                             json={"duplicate_ids": [ids["bounced"]]}) as r:
            out["dept_merge"] = r.status
        async with http.get(f"/api/work-orders/{ids['plain']}", headers=sup) as r:
            out["callers"] = len((await r.json())["callers"])
        async with http.post(f"/api/work-orders/{ids['draft']}/referral", headers=sup,
                             json={"line": "12388", "mode": "refer"}) as r:
            out["referral"] = (r.status, (await r.json())["referral_line"])
        async with http.post(f"/api/work-orders/{ids['draft']}/referral", headers=agent,
                             json={"line": "12355", "mode": "refer"}) as r:
            out["agent_not_own"] = r.status  # the draft has no agent: not the agent's
        async with http.get("/api/special-lines", headers=agent) as r:
            out["lines"] = len((await r.json())["lines"])
        async with http.get("/api/visits/due", headers=sup) as r:
            out["due"] = (r.status, (await r.json())["hours"])
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["merge"] == 200 and out["dept_merge"] == 403 and out["callers"] == 2
    assert out["referral"] == (200, "12388") and out["agent_not_own"] == 404
    assert out["lines"] == 7 and out["due"] == (200, 48)


def test_attachments_are_checked_stored_in_the_shared_directory_and_listed(tmp_path):
    settings, ids = setup(tmp_path, attachment_max_mb=1)
    plain = ids["plain"]

    async def body(backend, http):
        dept, dept2 = await login(http, "dept"), await login(http, "dept2")
        sup, out = await login(http, "sup"), {}
        url = f"/api/work-orders/{plain}/attachments"

        async def upload(who, data, content_type, name="现场.jpg"):
            async with http.post(url, params={"filename": name}, data=data,
                                 headers={**who, "Content-Type": content_type}) as r:
                return r.status, await r.json()

        out["text"] = await upload(dept, b"hello", "text/plain")
        out["lie"] = await upload(dept, b"GIF89a....", "image/png")
        out["big"] = await upload(dept, JPEG + b"\0" * (1024 * 1024), "image/jpeg")
        out["other_dept"] = (await upload(dept2, JPEG, "image/jpeg"))[0]
        out["ok"] = await upload(dept, JPEG, "image/jpeg", name="../../etc/现场.jpg")
        async with http.get(url, headers=sup) as r:
            out["list"] = [(a["filename"], a["size"]) for a in (await r.json())["attachments"]]
        async with http.get(out["ok"][1]["url"], headers=sup) as r:
            out["download"] = (r.status, await r.read(), r.headers["Content-Type"])
        async with http.get(out["ok"][1]["url"], headers=dept2) as r:
            out["dept2_download"] = r.status
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["text"][0] == 415 and out["text"][1]["error"]["code"] == "bad_type"
    assert out["lie"][0] == 415
    assert out["big"][0] == 413 and out["big"][1]["error"]["code"] == "too_large"
    assert out["other_dept"] == 404
    assert out["ok"][0] == 201 and out["ok"][1]["filename"] == "现场.jpg"
    assert out["list"] == [("现场.jpg", len(JPEG))]
    assert out["download"] == (200, JPEG, "image/jpeg") and out["dept2_download"] == 404
    stored = list((settings.recordings_dir / "attachments").rglob("*.jpg"))
    assert len(stored) == 1 and stored[0].read_bytes() == JPEG
    assert not list((settings.recordings_dir / "attachments").rglob("*.part"))


async def _console(http, headers):
    ws = await http.ws_connect("/api/ws", headers=headers)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    return ws


async def _orders_heard(ws, fence_number: str) -> list[tuple[str, int, str]]:
    """(type, order id, status) of every order event up to the fence."""
    got = []
    while True:
        m = await ws.receive_json(timeout=5)
        if m.get("number") == fence_number:
            return got
        if m["type"].startswith("order."):
            got.append((m["type"], m["order_id"], m["status"]))


def test_a_part_sent_back_and_a_merged_duplicate_are_told_to_their_own_departments(tmp_path):
    """The review sending a 加派 part back tells the part's department; 并案
    tells the department whose duplicate was merged away; a department with
    neither hears nothing."""
    settings, ids = setup(tmp_path)
    plain, bounced, other = ids["plain"], ids["bounced"], ids["other"]
    third = next(i for i in ids["codes"].values() if i not in (ids["mine"], other))
    db = Database(settings.database_url)

    def arrange(s):
        accounts.create_user(s, username="dept3", password=PASSWORD, role="department",
                             now=NOW, department_id=third)
        s.get(WorkOrder, bounced).department_id = other  # a duplicate held by another
    db.call(arrange)
    db.close()

    async def body(backend, http):
        dept, dept2, dept3 = [await login(http, u) for u in ("dept", "dept2", "dept3")]
        sup, out = await login(http, "sup"), {}

        async def post(path, who, data=None):
            async with http.post(path, headers=who, json=data or {}) as r:
                assert r.status == 200, await r.text()
                return await r.json()

        await post(f"/api/work-orders/{plain}/parts", sup, {"department_ids": [other]})
        await post(f"/api/work-orders/{plain}/accept", dept2)
        await post(f"/api/work-orders/{plain}/accept", dept)
        await post(f"/api/work-orders/{plain}/reply", dept, {"reply": "已修复"})
        await post(f"/api/work-orders/{plain}/reply", dept2, {"reply": "已配合"})
        async with http.get(f"/api/work-orders/{plain}", headers=sup) as r:
            part = (await r.json())["parts"][0]["id"]
        consoles = {"dept2": await _console(http, dept2), "dept3": await _console(http, dept3)}
        await post(f"/api/work-orders/{plain}/review", sup,
                   {"accept": False, "part_id": part, "reason": "未附照片"})
        await post(f"/api/work-orders/{ids['complex']}/merge", sup,
                   {"duplicate_ids": [bounced]})
        for dept_id in (other, third):  # a fence each of them sees
            backend.deps.bus.publish(OrderChanged(step="fence", order_id=0, number="fence",
                                                  status="", agent_id=None,
                                                  department_id=dept_id))
        for name, ws in consoles.items():
            out[name] = await _orders_heard(ws, "fence")
            await ws.close()
        async with http.get("/api/worklists/department", headers=dept2) as r:
            out["part_status"] = [o["my_part"]["status"] for o in (await r.json())["work_orders"]
                                  if o["id"] == plain]
        return out

    out = run_simulated(with_backend(settings, body))
    assert out["dept2"] == [("order.reviewed", plain, "answered"),
                            ("order.merged", bounced, "merged")]
    assert out["dept3"] == []
    assert out["part_status"] == ["accepted"]
