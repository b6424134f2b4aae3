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
  are blanked;
* headers and variables that are durations (HoldTime, TalkTime, RingTime,
  Wait, QUEUEWAIT, ANSWEREDTIME, ...) are set aside in the lanes and
  compared on their own: within 1 s of the fixture's (:func:`duration_problems`).

Both sides are read from their raw bytes with this module's own small rules
(:func:`wire_messages`), not with the project's AMI parser, so a fault in
that parser cannot hide a difference.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from pbx.ami_protocol import AmiMessage
from tests.pbxsim.helpers import FIXTURES, AgiConn, AmiClient, FakeIvr

SCENARIOS = FIXTURES / "scenarios"
# Clocks: when something happened, on the machine's clock.
CLOCK_HEADERS = {"timestamp", "uptime", "lastreload", "logintime", "lastcall", "lastpause",
                 "creationtime", "coreuptime"}
# Durations of what the far ends did, set by the schedule: compared within 1 s.
# Seconds, except where DURATION_MS says milliseconds; "00:00:09" for Duration.
DURATION_HEADERS = {"holdtime", "talktime", "ringtime", "wait", "longestholdtime", "duration",
                    "bridgeduration"}
TIME_HEADERS = CLOCK_HEADERS | DURATION_HEADERS
# Channel variables that are durations (app_queue, app_dial).
TIME_VARIABLES = {"ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS",
                  "QUEUEWAIT", "QUEUEWAIT_MS", "QEHOLDTIME", "RINGTIME", "RINGTIME_MS",
                  "PROGRESSTIME", "PROGRESSTIME_MS"}
DURATION_MS = {("AgentRingNoAnswer", "ringtime")}
_SENT_BLOCK = re.compile(rb"\n>>>> SENT >>>>\n.*?<<<< END SENT <<<<\n", re.S)
# RTPAUDIOQOS* variables are statistics of a real RTP stream (counts,
# jitter): measurements, compared by name only.
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_AGI_URL = re.compile(r"agi://127\.0\.0\.1:\d+")
_UID = re.compile(r"\b1\d{9}\.(\d+)\b")
_EPOCH_DAY = re.compile(r"\b20\d{6}-")  # STRFTIME(${EPOCH},,%Y%m%d) in file names
FIXTURE_SECRET = "hotline-secret"


def fixture_actions(name: str) -> list[bytes]:
    """The client's actions, byte for byte as the fixture's client sent them."""
    data = (SCENARIOS / f"{name}.ami.raw").read_bytes()
    return [m.group(0)[len(b"\n>>>> SENT >>>>\n"):-len(b"<<<< END SENT <<<<\n")]
            for m in _SENT_BLOCK.finditer(data)]


def wire_messages(data: bytes) -> list[AmiMessage]:
    """AMI bytes as Asterisk writes them, read with the test's own rules: an
    optional banner line, then blocks ended by an empty line, each line
    ``Key: Value`` split at the first ": " (nothing stripped: inner and
    trailing spaces are the value's).  Strict UTF-8: both sides send it."""
    text = data.decode("utf-8")
    out: list[AmiMessage] = []
    if text.startswith("Asterisk Call Manager/"):
        banner, _, text = text.partition("\r\n")
        out.append(AmiMessage([("Banner", banner)]))
    blocks = text.split("\r\n\r\n")
    assert blocks[-1].strip("\r\n") == "", f"unfinished message at the end: {blocks[-1][:80]!r}"
    for block in blocks[:-1]:
        lines = [line for line in block.split("\r\n") if line]
        if not lines:
            continue
        headers = []
        for line in lines:
            key, sep, value = line.partition(": ")
            if not sep and line.endswith(":"):
                key, value = line[:-1], ""
            headers.append((key, value) if sep or line.endswith(":") else ("<line>", line))
        out.append(AmiMessage(headers))
    return out


def fixture_received_bytes(name: str) -> bytes:
    """What Asterisk sent: the transcript without the client's SENT blocks and
    the recorder's closing note."""
    data = _SENT_BLOCK.sub(b"", (SCENARIOS / f"{name}.ami.raw").read_bytes())
    end = data.find(b"\n#### ")
    return data if end < 0 else data[:end]


def fixture_received(name: str) -> list[AmiMessage]:
    return wire_messages(fixture_received_bytes(name))


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
        self.linger = 1.5

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
        # command (call B's ;2 hangs up after call C has begun; call A's AGI
        # ends before its caller hangs up, so less than 2 s once members'
        # Answer() waits its 500 ms for media).
        await asyncio.sleep(self.linger)


@dataclass
class Replay:
    received: list[AmiMessage]  # read from the raw bytes by wire_messages
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
        client.send_raw(action)
        await asyncio.sleep(0)
    await asyncio.sleep(settle)
    await client.close()
    await sim.stop()
    player.ivr.close()
    return Replay(wire_messages(client.raw), player.replies)


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


def _seconds(event: str, key: str, value: str) -> float | None:
    """A duration header or variable in seconds (None when empty or not a number)."""
    if not value:
        return None
    if ":" in value:  # CoreShowChannel's Duration, HH:MM:SS
        h, m, sec = value.split(":")
        return int(h) * 3600 + int(m) * 60 + int(sec)
    try:
        number = float(value)
    except ValueError:
        return None
    ms = (event, key) in DURATION_MS or key.endswith("_MS")
    return number / 1000 if ms else number


