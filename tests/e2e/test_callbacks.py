"""Click-to-call callbacks end to end, on the built-in PBX with the
production dialplan: a caller gives up in the queue, an agent calls them
back from the console's API (their phone rings first, then [callback-out]
dials the citizen through the trunk), and the attempt's outcome comes
from AMI."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import select

from calls import records
from core.clock import run_simulated
from core.db import Database
from hotline.app import Backend
from pbxsim import CallerScript, PbxSim, PhoneBehaviour
from pbxsim.phones import Phone
from routing.models import AuditEntry
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.helpers import PASSWORD, prepare_database, record_answer, reply_and_accept
from worksheets.models import CallbackAttempt, CallbackTask, WorkOrder

CITIZEN = "13900139000"


async def login(http: aiohttp.ClientSession, username: str) -> dict[str, str]:
    async with http.post("/api/login", json={"username": username, "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


def pbx_events(sim, names: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    sim.event_listeners.append(
        lambda event, _p, headers: seen.append((event, dict(headers))) if event in names
        else None)
    return seen


async def abandon_one(sim) -> None:
    """A caller presses 1 and gives up before anyone is on the queues."""
    call = sim.place_call(caller_number=CITIZEN, caller_name="李四", dialed="12345",
                          script=CallerScript(keys="1", key_delay=1.0, patience=20))
    await asyncio.wait_for(call.done, 300)
    await asyncio.sleep(1)


def test_agent_calls_back_an_abandoned_caller_and_reaches_them(database_url, tmp_path):
    prepare_database(database_url, START)
    agent_id, interface, _member = on_duty_agent(database_url)

    async def main():
        sim, backend = await start_stack(database_url, tmp_path)
        seen = pbx_events(sim, ("QueueMemberPause", "DialBegin", "DialEnd", "OriginateResponse"))
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=2.0, talk_seconds=40.0))
            await abandon_one(sim)
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent, sup = await login(http, "oncall"), await login(http, "sup")
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200, await r.text()
                async with http.get("/api/callbacks", headers=agent) as r:
                    listed = (await r.json())["callbacks"]
                assert len(listed) == 1 and listed[0]["reason"] == "abandoned"
                assert listed[0]["caller_number"] != CITIZEN  # masked
                task_id = listed[0]["id"]
                async with http.post(f"/api/callbacks/{task_id}/call", headers=sup) as r:
                    assert r.status == 403  # supervisors do not place calls
                async with http.post(f"/api/callbacks/{task_id}/call", headers=agent) as r:
                    assert r.status == 202, await r.text()
                    started = await r.json()
                async with http.post(f"/api/callbacks/{task_id}/call", headers=agent) as r:
                    assert r.status == 409  # held: being called
                await asyncio.sleep(10)
                async with http.get(f"/api/callbacks/{task_id}", headers=sup) as r:
                    during = await r.json()
                assert during["status"] == "calling"
                await asyncio.sleep(60)
                async with http.get(f"/api/callbacks/{task_id}", headers=sup) as r:
                    after = await r.json()
                async with http.get("/api/work-orders?status=draft", headers=agent) as r:
                    drafts = (await r.json())["work_orders"]
            return started, after, drafts, list(seen)
        finally:
            await backend.stop()
            await sim.stop()

    started, after, drafts, seen = run_simulated(main())
    assert after["status"] == "done" and after["last_result"] == "reached"
    assert [a["result"] for a in after["attempt_log"]] == ["reached"]
    assert after["attempt_log"][0]["id"] == started["attempt_id"]
    # the original call's order, drafted for the agent who reached the caller
    assert [d["call_id"] for d in drafts] == [after["call_id"]]
    # on the PBX: the agent's phone first, then the citizen through the trunk
    originated = next(h for e, h in seen if e == "OriginateResponse")
    assert originated["Response"] == "Success" and originated["Channel"].startswith(interface)
    dial = next(h for e, h in seen if e == "DialBegin" and h.get("DialString", "").endswith(
        "@trunk"))
    assert dial["DialString"] == f"{CITIZEN}@trunk" and dial["Channel"] == originated["Channel"]
    assert next(h for e, h in seen if e == "DialEnd" and h.get("DialStatus") == "ANSWER"
                and h.get("Channel") == originated["Channel"])
    # paused in the queues for the call (reason callback), resumed after
    pauses = [(h["Paused"], h.get("PausedReason", "")) for e, h in seen
              if e == "QueueMemberPause" and h.get("Interface") == interface]
    assert pauses[0] == ("1", "callback") and pauses[-1][0] == "0"


@dataclass
class Scene:
    """One abandoned caller's callback task, an agent's login, the stack."""

    sim: PbxSim
    backend: Backend
    http: aiohttp.ClientSession
    agent: dict[str, str]
    task_id: int
    phone: Phone | None

    async def call(self) -> int:
        async with self.http.post(f"/api/callbacks/{self.task_id}/call",
                                  headers=self.agent) as r:
            return r.status

    async def task(self) -> dict[str, Any]:
        async with self.http.get(f"/api/callbacks/{self.task_id}", headers=self.agent) as r:
            return await r.json()


def scenario(tmp_path, phone: PhoneBehaviour | None, body) -> tuple[Any, str]:
    """Run ``body(scene)`` on SQLite; returns its result and the database URL."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    _agent_id, interface, _member = on_duty_agent(url)

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        try:
            handle = sim.add_phone(interface, phone) if phone else None
            await abandon_one(sim)
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent = await login(http, "oncall")
                task_id = (await (await http.get("/api/callbacks", headers=agent)).json()
                           )["callbacks"][0]["id"]
                return await body(Scene(sim, backend, http, agent, task_id, handle))
        finally:
            await backend.stop()
            await sim.stop()

    return run_simulated(main()), url


