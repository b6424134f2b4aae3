"""The 120-call load trace (load-120-calls.ami.raw, 9,072 events) replayed
into the stand-in, compared per call rather than byte for byte.

The trace has no AGI transcripts and its channel numbers drift with any
difference of scheduling, so the test derives the run's schedule from the
trace itself (with fidelity.py's own reading of the raw bytes): the
fixture's client actions (12 QueueAdd, 120 Originate carrying each call's
CALLER_KEY, CALLER_STAY and AGENT_TALK, QueueStatus, Logoff), each
Originate sent in the second its uniqueid was stamped.  Its FastAGI client
was the one of three-calls (the same events per ;2 channel: PLAYBACKSTATUS,
DTMF, HOTLINE_CHOICE, then Queue 60 s), so that script is played, with the
key it heard.  Calls are matched by their caller number (``1390000NNNN``,
N = order of arrival) and compared on:

* the sequence of event names of the caller's ``;2`` channel, VarSets by
  variable name; Newexten (the dialplan steps, one per event) is left out
  only because it carries nothing the other events do not; AgentComplete
  is taken out and checked to come once, after BridgeEnter: its place is
  the documented "late AgentComplete" race (pbxsim/STATUS.md);
* the outcome (answered by which member / abandoned), hold and talk time
  within 1 s (queue_log CONNECT and COMPLETE*), and
* per-queue entered/answered/abandoned totals and calls per member.

The stand-in matches Asterisk on 112 of the 120 calls; the 8 differences
left are listed in KNOWN below, each explained, and the test fails on any
other difference (seeded: one answer 2 s late gives 42, two members swapped
11) and on a known one that no longer shows.  Fixed on the way
in the stand-in, checked against app_queue.c and channel.c:

* a caller who hung up before Queue() (AGI read the hangup) is still rung
  for, connected and bridged: wait_for_answer() learns of a hangup only
  from a frame (7 such calls here);
* Answer() on the ;2 of a Local member dialled by Queue/Dial waits 500 ms
  for media (__ast_answer): every ANSWEREDTIME here is AGENT_TALK + 0.505 s
  (three-calls' too); an originated Local ;2 does not (three-calls).

Still different, and why:

* RECORD FILE s=2 does not hear the caller's Playback through the Local
  pair, so the stand-in's AGI lasts 7.7 s, Asterisk's about 9.5 s; the
  schedule compensates, abandon waits come out up to 1 s longer;
* where within its second each call arrived is not in the trace, and that
  phase decides which waiting caller's 1 s recheck finds a member first:
  the stand-in connects the second wave about 1 s slower, so calls 28/31
  get each other's member and call 33 abandons instead of reaching
  agent-2009.
"""

from __future__ import annotations

import asyncio
import re
import wave
from collections import Counter
from pathlib import Path

from core.clock import Clock, run_simulated
from pbx.ami_protocol import AmiMessage
from pbxsim import PbxSim
from tests.pbxsim import fidelity as F
from tests.pbxsim.helpers import AgiConn, AmiClient, FakeIvr

NAME = "load-120-calls"
_UNIQUEID = re.compile(r"^(1\d{9})\.\d+$")


# Lengths in 8 kHz samples of the prompts Asterisk played here, from the
# stock sounds (asterisk-core-sounds-en-gsm 1.6.1: 33 bytes per 160 samples;
# hello-world's 11360 is the three-calls fixture's STREAM FILE endpos).  They
# matter: a caller who joins while no member is free hears queue-youarenext
# and queue-thankyou (7 s) before app_queue looks for a member again.
SOUNDS = {
    "hello-world": 11360, "beep": 3520,
    "queue-youarenext": 43040, "queue-thereare": 18080, "queue-callswaiting": 19840,
    "queue-thankyou": 12800, "queue-holdtime": 22400, "queue-minutes": 7040,
    "queue-minute": 6720, "queue-seconds": 8960, "queue-less-than": 8480,
    "queue-reporthold": 8800,
    "digits/0": 7040, "digits/1": 7360, "digits/2": 6080, "digits/3": 6720,
    "digits/4": 6560, "digits/5": 6720, "digits/6": 7200, "digits/7": 6720,
    "digits/8": 5600, "digits/9": 6880, "digits/10": 5280, "digits/11": 7840,
    "digits/12": 6560, "digits/13": 7520, "digits/14": 8480, "digits/15": 9280,
    "digits/16": 9600, "digits/17": 9760, "digits/18": 8800, "digits/19": 9920,
    "digits/20": 7520, "digits/30": 7360, "digits/40": 7680, "digits/50": 9920,
    "digits/60": 8320, "digits/70": 8320, "digits/80": 6720, "digits/90": 8320,
}


def _sounds(tmp_path: Path) -> Path:
    sounds = tmp_path / "sounds"
    for name, samples in SOUNDS.items():
        path = sounds / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * samples)
    return sounds


