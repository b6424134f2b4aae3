"""Channels and bridges, and the AMI events they emit.

A :class:`Channel` holds what Asterisk's channel snapshot shows on AMI
(name, state, caller ID, connected line, dialplan location, ids) plus its
variables, and offers the waits every application needs: ``sleep`` and
``read_digit`` return early when the channel is hung up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbxsim.expressions import substitute

if TYPE_CHECKING:
    from pbxsim.core import PbxSim

STATE_DESC = {
    0: "Down",
    1: "Rsrvd",
    2: "OffHook",
    3: "Dialing",
    4: "Ring",
    5: "Ringing",
    6: "Up",
    7: "Busy",
}
DOWN, RING, RINGING, UP = 0, 4, 5, 6
CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    34: "Circuit/channel congestion",
}
Headers = list[tuple[str, str]]


class FarEnd:
    """Whoever is on the other end of a channel (a simulated caller).

    The channel calls these hooks; the base class does nothing.
    """

    def listening(self, chan: Channel) -> None:
        """An application started listening for a key."""

    def stopped_listening(self, chan: Channel) -> None:
        """That listen ended (key, timeout or hangup)."""

    def answered(self, chan: Channel) -> None:
        """The channel was answered."""

    def queued(self, chan: Channel, queue: str) -> None:
        """The channel joined a queue."""

    def left_queue(self, chan: Channel, queue: str, outcome: str) -> None:
        """The channel left the queue ("connected", "abandon", "timeout", ...)."""

    def agent_gone(self, chan: Channel) -> None:
        """The agent it talked to hung up."""

    def speech(self, chan: Channel) -> tuple[float, Path | None]:
        """What the far end says when recorded: (seconds, WAV or None)."""
        return 0.0, None

    def talk(self, chan: Channel) -> Path | None:
        """What the far end says to the agent once connected (a WAV), if anything."""
        return None


class Channel:
    """One simulated channel.  Create through ``PbxSim.new_channel``."""

    def __init__(
        self,
        sim: PbxSim,
        name: str,
        uniqueid: str,
        linkedid: str,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        state: int = DOWN,
        tech: str = "PJSIP",
    ) -> None:
        self.sim = sim
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.tech = tech
        self.context = context
        self.exten = exten
        self.priority = priority
        self.state = state
        self.cid_num: str | None = None
        self.cid_name: str | None = None
        self.conn_num: str | None = None
        self.conn_name: str | None = None
        self.language = "en"
        self.accountcode = ""
        self.dnid = "unknown"
        # In Asterisk's list order: set_var puts a variable first (pbx.c
        # inserts at the head), inherited and copied ones go last.
        self.vars: dict[str, str] = {}
        self.app = ""  # current application, for CoreShowChannels
        # host:port of each FastAGI server that took a session (not an Asterisk
        # fact: the demo says which backend served a call from it).
        self.fastagi_served: list[str] = []
        self.app_data = ""
        self.created_at = sim.loop_time()
        self.bridge: Bridge | None = None
        self.local_peer: Channel | None = None  # the other half of a Local pair
        self.hangup_cause = 16
        self.hungup = False  # hangup requested (channel is dead for apps)
        self.gone = False  # Hangup event sent
        self.soft_requested = False  # SoftHangupRequest sent
        self.in_pbx = False  # the dialplan runs on it (ast_channel_pbx)
        self.pending_goto: tuple[str, str, int] | None = None  # AMI Redirect
        self.hangup_future: asyncio.Future[None] = sim.loop.create_future()
        self.done: asyncio.Future[None] = sim.loop.create_future()
        self.far_end: FarEnd | None = None
        self._digit_waiter: asyncio.Future[str] | None = None
        self.takes: str | None = None  # the keys the current listener acts on
        self.on_hangup: list[Callable[[Channel], None]] = []
        # Run by finish() before the Hangup event (ast_hangup detaches the
        # channel's audiohooks first: a ChanSpy on it stops there).
        self.before_hangup: list[Callable[[Channel], None]] = []
        self.spying = False  # AST_FLAG_SPYING: running ChanSpy
        self.seq = 0  # creation order (the channel container's insertion order)
        self.state_listeners: list[Callable[[int], None]] = []
        self.gosub_stack: list[tuple[str, str, int, dict[str, str]]] = []
        self.mixmonitor_files: list[tuple[str, float]] = []

    # ------------------------------------------------------------------ AMI
    def block(self, prefix: str = "", **override: str) -> Headers:
        """The standard channel header block (``Dest``/``LocalOne`` prefixed)."""
        values = {
            "Channel": self.name,
            "ChannelState": str(self.state),
            "ChannelStateDesc": STATE_DESC.get(self.state, "Unknown"),
            "CallerIDNum": _cid(self.cid_num),
            "CallerIDName": _cid(self.cid_name),
            "ConnectedLineNum": _cid(self.conn_num),
            "ConnectedLineName": _cid(self.conn_name),
            "Language": self.language,
            "AccountCode": self.accountcode,
            "Context": self.context,
            "Exten": self.exten,
            "Priority": str(self.priority),
            "Uniqueid": self.uniqueid,
            "Linkedid": self.linkedid,
        }
        values.update(override)
        return [(prefix + k, v) for k, v in values.items()]

    def emit(
        self,
        event: str,
        privilege: str,
        extra: Headers | None = None,
        dest: Channel | None = None,
        dest_override: dict[str, str] | None = None,
    ) -> None:
        headers = self.block()
        if dest is not None:
            headers += dest.block("Dest", **(dest_override or {}))
        self.sim.emit(event, privilege, headers + (extra or []))

    # ------------------------------------------------------------ variables
    def set_var(self, name: str, value: str, *, event: bool = True) -> None:
        """Set a channel variable (``_``/``__`` prefixes kept, as Asterisk does).

        Like pbx_builtin_setvar_helper: the old value goes, the new one is
        put first in the channel's list."""
        bare = name.lstrip("_")
        for key in (bare, "_" + bare, "__" + bare):
            self.vars.pop(key, None)
        self.vars = {name: value, **self.vars}
        if event:
            self.emit("VarSet", "dialplan", [("Variable", name), ("Value", value)])

    def append_var(self, name: str, value: str) -> None:
        """Add a variable at the end of the list (inherited or copied, as
        ast_channel_inherit_variables and the Local pair's copy do)."""
        self.vars[name] = value
        self.emit("VarSet", "dialplan", [("Variable", name), ("Value", value)])

    def inherit_from(self, parent: Channel) -> None:
        """``_X`` and ``__X`` variables of ``parent``, in its list order."""
        for key, value in parent.inheritable():
            self.append_var(key, value)

    def get_var(self, name: str) -> str | None:
        special = {
            "EXTEN": self.exten,
            "CONTEXT": self.context,
            "PRIORITY": str(self.priority),
            "UNIQUEID": self.uniqueid,
            "CHANNEL": self.name,
            "LANGUAGE": self.language,
            "CALLERIDNUM": self.cid_num or "",
            "CALLERIDNAME": self.cid_name or "",
        }
        for key in (f"LOCAL({name})", name, "_" + name, "__" + name):
            if key in self.vars:
                return self.vars[key]
        if name == "EPOCH":
            return str(int(self.sim.clock.timestamp()))
        if name in special:
            return special[name]
        return self.sim.globals.get(name)

    def inheritable(self) -> list[tuple[str, str]]:
        """Variables a channel created on our behalf inherits."""
        out: list[tuple[str, str]] = []
        for key, value in self.vars.items():
            if key.startswith("__"):
                out.append((key, value))
            elif key.startswith("_"):
                out.append((key[1:], value))
        return out

    def call_function(self, name: str, args: str) -> str | None:
        arg = args.strip().lower()
        if name == "CALLERID":
            if arg in ("num", "number"):
                return self.cid_num or ""
            if arg == "name":
                return self.cid_name or ""
            if arg == "all":
                return f'"{self.cid_name or ""}" <{self.cid_num or ""}>'
            return ""
        if name == "CONNECTEDLINE":
            return (self.conn_num or "") if arg.startswith("num") else (self.conn_name or "")
        if name == "CHANNEL":
            return {
                "name": self.name,
                "uniqueid": self.uniqueid,
                "linkedid": self.linkedid,
                "state": STATE_DESC.get(self.state, ""),
                "language": self.language,
            }.get(arg, "")
        if name == "LOCAL":
            return self.vars.get(f"LOCAL({args})", "")
        return self.sim.call_function(self, name, args)

    def epoch(self) -> float:
        return self.sim.clock.timestamp()

    def substitute(self, text: str) -> str:
        return substitute(text, self)

    # ----------------------------------------------------------- state, ids
    def set_state(self, state: int) -> None:
        if state != self.state:
            self.state = state
            self.emit("Newstate", "call")
            if state == UP and self.far_end is not None:
                self.far_end.answered(self)
            for listener in list(self.state_listeners):
                listener(state)

    def set_caller(self, num: str | None, name: str | None, *, event: bool = True) -> None:
        self.cid_num, self.cid_name = num, name
        if event:
            self.emit(
                "NewCallerid",
                "call",
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )

    def set_connected(self, num: str | None, name: str | None, *, event: bool = True) -> None:
        self.conn_num, self.conn_name = num, name
        if event:
            self.emit("NewConnectedLine", "call")

    def newexten(self, app: str, data: str) -> None:
        self.app, self.app_data = app, data
        self.emit(
            "Newexten",
            "dialplan",
            [("Extension", self.exten), ("Application", app), ("AppData", data)],
        )

    # ---------------------------------------------------------------- waits
    async def sleep(self, seconds: float) -> bool:
        """Wait; False when the channel was hung up meanwhile."""
        if self.hungup:
            return False
        if seconds > 0:
            await asyncio.wait([self.hangup_future], timeout=seconds)
        return not self.hungup

    async def read_digit(self, timeout: float | None, takes: str | None = None) -> str | None:
        """Listen for one key: the digit, "" on timeout, None on hangup.

        ``takes``: the keys the listener acts on (a prompt's escape digits),
        None for any; a key it does not take is read and dropped by the
        caller of this method, as Asterisk's waitstream does."""
        if self.hungup:
            return None
        fut: asyncio.Future[str] = self.sim.loop.create_future()
        self._digit_waiter = fut
        self.takes = takes
        if self.far_end is not None:
            self.far_end.listening(self)
        try:
            waits: list[asyncio.Future[Any]] = [fut, self.hangup_future]
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._digit_waiter = None
            if self.far_end is not None:
                self.far_end.stopped_listening(self)
        if fut.done():
            return fut.result()
        fut.cancel()
        return None if self.hungup else ""

    def receive_dtmf(self, digit: str, duration_ms: int = 100) -> None:
        """A key arrives from the far end (DTMFBegin/End, Direction Received)."""
        if self.hungup:
            return
        self.emit("DTMFBegin", "dtmf", [("Digit", digit), ("Direction", "Received")])
        self.emit(
            "DTMFEnd",
            "dtmf",
            [("Digit", digit), ("DurationMs", str(duration_ms)), ("Direction", "Received")],
        )
        if self._digit_waiter is not None and not self._digit_waiter.done():
            self._digit_waiter.set_result(digit)

    # -------------------------------------------------------------- hangup
    def request_hangup(
        self, cause: int = 16, *, soft: bool = False, show_cause: bool = True
    ) -> None:
        """Ask the channel to hang up.  ``soft`` = from our side (Hangup(),
        AMI), else the far end hung up.  Whoever runs the channel finishes it
        with :meth:`finish`."""
        if (self.hungup and self.pending_goto is None) or self.gone:
            return
        self.pending_goto = None  # a real hangup wins over a redirect
        self.hungup = True
        self.hangup_cause = cause
        self.soft_requested = self.soft_requested or soft
        event = "SoftHangupRequest" if soft else "HangupRequest"
        self.emit(event, "call", [("Cause", str(cause))] if show_cause else [])
        if not self.hangup_future.done():
            self.hangup_future.set_result(None)

    def async_goto(self, context: str, exten: str, priority: int) -> bool:
        """pbx.c ast_async_goto on a channel running the dialplan: its
        application returns as on a hangup (AST_SOFTHANGUP_ASYNCGOTO, which
        sends no event), then the dialplan goes on at the new place (see
        pbx.run_steps).  False for a channel in a bridge (not simulated),
        not running the dialplan, or hanging up."""
        if self.hungup or self.gone or self.bridge is not None or not self.in_pbx:
            return False
        self.pending_goto = (context, exten, priority)
        self.hungup = True
        if not self.hangup_future.done():
            self.hangup_future.set_result(None)
        return True

    def take_goto(self) -> bool:
        """Go on at a pending async goto (pbx.c clears the flag): True if there was one."""
        target, self.pending_goto = self.pending_goto, None
        if target is None or self.gone:
            return False
        self.hungup = False
        self.hangup_future = self.sim.loop.create_future()
        self.context, self.exten, self.priority = target
        return True

    def pbx_ended(self) -> None:
        """The dialplan stopped running on this channel.  pbx.c then soft-hangs
        it up (``ast_softhangup``), which shows as SoftHangupRequest unless
        one was already sent (Hangup(), AMI Hangup)."""
        if self.gone or self.soft_requested:
            return
        self.soft_requested = True
        # The Cause shown is the soft-hangup flag AST_SOFTHANGUP_APPUNLOAD (16).
        self.emit("SoftHangupRequest", "call", [("Cause", "16")])

    def finish(self, cause: int | None = None) -> None:
        """Send Hangup and forget the channel (idempotent)."""
        if self.gone:
            return
        self.hungup = True
        if not self.hangup_future.done():
            self.hangup_future.set_result(None)
        if cause is not None:
            self.hangup_cause = cause
        for cb in list(self.before_hangup):
            cb(self)
        self.gone = True
        cause_v = self.hangup_cause
        self.emit(
            "Hangup",
            "call",
            [("Cause", str(cause_v)), ("Cause-txt", CAUSE_TEXT.get(cause_v, "Unknown"))],
        )
        self.sim.channel_gone(self)
        for cb in list(self.on_hangup):
            cb(self)
        if not self.done.done():
            self.done.set_result(None)


