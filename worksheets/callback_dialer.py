"""Click-to-call for callback tasks, over AMI.

An agent clicks "call back": the task is held for them (worksheets.callbacks),
they are paused in the queues with the reason ``callback`` (回访) so that no
queue call rings them meanwhile, and an ``Originate`` rings *their* phone
first; when they answer, ``[callback-out]`` dials the citizen through the
trunk (as in the supervisor-recording-callback fixture of a real Asterisk 22).
The outcome comes from the events of the agent's channel: OriginateResponse
(Failure: the agent did not answer), DialEnd (the citizen answered, or
NOANSWER, BUSY ...), Hangup (the attempt is over).  A citizen who answers
gets the original call's work order drafted for the agent.

Originate is not idempotent: it is sent once, never re-sent after a
reconnect (pbx.ami does not re-send either).  An attempt whose end the PBX
never reports (link lost, backend restarted) is closed as ``lost`` and the
task reopened: by a timer when no OriginateResponse comes, by the channel
list after a reconnect, and at start for attempts left by a previous run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pbx import events as ev
from pbx.ami import AmiError
from pbx.ami_session import AmiConnectionLost, AmiTimeout
from worksheets import callbacks
from worksheets.callbacks import CallbackError

if TYPE_CHECKING:
    from agents.staffing import Staffing
    from hotline.deps import Deps

log = logging.getLogger(__name__)

CONTEXT = "callback-out"
CALLER_ID = '"12345 回访" <12345>'
PAUSE_REASON = "callback"
AGENT_RING_SECONDS = 30
# No OriginateResponse this long after the agent's phone stopped ringing: lost.
RESPONSE_GRACE_SECONDS = 15
# A callback call that outlives this is taken as lost (its Hangup was missed).
MAX_CALL_SECONDS = 2 * 3600
RECENT_HANGUPS = 500
# CANCEL: the agent hung up while the citizen's phone rang; not counted.
DIAL_RESULTS = {"NOANSWER": "no_answer", "BUSY": "busy", "CANCEL": "agent_hangup",
                "CONGESTION": "unreachable", "CHANUNAVAIL": "unreachable",
                "DONTCALL": "unreachable", "INVALIDARGS": "unreachable"}


class CallbackDialer:
    """Places callback attempts; subscribe :meth:`on_event` to the AMI link."""

    def __init__(self, deps: Deps, staffing: Staffing | None = None) -> None:
        self.deps = deps
        self.staffing = staffing
        self._by_action: dict[str, int] = {}  # ActionID -> attempt
        self._by_channel: dict[str, int] = {}  # the agent's channel Uniqueid -> attempt
        self._dial_result: dict[int, str] = {}
        self._answered: set[int] = set()
        self._agents: dict[int, int] = {}  # attempt -> agent
        self._paused: dict[int, int] = {}  # attempt -> agent we paused (and resume)
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._dialled: set[int] = set()  # attempts whose Dial to the citizen began
        self._gone: dict[str, None] = {}  # recently hung-up channels, oldest first

    async def start(self) -> None:
        """Close attempts a previous run left open: their end is unknown."""
        left = await self.deps.db.run(callbacks.open_attempt_ids)
        for attempt_id in left:
            await self._finish(attempt_id, "lost")
        if left:
            log.warning("%d callback attempt(s) from a previous run closed as lost", len(left))

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # ------------------------------------------------------------ placing
    async def call(self, task_id: int, agent_id: int) -> dict[str, Any]:
        """Start an attempt for ``agent_id``; returns the attempt's id.
        Raises :class:`CallbackError` with a code for the HTTP answer."""
        ami = self.deps.ami
        if ami is None or not ami.connected:
            raise CallbackError("pbx_down", "the PBX is not connected; try again shortly")
        rules = self.deps.routing.rules
        now = self.deps.clock.now()
        claim = await self.deps.db.run(lambda s: callbacks.claim(
            s, task_id, agent_id, now=now, allowed=rules.callback_allowed))
        self._agents[claim.attempt_id] = agent_id
        await self._pause(claim.attempt_id, agent_id)
        # Registered before sending: the OriginateResponse may come right
        # behind the answer (an unregistered phone fails at once).
        action_id = ami.new_action_id()
        self._by_action[action_id] = claim.attempt_id
        self._start_timer(claim.attempt_id, AGENT_RING_SECONDS + RESPONSE_GRACE_SECONDS)
        status = "calling"
        try:
            await ami.send("Originate", [
                ("Channel", claim.interface), ("Context", CONTEXT), ("Exten", claim.number),
                ("Priority", "1"), ("CallerID", CALLER_ID), ("Async", "true"),
                ("Timeout", str(AGENT_RING_SECONDS * 1000)),
                ("Variable", f"HOTLINE_CALLBACK={claim.task_id}")], action_id=action_id)
        except (AmiTimeout, AmiConnectionLost) as exc:
            # It may have been placed: never re-sent; the attempt stays open
            # until its OriginateResponse, the channel list or the timer settles it.
            log.warning("callback task %s: Originate unconfirmed (%s)", task_id, exc)
            status = "unconfirmed"
        except AmiError as exc:  # Response: Error, the PBX refused it
            self._by_action.pop(action_id, None)
            await self._finish(claim.attempt_id, "pbx_error")
            raise CallbackError("pbx_error", f"the PBX refused the call: {exc}") from None
        await self.deps.db.run(lambda s: callbacks.set_action(s, claim.attempt_id, action_id))
        self.deps.bus.publish("callback.calling", task_id=task_id, attempt_id=claim.attempt_id,
                              agent_id=agent_id)
        log.info("callback task %s: ringing agent %s (%s) first", task_id, agent_id,
                 claim.interface)
        return {"task_id": task_id, "attempt_id": claim.attempt_id, "status": status}

    async def _pause(self, attempt_id: int, agent_id: int) -> None:
        staffing = self.staffing
        if staffing is None or agent_id not in staffing.logged_in:
            return  # not on the queues: nothing would ring them
        state = next((a for a in staffing.states.snapshot() if a["agent_id"] == agent_id), None)
        if state is not None and state["state"] == "paused":
            return  # already paused for their own reason: leave it as it is
        try:
            await staffing.pause(agent_id, True, PAUSE_REASON)
        except Exception as exc:  # noqa: BLE001 - a failed pause must not stop the callback
            log.warning("could not pause agent %s for a callback: %s", agent_id, exc)
            return
        self._paused[attempt_id] = agent_id

    async def _resume(self, attempt_id: int) -> None:
        agent_id = self._paused.pop(attempt_id, None)
        if agent_id is None or self.staffing is None:
            return
        state = next((a for a in self.staffing.states.snapshot()
                      if a["agent_id"] == agent_id), None)
        if state is not None and state["state"] == "paused" and state["reason"] not in (
                PAUSE_REASON, ""):
            return  # paused since for another reason (by them or a supervisor): keep it
        try:
            await self.staffing.pause(agent_id, False)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not resume agent %s after a callback: %s", agent_id, exc)

    # ------------------------------------------------------------- events
    async def on_event(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.OriginateResponse):
            attempt_id = self._by_action.pop(event.action_id, None)
            if attempt_id is None:
                return
            if event.response.lower() != "success" or not event.uniqueid:
                await self._finish(attempt_id, "agent_no_answer")
            elif event.uniqueid in self._gone:  # its Hangup overtook the response
                await self.deps.db.run(
                    lambda s: callbacks.agent_channel(s, attempt_id, event.uniqueid))
                await self._finish(attempt_id, "agent_hangup")
            else:
                self._by_channel[event.uniqueid] = attempt_id
                self._start_timer(attempt_id, MAX_CALL_SECONDS)  # a safety net only
                await self.deps.db.run(
                    lambda s: callbacks.agent_channel(s, attempt_id, event.uniqueid))
        elif isinstance(event, ev.DialEvent):
            attempt_id = self._by_channel.get(event.uniqueid)
            if attempt_id is None:
                return
            if event.name == "DialBegin":
                self._dialled.add(attempt_id)
            elif event.dial_status == "ANSWER":
                await self._citizen_answered(attempt_id)
            else:
                self._dial_result[attempt_id] = DIAL_RESULTS.get(event.dial_status,
                                                                 "unreachable")
        elif isinstance(event, ev.Hangup):
            self._gone[event.uniqueid] = None
            while len(self._gone) > RECENT_HANGUPS:
                self._gone.pop(next(iter(self._gone)))
            attempt_id = self._by_channel.pop(event.uniqueid, None)
            if attempt_id is not None:
                # No Dial to the citizen began: the agent hung up first, or the
                # trunk channel could not be made; not the citizen's doing.
                default = "unreachable" if attempt_id in self._dialled else "agent_hangup"
                await self._finish(attempt_id, self._dial_result.pop(attempt_id, default))
        elif isinstance(event, ev.ListResult) and event.name == "CoreShowChannels":
            alive = {item.get("Uniqueid") for item in event.items}
            for uniqueid, attempt_id in list(self._by_channel.items()):
                if uniqueid not in alive:  # it ended while the link was down
                    del self._by_channel[uniqueid]
                    await self._finish(attempt_id, "lost")

    async def _citizen_answered(self, attempt_id: int) -> None:
        if attempt_id in self._answered:
            return
        self._answered.add(attempt_id)
        now = self.deps.clock.now()
        order = await self.deps.db.run(lambda s: callbacks.citizen_answered(
            s, attempt_id, now=now))
        agent_id = self._agent_of(attempt_id)
        self.deps.bus.publish("callback.answered", attempt_id=attempt_id, agent_id=agent_id,
                              order_id=order.id if order else None,
                              order_number=order.number if order else None)

    def _agent_of(self, attempt_id: int) -> int | None:
        return self._agents.get(attempt_id)

    def _start_timer(self, attempt_id: int, seconds: float) -> None:
        self._cancel_timer(attempt_id)
        self._timers[attempt_id] = asyncio.get_running_loop().call_later(
            seconds, self._expired, attempt_id)

    def _expired(self, attempt_id: int) -> None:
        """No OriginateResponse in time, or a call longer than any real one:
        the PBX never said how it ended."""
        self._timers.pop(attempt_id, None)
        for action_id, known in list(self._by_action.items()):
            if known == attempt_id:
                del self._by_action[action_id]
        for uniqueid, known in list(self._by_channel.items()):
            if known == attempt_id:
                del self._by_channel[uniqueid]
        task = asyncio.get_running_loop().create_task(self._finish(attempt_id, "lost"))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def _cancel_timer(self, attempt_id: int) -> None:
        timer = self._timers.pop(attempt_id, None)
        if timer is not None:
            timer.cancel()

    async def _finish(self, attempt_id: int, result: str) -> None:
        self._cancel_timer(attempt_id)
        self._answered.discard(attempt_id)
        self._dialled.discard(attempt_id)
        self._dial_result.pop(attempt_id, None)
        now = self.deps.clock.now()
        task = await self.deps.db.run(lambda s: callbacks.finish(s, attempt_id, result,
                                                                 now=now))
        await self._resume(attempt_id)
        self.deps.bus.publish("callback.finished", task_id=task.id, attempt_id=attempt_id,
                              agent_id=self._agents.pop(attempt_id, None),
                              result=task.last_result, status=task.status,
                              attempts=task.attempts)
        log.info("callback task %s: attempt %s %s; task %s", task.id, attempt_id,
                 task.last_result, task.status)
