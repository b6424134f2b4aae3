"""The agent desk's HTTP side without a PBX: a 举报 caller's identity never
reaches a department on any route; a call closed without an order is
counted apart; the look-up is read-only for any agent and audited."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from agents.models import Agent
from calls import records
from core.clock import run_simulated
from core.db import Database
from routing.models import AuditEntry
from tests.console.test_http import login
from tests.console.test_lifecycle_http import NOW, with_backend
from tests.helpers import prepare_database, record_abandon, record_answer, settings_for_test
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department, OrderEvent, WorkOrder

REPORTER = "13600001234"


def _answered(s, uid: str, number: str, *, agent_id: int | None = None,
              category: str | None = None, title: str = "排污") -> WorkOrder:
    """An answered call's order; dispatched to the first department with ``category``."""
    records.start_call(s, uniqueid=uid, now=NOW, caller_number=number, caller_name="举报人")
    order = record_answer(s, uid, member_name="m", agent_id=agent_id, hold_seconds=1,
                          now=NOW)
    if category is not None:
        dept = s.scalars(select(Department.id).order_by(Department.id)).first()
        service.submit_work_order(
            s, order.id, agent_id=None, title=title, description="", category=category,
            complexity="ordinary" if category == "help" else None, department_id=dept,
            answered_on_call=False, now=NOW, calendar=WorkingCalendar.default(),
            tz=ZoneInfo("Asia/Shanghai"))
    return order


def _orders(url: str) -> dict[str, int]:
    """A report and a help order dispatched to the 'dept' user's department, and
    the 'agent' user's draft of an answered call."""
    db = Database(url)
    try:
        def work(s):
            agent = s.scalars(select(Agent.id).order_by(Agent.number)).first()
            return {category or "draft": _answered(s, uid, REPORTER, agent_id=agent,
                                                   category=category).id
                    for uid, category in (("9.1", "report"), ("9.2", "help"), ("9.3", None))}
        return db.call(work)
    finally:
        db.close()


def test_departments_never_see_who_reported_and_no_order_calls_count_apart(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW - timedelta(days=1))
    ids = _orders(url)
    settings = settings_for_test(url, tmp_path)

    async def body(backend, http):
        dept, agent, sup = (await login(http, "dept"), await login(http, "agent"),
                            await login(http, "sup"))
        out = {}
        report = ids["report"]
        for key, path in (("list", "/api/work-orders"), ("one", f"/api/work-orders/{report}"),
                          ("worklist", "/api/worklists/department")):
            async with http.get(path, headers=dept) as r:
                out[key] = await r.json()
        async with http.post(f"/api/work-orders/{report}/accept", headers=dept,
                             json={}) as r:
            out["accept"] = (r.status, await r.json())
        async with http.get(f"/api/work-orders/{report}", headers=sup) as r:
            out["sup"] = await r.json()
        path = f"/api/work-orders/{ids['draft']}/close-no-order"
        async with http.post(path, headers=agent, json={"reason": "joke"}) as r:
            out["bad_reason"] = (r.status, await r.json())
        async with http.post(path, headers=agent, json={"reason": "prank", "note": "笑"}) as r:
            out["closed"] = (r.status, await r.json())
        async with http.post(path, headers=agent, json={"reason": "prank"}) as r:
            out["again"] = r.status
        async with http.get("/api/stats", headers=sup) as r:
            out["stats"] = await r.json()
        async with http.get("/api/lookup/orders", headers=agent,
                            params={"phone": "+86" + REPORTER}) as r:
            out["lookup"] = await r.json()
        return out

    out = run_simulated(with_backend(settings, body))
    listed = {o["id"]: o for o in out["list"]["work_orders"]}
    reported = listed[ids["report"]]
    assert reported["caller_number"] == "" and reported["caller_name"] == ""
    assert listed[ids["help"]]["caller_number"] == REPORTER  # their own order: the citizen's number
    assert out["one"]["caller_number"] == "" and out["one"]["reporter_hidden"] is True
    # ... nor in the list of the matter's callers (并案) on the order's page
    assert [(c["caller_number"], c["caller_name"]) for c in out["one"]["callers"]] == [("", "")]
    assert [c["caller_number"] for c in out["sup"]["callers"]] == ["136****1234"]
    worklist = {o["id"]: o for o in out["worklist"]["work_orders"]}
    assert worklist[ids["report"]]["caller_name"] == ""
    assert out["accept"][0] == 200 and out["accept"][1]["caller_number"] == ""
    assert out["sup"]["caller_number"] == REPORTER
    assert out["bad_reason"][0] == 400 and out["bad_reason"][1]["error"]["field"] == "reason"
    status, closed = out["closed"]
    assert status == 200 and closed["status"] == "no_order"
    assert out["again"] == 409
    stats = out["stats"]
    assert stats["no_order"] == 1 and stats["no_order_reasons"] == {"prank": 1}
    assert stats["orders_accepted"] == 2  # the two dispatched; the prank is apart
    # Look-up: any agent, read-only, masked (not the caller on their line), audited
    found = out["lookup"]["orders"]
    assert {o["caller_number"] for o in found} == {"136****1234"} and len(found) == 3
    assert all("description" not in o for o in found)
    db = Database(url)
    try:
        audited = db.call(lambda s: [(a.action, a.target) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "order_lookup"))])
        order = db.call(lambda s: s.get(WorkOrder, ids["draft"]).no_order_reason)
    finally:
        db.close()
    assert audited == [("order_lookup", "136****1234")] and order == "prank"