def durations(m: AmiMessage) -> list[tuple[str, float | None]]:
    """The durations a message carries, by name, in seconds."""
    event = m.event or ""
    out = [(k, _seconds(event, k.lower(), v)) for k, v in m.headers
           if k.lower() in DURATION_HEADERS]
    variable = (m.get("Variable") or "") if event == "VarSet" else ""
    if variable in TIME_VARIABLES:
        out.append((variable, _seconds(event, variable, m.get("Value") or "")))
    return out


def duration_problems(want: list[AmiMessage], got: list[AmiMessage],
                      tolerance: float = 1.0) -> list[str]:
    """Durations that differ by more than ``tolerance`` s between the i-th
    message of each lane (the lanes themselves agree: see diff_lanes)."""
    def by_lane(messages: list[AmiMessage]) -> dict[str, list[AmiMessage]]:
        out: dict[str, list[AmiMessage]] = {}
        for m in messages:
            out.setdefault(lane_of(m), []).append(m)
        return out

    problems = []
    theirs, ours = by_lane(want), by_lane(got)
    for lane, messages in theirs.items():
        for i, (a, b) in enumerate(zip(messages, ours.get(lane, []), strict=False)):
            for (name, x), (_, y) in zip(durations(a), durations(b), strict=False):
                if (x is None) != (y is None) or (
                        x is not None and y is not None and abs(x - y) > tolerance):
                    problems.append(f"[{lane}] #{i} {a.event} {name}: fixture {x}, stand-in {y}")
    return problems


# -- order across channels ------------------------------------------------------

def _is_device_lane(lane: str) -> bool:
    return lane.startswith(("Device ", "member "))


def _channel(lane: str) -> str | None:
    kind, _, name = lane.partition(" ")
    return name if kind in ("Channel", "DestChannel") else None


def _local_pair(lane: str) -> str | None:
    name = _channel(lane)
    if name is None or not name.startswith("Local/"):
        return None
    return re.sub(r";[12]$", "", name)


BRIDGE_EVENTS = {"BridgeCreate", "BridgeDestroy", "BridgeMerge", "LocalBridge",
                 "LocalOptimizationBegin", "LocalOptimizationEnd"}


def allowed_race(a: AmiMessage, lane_a: str, b: AmiMessage, lane_b: str,
                 calls: dict[str, str], ties: frozenset[tuple[str, str]] = frozenset()
                 ) -> str | None:
    """The race of pbxsim/STATUS.md ("Order across channels") that lets b come
    before a although Asterisk sent a first; None when none does.  ``ties``:
    pairs of lane prefixes a test names as acting in the same second of its
    schedule (the replay times actions to the second, Asterisk to the µs)."""
    if _is_device_lane(lane_a) or _is_device_lane(lane_b):
        return "device state thread"
    pair_a, pair_b = _local_pair(lane_a), _local_pair(lane_b)
    if pair_a is not None and pair_a == pair_b:
        return "Local halves"
    if "OriginateResponse" in (a.event, b.event):
        return "originate thread"
    if a.event in BRIDGE_EVENTS or b.event in BRIDGE_EVENTS:
        return "bridge core"
    if {a.event, b.event} & {"ChanSpyStart", "ChanSpyStop"}:
        return "spyer's thread"
    call_a, call_b = calls.get(lane_a), calls.get(lane_b)
    if call_a is not None and call_a == call_b:
        return "one call's channels"
    for first, second in ties:
        if (lane_a.startswith(first) and lane_b.startswith(second)) or (
                lane_a.startswith(second) and lane_b.startswith(first)):
            return "tie named by the test"
    return None


def order_problems(want: list[AmiMessage], got: list[AmiMessage], limit: int = 20,
                   ties: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """Pairs of messages on different lanes that the stand-in sends in the other
    order than Asterisk did, beyond the races allowed_race() names.

    Every pair is checked, not only neighbours: for each message of the
    fixture, each later message on another lane must not come earlier in the
    stand-in's stream.
    """
    def keyed(messages: list[AmiMessage]) -> list[tuple[str, int]]:
        seen: dict[str, int] = {}
        out = []
        for m in messages:
            lane = lane_of(m)
            out.append((lane, seen.get(lane, 0)))
            seen[lane] = seen.get(lane, 0) + 1
        return out

    calls: dict[str, str] = {}
    for m in want:
        lane = lane_of(m)
        linked = m.get("DestLinkedid") if lane.startswith("DestChannel ") else m.get("Linkedid")
        if linked:
            calls.setdefault(lane, linked)
    theirs, ours = keyed(want), keyed(got)
    position = {key: i for i, key in enumerate(ours)}
    problems: list[str] = []
    for i, key_a in enumerate(theirs):
        if key_a not in position:
            continue
        for j in range(i + 1, len(theirs)):
            key_b = theirs[j]
            if key_b[0] == key_a[0] or key_b not in position:
                continue
            if position[key_b] < position[key_a] and allowed_race(
                    want[i], key_a[0], want[j], key_b[0], calls, ties) is None:
                problems.append(f"{want[i].event} [{key_a[0]} #{key_a[1]}] came after "
                                f"{want[j].event} [{key_b[0]} #{key_b[1]}]")
                if len(problems) >= limit:
                    return problems
    return problems
