"""Replays the client side of an Asterisk 22 fixture into the stand-in and
compares what comes back, channel by channel.

The fixture's AMI actions are sent on a schedule (seconds after login,
read off the fixture's own uniqueids and queue_log stamps), and a FastAGI
server answers each AGI session by sending the fixture's command lines in
order.  The comparison groups messages into lanes (one per channel, one
per device or queue member for the rest, one per action's answer) and
asks for the same events, in the same order, with the same headers; only
ids and times are normalised:

* ``1795945068.1`` (uniqueids, also inside file names) keep their
  sequence number and lose the time: ``*.1``;
* bridge ids become ``bridge-N`` in order of first appearance;
* headers that are clocks (Timestamp, Uptime, LoginTime, LastCall, ...)
  are blanked.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from pbx import ami_protocol
from pbx.ami_protocol import AmiMessage
from tests.pbxsim.helpers import FIXTURES, AgiConn, AmiClient, FakeIvr

SCENARIOS = FIXTURES / "scenarios"
TIME_HEADERS = {
    "timestamp", "uptime", "lastreload", "logintime", "lastcall", "lastpause",
    "creationtime", "duration", "bridgeduration", "coreuptime",
    # durations of what the far ends did, in seconds or ms
    "holdtime", "talktime", "ringtime", "wait", "longestholdtime",
}
# Channel variables that are durations (app_queue, app_dial).
TIME_VARIABLES = {"ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS",
                  "QUEUEWAIT", "QUEUEWAIT_MS", "QEHOLDTIME", "RINGTIME", "RINGTIME_MS",
                  "PROGRESSTIME", "PROGRESSTIME_MS"}
# RTPAUDIOQOS* variables are statistics of a real RTP stream (counts,
# jitter): measurements, compared by name only.
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_AGI_URL = re.compile(r"agi://127\.0\.0\.1:\d+")
_UID = re.compile(r"\b1\d{9}\.(\d+)\b")
_EPOCH_DAY = re.compile(r"\b20\d{6}-")  # STRFTIME(${EPOCH},,%Y%m%d) in file names
FIXTURE_SECRET = "hotline-secret"


def fixture_actions(name: str) -> list[AmiMessage]:
    data = (SCENARIOS / f"{name}.ami.raw").read_bytes()
    out = []
    for block in ami_protocol.iter_transcript_sent(data):
        messages, _ = ami_protocol.parse(block)
        out.extend(messages)
    return out


def fixture_received(name: str) -> list[AmiMessage]:
    data = (SCENARIOS / f"{name}.ami.raw").read_bytes()
    messages, _ = ami_protocol.parse(b"".join(ami_protocol.iter_transcript_received(data)))
    return messages


def fixture_agi_commands(name: str, n: int) -> list[str]:
    text = (SCENARIOS / f"{name}.agi-{n}.raw").read_text(encoding="utf-8")
    return [line[len(">>>> SENT: "):] for line in text.splitlines()
            if line.startswith(">>>> SENT: ")]


def fixture_agi_replies(name: str, n: int) -> list[str]:
    """Each command's reply lines (HANGUP notices included), in order."""
    text = (SCENARIOS / f"{name}.agi-{n}.raw").read_text(encoding="utf-8")
    chunks = text.split(">>>> SENT: ")[1:]
    return ["\n".join(line for line in chunk.splitlines()[1:] if line) for chunk in chunks]


class AgiPlayer:
    """A FastAGI server that plays fixture command lines, one session per file."""

    def __init__(self, name: str, sessions: int, recordings: Path) -> None:
        self.scripts = [fixture_agi_commands(name, i + 1) for i in range(sessions)]
        self.recordings = recordings
        self.ivr = FakeIvr(self._play)
        self.replies: list[list[str]] = []
        self.linger = 2.0

    async def _play(self, conn: AgiConn) -> None:
        script = self.scripts[len(self.replies)]
        replies: list[str] = []
        self.replies.append(replies)
        uid = conn.env["agi_uniqueid"]
        for line in script:
            line = _UID.sub(uid, line).replace("/tmp/ast/run/spool/recording", str(self.recordings))
            before = len(conn.log)
            await conn.cmd(line)
            replies.append("\n".join(r for _c, r in conn.log[before:]))
        # The fixture's client kept the socket open a moment after its last
        # command (call B's ;2 hangs up after call C has begun).
        await asyncio.sleep(self.linger)


