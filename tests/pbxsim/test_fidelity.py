"""Full-fidelity replays: the client side of each Asterisk 22 fixture is
played into the stand-in (with the fixture's own config), and what comes
back must be the same events per channel, in the same order, with the same
headers, ids and times aside (see tests/pbxsim/fidelity.py)."""

from __future__ import annotations

import wave
from pathlib import Path

from core.clock import Clock, run_simulated
from pbxsim import PbxSim, PhoneBehaviour
from tests.pbxsim import fidelity as F

# hello-world.gsm of Asterisk's core sounds lasts 11360 samples (the
# fixture's STREAM FILE endpos); the stand-in takes prompt lengths from WAVs.
HELLO_WORLD_SAMPLES = 11360
_RECORD_ENDPOS = " endpos="


def _sounds(tmp_path: Path) -> Path:
    sounds = tmp_path / "sounds"
    sounds.mkdir(exist_ok=True)
    with wave.open(str(sounds / "hello-world.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * HELLO_WORLD_SAMPLES)
    return sounds


def _factory(tmp_path: Path):
    async def make(fastagi: str) -> PbxSim:
        sim = PbxSim(F.FIXTURES / "config", clock=Clock.for_running_loop(),
                     globals_override={"FASTAGI": fastagi}, recordings_dir=tmp_path,
                     queue_log_path=tmp_path / "queue_log", sounds_dir=_sounds(tmp_path))
        await sim.start()
        return sim
    return make


def _agi_without_record_endpos(replies: list[str], commands: list[str]) -> list[str]:
    # RECORD FILE's endpos depends on Asterisk's silence detector hearing the
    # far end's audio, which the stand-in does not synthesise.
    return [r.split(_RECORD_ENDPOS)[0] if c.startswith("RECORD FILE") else r
            for r, c in zip(replies, commands, strict=True)]


def _assert_agi_same(name: str, got: list[list[str]], sessions: int) -> None:
    assert len(got) == sessions
    for i, replies in enumerate(got, 1):
        commands = F.fixture_agi_commands(name, i)
        want = F.fixture_agi_replies(name, i)
        assert (_agi_without_record_endpos(replies, commands)
                == _agi_without_record_endpos(want, commands)), f"AGI session {i}"


def _queue_log(path: Path) -> list[list[str]]:
    """queue_log lines without the time column, uniqueids without their time."""
    out = []
    for line in path.read_text().splitlines():
        fields = line.split("|")[1:]
        out.append([F.Normaliser().value("x", f) for f in fields])
    return out


def test_three_calls_replay_matches_asterisk(tmp_path: Path) -> None:
    # Seconds after login of each action, from the fixture's uniqueids and
    # queue_log stamps: Originate A at +1, pause at +17, B at +18, C at +31,
    # then unpause, remove, CoreShowChannels, Command, bad Originate, Logoff.
    schedule = [0, 0, 0, 0, 0, 0, 1, 17, 18, 31, 37, 37, 37, 37, 37, 37]

    def races(sim: PbxSim) -> None:
        # Here agent-1001's ;2 answered before app_queue's thread had marked
        # the Local pair started (its Answer precedes AgentCalled), so the
        # device state of that answer reads NOT_INUSE; the other order, the
        # stand-in's default, is the common one (28 of 30 in load-120-calls).
        sim.interleavings.early_local_answer.add("Local/1001@agents-00000001")

    result = run_simulated(F.replay("three-calls", schedule, _factory(tmp_path), 3, tmp_path,
                                    setup=races))
    want = F.fixture_received("three-calls")
    problems = F.diff_lanes(F.lanes(want), F.lanes(result.received))
    assert not problems, "\n".join(problems)
    problems = F.duration_problems(want, result.received)
    assert not problems, "\n".join(problems)
    # Call B's client lingered (1.5 s) after its last AGI command, so B's ;2 hangs
    # up in the very second call C is originated (+31 s): a tie, not a race.
    tie = frozenset({("Channel Local/12345@from-pstn-00000002;2",
                      "Channel Local/12345@from-pstn-00000003;2")})
    problems = F.order_problems(want, result.received, ties=tie)
    assert not problems, "\n".join(problems)
    _assert_agi_same("three-calls", result.agi_replies, 3)
    assert _queue_log(tmp_path / "queue_log") == _queue_log(
        F.SCENARIOS / "three-calls.queue_log")


def test_sip_agent_replay_matches_asterisk(tmp_path: Path) -> None:
    # baresip auto-answers at once; the agent hangs up after speaking 4 s.
    def phone(sim: PbxSim) -> None:
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=0.5, talk_seconds=4.0))

    schedule = [0, 0, 0, 1, 40, 40, 40]
    result = run_simulated(F.replay("sip-agent", schedule, _factory(tmp_path), 1, tmp_path,
                                    setup=phone))
    ours = F.lanes(result.received, {str(tmp_path): "/tmp/ast/run/spool/monitor"})
    problems = F.diff_lanes(F.lanes(F.fixture_received("sip-agent")), ours)
    assert not problems, "\n".join(problems)
    problems = F.duration_problems(F.fixture_received("sip-agent"), result.received)
    assert not problems, "\n".join(problems)
    problems = F.order_problems(F.fixture_received("sip-agent"), result.received)
    assert not problems, "\n".join(problems)
    _assert_agi_same("sip-agent", result.agi_replies, 1)