def test_unreached_citizen_is_retried_then_fails_and_agent_no_answer_does_not_count(
        tmp_path):
    async def body(sc: Scene):
        sc.sim.far_ends[CITIZEN] = PhoneBehaviour(answers=False)
        sup = await login(sc.http, "sup")
        # The agent's own phone is not answered: not an attempt on the citizen.
        sc.phone.behaviour = PhoneBehaviour(answers=False)
        assert await sc.call() == 202
        await asyncio.sleep(40)
        results = [await sc.task()]
        sc.phone.behaviour = PhoneBehaviour(answer_after=1.0, talk_seconds=60.0)
        for _ in range(3):
            assert await sc.call() == 202
            # Dial(...,30) gives up on the citizen; then the gap between attempts
            await asyncio.sleep(610)
            results.append(await sc.task())
        async with sc.http.post(f"/api/callbacks/{sc.task_id}/call", headers=sc.agent) as r:
            refused = (r.status, (await r.json())["error"]["code"])
        async with sc.http.get("/api/callbacks?status=failed", headers=sup) as r:
            failed = (await r.json())["callbacks"]
        async with sc.http.get("/api/callbacks?status=nonsense", headers=sup) as r:
            bad_status = r.status
        return results, refused, failed, bad_status

    (results, refused, failed, bad_status), url = scenario(
        tmp_path, PhoneBehaviour(answer_after=1.0, talk_seconds=60.0), body)
    first = results[0]
    assert (first["status"], first["attempts"], first["last_result"]) == (
        "open", 0, "agent_no_answer")
    assert [(r["status"], r["attempts"], r["last_result"]) for r in results[1:]] == [
        ("open", 1, "no_answer"), ("open", 2, "no_answer"), ("failed", 3, "no_answer")]
    assert refused == (409, "not_open")
    assert [t["id"] for t in failed] == [first["id"]]
    assert bad_status == 400
    db = Database(url)
    try:
        attempts = db.call(lambda s: [a.result for a in s.scalars(
            select(CallbackAttempt).order_by(CallbackAttempt.id))])
        assert attempts == ["agent_no_answer", "no_answer", "no_answer", "no_answer"]
        assert db.call(lambda s: s.scalar(select(WorkOrder.id))) is None  # nobody reached
    finally:
        db.close()


def test_supervisor_closes_a_task_by_hand_with_an_audited_note(tmp_path):
    async def body(sc: Scene):
        sup = await login(sc.http, "sup")
        close = f"/api/callbacks/{sc.task_id}/close"
        async with sc.http.post(close, headers=sc.agent, json={"status": "done",
                                                              "note": "x"}) as r:
            by_agent = r.status
        async with sc.http.post(close, headers=sup, json={"status": "done"}) as r:
            no_note = r.status
        async with sc.http.post(close, headers=sup, json={"status": "failed",
                                                         "note": "空号"}) as r:
            closed = (r.status, await r.json())
        async with sc.http.get("/api/callbacks", headers=sup) as r:
            still_open = (await r.json())["callbacks"]
        return by_agent, no_note, closed, still_open

    (by_agent, no_note, closed, still_open), url = scenario(tmp_path, None, body)
    assert by_agent == 403 and no_note == 400
    assert closed[0] == 200 and closed[1]["status"] == "failed"
    assert still_open == []
    db = Database(url)
    try:
        task = db.call(lambda s: s.scalar(select(CallbackTask)))
        assert (task.status, task.note) == ("failed", "空号")
        audit = db.call(lambda s: [(a.action, a.detail) for a in s.scalars(select(AuditEntry))])
        assert ("callback_failed", "空号") in audit
    finally:
        db.close()