@dataclass
class Replay:
    received: list[AmiMessage]
    agi_replies: list[list[str]]


async def replay(name: str, schedule: list[float], sim_factory, agi_sessions: int,
                 tmp_path: Path, settle: float = 10.0, setup=None) -> Replay:
    """Send the fixture's actions at ``schedule`` (seconds after the first)."""
    player = AgiPlayer(name, agi_sessions, tmp_path)
    await player.ivr.start()
    sim = await sim_factory(player.ivr.url)
    if setup is not None:
        setup(sim)
    loop = asyncio.get_running_loop()
    client = await AmiClient.connect(sim.ami_port)
    start = loop.time()
    actions = fixture_actions(name)
    assert len(actions) == len(schedule), (len(actions), len(schedule))
    for action, at in zip(actions, schedule, strict=True):
        delay = start + at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        client.send_raw(ami_protocol.encode(action))
        await asyncio.sleep(0)
    await asyncio.sleep(settle)
    await client.close()
    await sim.stop()
    player.ivr.close()
    return Replay(client.messages, player.replies)


class Normaliser:
    """Takes ids and times out of messages, keeping their structure."""

    def __init__(self, paths: dict[str, str] | None = None) -> None:
        self.bridges: dict[str, str] = {}
        self.paths = paths or {}

    def value(self, key: str, value: str) -> str:
        if key.lower() in TIME_HEADERS:
            return "<time>"
        if key.lower().endswith("bridgeuniqueid") or key.lower() == "bridgeid":
            if not value:
                return value
            return self.bridges.setdefault(value, f"bridge-{len(self.bridges) + 1}")
        value = _UUID.sub(lambda m: self.bridges.setdefault(m.group(0),
                                                            f"id-{len(self.bridges) + 1}"), value)
        for ours, theirs in self.paths.items():
            value = value.replace(ours, theirs)
        value = _UID.sub(lambda m: f"*.{m.group(1)}", value)
        # The FastAGI port is the test's, not the fixture's 4573.
        value = _AGI_URL.sub("agi://127.0.0.1:4573", value)
        return _EPOCH_DAY.sub("<day>-", value)

    def message(self, m: AmiMessage) -> tuple[str, ...]:
        variable = (m.get("Variable") or "") if m.event == "VarSet" else ""
        blank = ("<time>" if variable in TIME_VARIABLES
                 else "<measured>" if variable.startswith("RTPAUDIOQOS") else None)
        return tuple(f"{k}: {blank if blank and k == 'Value' else self.value(k, v)}"
                     for k, v in m.headers)


def lane_of(m: AmiMessage) -> str:
    if m.get("Banner") is not None:
        return "banner"
    aid = m.action_id
    if aid and (m.response is not None or m.get("EventList") or m.event in (
            "QueueParams", "QueueMember", "QueueEntry", "QueueSummary", "CoreShowChannel",
            "ContactList", "OriginateResponse")):
        return f"action {aid}"
    for key in ("Channel", "Device", "DestChannel"):
        value = m.get(key)
        if value:
            return f"{key} {value}"
    if m.get("Interface"):
        return f"member {m.get('Queue')} {m.get('Interface')}"
    return f"event {m.event}"


def lanes(messages: list[AmiMessage],
          paths: dict[str, str] | None = None) -> dict[str, list[tuple[str, ...]]]:
    """``paths``: our directories and the fixture's (recordings, monitor)."""
    norm = Normaliser(paths)
    out: dict[str, list[tuple[str, ...]]] = {}
    for m in messages:
        out.setdefault(lane_of(m), []).append(norm.message(m))
    return out


def diff_lanes(want: dict[str, list], got: dict[str, list], limit: int = 40) -> list[str]:
    """Human-readable differences (empty when the streams agree)."""
    problems: list[str] = []
    for lane in sorted(set(want) | set(got)):
        a, b = want.get(lane, []), got.get(lane, [])
        if a == b:
            continue
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else None
            y = b[i] if i < len(b) else None
            if x != y:
                problems.append(f"[{lane}] #{i}\n  fixture: {x}\n  stand-in: {y}")
                break
        if len(problems) >= limit:
            break
    return problems
