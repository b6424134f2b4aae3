"""An agent paused (reason ``callback``) by a backend that died during the
call: once the call is closed as lost, the surviving backend resumes them,
and leaves alone an agent paused for a reason of their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from calls import records as call_records
from core.clock import run_simulated
from tests.e2e.test_call_path import START, on_duty_agent
from tests.faults.stack import database, stack, until
from tests.faults.test_restarts import at_pbx
from worksheets.models import CallbackAttempt, CallbackTask

GONE = "gone@elsewhere:1/00000000"


def left_attempt(s: Any, agent_id: int) -> int:
    """A callback attempt of a backend that is gone, its call no longer up."""
    call = call_records.start_call(s, uniqueid="7.1", now=START,
                                   caller_number="13900139000")
    task = CallbackTask(call_id=call.id, caller_number="13900139000", created_at=START,
                        status="calling", agent_id=agent_id)
    s.add(task)
    s.flush()
    expired = START - timedelta(minutes=1)
    attempt = CallbackAttempt(task_id=task.id, agent_id=agent_id, started_at=expired,
                              owner=GONE, lease_until=expired, uniqueid="999.1")
    s.add(attempt)
    s.flush()
    return attempt.id


def run(tmp_path: Path, reason: str) -> tuple[Any, ...]:
    url = database(tmp_path)
    agent_id, _interface, member = agent = on_duty_agent(url)

    async def main() -> tuple[Any, ...]:
        st = await stack(url, tmp_path, agent)
        try:
            staffing = st.backend.staffing
            await staffing.pause(agent_id, True, reason)
            await until(lambda: (staffing.states.state_of(agent_id) or {}).get("reason")
                        == reason)
            paused = at_pbx(st.sim, member)
            db = st.backend.deps.db  # type: ignore[union-attr]
            # The dead backend's call: swept (closed as lost) within 10 s.
            attempt_id = await db.run(lambda s: left_attempt(s, agent_id))

            def result() -> Any:
                return db.call(lambda s: s.get(CallbackAttempt, attempt_id).result)
            await until(lambda: result() != "calling", timeout=120)
            await until(lambda: at_pbx(st.sim, member) != paused or reason != "callback",
                        timeout=30)
            return result(), paused, at_pbx(st.sim, member), staffing.states.state_of(agent_id)
        finally:
            await st.stop()

    return run_simulated(main())


def test_given_the_call_an_agent_was_paused_for_is_lost_then_they_are_resumed(
        tmp_path: Path) -> None:
    result, before, after, state = run(tmp_path, "callback")
    assert result == "lost"
    assert before and all(p == (True, "callback") for p in before.values())
    assert after.keys() == before.keys() and all(not p for p, _ in after.values())
    assert state["state"] != "paused"


def test_given_an_agent_paused_for_their_own_reason_then_a_lost_call_leaves_them_paused(
        tmp_path: Path) -> None:
    result, before, after, state = run(tmp_path, "meal")
    assert result == "lost"
    assert after == before and all(p == (True, "meal") for p in before.values())
    assert state["state"] == "paused" and state["reason"] == "meal"