def test_a_callback_that_ends_while_the_pbx_link_is_down_is_settled_after_reconnect(tmp_path):
    """The Hangup of the agent's channel is lost with the AMI socket: after
    the reconnect, the channel list shows the call gone, and the attempt is
    closed (reached: the citizen had answered) instead of staying 'calling'."""
    async def body(sc: Scene):
        assert await sc.call() == 202
        await asyncio.sleep(8)  # agent answered, citizen answered (after 3 s)
        sc.sim.drop_ami_connections()
        sc.sim.stall_ami(20.0)  # the agent hangs up at 16 s: nobody hears it
        await asyncio.sleep(5)
        during = await sc.task()
        await sc.backend.deps.ami.wait_ready(60)
        await asyncio.sleep(3)
        return during, await sc.task()

    (during, after), _url = scenario(
        tmp_path, PhoneBehaviour(answer_after=1.0, talk_seconds=15.0), body)
    assert during["status"] == "calling"
    assert (after["status"], after["last_result"]) == ("done", "reached")


def test_an_unregistered_phone_or_an_agent_hanging_up_first_costs_the_citizen_nothing(
        tmp_path):
    """The agent's phone is not registered: Asterisk answers the Originate
    and fails it at once (the OriginateResponse right behind the answer).
    Then the agent hangs up while the citizen's phone still rings (DialEnd
    CANCEL).  Neither counts as an attempt on the citizen."""
    async def body(sc: Scene):
        sc.sim.far_ends[CITIZEN] = PhoneBehaviour(answer_after=20.0, talk_seconds=20.0)
        assert await sc.call() == 202
        await asyncio.sleep(2)
        unregistered = await sc.task()
        sc.phone.behaviour = PhoneBehaviour(answer_after=1.0, talk_seconds=5.0)
        sc.sim.set_device_state(sc.phone.interface, "NOT_INUSE")
        assert await sc.call() == 202
        await asyncio.sleep(30)
        return unregistered, await sc.task()

    (unregistered, hung_up), _url = scenario(tmp_path, PhoneBehaviour(registered=False), body)
    assert (unregistered["status"], unregistered["last_result"], unregistered["attempts"]) == (
        "open", "agent_no_answer", 0)
    assert (hung_up["status"], hung_up["last_result"], hung_up["attempts"]) == (
        "open", "agent_hangup", 0)


def test_visit_by_click_to_call_reaches_the_citizen_of_a_closed_order(tmp_path):
    from zoneinfo import ZoneInfo

    from worksheets import service
    from worksheets.calendar import WorkingCalendar
    from worksheets.models import OrderEvent

    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    _agent_id, interface, _member = on_duty_agent(url)
    db = Database(url)

    def closed_order(s, uid: str, *, close: bool) -> int:
        records.start_call(s, uniqueid=uid, now=START, caller_number=CITIZEN)
        order = record_answer(s, uid, member_name="m", agent_id=None, hold_seconds=1,
                              now=START)
        service.submit_work_order(s, order.id, agent_id=None, title="路灯不亮", description="",
                                  category="help", complexity="ordinary", department_id=1,
                                  answered_on_call=False, now=START,
                                  calendar=WorkingCalendar.default(),
                                  tz=ZoneInfo("Asia/Shanghai"))
        if close:
            reply_and_accept(s, order.id, department_id=1, text="已修复", user_id=None,
                            now=START)
        return order.id

    done = db.call(lambda s: closed_order(s, "7.1", close=True))
    still_open = db.call(lambda s: closed_order(s, "7.2", close=False))
    db.close()

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=30.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent = await login(http, "oncall")
                ws = await http.ws_connect("/api/ws", headers=agent)
                out = {}
                async with http.post(f"/api/work-orders/{still_open}/visit/call",
                                     headers=agent) as r:
                    out["open"] = (r.status, (await r.json())["error"]["code"])
                other = await login(http, "agent")  # another agent clicks at once

                async def click(who):
                    async with http.post(f"/api/work-orders/{done}/visit/call",
                                         headers=who) as r:
                        return r.status
                out["call"], out["again"] = await asyncio.gather(click(agent), click(other))
                events = []
                while not any(e.get("type") == "visit.call_ended" for e in events):
                    events.append(await ws.receive_json(timeout=120))
                async with http.post(f"/api/work-orders/{done}/visit", headers=agent,
                                     json={"result": "satisfied"}) as r:
                    out["verdict"] = (await r.json())["satisfaction"]
                await ws.close()
                return out, [e["type"] for e in events if e["type"].startswith("visit")]
        finally:
            await backend.stop()
            await sim.stop()

    out, seen = run_simulated(main())
    assert out["open"] == (409, "not_open")
    assert out["call"] == 202 and out["again"] == 409
    assert seen == ["visit.answered", "visit.call_ended"]
    assert out["verdict"] == "satisfied"
    db = Database(url)
    try:
        history = db.call(lambda s: [(e.kind, e.detail) for e in s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == done).order_by(OrderEvent.id))])
        assert history[-3:] == [("visit_call_answered", ""), ("visit_call", "reached"),
                                ("visited", "satisfied")]
    finally:
        db.close()