def name_hash_bucket(name: str) -> int:
    """The bucket of Asterisk's channel containers (ast_str_case_hash of the
    name, 1567 buckets) that holds ``name``."""
    h = 5381
    for byte in name.lower().encode():
        h = ((h * 33) ^ byte) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % 1567


def storage_order(channels: list[Channel]) -> list[Channel]:
    """Channels in the order Asterisk's name-hashed containers list them
    (CoreShowChannels, ChanSpy's search): bucket by bucket, and within a
    bucket in creation order."""
    return sorted(channels, key=lambda c: (name_hash_bucket(c.name), c.seq))


def _cid(value: str | None) -> str:
    return "<unknown>" if value is None or value == "" else value


class Bridge:
    """A two-party basic bridge (BridgeCreate/Enter/Leave/Destroy)."""

    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self.id = str(uuid.uuid4())
        self.members: list[Channel] = []
        # Set when a transfer or a redirect takes the bridge apart (its owner,
        # the queue's connect, acts on it): ("transfer", transferer,
        # transferee, context, exten) or ("redirect", channel).
        self.broken: asyncio.Future[tuple[object, ...]] = sim.loop.create_future()
        sim.emit("BridgeCreate", "call", self._headers())

    def break_up(self, why: tuple[object, ...]) -> bool:
        if self.broken.done():
            return False
        self.broken.set_result(why)
        return True

    def headers(self) -> Headers:
        """The Bridge* state block (manager_bridges.c)."""
        return self._headers()

    def _headers(self) -> Headers:
        return [
            ("BridgeUniqueid", self.id),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(self.members))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def enter(self, chan: Channel) -> None:
        self.members.append(chan)
        chan.bridge = self
        self.sim.emit("BridgeEnter", "call", self._headers() + chan.block())

    def leave(self, chan: Channel) -> None:
        if chan in self.members:
            self.members.remove(chan)
            chan.bridge = None
            self.sim.emit("BridgeLeave", "call", self._headers() + chan.block())

    def destroy(self) -> None:
        self.sim.emit("BridgeDestroy", "call", self._headers())