def _caller_lanes(messages: list[AmiMessage]) -> dict[str, list[AmiMessage]]:
    """The ;2 half of each caller's Local pair (runs from-pstn), by caller number."""
    by_channel: dict[str, list[AmiMessage]] = {}
    for m in messages:
        lane = F.lane_of(m)
        if lane.startswith("Channel Local/12345@from-pstn-") and lane.endswith(";2"):
            by_channel.setdefault(lane, []).append(m)
    out = {}
    for msgs in by_channel.values():
        number = next(m.get("CallerIDNum") for m in reversed(msgs)
                      if (m.get("CallerIDNum") or "").startswith("139"))
        out[number] = msgs
    return out


def _names(msgs: list[AmiMessage]) -> list[str]:
    names = [f"VarSet {m.get('Variable')}" if m.event == "VarSet" else m.event
             for m in msgs if m.event != "Newexten"]
    if "AgentComplete" in names:
        assert names.count("AgentComplete") == 1
        assert names.index("AgentComplete") > names.index("BridgeEnter")
        names.remove("AgentComplete")
        names.append("(AgentComplete after BridgeEnter)")
    return names


# The stand-in's time from Originate to QueueCallerJoin with this AGI script
# (measured): a caller who stays 3 s hangs up during RECORD FILE.
AGI_SECONDS = {"3": 6.67, "25": 7.69}
_CALLER = re.compile(rb'CallerID: "[^"]*" <(\d+)>')
_STAY = re.compile(rb"Variable: CALLER_STAY=(\d+)")


def _schedule(actions: list[bytes], queue_log: str) -> list[tuple[float, bytes]]:
    """(seconds after the QueueAdds, action), in the order to send them.

    The trace stamps uniqueids and queue_log lines to the second only, and
    the order in which calls reach the queue decides which member answers
    which call; so each Originate is sent so that its caller joins the
    queue in the second the queue_log says, in the queue_log's order within
    that second (ENTERQUEUE second + rank/20, less the AGI's duration).
    Where in the second is not in the trace; see the module docstring."""
    lines = [line.split("|") for line in queue_log.splitlines()]
    zero = min(int(f[0]) for f in lines if f[4] == "ADDMEMBER")
    enters = [(int(f[0]) - zero, f[6]) for f in lines if f[4] == "ENTERQUEUE"]
    arrival: dict[str, float] = {}
    for i, (second, number) in enumerate(enters):
        rank = sum(1 for s, _ in enters[:i] if s == second)
        arrival[number] = second + 0.05 * rank
    out = []
    for action in actions:
        if b"Action: Originate" in action:
            number = _CALLER.search(action).group(1).decode()
            stay = _STAY.search(action).group(1).decode()
            out.append((arrival[number] - AGI_SECONDS[stay], action))
        elif b"Action: QueueStatus" in action or b"Action: Logoff" in action:
            out.append((max(arrival.values()) + 60.0, action))
        else:
            out.append((0.0, action))
    return sorted(out, key=lambda pair: pair[0])


def _queue_log(text: str) -> dict[str, object]:
    """Per call (by caller number): outcome, member, hold and talk; totals."""
    calls: dict[str, dict] = {}
    by_id: dict[str, dict] = {}
    totals: Counter = Counter()
    members: Counter = Counter()
    for line in text.splitlines():
        t, callid, queue, agent, event, *data = line.split("|")
        if event == "ENTERQUEUE":
            by_id[callid] = calls[data[1]] = {"queue": queue}
            totals[(queue, "entered")] += 1
        elif event == "CONNECT":
            by_id[callid].update(member=agent, hold=int(data[0]))
            totals[(queue, "answered")] += 1
            members[agent] += 1
        elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
            by_id[callid]["talk"] = int(data[1])
        elif event == "ABANDON":
            by_id[callid].update(member=None, wait=int(data[2]))
            totals[(queue, "abandoned")] += 1
    return {"calls": calls, "totals": totals, "members": members}


async def _run(tmp_path: Path) -> bytes:
    script = F.fixture_agi_commands("three-calls", 1)

    async def play(conn: AgiConn) -> None:
        uid = conn.env["agi_uniqueid"]
        key = "0"
        for line in script:
            line = F._UID.sub(uid, line).replace("/tmp/ast/run/spool/recording", str(tmp_path))
            if line.startswith('SET VARIABLE "HOTLINE_CHOICE"'):
                line = f'SET VARIABLE "HOTLINE_CHOICE" "{key}"'
            reply = await conn.cmd(line)
            if line.startswith("WAIT FOR DIGIT"):
                key = reply.partition("result=")[2].split()[0]
        await asyncio.sleep(1.0)

    ivr = FakeIvr(play)
    await ivr.start()
    sim = PbxSim(F.FIXTURES / "config", clock=Clock.for_running_loop(),
                 globals_override={"FASTAGI": ivr.url}, recordings_dir=tmp_path,
                 queue_log_path=tmp_path / "queue_log", sounds_dir=_sounds(tmp_path))
    await sim.start()
    loop = asyncio.get_running_loop()
    client = await AmiClient.connect(sim.ami_port)
    actions = F.fixture_actions(NAME)
    assert len(actions) == 135
    schedule = _schedule(actions, (F.SCENARIOS / f"{NAME}.queue_log").read_text())
    start = loop.time()
    for at, action in schedule:
        delay = start + at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        client.send_raw(action)
        await asyncio.sleep(0)
    await asyncio.sleep(5)
    await client.close()
    await sim.stop()
    ivr.close()
    return client.raw


