"""Dialplan applications.

Each application is ``async def app(chan, data) -> int`` (0 = continue,
-1 = hang up, pbx.JUMPED = the channel was moved).  ``execute`` looks one
up by name (case-insensitive), as pbx_exec does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pbxsim import media, pbx
from pbxsim.channels import RING, RINGING, UP
from pbxsim.expressions import is_true, split_args

if TYPE_CHECKING:
    from pbxsim.channels import Channel

log = logging.getLogger(__name__)
App = Callable[["Channel", str], Awaitable[int]]
APPS: dict[str, App] = {}


def app(name: str) -> Callable[[App], App]:
    def register(fn: App) -> App:
        APPS[name.lower()] = fn
        return fn

    return register


def known_app(name: str) -> bool:
    return name.lower() in APPS or name.lower() in ("goto", "gotoif", "gosub", "gosubif",
                                                     "return")


async def execute(chan: Channel, name: str, data: str, *, via_agi: bool = False) -> int:
    """Run one application on ``chan`` (from the dialplan or AGI EXEC)."""
    key = name.lower()
    if key == "goto":
        return pbx.app_goto(chan, data) if not via_agi else 0
    if key == "gotoif":
        return pbx.app_gotoif(chan, data) if not via_agi else 0
    if key == "gosub":
        if via_agi:
            return await pbx.run_subroutine(chan, data)
        return pbx.app_gosub(chan, data)
    if key == "gosubif":  # app_stack.c gosubif_exec: cond?iftrue(args):iffalse(args)
        target = pbx.branch(data)
        if not target:
            return 0
        return await execute(chan, "Gosub", target, via_agi=via_agi)
    if key == "return":
        return pbx.app_return(chan, data)
    fn = APPS.get(key)
    if fn is None:
        log.warning("%s: no application %r; hanging up as Asterisk does", chan.name, name)
        return -1
    chan.app, chan.app_data = name, data
    return await fn(chan, data)


def parse_callerid(text: str) -> tuple[str, str]:
    """``"Name" <num>`` / ``Name <num>`` / ``num`` -> (name, num)."""
    m = re.match(r'^\s*(?:"(?P<q>[^"]*)"|(?P<n>[^<]*?))\s*<(?P<num>[^>]*)>\s*$', text)
    if m:
        return (m.group("q") if m.group("q") is not None else m.group("n") or ""), m.group("num")
    text = text.strip().strip('"')
    return ("", text) if re.fullmatch(r"[0-9+*#]*", text) else (text, "")


def assign(chan: Channel, name: str, value: str) -> None:
    """``Set(name=value)``, including writable functions."""
    m = re.match(r"^([A-Za-z_]+)\((.*)\)$", name.strip())
    if not m:
        chan.set_var(name.strip(), value)
        return
    func, arg = m.group(1).upper(), m.group(2).strip().lower()
    if func == "CALLERID":
        if arg in ("num", "number"):
            chan.set_caller(value, chan.cid_name)
        elif arg == "name":
            chan.set_caller(chan.cid_num, value)
        elif arg == "all":
            n, num = parse_callerid(value)
            chan.set_caller(num, n)
    elif func == "CONNECTEDLINE":
        if arg.startswith("num"):
            chan.set_connected(value, chan.conn_name)
        else:
            chan.set_connected(chan.conn_num, value)
    elif func == "CHANNEL" and arg == "language":
        chan.language = value
    elif func == "CHANNEL" and arg == "accountcode":
        chan.accountcode = value
    elif func == "DB":
        chan.sim.astdb[m.group(2).strip()] = value
    elif func == "DEVICE_STATE":
        chan.sim.set_device_state(m.group(2).strip(), value.upper())
    else:
        chan.set_var(name.strip(), value)


@app("Set")
async def app_set(chan: Channel, data: str) -> int:
    name, sep, value = data.partition("=")
    if sep:
        assign(chan, name, value)
    return 0


@app("MSet")
async def app_mset(chan: Channel, data: str) -> int:
    for item in split_args(data):
        name, sep, value = item.partition("=")
        if sep:
            assign(chan, name, value)
    return 0


async def _noop(chan: Channel, data: str) -> int:
    return 0


for _name in (
    "NoOp",
    "Verbose",
    "Log",
    "Progress",
    "ResetCDR",
    "NoCDR",
    "StopMixMonitor",
    "Echo",
    "MusicOnHold",
    "StartMusicOnHold",
    "StopMusicOnHold",
    "Set_CDR_Field",
):
    APPS[_name.lower()] = _noop


# __ast_answer(): after answering a ringing channel, wait for the first media
# frame, at most MAX(delay, 500) ms.  The ;2 of a Local member dialled by
# Queue/Dial gets none, so its Answer() lasts the full 500 ms (load-120-calls
# and three-calls: every member's ANSWEREDTIME is its AGENT_TALK + 0.5 s).
ANSWER_WAIT_SECONDS = 0.5


@app("Answer")
async def app_answer(chan: Channel, data: str) -> int:
    old = chan.state
    if chan.state != UP:
        chan.set_state(UP)
    waits = getattr(chan, "answer_waits_for_media", False)
    if old in (RING, RINGING) and waits and not chan.hungup:
        try:
            delay = max(float(data or 0) / 1000, ANSWER_WAIT_SECONDS)
        except ValueError:
            delay = ANSWER_WAIT_SECONDS
        if not await chan.sleep(delay):
            return -1
    return 0 if not chan.hungup else -1


@app("Ringing")
async def app_ringing(chan: Channel, data: str) -> int:
    if chan.state != UP:
        chan.set_state(RINGING)
    return 0


@app("Wait")
async def app_wait(chan: Channel, data: str) -> int:
    try:
        secs = float(data or 0)
    except ValueError:
        secs = 0.0
    return 0 if await chan.sleep(secs) else -1


@app("Hangup")
async def app_hangup(chan: Channel, data: str) -> int:
    try:
        cause = int(data) if data.strip() else 16
    except ValueError:
        cause = 16
    chan.request_hangup(cause, soft=True)
    return -1


@app("Busy")
async def app_busy(chan: Channel, data: str) -> int:
    chan.hangup_cause = 17
    await chan.sleep(float(data) if data.strip() else 3600)
    return -1


@app("Congestion")
async def app_congestion(chan: Channel, data: str) -> int:
    chan.hangup_cause = 34
    await chan.sleep(float(data) if data.strip() else 3600)
    return -1


@app("Playback")
async def app_playback(chan: Channel, data: str) -> int:
    files = split_args(data)[0] if data else ""
    if chan.state != UP and "noanswer" not in data:
        chan.set_state(UP)
    digit, _ = await media.play(chan, files)
    chan.set_var("PLAYBACKSTATUS", "SUCCESS" if digit is not None else "FAILED")
    return 0 if digit is not None else -1


@app("Background")
async def app_background(chan: Channel, data: str) -> int:
    files = split_args(data)[0] if data else ""
    if chan.state != UP:
        chan.set_state(UP)
    digit, _ = await media.play(chan, files, "0123456789*#")
    if digit is None:
        return -1
    if digit and chan.sim.dialplan.exists(chan.context, digit):
        chan.exten, chan.priority = digit, 1
        return pbx.JUMPED
    return 0


@app("WaitExten")
async def app_waitexten(chan: Channel, data: str) -> int:
    secs = float(split_args(data)[0] or 10) if data else 10.0
    digit = await chan.read_digit(secs)
    if digit is None:
        return -1
    target = (
        digit
        if digit and chan.sim.dialplan.exists(chan.context, digit)
        else ("t" if not digit and chan.sim.dialplan.exists(chan.context, "t") else "i")
    )
    if not chan.sim.dialplan.exists(chan.context, target):
        return -1
    chan.exten, chan.priority = target, 1
    return pbx.JUMPED


@app("Read")
async def app_read(chan: Channel, data: str) -> int:
    args = split_args(data) + [""] * 6
    var, prompt, maxd, _opts, _attempts, timeout = args[:6]
    digits, how = await media.collect_digits(
        chan, prompt, int(maxd or 0), float(timeout) if timeout.strip() else 5.0
    )
    chan.set_var(var, digits)
    chan.set_var(
        "READSTATUS",
        {"hangup": "HANGUP", "timeout": "TIMEOUT" if not digits else "OK"}.get(how, "OK"),
    )
    return -1 if how == "hangup" else 0


@app("SendDTMF")
async def app_senddtmf(chan: Channel, data: str) -> int:
    digits = split_args(data)[0] if data else ""
    peer = chan.local_peer
    if chan.bridge is not None:
        peer = next((c for c in chan.bridge.members if c is not chan), peer)
    for d in digits:
        if not await chan.sleep(0.25):
            return -1
        if peer is not None:
            peer.receive_dtmf(d)
    return 0


@app("ExecIf")
async def app_execif(chan: Channel, data: str) -> int:
    cond, sep, rest = data.partition("?")
    if not sep:
        return 0
    yes, _, no = rest.partition(":")
    chosen = yes if is_true(cond) else no
    if not chosen.strip():
        return 0
    m = re.match(r"^\s*([A-Za-z0-9_]+)\((.*)\)\s*$", chosen, re.S)
    name, args = (m.group(1), m.group(2)) if m else (chosen.strip(), "")
    return await execute(chan, name, args)


@app("UserEvent")
async def app_userevent(chan: Channel, data: str) -> int:
    parts = split_args(data)
    extra = [("UserEvent", parts[0])]
    for p in parts[1:]:
        k, _, v = p.partition(":")
        extra.append((k.strip(), v.strip()))
    chan.emit("UserEvent", "user", extra)
    return 0


@app("MixMonitor")
async def app_mixmonitor(chan: Channel, data: str) -> int:
    args = split_args(data)
    path = media.recording_path(chan, args[0] if args else f"{chan.uniqueid}.wav")
    chan.set_var("MIXMONITOR_FILENAME", str(path))
    chan.emit("MixMonitorStart", "call")
    start = chan.sim.loop_time()
    # The call's other party (the channel that started the call, by Linkedid)
    # may say something; the recording then carries it from the start.
    caller = next((c for c in chan.sim.channels.values()
                   if c.uniqueid == chan.linkedid and c is not chan), None)
    talk = caller.far_end.talk(caller) if caller and caller.far_end else None

    def write(c: Channel) -> None:
        samples = int((c.sim.loop_time() - start) * media.RATE)
        spoken = media.speech_frames(talk, samples / media.RATE) if talk else b""
        try:
            media.write_wav(path, media.audio_between(spoken, 0, samples))
        except OSError as exc:
            log.warning("MixMonitor cannot write %s: %s", path, exc)

    chan.on_hangup.append(write)
    return 0


@app("Record")
async def app_record(chan: Channel, data: str) -> int:
    args = split_args(data) + ["", "", ""]
    filename, silence, maxdur, options = args[0], args[1], args[2], args[3]
    stem, _, fmt = filename.rpartition(".")
    path = media.recording_path(chan, stem or filename, fmt if stem else "wav")
    if "q" not in options:
        digit, _ = await media.play(chan, "beep")
        if digit is None:
            chan.set_var("RECORD_STATUS", "HANGUP")
            return -1
    reason, _ = await media.record(
        chan,
        path,
        max_seconds=float(maxdur) if maxdur.strip() else None,
        silence=float(silence) if silence.strip() else 0.0,
        escape="#",
    )
    chan.set_var("RECORDED_FILE", str(path.with_suffix("")))
    if reason == "hangup":
        if "k" not in options:
            path.unlink(missing_ok=True)
        chan.set_var("RECORD_STATUS", "HANGUP")
        return -1
    chan.set_var("RECORD_STATUS", "DTMF" if reason.startswith("dtmf") else "SILENCE")
    return 0


@app("AGI")
async def app_agi(chan: Channel, data: str) -> int:
    from pbxsim.agi_client import agi_app

    return await agi_app(chan, data)


@app("Queue")
async def app_queue(chan: Channel, data: str) -> int:
    from pbxsim.queue_app import queue_exec

    return await queue_exec(chan, data)


@app("ChanSpy")
async def app_chanspy(chan: Channel, data: str) -> int:
    from pbxsim.chanspy import chanspy_exec

    return await chanspy_exec(chan, data)


@app("Dial")
async def app_dial(chan: Channel, data: str) -> int:
    from pbxsim.dial import dial_exec

    return await dial_exec(chan, data)
