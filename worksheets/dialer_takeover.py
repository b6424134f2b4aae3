"""Callback and 回访 calls whose backend is gone, on the elected backend.

Part of :class:`worksheets.callback_dialer.CallbackDialer` (a mixin, for the
file's size).  Each call in progress belongs to the backend that placed it,
until its lease (renewed by that backend: ``core.leases``) runs out.
The elected backend's :meth:`TakesOver.sweep` then takes over each call
whose agent's channel is still up at the PBX (compare-and-set on the owner:
one taker) and follows it to its end like its own; the others are closed as
``lost`` (their task reopens; a 回访 attempt is not counted).

The agent's channel is known from the OriginateResponse, which Asterisk
sends to every AMI session with the Originate's ActionID: each backend
records it (:meth:`TakesOver._heard`) on the call stored with an ActionID it
did not send, so a call whose backend died while the agent's phone rang is
followed too.  A call with no channel yet is left alone while its agent's
phone may still ring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from core.leases import LEASE
from core.live_events import VisitCallEnded
from pbx import model_events as me
from pbx.ami import unique_action_id
from worksheets import callbacks, visits

if TYPE_CHECKING:
    from agents.staffing import Staffing
    from hotline.deps import Deps
    from pbx.model import PbxModel
    from worksheets.callback_dialer import _Placed

log = logging.getLogger("worksheets.callback_dialer")

PAUSE_REASON = "callback"  # the agent is paused in the queues for a callback or 回访 call
# A callback call that outlives this is taken as lost (its Hangup was missed).
MAX_CALL_SECONDS = 2 * 3600
AGENT_RING_SECONDS = 30
# No OriginateResponse this long after the agent's phone stopped ringing: lost.
RESPONSE_GRACE_SECONDS = 15


class TakesOver:
    # Provided by CallbackDialer.
    deps: Deps
    model: PbxModel
    staffing: Staffing | None
    _calls: dict[str, _Placed]
    _by_channel: dict[str, str]
    _reserved: set[str]

    if TYPE_CHECKING:
        def _start_timer(self, key: str, seconds: float) -> None: ...
        def _callback_call(self, attempt_id: int, agent_id: int, task_id: int) -> _Placed: ...
        async def _visit_call(self, order_id: int, agent_id: int, user_id: int | None,
                              order_number: str | None = None) -> _Placed: ...
        async def _callback_ended(self, attempt_id: int, agent_id: int | None,
                                  result: str) -> None: ...

    async def sweep(self, *, alone: bool) -> int:
        """Callback attempts and 回访 calls whose backend is gone (their lease ran
        out; ``alone``: every one not placed by this process): followed to their
        end here when the agent's channel is still up at the PBX, else closed
        as ``lost``.  Returns how many were closed."""
        now = self.deps.clock.now()
        max_call = timedelta(seconds=MAX_CALL_SECONDS)
        owner = self.deps.owner
        left = await self.deps.db.run(lambda s: callbacks.stale_attempts(
            s, now, owner, alone=alone, max_call=max_call))
        closed = 0
        for attempt in left:
            key = f"callback:{attempt.id}"
            if key in self._calls or self._may_ring(attempt):
                continue
            if await self._resumed(key, attempt, callbacks.take_over):
                continue
            await self._callback_ended(attempt.id, None, "lost")
            await self._release(attempt.agent_id)
            closed += 1
        visits_left = await self.deps.db.run(lambda s: visits.stale(
            s, now, owner, alone=alone, max_call=max_call))
        for visit in visits_left:
            key = f"visit:{visit.id}"
            if key in self._calls or key in self._reserved or self._may_ring(visit):
                continue
            if await self._resumed(key, visit, visits.take_over):
                continue
            await self.deps.db.run(lambda s, o=visit.id: visits.finish(
                s, o, "lost", now=now, user_id=None))
            if visit.agent_id is not None:
                self.deps.bus.publish(VisitCallEnded(order_id=visit.id, result="lost",
                                                     agent_id=visit.agent_id))
            await self._release(visit.agent_id)
            closed += 1
        if closed:
            log.warning("%d callback or 回访 call(s) of a backend that is gone closed as lost",
                        closed)
        return closed

    def _may_ring(self, left: callbacks.LeftCall) -> bool:
        """No channel known yet, but the agent's phone may still ring: the
        OriginateResponse that tells it may come (and be recorded by
        :meth:`_heard`)."""
        if left.uniqueid or left.since is None:
            return False
        wait = timedelta(seconds=AGENT_RING_SECONDS + RESPONSE_GRACE_SECONDS)
        return self.deps.clock.now() < left.since + wait

    async def _heard(self, e: me.OriginateOutcome) -> None:
        """An OriginateResponse for an ActionID this backend is not waiting for:
        perhaps another backend's callback or 回访 call, whose agent's channel
        is recorded here in case that backend is gone (the one that sent it
        records the same, whichever comes first)."""
        if not e.success or not e.uniqueid or not unique_action_id(e.action_id):
            return  # an older release's ActionIDs repeat: never taken for another's
        action_id, uniqueid = e.action_id, e.uniqueid
        try:
            recorded = await self.deps.db.run(
                lambda s: callbacks.channel_of_action(s, action_id, uniqueid)
                or visits.channel_of_action(s, action_id, uniqueid))
        except Exception:  # noqa: BLE001 - the database away: the call may be lost
            log.warning("the agent's channel of %s not recorded (database unavailable?)",
                        action_id)
            return
        if recorded:
            log.info("the agent answered another backend's call (%s): channel %s recorded",
                     action_id, uniqueid)

    async def _release(self, agent_id: int | None) -> None:
        """The gone backend paused this agent (reason ``callback``) for the call
        just closed as lost, and nobody else will resume them: resume them here,
        unless another callback or 回访 call holds them (this backend's or
        another's) or they are paused for another reason (their own, or a
        supervisor's)."""
        staffing = self.staffing
        if (agent_id is None or staffing is None or agent_id not in staffing.logged_in
                or any(p.agent_id == agent_id for p in self._calls.values())):
            return
        state = staffing.states.state_of(agent_id)
        if state is None or state["state"] != "paused" or state["reason"] != PAUSE_REASON:
            return
        if await self.deps.db.run(lambda s: callbacks.agent_calling(s, agent_id)):
            return  # paused for another call under way (perhaps another backend's)
        try:
            await staffing.pause(agent_id, False)
        except Exception as exc:  # noqa: BLE001 - the sweep goes on
            log.warning("could not resume agent %s after a lost call: %s", agent_id, exc)
            return
        log.info("agent %s resumed: the callback or 回访 call they were paused for is lost",
                 agent_id)

    async def _resumed(self, key: str, left: callbacks.LeftCall,
                       take_over: Callable[..., bool]) -> bool:
        """Follow a call another backend placed, if it is still up at the PBX."""
        uniqueid = left.uniqueid
        if not uniqueid or uniqueid not in self.model.state.channels or left.agent_id is None:
            return False
        until = self.deps.clock.now() + LEASE
        if not await self.deps.db.run(lambda s: take_over(s, left.id, left.owner,
                                                          self.deps.owner, until)):
            return True  # another backend was quicker: it follows the call
        agent_id = left.agent_id
        if key.startswith("callback:"):
            task_id = await self.deps.db.run(lambda s: callbacks.task_of(s, left.id))
            placed = self._callback_call(left.id, agent_id, task_id or 0)
        else:
            placed = await self._visit_call(left.id, agent_id, None)
        # It was placed: the agent answered (their channel is known), then the
        # citizen was dialled; the agent was paused for it by the other backend.
        placed.paused = placed.dialled = True
        self._calls[key] = placed
        self._by_channel[uniqueid] = key
        self._start_timer(key, MAX_CALL_SECONDS)
        bridged = bool(self.model.state.channels[uniqueid].get("bridge"))
        if left.answered or bridged:
            placed.answered = True
            if not left.answered:  # the citizen picked up after the other backend died
                await placed.on_answer()
        log.warning("%s: placed by %s, which is gone; followed here to its end", key,
                    left.owner or "a previous run")
        return True
