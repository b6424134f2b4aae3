"""Hold, ring, talk and wait times of the stand-in's app_queue, exact under
virtual time: every figure below follows from the schedule by hand (the
phone answers after 3 s and talks 20 s; q-wrapup has 30 s of wrap-up)."""

from __future__ import annotations

from pathlib import Path

from core.clock import run_simulated
from pbxsim import PhoneBehaviour
from tests.pbxsim.helpers import TEST_CONF, make_sim
from tests.pbxsim.test_queues import call


def run_two_calls(tmp_path: Path):
    async def main():
        sim = await make_sim(TEST_CONF, queue_log_path=tmp_path / "ql")
        stamped: list[tuple[float, str, dict[str, str]]] = []
        start = sim.loop_time()
        sim.event_listeners.append(
            lambda event, _p, headers: stamped.append((sim.loop_time() - start, event,
                                                       dict(headers))))
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=3.0, talk_seconds=20.0))
        sim.queues.add_member("q-wrapup", "PJSIP/1001", membername="agent-1001")
        first = await call(sim, "q-wrapup", patience=600)
        second = await call(sim, "q-wrapup", patience=600)
        await first.done
        await second.done
        await sim.stop()
        return first.channel, second.channel, stamped

    return run_simulated(main())


def test_given_a_schedule_then_hold_ring_talk_and_wait_times_are_exact(tmp_path: Path):
    first, second, stamped = run_two_calls(tmp_path)

    def at(event: str, channel: str) -> tuple[float, dict[str, str]]:
        [(t, headers)] = [(t, h) for t, e, h in stamped if e == event and h["Channel"] == channel]
        return t, headers

    def var(channel: str, name: str) -> str:
        return [h["Value"] for _, e, h in stamped
                if e == "VarSet" and h["Channel"] == channel and h["Variable"] == name][-1]

    # First caller: rung at once, answered 3 s later, 20 s of talk.
    t, connect = at("AgentConnect", first)
    assert (t, connect["HoldTime"], connect["RingTime"]) == (3.0, "3", "3")
    t, complete = at("AgentComplete", first)
    assert (t, complete["HoldTime"], complete["TalkTime"]) == (23.0, "3", "20")
    assert (var(first, "QUEUEWAIT"), var(first, "ANSWEREDTIME"),
            var(first, "DIALEDTIME")) == ("3", "20", "23")
    # Second caller: waits for that call (23 s) and the wrap-up (30 s), then 3 s of ringing.
    t, connect = at("AgentConnect", second)
    assert (t, connect["HoldTime"], connect["RingTime"]) == (56.0, "56", "3")
    t, complete = at("AgentComplete", second)
    assert (t, complete["HoldTime"], complete["TalkTime"]) == (76.0, "56", "20")
    assert (var(second, "QUEUEWAIT"), var(second, "ANSWEREDTIME")) == ("56", "20")
    # queue_log says the same: CONNECT holdtime|member uniqueid|ringtime,
    # COMPLETEAGENT holdtime|talktime|original position.
    rows = [line.split("|")[4:] for line in (tmp_path / "ql").read_text().splitlines()]
    connects = [(r[1], r[3]) for r in rows if r[0] == "CONNECT"]
    completes = [r[1:] for r in rows if r[0] == "COMPLETEAGENT"]
    assert connects == [("3", "3"), ("56", "3")]
    assert completes == [["3", "20", "1"], ["56", "20", "2"]]