_TOTALS = ("{('hotline-help', 'entered'): 120, ('hotline-help', 'answered'): %d, "
           "('hotline-help', 'abandoned'): %d}")
_MEMBERS = ("[('agent-2000', 4), ('agent-2001', 3), ('agent-2002', 2), ('agent-2003', 3), "
            "('agent-2004', 2), ('agent-2005', 2), ('agent-2006', 3), ('agent-2007', 2), "
            "('agent-2008', 2), ('agent-2009', %d), ('agent-2010', 2), ('agent-2011', 2)]")
# The differences explained in the module's docstring: which waiting caller
# a freed member reaches first depends on where within its second each call
# arrived (not in the trace), and the stand-in's RECORD FILE runs ~1 s short.
KNOWN = {
    "13900000032 events #44: fixture ['HangupRequest', 'VarSet AGISTATUS', "
    "'SoftHangupRequest'], stand-in ['VarSet AGISTATUS', 'SoftHangupRequest', 'Hangup']",
    "13900000033 events #18: fixture ['AgentCalled', 'DialBegin', 'DialEnd'], "
    "stand-in ['HangupRequest', 'VarSet QUEUEWAIT', 'VarSet QUEUEWAIT_MS']",
    "13900000026 hold: fixture 8 s, stand-in 10 s",
    "13900000028 outcome: fixture agent-2003, stand-in agent-2000",
    "13900000031 outcome: fixture agent-2000, stand-in agent-2003",
    "13900000033 outcome: fixture agent-2009, stand-in abandoned",
    "totals: fixture " + _TOTALS % (30, 90) + ", stand-in " + _TOTALS % (29, 91),
    "calls per member: fixture " + _MEMBERS % 3 + ", stand-in " + _MEMBERS % 2,
}


def test_load_trace_replay_matches_asterisk_per_call(tmp_path: Path) -> None:
    raw = run_simulated(_run(tmp_path))
    got_msgs, want_msgs = F.wire_messages(raw), F.fixture_received(NAME)
    assert sum(1 for m in want_msgs if m.event) == 9072

    want, got = _caller_lanes(want_msgs), _caller_lanes(got_msgs)
    assert sorted(want) == sorted(got) and len(want) == 120
    problems = []
    for number in sorted(want):
        a, b = _names(want[number]), _names(got[number])
        if a != b:
            i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
            problems.append(f"{number} events #{i}: fixture {a[i:i + 3]}, stand-in {b[i:i + 3]}")

    theirs = _queue_log((F.SCENARIOS / f"{NAME}.queue_log").read_text())
    ours = _queue_log((tmp_path / "queue_log").read_text())
    assert sorted(theirs["calls"]) == sorted(ours["calls"])
    for number, a in sorted(theirs["calls"].items()):
        b = ours["calls"][number]
        if (a["queue"], a["member"]) != (b["queue"], b.get("member")):
            problems.append(f"{number} outcome: fixture {a['member'] or 'abandoned'}, "
                            f"stand-in {b.get('member') or 'abandoned'}")
            continue
        for key in ("hold", "talk", "wait"):
            if key in a and abs(a[key] - b[key]) > 1:
                problems.append(f"{number} {key}: fixture {a[key]} s, stand-in {b[key]} s")
    assert theirs["totals"][("hotline-help", "answered")] == 30
    assert theirs["totals"][("hotline-help", "abandoned")] == 90
    if ours["totals"] != theirs["totals"]:
        problems.append(f"totals: fixture {dict(theirs['totals'])}, "
                        f"stand-in {dict(ours['totals'])}")
    if ours["members"] != theirs["members"]:
        problems.append(f"calls per member: fixture {sorted(theirs['members'].items())}, "
                        f"stand-in {sorted(ours['members'].items())}")
    # Every other difference fails, and so does a known one that is gone
    # (then strike it here and in the docstring).
    unexplained = sorted(set(problems) - KNOWN)
    gone = sorted(KNOWN - set(problems))
    assert not unexplained and not gone, (
        "new differences:\n" + "\n".join(unexplained) + "\nno longer seen:\n" + "\n".join(gone))
