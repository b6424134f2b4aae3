"""Click-to-call over AMI: callback tasks, and the 回访 call about a closed
work order.

An agent clicks "call back": the task is held for them (worksheets.callbacks),
they are paused in the queues with the reason ``callback`` (回访) so that no
queue call rings them meanwhile, and an ``Originate`` rings *their* phone
first; when they answer, ``[callback-out]`` dials the citizen through the
trunk (as in the supervisor-recording-callback fixture of a real Asterisk 22).
The outcome comes from the events of the agent's channel: OriginateResponse
(Failure: the agent did not answer), DialEnd (the citizen answered, or
NOANSWER, BUSY ...), Hangup (the attempt is over).  A citizen who answers
gets the original call's work order drafted for the agent.  A 回访 call
goes the same way; its outcome is written to the order's history, and the
agent records the citizen's verdict as usual.

Originate is not idempotent: it is sent once, never re-sent after a
reconnect (pbx.ami does not re-send either).  An attempt whose end the PBX
never reports (link lost, backend restarted) is closed as ``lost`` and the
task reopened: by a timer when no OriginateResponse comes, by the channel
list after a reconnect, and, for attempts whose backend died or stopped, by
the elected backend's :meth:`CallbackDialer.sweep` once their lease runs out.

The Originate's ActionID is stored with the call before it is sent, and
Asterisk sends the OriginateResponse to every AMI session (manager.c
fast_originate): every backend records the agent's channel on the call of
an ActionID it did not send, so a call whose backend died before the agent
answered is followed by the elected one all the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.models import Agent
from core.leases import LEASE
from core.live_events import (
    CallbackAnswered,
    CallbackCalling,
    CallbackFinished,
    VisitAnswered,
    VisitCallEnded,
)
from pbx import model_events as me
from pbx.commands import AmiConnectionLost, AmiError, AmiTimeout
from routing.rules import normalize_number
from worksheets import callbacks, service, visits
from worksheets.callbacks import CallbackError
from worksheets.dialer_takeover import (
    AGENT_RING_SECONDS,
    MAX_CALL_SECONDS,
    PAUSE_REASON,
    RESPONSE_GRACE_SECONDS,
    TakesOver,
)
from worksheets.models import OrderEvent, WorkOrder

if TYPE_CHECKING:
    from agents.staffing import Staffing
    from hotline.deps import Deps
    from pbx.model import PbxModel

log = logging.getLogger(__name__)

CONTEXT = "callback-out"
CALLER_ID = '"12345 回访" <12345>'
RECENT_HANGUPS = 500
# CANCEL: the agent hung up while the citizen's phone rang; not counted.
DIAL_RESULTS = {"NOANSWER": "no_answer", "BUSY": "busy", "CANCEL": "agent_hangup",
                "CONGESTION": "unreachable", "CHANUNAVAIL": "unreachable",
                "DONTCALL": "unreachable", "INVALIDARGS": "unreachable"}


@dataclass
class _Placed:
    """One click-to-call in progress, whatever it is for."""

    agent_id: int
    on_answer: Callable[[], Awaitable[None]]
    on_end: Callable[[str], Awaitable[None]]
    on_channel: Callable[[str], Awaitable[None]] | None = None
    on_action: Callable[[str], Awaitable[None]] | None = None  # stores the ActionID
    paused: bool = False
    dialled: bool = False  # the Dial to the citizen began
    answered: bool = False
    dial_result: str | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class CallbackDialer(TakesOver):
    """Places callback and 回访 calls; follows the PBX model (:meth:`follow`)."""

    def __init__(self, deps: Deps, model: PbxModel, staffing: Staffing | None = None) -> None:
        self.deps = deps
        self.model = model
        self.staffing = staffing
        self._calls: dict[str, _Placed] = {}  # "callback:<attempt>" / "visit:<order>"
        self._by_action: dict[str, str] = {}  # ActionID -> key
        self._by_channel: dict[str, str] = {}  # the agent's channel Uniqueid -> key
        self._gone: dict[str, None] = {}  # recently hung-up channels, oldest first
        self._reserved: set[str] = set()  # keys being checked before they are placed
        self._recording: set[asyncio.Task[None]] = set()  # others' agents' channels

    async def start(self) -> None:
        """Nothing to do at start any more: calls left by a backend that is gone
        are followed or closed by :meth:`sweep`, on the one elected backend, once
        their lease runs out (another backend's live calls are left alone)."""

    def close(self) -> None:
        for placed in self._calls.values():
            if placed.timer is not None:
                placed.timer.cancel()
        self._calls.clear()
        for task in self._recording:
            task.cancel()

    def busy(self, agent_id: int) -> bool:
        return any(p.agent_id == agent_id for p in self._calls.values())

    # --------------------------------------------------------- callbacks
    async def call(self, task_id: int, agent_id: int) -> dict[str, Any]:
        """Start a callback attempt for ``agent_id``.  Raises
        :class:`CallbackError` with a code for the HTTP answer."""
        self._check_pbx(agent_id)
        rules = self.deps.routing.rules
        now = self.deps.clock.now()
        claim = await self.deps.db.run(lambda s: callbacks.claim(
            s, task_id, agent_id, now=now, allowed=rules.callback_allowed,
            owner=self.deps.owner, lease_until=now + LEASE))
        attempt_id = claim.attempt_id
        key = f"callback:{attempt_id}"
        try:
            status = await self._place(
                key, self._callback_call(attempt_id, agent_id, task_id), claim.interface,
                claim.number, ("HOTLINE_CALLBACK", str(task_id)))
        except CallbackError as exc:
            if exc.code == "busy":  # not placed: the claimed attempt ends here
                await self._callback_ended(attempt_id, agent_id, "pbx_error")
            raise
        self.deps.bus.publish(CallbackCalling(task_id=task_id, attempt_id=attempt_id,
                                              agent_id=agent_id))
        return {"task_id": task_id, "attempt_id": attempt_id, "status": status}

    def _callback_call(self, attempt_id: int, agent_id: int, task_id: int) -> _Placed:
        async def on_channel(uniqueid: str) -> None:
            await self.deps.db.run(lambda s: callbacks.agent_channel(s, attempt_id, uniqueid))

        async def on_action(action_id: str) -> None:
            await self.deps.db.run(lambda s: callbacks.set_action(s, attempt_id, action_id))

        async def on_answer() -> None:
            now = self.deps.clock.now()
            numbering = service.numbering(self.deps.settings)
            order = await self.deps.db.run(lambda s: callbacks.citizen_answered(
                s, attempt_id, now=now, **numbering))
            self.deps.bus.publish(CallbackAnswered(
                attempt_id=attempt_id, agent_id=agent_id, order_id=order.id if order else None,
                order_number=order.number if order else None))

        async def on_end(result: str) -> None:
            await self._callback_ended(attempt_id, agent_id, result)

        return _Placed(agent_id, on_answer, on_end, on_channel, on_action)

    async def _callback_ended(self, attempt_id: int, agent_id: int | None,
                              result: str) -> None:
        now = self.deps.clock.now()
        task = await self.deps.db.run(lambda s: callbacks.finish(s, attempt_id, result,
                                                                 now=now))
        self.deps.bus.publish(CallbackFinished(
            task_id=task.id, attempt_id=attempt_id, agent_id=agent_id, result=task.last_result,
            status=task.status, attempts=task.attempts))
        log.info("callback task %s: attempt %s %s; task %s", task.id, attempt_id,
                 task.last_result, task.status)

    # ------------------------------------------------------------ 回访
    async def call_for_visit(self, order_id: int, agent_id: int,
                             user_id: int | None) -> dict[str, Any]:
        """Ring the agent, then the citizen of a closed order, for its 回访."""
        self._check_pbx(agent_id)
        key = f"visit:{order_id}"
        if key in self._calls or key in self._reserved:
            raise CallbackError("not_open", "this citizen is being called already")
        self._reserved.add(key)  # before the first await: one caller per citizen
        try:
            return await self._visit(key, order_id, agent_id, user_id)
        finally:
            self._reserved.discard(key)

    async def _visit(self, key: str, order_id: int, agent_id: int,
                     user_id: int | None) -> dict[str, Any]:
        rules = self.deps.routing.rules

        def check(s: Any) -> tuple[str, str, str]:
            agent = s.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise CallbackError("no_agent", "this login is not an active agent")
            order = s.get(WorkOrder, order_id)
            number = normalize_number(order.caller_number) if order is not None else ""
            if order is not None and (not number or not rules.callback_allowed(number)):
                raise CallbackError("number_not_allowed", "callbacks may not dial this "
                                                          "number (routing rules)")
            now = self.deps.clock.now()
            claimed = visits.claim(s, order_id, now=now, owner=self.deps.owner,
                                   lease_until=now + LEASE, agent_id=agent_id)
            return claimed.number, number, agent.interface

        order_number, number, interface = await self.deps.db.run(check)
        placed = await self._visit_call(order_id, agent_id, user_id, order_number)
        try:
            status = await self._place(key, placed, interface, number,
                                       ("HOTLINE_VISIT", str(order_id)))
        except CallbackError as exc:
            if exc.code == "busy":  # not placed: the claimed call ends here
                await placed.on_end("pbx_error")
            raise
        return {"order_id": order_id, "status": status}

    async def _visit_call(self, order_id: int, agent_id: int, user_id: int | None,
                          order_number: str | None = None) -> _Placed:
        if order_number is None:
            order_number = await self.deps.db.run(lambda s: s.get(WorkOrder, order_id).number)

        async def on_channel(uniqueid: str) -> None:
            await self.deps.db.run(lambda s: visits.agent_channel(s, order_id, uniqueid))

        async def on_action(action_id: str) -> None:
            await self.deps.db.run(lambda s: visits.set_action(s, order_id, action_id))

        async def on_answer() -> None:
            now = self.deps.clock.now()
            await self.deps.db.run(lambda s: s.add(OrderEvent(
                order_id=order_id, at=now, kind="visit_call_answered", user_id=user_id,
                detail="")))
            self.deps.bus.publish(VisitAnswered(order_id=order_id, number=order_number,
                                                agent_id=agent_id))

        async def on_end(result: str) -> None:
            now = self.deps.clock.now()
            order = await self.deps.db.run(lambda s: visits.finish(
                s, order_id, result, now=now, user_id=user_id))
            self.deps.bus.publish(VisitCallEnded(
                order_id=order_id, result=result, agent_id=agent_id,
                attempts=order.visit_attempts if order else None))

        return _Placed(agent_id, on_answer, on_end, on_channel, on_action)

    # ------------------------------------------------------------ placing
    def _check_pbx(self, agent_id: int) -> None:
        if not self.model.connected:
            raise CallbackError("pbx_down", "the PBX is not connected; try again shortly")
        if self.busy(agent_id):
            raise CallbackError("busy", "you are already on a callback or 回访 call")

    async def _place(self, key: str, placed: _Placed, interface: str, number: str,
                     variable: tuple[str, str]) -> str:
        """Pause the agent, Originate to their phone into [callback-out];
        returns "calling" | "unconfirmed"."""
        pbx = self.model.commands
        if self.busy(placed.agent_id) or key in self._calls:
            # a second click while the first was being checked: nothing placed
            raise CallbackError("busy", "you are already on a callback or 回访 call")
        self._calls[key] = placed
        await self._pause(placed)
        # Registered before sending: the OriginateResponse may come right
        # behind the answer (an unregistered phone fails at once).
        action_id = pbx.new_action_id()
        self._by_action[action_id] = key
        self._start_timer(key, AGENT_RING_SECONDS + RESPONSE_GRACE_SECONDS)
        if placed.on_action is not None:
            # Stored before sending: should this backend die before the agent
            # answers, another one finds the call by the ActionID.
            try:
                await placed.on_action(action_id)
            except Exception:
                self._by_action.pop(action_id, None)
                await self._finish(key, "pbx_error")
                raise
        status = "calling"
        try:
            await pbx.originate(interface, CONTEXT, number, caller_id=CALLER_ID,
                                ring_seconds=AGENT_RING_SECONDS, variables=[variable],
                                action_id=action_id)
        except (AmiTimeout, AmiConnectionLost) as exc:
            # It may have been placed: never re-sent; it stays open until its
            # OriginateResponse, the channel list or the timer settles it.
            log.warning("%s: Originate unconfirmed (%s)", key, exc)
            status = "unconfirmed"
        except AmiError as exc:  # Response: Error, the PBX refused it
            self._by_action.pop(action_id, None)
            await self._finish(key, "pbx_error")
            raise CallbackError("pbx_error", f"the PBX refused the call: {exc}") from None
        log.info("%s: ringing agent %s (%s) first", key, placed.agent_id, interface)
        return status

    async def _pause(self, placed: _Placed) -> None:
        staffing = self.staffing
        if staffing is None or placed.agent_id not in staffing.logged_in:
            return  # not on the queues: nothing would ring them
        state = staffing.states.state_of(placed.agent_id)
        if state is not None and state["state"] == "paused":
            return  # already paused for their own reason: leave it as it is
        try:
            await staffing.pause(placed.agent_id, True, PAUSE_REASON)
        except Exception as exc:  # noqa: BLE001 - a failed pause must not stop the call
            log.warning("could not pause agent %s for a callback: %s", placed.agent_id, exc)
            return
        placed.paused = True

    async def _resume(self, placed: _Placed) -> None:
        if not placed.paused or self.staffing is None:
            return
        state = self.staffing.states.state_of(placed.agent_id)
        if state is not None and state["state"] == "paused" and state["reason"] not in (
                PAUSE_REASON, ""):
            return  # paused since for another reason (by them or a supervisor): keep it
        try:
            await self.staffing.pause(placed.agent_id, False)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not resume agent %s after a callback: %s", placed.agent_id, exc)

    # ------------------------------------------------------------- events
    def follow(self, model: PbxModel) -> None:
        model.subscribe(me.OriginateOutcome.NAME, self._originated)
        model.subscribe(me.DialStarted.NAME, self._dial_started)
        model.subscribe(me.DialEnded.NAME, self._dial_ended)
        model.subscribe(me.CallEnded.NAME, self._channel_ended)
        model.subscribe(me.Resynced.NAME, self._resynced)

    async def _originated(self, e: me.OriginateOutcome) -> None:
        key = self._by_action.pop(e.action_id, None)
        placed = self._calls.get(key) if key else None
        if key is None or placed is None:
            # Not this backend's call (or over already): recorded aside, so
            # that a database slow to answer never holds up the PBX's events.
            task = asyncio.get_running_loop().create_task(self._heard(e))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)
            return
        if not e.success or not e.uniqueid:
            await self._finish(key, "agent_no_answer")
            return
        if e.uniqueid in self._gone:  # its Hangup overtook the response
            if placed.on_channel is not None:
                await placed.on_channel(e.uniqueid)
            await self._finish(key, "agent_hangup")
            return
        self._by_channel[e.uniqueid] = key
        self._start_timer(key, MAX_CALL_SECONDS)  # a safety net only
        if placed.on_channel is not None:
            await placed.on_channel(e.uniqueid)

    def _placed_on(self, uniqueid: str) -> _Placed | None:
        key = self._by_channel.get(uniqueid)
        return self._calls.get(key) if key else None

    def _dial_started(self, e: me.DialStarted) -> None:
        placed = self._placed_on(e.uniqueid)
        if placed is not None:
            placed.dialled = True

    async def _dial_ended(self, e: me.DialEnded) -> None:
        placed = self._placed_on(e.uniqueid)
        if placed is None:
            return
        if e.dial_status == "ANSWER":
            if not placed.answered:
                placed.answered = True
                await placed.on_answer()
        else:
            placed.dial_result = DIAL_RESULTS.get(e.dial_status, "unreachable")

    async def _channel_ended(self, e: me.CallEnded) -> None:
        self._gone[e.uniqueid] = None
        while len(self._gone) > RECENT_HANGUPS:
            self._gone.pop(next(iter(self._gone)))
        key = self._by_channel.pop(e.uniqueid, None)
        placed = self._calls.get(key) if key else None
        if key is not None and placed is not None:
            # No Dial to the citizen began: the agent hung up first, or the
            # trunk channel could not be made; not the citizen's doing.
            default = "unreachable" if placed.dialled else "agent_hangup"
            await self._finish(key, placed.dial_result or default)

    async def _resynced(self, e: me.Resynced) -> None:
        for uniqueid, key in list(self._by_channel.items()):
            if uniqueid not in e.channels:  # it ended while the link was down
                del self._by_channel[uniqueid]
                await self._finish(key, "lost")

    def _start_timer(self, key: str, seconds: float) -> None:
        placed = self._calls.get(key)
        if placed is None:
            return
        if placed.timer is not None:
            placed.timer.cancel()
        placed.timer = asyncio.get_running_loop().call_later(seconds, self._expired, key)

    def _expired(self, key: str) -> None:
        """No OriginateResponse in time, or a call longer than any real one:
        the PBX never said how it ended."""
        for action_id, known in list(self._by_action.items()):
            if known == key:
                del self._by_action[action_id]
        for uniqueid, known in list(self._by_channel.items()):
            if known == key:
                del self._by_channel[uniqueid]
        task = asyncio.get_running_loop().create_task(self._finish(key, "lost"))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _finish(self, key: str, result: str) -> None:
        placed = self._calls.pop(key, None)
        if placed is None:
            return
        if placed.timer is not None:
            placed.timer.cancel()
        # Resumed first (as the agent is free now), whatever on_end does.
        try:
            await self._resume(placed)
        finally:
            # However it ended, a citizen who answered was reached.
            await placed.on_end(callbacks.REACHED if placed.answered else result)
