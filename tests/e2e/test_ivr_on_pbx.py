"""The caller's path on the built-in PBX with the production dialplan:
legacy numbers, blocked callers, overflow to the general queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from calls import records
from calls.models import Call, CallEvent
from core.clock import run_simulated
from core.db import Database
from pbxsim import CallerScript, PhoneBehaviour
from routing import lists
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.helpers import prepare_database
from worksheets.models import WorkOrder


def _calls(url):
    db = Database(url)
    try:
        return db.call(lambda s: {c.uniqueid: c for c in s.scalars(select(Call))}), db
    finally:
        pass


def test_legacy_number_blocked_caller_and_overflow(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    agent_id, interface, member = on_duty_agent(url)
    db = Database(url)
    db.call(lambda s: lists.block_number(s, "13800000666", reason="骚扰", user_id=None, now=START,
                                         expires_at=START + timedelta(days=1)))
    db.close()

    async def main():
        sim, backend = await start_stack(url, tmp_path)
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=30.0))
            legacy = sim.place_call(caller_number="13911112222", caller_name="", dialed="12315",
                                    script=CallerScript(keys="", patience=600))
            blocked = sim.place_call(caller_number="13800000666", caller_name="", dialed="12345",
                                     script=CallerScript(keys="1", patience=600))
            # Nobody is on the queues yet: the help caller overflows to the general queue.
            overflow = sim.place_call(caller_number="13711112222", caller_name="", dialed="12345",
                                      script=CallerScript(keys="1", patience=900))
            await asyncio.sleep(200)
            await backend.staffing.queue_login(agent_id)
            await asyncio.wait_for(asyncio.gather(legacy.done, blocked.done, overflow.done), 900)
            await asyncio.sleep(2)
            return legacy.uniqueid, blocked.uniqueid, overflow.uniqueid
        finally:
            await backend.stop()
            await sim.stop()

    legacy_id, blocked_id, overflow_id = run_simulated(main())
    db = Database(url)
    try:
        calls = db.call(lambda s: {c.uniqueid: c for c in s.scalars(select(Call))})
        legacy, blocked, overflow = calls[legacy_id], calls[blocked_id], calls[overflow_id]
        assert (legacy.dialed_number, legacy.ivr_choice) == ("12315", "legacy")
        assert legacy.category == "complaint" and legacy.outcome == "answered"
        assert blocked.outcome == "blocked" and blocked.queue is None
        assert db.call(lambda s: s.scalar(select(WorkOrder).where(
            WorkOrder.call_id == blocked.id))) is None
        queued = db.call(lambda s: [e.detail for e in records.call_timeline(s, overflow.id)
                                    if e.kind == "queued"])
        assert queued[0] == "hotline-help" and queued[-1] == "hotline-general"
        assert overflow.outcome == "answered" and overflow.queue == "hotline-general"
        assert db.call(lambda s: s.scalar(select(CallEvent).where(
            CallEvent.call_id == overflow.id, CallEvent.kind == "description"))) is None
    finally:
        db.close()
