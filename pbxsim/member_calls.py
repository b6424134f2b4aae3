"""Outgoing legs placed by Queue() and Dial(): to a PJSIP phone or to a
Local channel pair (``Local/1001@agents/n``) whose ``;2`` half runs the
dialplan.  Both look the same to the caller: a channel that rings, maybe
answers, and later hangs up.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pbxsim.channels import DOWN, RING, RINGING, UP, Channel
from pbxsim.phones import Phone, phone_for

if TYPE_CHECKING:
    from pbxsim.core import PbxSim


class MemberCall:
    """One outgoing leg.  ``chan`` is the channel the caller is bridged to."""

    def __init__(self, sim: PbxSim, interface: str, chan: Channel) -> None:
        self.sim = sim
        self.interface = interface
        self.chan = chan
        self.answered = False

    @property
    def is_pjsip(self) -> bool:
        return self.chan.tech == "PJSIP"

    def ring(self) -> None:
        """The far end starts ringing (Newstate Ringing where it applies)."""

    def publish_state(self) -> None:
        """Publish the device state after a change."""

    async def wait_answer(self, timeout: float | None) -> bool:
        raise NotImplementedError

    def answer(self) -> None:
        self.answered = True
        self.chan.set_state(UP)

    def start_talking(self) -> None:
        """Begin the conversation (the far end hangs up on its own later)."""

    def cancel(self, cause: int = 0) -> None:
        """Hang the leg up from our side (no answer, answered elsewhere, ...)."""
        self.chan.hangup_cause = cause
        self.chan.finish(cause)


class PhoneCall(MemberCall):
    def __init__(self, sim: PbxSim, interface: str, phone: Phone, linkedid: str) -> None:
        super().__init__(sim, interface, phone.new_channel(linkedid))
        self.phone = phone

    def ring(self) -> None:
        self.phone.ring(self.chan)

    def publish_state(self) -> None:
        self.phone.update_state()

    async def wait_answer(self, timeout: float | None) -> bool:
        return await self.phone.wait_answer(self.chan, timeout)

    def start_talking(self) -> None:
        self.phone.start_talking(self.chan)


class LocalCall(MemberCall):
    """``Local/exten@context[/n]``: ``;1`` faces the caller, ``;2`` runs the
    dialplan; when ``;2`` answers, ``;1`` answers; when either hangs up the
    other follows."""

    def __init__(self, sim: PbxSim, interface: str, linkedid: str, caller: Channel | None) -> None:
        body = interface.split("/", 1)[1]
        if body.endswith("/n"):
            body = body[:-2]
        exten, _, context = body.partition("@")
        self.device = f"Local/{exten}@{context or 'default'}"
        idx = sim.next_tech_index("Local")
        base = f"Local/{exten}@{context or 'default'}-{idx}"
        one = sim.new_channel(
            base + ";1", context=context or "default", exten=exten, linkedid=linkedid, tech="Local"
        )
        # An originated pair has no caller: ;2 is linked to ;1 (core_local.c).
        two = sim.new_channel(
            base + ";2",
            context=context or "default",
            exten=exten,
            linkedid=linkedid or one.uniqueid,
            state=RING,
            tech="Local",
        )
        # Dialled by an application (Queue, Dial), ;2's Answer() hears no media
        # from ;1 and waits the 500 ms of __ast_answer() (see apps.app_answer).
        two.answer_waits_for_media = caller is not None
        # Without /n the pair optimises itself away once bridged.
        self.optimize = not interface.endswith("/n")
        super().__init__(sim, interface, one)
        self.two = two
        one.local_peer, two.local_peer = two, one
        self._answered = asyncio.get_running_loop().create_future()
        self.caller = caller
        self._started = False
        self.caretaker = False  # AST_UNREAL_CARETAKER_THREAD: ;2 runs the dialplan
        self.pending_connected: tuple[str | None, str | None] | None = None

        def two_state(state: int) -> None:
            if state == UP and not self._answered.done():
                self._answered.set_result(True)

        self.two.state_listeners.append(two_state)
        for half in (one, two):
            half.state_listeners.append(lambda _state: self._device_changed())
        one.on_hangup.append(self._one_gone)
        two.on_hangup.append(self._two_gone)

    def local_bridge(self) -> None:
        one, two = self.chan, self.two
        self.sim.emit(
            "LocalBridge",
            "call",
            one.block("LocalOne")
            + two.block("LocalTwo")
            + [("Context", two.context), ("Exten", two.exten),
               ("LocalOptimization", "Yes" if self.optimize else "No")],
        )

    def start(self) -> None:
        """ast_call() on ``;1`` (local_call): ast_unreal_call_setup() gives
        ``;2`` the caller ID and connected line crossed over and a copy of
        ``;1``'s variables, in its list order; then LocalBridge, and ``;2``
        runs the dialplan."""
        from pbxsim.pbx import run_pbx

        if self._started:
            return
        self._started = True
        one, two = self.chan, self.two
        # ;1's connected line as set (app_queue sets it without publishing).
        conn = self.pending_connected or (one.conn_num, one.conn_name)
        for key, value in one.vars.items():
            if not key.startswith("LOCAL("):
                two.append_var(key, value)
        old_cid, old_conn = (two.cid_num, two.cid_name), (two.conn_num, two.conn_name)
        two.cid_num, two.cid_name = conn
        two.conn_num, two.conn_name = one.cid_num, one.cid_name
        # One snapshot update: NewCallerid, then NewConnectedLine, if changed.
        if (two.cid_num, two.cid_name) != old_cid:
            two.set_caller(two.cid_num, two.cid_name)
        if (two.conn_num, two.conn_name) != old_conn:
            two.emit("NewConnectedLine", "call")
        self.local_bridge()
        self.sim.spawn(run_pbx(two), name=f"pbx {two.name}")
        # local_call() marks the pair started once ast_pbx_start() returns;
        # see Interleavings.early_local_answer for the other order.
        self.caretaker = self.device_name not in self.sim.interleavings.early_local_answer

    def ring(self) -> None:
        self.start()

    def publish_state(self) -> None:
        """Nothing to do: a Local device reports on each half's own change."""

    @property
    def device_name(self) -> str:
        """The pair's name without ``;1``/``;2`` (``Local/1001@agents-00000001``)."""
        return self.chan.name[:-2]

    def _device_changed(self) -> None:
        # core_local.c: the device is in use while any of its pairs has ;1
        # and a running ;2 (local_devicestate).  Every state change or hangup
        # of either half makes Asterisk publish the state again, even when it
        # is unchanged.
        pairs = self.sim.local_pairs.setdefault(self.device, set())
        if self.chan.gone or self.two.gone:
            pairs.discard(self)
        else:
            pairs.add(self)
        live = any(pair._in_use() for pair in pairs)
        self.sim.set_device_state(self.device, "INUSE" if live else "NOT_INUSE", force=True)
        if self._started:
            self.caretaker = True

    def _in_use(self) -> bool:
        return not self.chan.gone and not self.two.gone and self.caretaker

    async def wait_answer(self, timeout: float | None) -> bool:
        await asyncio.wait(
            [self._answered, self.chan.hangup_future],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        return self._answered.done() and not self.chan.hungup

    def _one_gone(self, c: Channel) -> None:
        # ast_unreal_hangup(): the other half gets the hangup with this
        # half's cause (ast_queue_hangup_with_cause).
        if not self.two.gone:
            self.two.request_hangup(c.hangup_cause, soft=False)
        self._device_changed()

    def _two_gone(self, c: Channel) -> None:
        if not self.chan.gone and not self.chan.hungup:
            self.chan.request_hangup(c.hangup_cause, soft=False)
        self._device_changed()


def place(sim: PbxSim, interface: str, caller: Channel) -> MemberCall | None:
    """Create the leg for a dial string, or None when nothing can answer."""
    if interface.startswith("Local/"):
        return LocalCall(sim, interface, caller.linkedid, caller)
    phone = phone_for(sim, interface)
    if phone is None or phone.device_state() == "UNAVAILABLE":
        return None
    return PhoneCall(sim, interface, phone, caller.linkedid)


__all__ = ["DOWN", "RINGING", "LocalCall", "MemberCall", "PhoneCall", "place"]