def _tasks(url: str) -> dict[str, int]:
    """Two callback tasks (one to a number the rules refuse) and a closed order
    waiting for its 回访."""
    db = Database(url)
    try:
        def work(s):
            from worksheets import lifecycle, review
            ids = {}
            for uid, number in (("8.1", "13800001111"), ("8.2", "004412345678")):
                records.start_call(s, uniqueid=uid, now=NOW, caller_number=number)
                ids[number] = record_abandon(s, uid, hold_seconds=30, now=NOW).id
            order = _answered(s, "8.3", "13900002222", category="help", title="路灯")
            dept = order.department_id
            lifecycle.accept(s, order.id, department_id=dept, user_id=None, now=NOW)
            lifecycle.reply(s, order.id, department_id=dept, text="已修好", user_id=None,
                            now=NOW)
            review.accept(s, order.id, now=NOW, user_id=None)  # 统一答复: the hotline accepts
            ids["visit"] = order.id
            return ids
        return db.call(work)
    finally:
        db.close()


def test_callbacks_and_visits_are_one_list_saying_why_a_task_cannot_be_dialled(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW - timedelta(days=1))
    ids = _tasks(url)
    settings = settings_for_test(url, tmp_path)

    async def body(backend, http):
        agent = await login(http, "agent")
        out = {}
        async with http.get("/api/agent/tasks", headers=agent) as r:
            out["before"] = await r.json()
        await backend.deps.db.run(lambda s: s.add(OrderEvent(
            order_id=ids["visit"], at=NOW + timedelta(minutes=1), kind="visit_call",
            detail="reached")))
        async with http.get("/api/agent/tasks", headers=agent) as r:
            out["after"] = await r.json()
        return out

    out = run_simulated(with_backend(settings, body))
    before = {(t["kind"], t["id"]): t for t in out["before"]["tasks"]}
    allowed = before[("callback", ids["13800001111"])]
    refused = before[("callback", ids["004412345678"])]
    visit = before[("visit", ids["visit"])]
    # No PBX in this backend: nothing can be dialled, each says why
    assert allowed["can_dial"] is False and allowed["why_not"] == "pbx_down"
    assert refused["why_not"] == "number_not_allowed"
    assert allowed["caller_number"] == "13800001111"  # the agent dials it: whole
    assert visit["why_not"] == "pbx_down" and visit["order"]["title"] == "路灯"
    assert visit["can_record_verdict"] is False and visit["verdicts"] == []
    after = {(t["kind"], t["id"]): t for t in out["after"]["tasks"]}
    assert after[("visit", ids["visit"])]["verdicts"] == ["satisfied", "basically_satisfied",
                                                          "dissatisfied"]
