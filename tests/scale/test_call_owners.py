"""Callback and 回访 calls belong to the backend that placed them (a lease it
renews): two backends on PostgreSQL against one built-in PBX, virtual time.

Backend b places a callback and a 回访 call; a third backend starting
meanwhile, and the elected one's sweeps, leave them alone.  Then b stops dead
while both calls are going: once its leases run out, the elected backend
follows both calls to their end and records them as reached (not lost).
Calls left by a backend that is gone and no longer up at the PBX are closed
as lost.  A backend that dies while its agent's phone rings never hears the
answer: another records the agent's channel from the OriginateResponse
(every AMI session gets it) and the elected one follows the call.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from agents.models import Agent
from calls import records
from core.clock import run_simulated
from core.db import Database
from pbxsim import PhoneBehaviour
from tests.conftest import make_database_url
from tests.e2e.test_call_path import START
from tests.helpers import prepare_database, record_answer, reply_and_accept
from tests.scale.pair import Pair, add_backend, start_pair
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import CallbackAttempt, CallbackTask, OrderEvent, WorkOrder

CITIZEN = "13900139000"
GONE = "gone@elsewhere:1/00000000"


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


def prepare(url: str) -> dict[str, Any]:
    prepare_database(url, START)
    db = Database(url)

    def work(s: Any) -> dict[str, Any]:
        agents = s.scalars(select(Agent).order_by(Agent.number)).all()[:2]
        tasks, orders = [], []
        for n in range(2):
            call = records.start_call(s, uniqueid=f"7.{n}", now=START, caller_number=CITIZEN)
            task = CallbackTask(call_id=call.id, caller_number=CITIZEN, created_at=START)
            s.add(task)
            s.flush()
            tasks.append(task.id)
            order = record_answer(s, f"7.{n}", member_name="m", agent_id=None,
                                  hold_seconds=1, now=START)
            service.submit_work_order(s, order.id, agent_id=None, title="路灯不亮",
                                      description="", category="help",
                                      complexity="ordinary", department_id=1,
                                      answered_on_call=False, now=START,
                                      calendar=WorkingCalendar.default(),
                                      tz=ZoneInfo("Asia/Shanghai"))
            reply_and_accept(s, order.id, department_id=1, text="已修复", user_id=None,
                             now=START)
            orders.append(order.id)
        # Left by a backend that is gone, whose calls are no longer up at the PBX.
        expired = START - timedelta(minutes=1)
        s.add(CallbackAttempt(task_id=tasks[1], agent_id=agents[1].id, started_at=expired,
                              owner=GONE, lease_until=expired, uniqueid="999.1"))
        s.get(CallbackTask, tasks[1]).status = "calling"
        s.get(CallbackTask, tasks[1]).agent_id = agents[1].id
        order = s.get(WorkOrder, orders[1])
        order.visit_calling_since = order.visit_last_try_at = expired
        order.visit_owner, order.visit_lease_until = GONE, expired
        order.visit_agent_id = agents[1].id
        return {"agents": [(a.id, a.interface) for a in agents], "tasks": tasks,
                "orders": orders}

    try:
        return db.call(work)
    finally:
        db.close()


async def placed_by_b(pg_url: str, tmp_path: Path, data: dict[str, Any], *,
                      agents_answer_after: float) -> Pair:
    """Backends a (elected) and b; b places a callback (task 0, agent x) and a
    回访 call (order 0, agent y)."""
    (agent_x, phone_x), (agent_y, phone_y) = data["agents"]
    pair = await start_pair(pg_url, tmp_path, START.astimezone(UTC))
    try:
        assert pair.backends["a"].election.elected  # type: ignore[union-attr]
        for phone in (phone_x, phone_y):
            pair.sim.add_phone(phone, PhoneBehaviour(answer_after=agents_answer_after,
                                                     talk_seconds=120.0))
        pair.sim.far_ends[CITIZEN] = PhoneBehaviour(answer_after=3.0, talk_seconds=120.0)
        dialer = pair.backends["b"].deps.dialer  # type: ignore[union-attr]
        await dialer.call(data["tasks"][0], agent_x)  # type: ignore[union-attr]
        await dialer.call_for_visit(data["orders"][0], agent_y, None)  # type: ignore[union-attr]
    except BaseException:
        await pair.stop()
        raise
    return pair


def expire_leases(s: Any, now: datetime) -> None:
    """As if the calls' leases had run out (the elected one sweeps every 10 s)."""
    past = now - timedelta(seconds=1)
    s.execute(update(CallbackAttempt).where(CallbackAttempt.result == "calling")
              .values(lease_until=past))
    s.execute(update(WorkOrder).where(WorkOrder.visit_calling_since.is_not(None))
              .values(visit_lease_until=past))


