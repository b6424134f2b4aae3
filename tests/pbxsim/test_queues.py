"""app_queue behaviour: strategies, wrapup, pause, maxlen, joinempty,
QUEUE_PRIO, ring-no-answer/autopause, timeout, abandon, hangup in IVR."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.clock import run_simulated
from pbxsim import CallerScript, PbxSim, PhoneBehaviour
from tests.pbxsim.helpers import TEST_CONF, AgiConn, FakeIvr, make_sim, record_events
from tests.pbxsim.test_call_flow import between, fixture_seq, seq

AGENTS = ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003"]


async def queue_sim(
    queue: str, n: int = 3, behaviour: PhoneBehaviour | None = None, **kw: object
) -> tuple[PbxSim, list]:
    sim = await make_sim(TEST_CONF, **kw)  # type: ignore[arg-type]
    events = record_events(sim)
    for iface in AGENTS[:n]:
        sim.add_phone(iface, behaviour or PhoneBehaviour(answer_after=1.0, talk_seconds=5.0))
        sim.queues.add_member(queue, iface, membername="agent-" + iface[-4:])
    return sim, events


async def call(sim: PbxSim, queue: str, prio: int = 0, **script: object):
    return sim.place_call(
        caller_number="13800000000",
        caller_name="t",
        dialed=f"p{prio}",
        context=queue,
        script=CallerScript(**script),
    )  # type: ignore[arg-type]


def connected(events: list) -> list[str]:
    return [d["Interface"] for n, d in events if n == "AgentConnect"]


def var(events: list, channel: str, name: str) -> str | None:
    vals = [
        d["Value"]
        for n, d in events
        if n == "VarSet" and d["Channel"] == channel and d["Variable"] == name
    ]
    return vals[-1] if vals else None


def sequential(queue: str, count: int) -> list[str]:
    async def main() -> list[str]:
        sim, events = await queue_sim(queue)
        for _ in range(count):
            c = await call(sim, queue)
            await c.done
        await sim.stop()
        return connected(events)

    return run_simulated(main())


def test_rrmemory_rotates() -> None:
    assert sequential("q-rrmemory", 4) == ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1001"]


def test_linear_always_starts_at_first() -> None:
    assert sequential("q-linear", 3) == ["PJSIP/1001"] * 3


def test_leastrecent_and_fewestcalls() -> None:
    for queue in ("q-leastrecent", "q-fewestcalls"):
        got = sequential(queue, 4)
        assert len(set(got[:3])) == 3, (queue, got)  # nobody gets a second call before all had one
        assert got[3] == got[0], (queue, got)


def test_random_uses_several_members() -> None:
    got = sequential("q-random", 12)
    assert len(got) == 12 and set(got) <= set(AGENTS) and len(set(got)) >= 2


def test_ringall_rings_everyone_first_answer_wins() -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-ringall")
        sim.set_phone_behaviour("PJSIP/1002", PhoneBehaviour(answer_after=0.5, talk_seconds=3))
        c = await call(sim, "q-ringall")
        await c.done
        names = [n for n, _ in events]
        called = [d["Interface"] for n, d in events if n == "AgentCalled"]
        assert sorted(called) == AGENTS and names.index("AgentConnect") > max(
            i for i, n in enumerate(names) if n == "AgentCalled"
        )
        assert connected(events) == ["PJSIP/1002"]
        assert sorted(d["DialStatus"] for n, d in events if n == "DialEnd") == [
            "ANSWER",
            "CANCEL",
            "CANCEL",
        ]
        await sim.stop()

    run_simulated(main())


def test_wrapuptime_delays_next_call() -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-wrapup", n=1)
        first = await call(sim, "q-wrapup")
        second = await call(sim, "q-wrapup")  # waits behind the first
        await first.done
        ended = sim.loop_time()
        await second.done
        times = [t for t, text in second.events if text.startswith("left queue")]
        assert times and times[0] - ended >= 30 - 1.5  # wrapuptime 30 s (answer_after 1 s)
        assert connected(events) == ["PJSIP/1001", "PJSIP/1001"]
        await sim.stop()

    run_simulated(main())


def test_paused_member_skipped() -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-rrmemory", n=2)
        sim.queues.pause_member("q-rrmemory", "PJSIP/1001", True, "meal")
        c = await call(sim, "q-rrmemory")
        await c.done
        assert connected(events) == ["PJSIP/1002"]
        sim.queues.pause_member("q-rrmemory", "PJSIP/1002", True, "break")
        c2 = await call(sim, "q-rrmemory", patience=20)
        await c2.done
        assert c2.outcome == "abandon"
        assert [d["Interface"] for n, d in events if n == "AgentCalled"] == ["PJSIP/1002"]
        await sim.stop()

    run_simulated(main())


def test_maxlen_full_and_joinempty_no() -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-maxlen", n=0)
        waiting = await call(sim, "q-maxlen", patience=30)
        await asyncio.sleep(5)
        full = await call(sim, "q-maxlen")
        await full.done
        assert var(events, full.channel, "QUEUESTATUS") == "FULL"
        await waiting.done
        empty = await call(sim, "q-noempty")
        await empty.done
        assert var(events, empty.channel, "QUEUESTATUS") == "JOINEMPTY"
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=1, talk_seconds=2))
        sim.queues.add_member("q-noempty", "PJSIP/1001", paused=True, reason="x")
        paused_only = await call(sim, "q-noempty")
        await paused_only.done
        assert var(events, paused_only.channel, "QUEUESTATUS") == "JOINEMPTY"
        sim.queues.pause_member("q-noempty", "PJSIP/1001", False)
        ok = await call(sim, "q-noempty")
        await ok.done
        assert ok.outcome == "connected"
        await sim.stop()

    run_simulated(main())


def test_queue_prio_jumps_ahead() -> None:
    async def main() -> None:
        sim, events = await queue_sim(
            "q-prio", n=1, behaviour=PhoneBehaviour(answer_after=1, talk_seconds=20)
        )
        busy = await call(sim, "q-prio")
        await asyncio.sleep(5)
        low = await call(sim, "q-prio", prio=0)
        await asyncio.sleep(1)
        high = await call(sim, "q-prio", prio=5)
        await asyncio.gather(busy.done, low.done, high.done)
        joins = {d["Channel"]: d["Position"] for n, d in events if n == "QueueCallerJoin"}
        assert joins[low.channel] == "1" and joins[high.channel] == "1"
        order = [d["Channel"] for n, d in events if n == "AgentConnect"]
        assert order == [busy.channel, high.channel, low.channel]
        await sim.stop()

    run_simulated(main())


def test_ring_no_answer_autopause_then_next(tmp_path: Path) -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-rna", n=2, queue_log_path=tmp_path / "ql")
        sim.set_phone_behaviour("PJSIP/1001", PhoneBehaviour(answers=False))
        c = await call(sim, "q-rna")
        await c.done
        rna = [d for n, d in events if n == "AgentRingNoAnswer"]
        assert [(d["Interface"], d["RingTime"]) for d in rna] == [("PJSIP/1001", "3000")]
        pause = [d for n, d in events if n == "QueueMemberPause"]
        assert [(d["Interface"], d["Paused"], d["PausedReason"]) for d in pause] == [
            ("PJSIP/1001", "1", "Auto-Pause")
        ]
        assert connected(events) == ["PJSIP/1002"]
        kinds = [x.split("|")[4] for x in (tmp_path / "ql").read_text().splitlines()]
        assert kinds[-5:] == ["ENTERQUEUE", "RINGNOANSWER", "PAUSE", "CONNECT", "COMPLETEAGENT"]
        await sim.stop()

    run_simulated(main())


def test_queue_timeout_argument(tmp_path: Path) -> None:
    async def main() -> None:
        sim, events = await queue_sim("q-ringall", n=0, queue_log_path=tmp_path / "ql")
        c = sim.place_call(
            caller_number="1",
            caller_name="",
            dialed="p0",
            context="q-timeout",
            script=CallerScript(patience=300),
        )
        start = sim.loop_time()
        await c.done
        assert 20 <= sim.loop_time() - start < 23
        assert var(events, c.channel, "QUEUESTATUS") == "TIMEOUT"
        assert (tmp_path / "ql").read_text().splitlines()[-1].split("|")[4:] == [
            "EXITWITHTIMEOUT",
            "1",
            "1",
            "20",
        ]
        await sim.stop()

    run_simulated(main())


def test_abandon_matches_fixture(tmp_path: Path) -> None:
    async def main() -> None:
        sim = await make_sim(
            queue_log_path=tmp_path / "ql"
        )  # FastAGI down -> hotline-general, no agents
        events = record_events(sim)
        c = sim.place_call(
            caller_number="13900139000",
            caller_name="Li Si",
            dialed="12345",
            script=CallerScript(patience=3),
        )
        await c.done
        assert c.outcome == "abandon"
        fix = fixture_seq("three-calls.ami.raw", "Local/12345@from-pstn-00000002;2")
        span = (("VarSet", "QUEUEWAIT"), ("VarSet", "QUEUEPOSITION"))
        ours = seq(events, c.channel)
        assert between(ours, ("HangupRequest", ""), span[1]) == between(
            fix, ("HangupRequest", ""), span[1]
        )
        ab = next(d for n, d in events if n == "QueueCallerAbandon")
        assert (ab["Queue"], ab["Position"], ab["OriginalPosition"], ab["HoldTime"]) == (
            "hotline-general",
            "1",
            "1",
            "3",
        )
        last = (tmp_path / "ql").read_text().splitlines()[-1].split("|")
        assert last[1:] == [c.uniqueid, "hotline-general", "NONE", "ABANDON", "1", "1", "3"]
        await sim.stop()

    run_simulated(main())


def test_hangup_during_record_file(tmp_path: Path) -> None:
    async def script(conn: AgiConn) -> None:
        await conn.cmd('RECORD FILE desc wav "#" 60000 0 s=5')
        await conn.cmd("GET DATA beep 3000 4")
        await conn.cmd('GET VARIABLE "CALLERID(num)"')
        await conn.cmd('SET VARIABLE "X" "1"')

    async def main() -> None:
        ivr = await FakeIvr(script).start()
        sim = await make_sim(fastagi=ivr.url, recordings_dir=tmp_path)
        events = record_events(sim)
        c = sim.place_call(
            caller_number="02988888888",
            caller_name="Wang",
            dialed="12345",
            script=CallerScript(hangup_in_ivr_after=3.0, speech_seconds=10.0),
        )
        await c.done
        await asyncio.sleep(0.5)
        log = ivr.sessions[0].log
        assert log == [
            ('RECORD FILE desc wav "#" 60000 0 s=5', "200 result=-1 (hangup) endpos=24000"),
            ("GET DATA beep 3000 4", "HANGUP"),
            (
                "GET DATA beep 3000 4",
                "511 Command Not Permitted on a dead channel or intercept routine",
            ),
            ('GET VARIABLE "CALLERID(num)"', "200 result=1 (02988888888)"),
            ('SET VARIABLE "X" "1"', "200 result=1"),
        ]
        assert var(events, c.channel, "AGISTATUS") == "HANGUP"
        assert not [n for n, d in events if n == "QueueCallerJoin"]  # dialplan stopped after AGI
        assert (tmp_path / "desc.wav").exists()
        await sim.stop()
        ivr.close()

    run_simulated(main())
