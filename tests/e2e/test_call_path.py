"""End to end: the built-in PBX and the backend over real sockets, on
virtual time, on SQLite and PostgreSQL.

Four citizens call while one agent of the team on duty is logged in:
A presses 2 (complaint) and is answered; B presses 1 while the agent is
busy and gives up; C hangs up in the IVR; D presses a wrong key and then
nothing, lands in the general queue, and is answered after A.  The agent
submits A's order through the REST API.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import aiohttp
from sqlalchemy import select

from agents import rota
from agents.models import Agent, Team
from calls import records
from calls.models import Call
from core import accounts
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from tests.helpers import PASSWORD, prepare_database
from tests.helpers import start_stack as stack_at
from worksheets.models import CallbackTask, WorkOrder

# Monday 30 November 2026, 10:00 in Baoji.
START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def on_duty_agent(url: str) -> tuple[int, str, str]:
    """Create a login for the first agent of the team on duty at START."""
    db = Database(url)
    try:
        def work(s):
            settings_tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
            team_index = rota.team_on_duty(rota.RotaConfig(), START, settings_tz)
            agent = s.scalars(select(Agent).join(Team, Agent.team_id == Team.id)
                              .where(Team.rota_index == team_index)
                              .order_by(Agent.number)).first()
            accounts.create_user(s, username="oncall", password=PASSWORD, role="agent",
                                 now=START, agent_id=agent.id)
            return agent.id, agent.interface, agent.member_name
        return db.call(work)
    finally:
        db.close()


async def start_stack(url, tmp_path):
    return await stack_at(url, tmp_path, START)


def test_four_calls_leave_the_right_records(database_url, tmp_path):
    prepare_database(database_url, START)
    agent_id, interface, member = on_duty_agent(database_url)

    async def main():
        sim, backend = await start_stack(database_url, tmp_path)
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=2.0, talk_seconds=60.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                async with http.post("/api/login", json={"username": "oncall",
                                                         "password": PASSWORD}) as r:
                    headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
                async with http.post("/api/agent/queues/login", headers=headers) as r:
                    assert r.status == 200, await r.text()
                a = sim.place_call(caller_number="13800138000", caller_name="张三", dialed="12345",
                                   script=CallerScript(keys="2", key_delay=1.5, patience=300,
                                                       survey_key="1"))
                await asyncio.sleep(20)
                b = sim.place_call(caller_number="13900139000", caller_name="李四", dialed="12345",
                                   script=CallerScript(keys="1", key_delay=1.0, patience=8))
                c = sim.place_call(caller_number="02988888888", caller_name="Wang", dialed="12345",
                                   script=CallerScript(keys="", hangup_in_ivr_after=3.0))
                d = sim.place_call(caller_number="15000000000", caller_name="赵六", dialed="12345",
                                   script=CallerScript(keys="7", key_delay=1.0, patience=600))
                await asyncio.sleep(60)
                async with http.get("/api/work-orders?status=draft", headers=headers) as r:
                    drafts = (await r.json())["work_orders"]
                order_a = next(o for o in drafts if o["caller_number"] == "13800138000")
                depts = await (await http.get("/api/departments", headers=headers)).json()
                body = {"title": "夜间施工噪音扰民", "description": "工地夜间施工", "category":
                        "complaint", "department_id": depts["departments"][0]["id"],
                        "district": "jintai"}
                async with http.post(f"/api/work-orders/{order_a['id']}/submit",
                                     headers=headers, json=body) as r:
                    submitted = await r.json()
                    assert r.status == 200, submitted
                async with http.post(f"/api/work-orders/{order_a['id']}/submit",
                                     headers=headers, json=body) as r:
                    again = r.status
                await asyncio.wait_for(asyncio.gather(a.done, b.done, c.done, d.done), 900)
                await asyncio.sleep(2)
                return [x.uniqueid for x in (a, b, c, d)], submitted, again
        finally:
            await backend.stop()
            await sim.stop()

    uniqueids, submitted, again = run_simulated(main())
    assert again == 409  # not a draft any more
    assert submitted["status"] == "dispatched" and submitted["deadline_days"] == 10
    # Submitted on Monday 30 Nov 2026: ten working days later is Monday 14 Dec.
    assert submitted["due_date"] == date(2026, 12, 14).isoformat()

    db = Database(database_url)
    try:
        def check(s):
            calls = {c.uniqueid: c for c in s.scalars(select(Call))}
            a, b, c, d = (calls[u] for u in uniqueids)
            assert (a.outcome, a.ivr_choice, a.queue, a.member_name) == (
                "answered", "2", "hotline-complaint", member)
            assert a.caller_name == "张三" and a.agent_id == agent_id
            kinds = [e.kind for e in records.call_timeline(s, a.id)]
            for kind in ("entered", "ivr_choice", "queued", "answered", "order_submitted",
                         "ended"):
                assert kind in kinds, (kind, kinds)
            assert kinds.index("entered") < kinds.index("queued") < kinds.index("answered")
            order_a = s.scalar(select(WorkOrder).where(WorkOrder.call_id == a.id))
            assert order_a.status == "dispatched" and order_a.survey_answer == "satisfied"
            assert (b.outcome, b.queue) == ("abandoned", "hotline-help")
            assert s.scalar(select(CallbackTask).where(CallbackTask.call_id == b.id)) is not None
            assert s.scalar(select(WorkOrder).where(WorkOrder.call_id == b.id)) is None
            assert c.outcome == "ivr_hangup" and c.queue is None and c.ended_at is not None
            assert s.scalar(select(WorkOrder).where(WorkOrder.call_id == c.id)) is None
            assert (d.outcome, d.queue, d.ivr_choice) == ("answered", "hotline-general", "invalid")
            order_d = s.scalar(select(WorkOrder).where(WorkOrder.call_id == d.id))
            assert order_d is not None and order_d.status == "draft"
            assert all(x.ended_at is not None for x in (a, b, c, d))
        db.call(check)
    finally:
        db.close()


def test_backend_down_caller_still_reaches_general_queue_and_is_recorded(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=20.0))
            await backend.staffing.queue_login(agent_id)
            await backend.fastagi.close()  # the FastAGI server dies; AMI stays up
            call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                  dialed="12345", script=CallerScript(keys="2", patience=120))
            await asyncio.wait_for(call.done, 300)
            await asyncio.sleep(2)
            return call.uniqueid
        finally:
            await backend.stop()
            await sim.stop()

    uniqueid = run_simulated(main())
    db = Database(url)
    try:
        call = db.call(lambda s: s.scalar(select(Call).where(Call.uniqueid == uniqueid)))
        order = db.call(lambda s: s.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id)))
    finally:
        db.close()
    assert (call.outcome, call.queue, call.source) == ("answered", "hotline-general", "ami")
    assert call.caller_number == "13800138000" and call.member_name == member
    assert order is not None and order.status == "draft"