def test_given_a_backend_dies_mid_call_then_the_elected_one_follows_its_calls_to_the_end(
        pg_url: str, tmp_path: Path) -> None:
    data = prepare(pg_url)
    task, dead_task = data["tasks"]
    order, dead_order = data["orders"]

    def owners(s: Any) -> tuple[Any, ...]:
        attempt = s.scalars(select(CallbackAttempt).where(CallbackAttempt.task_id == task)).one()
        visit = s.get(WorkOrder, order)
        return (attempt.owner, attempt.result, visit.visit_owner,
                visit.visit_calling_since is not None)

    async def main() -> dict[str, Any]:
        pair = await placed_by_b(pg_url, tmp_path, data, agents_answer_after=1.0)
        a, b = pair.backends["a"], pair.backends["b"]
        db = a.deps.db  # type: ignore[union-attr]
        try:
            await asyncio.sleep(15)  # both answered by the agent, then the citizen
            await add_backend(pair, "c", pg_url, tmp_path)  # a start kills nothing
            await asyncio.sleep(25)  # the elected one's sweeps too
            during = await db.run(owners)
            await b.stop()  # dead mid-call: its leases are no longer renewed
            stopped_at = pair.sim.clock.now()
            await asyncio.sleep(120)
            after = await db.run(owners)
            history = await db.run(lambda s: [(e.kind, e.detail) for e in s.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order,
                                         OrderEvent.kind.like("visit_call%"))
                .order_by(OrderEvent.id))])
            attempt = await db.run(lambda s: s.scalars(select(CallbackAttempt).where(
                CallbackAttempt.task_id == task)).one())
            task_row = await db.run(lambda s: s.get(CallbackTask, task))
            dead = await db.run(lambda s: (
                [x.result for x in s.scalars(select(CallbackAttempt).where(
                    CallbackAttempt.task_id == dead_task))],
                s.get(CallbackTask, dead_task).status,
                s.get(WorkOrder, dead_order).visit_calling_since,
                [e.detail for e in s.scalars(select(OrderEvent).where(
                    OrderEvent.order_id == dead_order, OrderEvent.kind == "visit_call"))]))
            return {"during": during, "after": after, "history": history,
                    "attempt": (attempt.result, attempt.answered_at, attempt.ended_at),
                    "task": (task_row.status, task_row.last_result), "dead": dead,
                    "stopped_at": stopped_at, "owner_a": a.owner, "owner_b": b.owner}
        finally:
            await pair.stop()

    seen = run_simulated(main())
    # While b lives: its calls stay its own, whoever starts or sweeps.
    assert seen["during"] == (seen["owner_b"], "calling", seen["owner_b"], True)
    # After b died: followed by a to the end, and reached.
    result, answered_at, ended_at = seen["attempt"]
    assert result == "reached" and answered_at is not None
    assert ended_at > seen["stopped_at"] + timedelta(seconds=30)  # the call went on
    assert seen["task"] == ("done", "reached")
    assert seen["history"] == [("visit_call_answered", ""), ("visit_call", "reached")]
    assert seen["after"] == (None, "reached", None, False)
    # The gone backend's calls no longer up at the PBX: closed as lost.
    results, status, calling_since, visit_calls = seen["dead"]
    assert results == ["lost"] and status == "open"
    assert calling_since is None and visit_calls == ["lost"]