def test_supervisor_recording_callback_replay_matches_asterisk(tmp_path: Path) -> None:
    # A caller answered by agent-1001 (a Local member, recorded by MixMonitor
    # from the member gosub), MixMonitor over AMI refused, a supervisor's
    # ChanSpy(Local/1001@agents,qE), the agent paused ("回访") and a
    # click-to-call (Originate to the agent, then [callback-out]'s
    # Dial(Local/...@citizen)), QueueRemove, Logoff.
    # Seconds after login, from the fixture: the caller at +0; CoreShowChannels
    # at +9 (Duration 00:00:09, before the caller queues); MixMonitor and the
    # supervisor's Originate at +10, once bridged (uniqueids .4/.5 are stamped
    # +10); StopMixMonitor, the pause and the callback before the agent's 12 s
    # of talk end (the fixture pauses agent-1001 with InCall=1 and bridges the
    # callback first: +22 there, +21 here, as the caller reaches the queue
    # about half a second sooner in the stand-in); unpause, remove and Logoff
    # after the callback (its QueueMemberStatus precedes the unpause's answer).
    schedule = [0, 0, 0, 9, 10, 10, 21, 21, 21, 30, 30, 30]

    def races(sim: PbxSim) -> None:
        # Here app_queue's AgentComplete came after agent-1001's ;1 had gone:
        # after the caller's DIALEDTIME and without Dest* headers (the late
        # order; 6 of 24 agent hangups in load-120-calls come as late).
        sim.interleavings.late_agent_complete.add("Local/12345@from-pstn-00000000;2")

    name = "supervisor-recording-callback"
    result = run_simulated(F.replay(name, schedule, _factory(tmp_path), 1, tmp_path,
                                    setup=races))
    ours = F.lanes(result.received, {str(tmp_path): "/tmp/ast/run/spool/monitor"})
    want = F.lanes(F.fixture_received(name))
    problems = F.diff_lanes(want, ours)
    assert not problems, "\n".join(problems)
    problems = F.duration_problems(F.fixture_received(name), result.received)
    assert not problems, "\n".join(problems)
    # The agent's member channel steps through its dialplan in the seconds the
    # schedule sends the supervisor's actions (+10) and the callback (+21, a
    # second early: see above), so those orders are ties of the schedule.
    ties = frozenset({("Channel Local/1001@agents-00000001;2", "action "),
                      ("Channel Local/1001@agents-00000001;2", "Channel Local/s@supervisor-spy"),
                      ("Channel Local/1001@agents-00000001;2",
                       "DestChannel Local/s@supervisor-spy"),
                      # the callback's first steps against the end of the first call
                      ("Channel Local/1001@agents-00000003", ""),
                      ("Channel Local/13800138000@citizen", "")})
    problems = F.order_problems(F.fixture_received(name), result.received, ties=ties)
    assert not problems, "\n".join(problems)
    assert sum(len(v) for v in want.values()) == len(F.fixture_received(name)) == 275
    spy = [m for m in result.received if m.event in ("ChanSpyStart", "ChanSpyStop")]
    assert [m.event for m in spy] == ["ChanSpyStart", "ChanSpyStop"]
    _assert_agi_same(name, result.agi_replies, 1)
