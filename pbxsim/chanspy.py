"""ChanSpy(chanprefix[,options]): app_chanspy.c without the audio.

The spyer scans the channels whose name starts with ``chanprefix`` (all
channels without one, or ``all``), in the order Asterisk's channel
container lists them, every 100 ms, and listens to the first it may:
ChanSpyStart, then ChanSpyStop when the listening ends.  Skipped are the
spyer itself, channels hung up or spying themselves, and with ``b`` those
not in a bridge, with ``g(grp)`` those whose SPYGROUP has none of the
groups, with ``e(ext)`` those not named in the list.

Listening ends when the spied-on channel hangs up (ChanSpyStop comes out
before its Hangup, while its snapshot still exists), when the spyer
presses the cycle key (``*``, ``c(x)``) or the exit key (``x(d)``), or
when the spyer hangs up.  In that last case app_chanspy detaches its
audiohook, which waits until a frame passes through the spied-on channel
or that channel hangs up (Asterisk issue #978): the stand-in has audio
reach a channel when a PJSIP channel is on its path (Local pairs and
bridges), else the spyer's ChanSpyStop and Hangup wait for the spied-on
channel's hangup (supervisor-recording-callback.ami.raw shows exactly
that for a Local agent).

Options: ``q`` no beep nor name announcement (otherwise ``beep`` before
each scan that found someone, and the channel's technology and number
spoken before listening: ``spy-<tech>`` if that sound exists, else
letter by letter, unless ``s``), ``E`` return once the spied-on channel
hangs up, ``S`` return after a scan, ``u`` the argument is a uniqueid or
full channel name, ``N`` do not answer, ``X`` a key jumps to that
single-digit extension of SPY_EXIT_CONTEXT (or the current context),
``b``, ``c``, ``e``, ``g``, ``x`` as above.  Audio-only options (B, d,
D, l, o, r, v, w, W) are accepted and change nothing here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pbxsim import media, pbx
from pbxsim.channels import UP, storage_order
from pbxsim.expressions import parse_options, split_args

if TYPE_CHECKING:
    from pbxsim.channels import Channel

_MOVED = -3  # channel_spy(): -2, and ``X`` moved the spyer in the dialplan
SCAN_WAIT = 0.1  # ast_waitfordigit(chan, 100) before each scan
# How often a spyer stuck in ast_audiohook_detach() looks whether audio
# reaches the spied-on channel by now.
DETACH_RECHECK = 1.0
_SAY_CHARS = {"-": "letters/dash", "@": "letters/at", ".": "letters/dot", "/": "letters/slash",
              "*": "digits/star", "#": "digits/pound", " ": "letters/space"}


class _Spy:
    """One ChanSpyStart..ChanSpyStop."""

    def __init__(self, spyer: Channel, spyee: Channel) -> None:
        self.spyer, self.spyee = spyer, spyee
        self.stopped = False
        self.ended: asyncio.Future[None] = spyer.sim.loop.create_future()
        spyee.before_hangup.append(self._spyee_hangup)
        self._publish("ChanSpyStart")

    def _publish(self, event: str) -> None:
        self.spyer.sim.emit(event, "call", self.spyer.block("Spyer") + self.spyee.block("Spyee"))

    def _spyee_hangup(self, _chan: Channel) -> None:
        # ast_hangup() detaches the audiohooks: the spy audiohook is done.
        self.stop()

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._spyee_hangup in self.spyee.before_hangup:
            self.spyee.before_hangup.remove(self._spyee_hangup)
        self._publish("ChanSpyStop")
        if not self.ended.done():
            self.ended.set_result(None)


def audio_reaches(chan: Channel) -> bool:
    """Would frames pass through ``chan``?  The stand-in's answer: a PJSIP
    channel (a phone or trunk sends RTP) is on its path through Local pairs
    and bridges."""
    seen: set[int] = set()
    todo = [chan]
    while todo:
        c = todo.pop()
        if id(c) in seen or c.gone:
            continue
        seen.add(id(c))
        if c.tech == "PJSIP":
            return True
        if c.local_peer is not None:
            todo.append(c.local_peer)
        if c.bridge is not None:
            todo.extend(c.bridge.members)
    return False


async def _key(chan: Channel, ended: asyncio.Future[None]) -> str | None:
    """A key from the spyer; "" once ``ended``; None when the spyer hangs up."""
    reader = asyncio.ensure_future(chan.read_digit(None))
    await asyncio.wait([reader, ended], return_when=asyncio.FIRST_COMPLETED)
    if reader.done():
        return reader.result()
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    return None if chan.hungup else ""


def _exit_to(chan: Channel, digit: str, flags: dict[str, str]) -> bool:
    """``X``: jump to a single-digit extension of the exit context."""
    if "X" not in flags or not digit:
        return False
    context = chan.get_var("SPY_EXIT_CONTEXT") or chan.context
    if not chan.sim.dialplan.exists(context, digit):
        return False
    chan.context, chan.exten, chan.priority = context, digit, 1
    return True


async def channel_spy(chan: Channel, spyee: Channel, flags: dict[str, str]) -> int:
    """Listen to ``spyee``: 0 when it ended or the cycle key was pressed,
    -1 when the spyer hung up, -2 to leave ChanSpy (-3: ``X`` moved the
    spyer), N > 1 for a jump to ``<spec>/N`` (digits then ``#``)."""
    if chan.hungup or spyee.hungup or spyee.gone:
        return 0
    spy = _Spy(chan, spyee)
    cycle = (flags.get("c") or "*")[:1]
    exit_key = flags.get("x", "")[:1]
    typed = ""
    running = 0
    while not spy.stopped:
        key = await _key(chan, spy.ended)
        if key is None:
            running = -1
            break
        if key == "":
            break
        if _exit_to(chan, key, flags):
            chan.set_var("SPY_CHANNEL", spyee.name)
            running = _MOVED
            break
        if key.isdigit() and "d" not in flags:
            typed = (typed + key)[-23:]
        if key == cycle:
            running = 0
            break
        if exit_key and key == exit_key:
            running = -2
            break
        if key == "#" and typed:
            running = int(typed)
            break
    if running == -1:
        # ast_audiohook_detach() returns once a frame passes the spied-on
        # channel's hooks, or when that channel hangs up.
        while not spy.stopped and not audio_reaches(spyee):
            await asyncio.wait([spy.ended], timeout=DETACH_RECHECK)
    spy.stop()
    return running


def _announcement(chan: Channel, target: Channel, flags: dict[str, str]) -> str:
    """What is said before listening: technology (``s``: not) and number."""
    tech, _, rest = target.name.partition("/")
    peer = "spy-" + tech.lower()
    number = rest.split("-", 1)[0]
    files: list[str] = []
    if "s" not in flags:
        if media.sound_exists(chan, peer):
            files.append(peer)
        else:
            for ch in peer.lower():
                if ch.isdigit():
                    files.append(f"digits/{ch}")
                elif "a" <= ch <= "z":
                    files.append(f"letters/{ch}")
                elif ch in _SAY_CHARS:
                    files.append(_SAY_CHARS[ch])
    digits = ""
    for ch in number:  # atoi()
        if not ch.isdigit():
            break
        digits += ch
    if digits and int(digits):
        files += [f"digits/{d}" for d in str(int(digits))]
    return "&".join(files)


def _wanted(chan: Channel, target: Channel, flags: dict[str, str]) -> bool:
    if "b" in flags and target.bridge is None:
        return False
    if target.hungup or target.gone or target.spying:
        return False
    if "g" in flags:
        mine = [g for g in flags["g"].split(":") if g]
        theirs = (target.get_var("SPYGROUP") or "").split(":")
        if not any(g in theirs for g in mine):
            return False
    if "e" in flags:
        name = ":" + target.name
        if "-" in name:
            name = name[: name.index("-")] + ":"
        if name.lower() not in f":{flags['e']}:".lower():
            return False
    return True


def _candidates(chan: Channel, spec: str | None, flags: dict[str, str]) -> list[Channel] | None:
    """The channel iterator of one scan (None: ``u`` names no channel)."""
    sim = chan.sim
    live = list(sim.channels.values())
    if spec is None:
        return storage_order(live)
    if "u" in flags:
        found = sim.channels.get(spec) or next((c for c in live if c.uniqueid == spec), None)
        return None if found is None else [found]
    prefix = spec.lower()
    return [c for c in storage_order(live) if c.name.lower().startswith(prefix)]


async def _scan(chan: Channel, spec: str | None, flags: dict[str, str]) -> int:
    """common_exec(): scan and listen until something ends it."""
    quiet = "q" in flags
    spied = 1
    res = 0
    while True:
        if not quiet and spied:
            digit, _ = await media.play(chan, "beep")
            if digit is None:
                return -1
        candidates = _candidates(chan, spec, flags)
        if candidates is None:
            return -1
        key = await chan.read_digit(SCAN_WAIT)
        if key is None:
            return -1
        if _exit_to(chan, key, flags):
            return pbx.JUMPED
        res = ord(key) if key else 0
        spied = 0
        prev: Channel | None = None
        jump: Channel | None = None
        queue = [c for c in candidates if c is not chan]
        while queue or jump is not None:
            target = jump if jump is not None else queue.pop(0)
            jump = None
            if target is prev or chan.hungup:
                break
            prev = target
            if not _wanted(chan, target, flags):
                continue
            if not quiet:
                said, _ = await media.play(chan, _announcement(chan, target, flags))
                if said is None:
                    break
            res = await channel_spy(chan, target, flags)
            spied += 1
            if res == -1:
                return -1
            if res == _MOVED:
                return pbx.JUMPED
            if res == -2:
                return 0
            if res > 1 and spec and "u" not in flags:
                prefix = f"{spec}/{res}".lower()
                jump = next((c for c in storage_order(list(chan.sim.channels.values()))
                             if c.name.lower().startswith(prefix)), None)
                if jump is None and not target.hungup:
                    jump = target
            elif res == 0 and "E" in flags:
                return 0
        if res == -1 or chan.hungup:
            return -1
        if "S" in flags and jump is None:
            return res


async def chanspy_exec(chan: Channel, data: str) -> int:
    args = split_args(data) + [""]
    spec = args[0].strip() or None
    if spec == "all":
        spec = None
    flags = parse_options(args[1].strip())
    if "N" not in flags and chan.state != UP:
        chan.set_state(UP)
    chan.spying = True
    try:
        res = await _scan(chan, spec, flags)
    finally:
        chan.spying = False
    if res == pbx.JUMPED:
        return res
    # pbx.c hangs up after an application returns anything but 0.
    return 0 if res == 0 else -1