@pytest.mark.parametrize(("ring_seconds", "lease_out_at_once"), [
    (8.0, False),  # the agents answer before b's leases run out
    (20.0, True),  # b's leases run out while the agents' phones still ring
])
def test_given_a_backend_dies_before_the_agent_answers_then_the_elected_one_follows_the_call(
        pg_url: str, tmp_path: Path, ring_seconds: float, lease_out_at_once: bool) -> None:
    """The OriginateResponse goes to every AMI session: b never hears its agent
    answer, but a does and records the channel by the ActionID b stored.  A
    call whose agent's phone may still ring is not closed as lost meanwhile."""
    data = prepare(pg_url)
    task, order = data["tasks"][0], data["orders"][0]

    def calls(s: Any) -> dict[str, Any]:
        attempt = s.scalars(select(CallbackAttempt).where(CallbackAttempt.task_id == task)).one()
        visit = s.get(WorkOrder, order)
        return {"attempt": (attempt.result, attempt.action_id, attempt.uniqueid, attempt.owner,
                            attempt.answered_at, attempt.ended_at),
                "task": (s.get(CallbackTask, task).status, s.get(CallbackTask, task).last_result),
                "visit": (visit.visit_calling_since is not None, visit.visit_action_id,
                          visit.visit_uniqueid, visit.visit_owner),
                "history": [(e.kind, e.detail, e.at) for e in s.scalars(
                    select(OrderEvent).where(OrderEvent.order_id == order,
                                             OrderEvent.kind.like("visit_call%"))
                    .order_by(OrderEvent.id))]}

    async def main() -> dict[str, Any]:
        pair = await placed_by_b(pg_url, tmp_path, data, agents_answer_after=ring_seconds)
        a, b = pair.backends["a"], pair.backends["b"]
        db = a.deps.db  # type: ignore[union-attr]
        try:
            await b.stop()  # dead while the agents' phones ring
            stopped_at = pair.sim.clock.now()
            at_stop = await db.run(calls)
            if lease_out_at_once:
                await db.run(lambda s: expire_leases(s, stopped_at))
            await asyncio.sleep(240)
            return {"at_stop": at_stop, "after": await db.run(calls),
                    "stopped_at": stopped_at, "owner_b": b.owner}
        finally:
            await pair.stop()

    seen = run_simulated(main())
    # b stored the ActionIDs before sending, and died before the agents answered.
    result, action_id, uniqueid, owner, answered_at, _ended = seen["at_stop"]["attempt"]
    assert (result, uniqueid, owner, answered_at) == ("calling", None, seen["owner_b"], None)
    calling, visit_action, visit_uniqueid, visit_owner = seen["at_stop"]["visit"]
    assert calling and visit_uniqueid is None and visit_owner == seen["owner_b"]
    assert action_id and visit_action and action_id != visit_action
    # The survivor recorded the agents' channels, followed both calls to their
    # end, and recorded them as reached, not lost.
    result, _action, uniqueid, owner, answered_at, ended_at = seen["after"]["attempt"]
    assert result == "reached" and uniqueid and owner is None
    assert answered_at > seen["stopped_at"]  # the citizen picked up after b was gone
    assert ended_at > seen["stopped_at"] + timedelta(seconds=120)  # the call went on
    assert seen["after"]["task"] == ("done", "reached")
    assert seen["after"]["visit"] == (False, None, None, None)
    assert [(kind, detail) for kind, detail, _at in seen["after"]["history"]] == [
        ("visit_call_answered", ""), ("visit_call", "reached")]
    ended = seen["after"]["history"][-1][2]
    assert ended > seen["stopped_at"] + timedelta(seconds=120)
