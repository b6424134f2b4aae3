"""What each agent is doing, from the PBX model's events, with the time in each state.

States: logged_out, available, ringing, on_call, wrap_up, paused (with a
reason).  Asterisk reports membership and pause per queue and the call per
member; an agent on six queues gets six QueueMemberPause events, so the
tracker keeps the raw facts (queues, paused, call phase) and records a new
period only when the state derived from them changes.  Wrap-up is not an
Asterisk state: it is the ``wrapup_seconds`` after AgentComplete (the
queues' wrapuptime), during which the queue rings nobody.

Every change closes the open :class:`AgentStatePeriod` and opens the next,
so reports read login, pause and talk time straight from the table.
Listeners registered with :meth:`AgentStates.on_idle` hear when an agent
leaves a call or its wrap-up (the staffing loop logs out leavers then).

With several backends every one follows the states (its consoles and its
staffing need them), but only the elected one writes the periods and raises
pause alerts (``history``; ``hotline.app`` switches it with the election):
on taking over it closes what the previous writer left open and opens a
period for each agent's state as it knows it now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.models import Agent, AgentStatePeriod, PauseReason
from core.live_events import AgentStateChanged
from core.tasks import cancel_and_wait
from hotline.deps import Deps
from pbx import model_events as me
from pbx.model_events import agent_number

if TYPE_CHECKING:
    from pbx.model import PbxModel

log = logging.getLogger(__name__)

IDLE_STATES = ("logged_out", "available", "paused")
# The pause the backend itself sets on an agent whose shift ended mid-call;
# it has no time limit.
SHIFT_END_REASON = "shift-end"
# The pause that holds an agent in wrap-up until their order is submitted
# (agents.staffing); shown as wrap_up, not as a pause.
WRAPUP_REASON = "wrap-up"
WRAPUP_GRACE_SECONDS = 2.0


@dataclass
class LiveAgent:
    agent_id: int
    member_name: str
    queues: set[str] = field(default_factory=set)
    paused_in: set[str] = field(default_factory=set)
    reason: str = ""
    call: str | None = None  # ringing | on_call | wrap_up
    uniqueid: str | None = None
    wrapup_until: float | None = None  # loop time
    last_call: str | None = None  # the call whose wrap-up this is
    state: str = "logged_out"
    recorded_reason: str = ""
    since: datetime | None = None
    overrun_alerted: bool = False

    def derived(self) -> tuple[str, str]:
        """(state, pause reason) from the raw facts."""
        if not self.queues:
            return "logged_out", ""
        if self.call is not None:
            return self.call, ""
        if self.queues <= self.paused_in:  # paused in every queue: no call can come
            if self.reason == WRAPUP_REASON:
                return "wrap_up", ""
            return "paused", self.reason
        return "available", ""

    def to_dict(self, now: datetime) -> dict[str, Any]:
        seconds = (now - self.since).total_seconds() if self.since else 0.0
        return {"agent_id": self.agent_id, "member": self.member_name, "state": self.state,
                "reason": self.recorded_reason,
                "since": self.since.isoformat() if self.since else None,
                "seconds_in_state": round(seconds), "queues": sorted(self.queues),
                "uniqueid": self.uniqueid}


class AgentStates:
    """Follows the PBX model (:meth:`follow`); start and close with the backend."""

    def __init__(self, deps: Deps, wrapup_seconds: float = 10.0) -> None:
        self.deps = deps
        self.wrapup_seconds = wrapup_seconds
        self.agents: dict[int, LiveAgent] = {}
        self.pause_limits: dict[str, int] = {}  # reason code or label -> minutes
        self._numbers: dict[str, int] = {}
        self._idle_listeners: list[Callable[[int], None]] = []
        self._change_listeners: list[Callable[[int], Awaitable[None]]] = []
        self._wrapup_listeners: list[Callable[[int, str | None, bool], None]] = []
        self._wake = asyncio.Event()
        self._timers: asyncio.Task[None] | None = None
        self.history = True  # this backend writes periods and pause alerts (the elected one)

    # ---------------------------------------------------------------- life
    async def start(self) -> None:
        """Close periods a previous run left open (if writing them), load names and
        limits, start timers."""
        if self.history:
            await self.take_over_history()
        await self.reload_pause_reasons()
        self._timers = asyncio.create_task(self._timer_loop(), name="agent-state-timers")

    async def take_over_history(self) -> None:
        """Become the writer of the periods: close those left open by the previous
        writer (a stopped or dead backend) and open each followed agent's current one."""
        now = self.deps.clock.now()
        current = [(a.agent_id, a.state, a.recorded_reason,
                    a.uniqueid if a.state in ("ringing", "on_call") else None)
                   for a in self.agents.values() if a.since is not None]

        def work(s: Session) -> None:
            s.execute(update(AgentStatePeriod).where(AgentStatePeriod.ended_at.is_(None))
                      .values(ended_at=now))
            for agent_id, state, reason, uniqueid in current:
                s.add(AgentStatePeriod(agent_id=agent_id, state=state, reason=reason,
                                       uniqueid=uniqueid, started_at=now))

        await self.deps.db.run(work)
        self.history = True
        self._wake.set()

    def hand_over_history(self) -> None:
        """Another backend writes the periods and raises the alerts from now on."""
        self.history = False

    async def close(self) -> None:
        await cancel_and_wait([self._timers])

    async def reload_pause_reasons(self) -> None:
        def load(s: Session) -> dict[str, int]:
            limits = {}
            for r in s.scalars(select(PauseReason)):
                limits[r.code] = limits[r.label] = r.max_minutes
            return limits

        self.pause_limits = await self.deps.db.run(load)
        self._wake.set()

    def on_idle(self, listener: Callable[[int], None]) -> None:
        """``listener(agent_id)`` runs when an agent comes off a call and its wrap-up."""
        self._idle_listeners.append(listener)

    def on_wrapup(self, listener: Callable[[int, str | None, bool], None]) -> None:
        """``listener(agent_id, uniqueid, started)`` when a wrap-up starts
        (started True, with the call) and when it ends (by time or order)."""
        self._wrapup_listeners.append(listener)

    def hold_wrapup(self, agent_id: int, seconds: float) -> bool:
        """Keep the agent in wrap-up for ``seconds`` from now (their order is
        not submitted yet); False if they are no longer in wrap-up."""
        a = self.agents.get(agent_id)
        if a is None or a.call != "wrap_up":
            return False
        a.wrapup_until = self.deps.clock.monotonic() + seconds
        self._wake.set()
        return True

    async def end_wrapup(self, agent_id: int) -> bool:
        """The agent's order is done: their wrap-up ends now (False: not in one)."""
        a = self.agents.get(agent_id)
        if a is None or a.call != "wrap_up":
            return False
        a.call, a.wrapup_until = None, None
        await self._record(a)
        self._wrapup_ended(a)
        if a.state in IDLE_STATES:
            self._idle(a.agent_id)
        return True

    def _wrapup_ended(self, a: LiveAgent) -> None:
        for listener in self._wrapup_listeners:
            try:
                listener(a.agent_id, a.last_call, False)
            except Exception:
                log.exception("wrap-up listener failed")

    def on_change(self, listener: Callable[[int], Awaitable[None]]) -> None:
        """``await listener(agent_id)`` after every recorded state change."""
        self._change_listeners.append(listener)

    # -------------------------------------------------------------- queries
    def is_idle(self, agent_id: int) -> bool:
        agent = self.agents.get(agent_id)
        return agent is None or agent.state in IDLE_STATES

    def on_queues(self) -> set[int]:
        """Agents Asterisk has on at least one queue (whoever put them there)."""
        return {a.agent_id for a in self.agents.values() if a.queues}

    def state_of(self, agent_id: int) -> dict[str, Any] | None:
        """One agent's entry of :meth:`snapshot` (None: not followed)."""
        agent = self.agents.get(agent_id)
        return agent.to_dict(self.deps.clock.now()) if agent is not None else None

    def snapshot(self) -> list[dict[str, Any]]:
        now = self.deps.clock.now()
        return [a.to_dict(now) for a in sorted(self.agents.values(), key=lambda a: a.agent_id)]

    # --------------------------------------------------------------- events
    def follow(self, model: PbxModel) -> None:
        """Subscribe to the PBX model's member and queue-call events."""
        for event_type, handler in _HANDLED.items():
            model.subscribe(event_type.NAME, self._handler(handler))

    def _handler(self, apply: Callable[[AgentStates, LiveAgent, Any], None]
                 ) -> Callable[[Any], Awaitable[None]]:
        async def handle(event: Any) -> None:
            agent = await self._agent_for(event.member_name)
            if agent is None:
                return
            was_busy = agent.state not in IDLE_STATES
            apply(self, agent, event)
            await self._record(agent)
            if was_busy and agent.state in IDLE_STATES:
                self._idle(agent.agent_id)
        return handle

    def _added(self, a: LiveAgent, e: me.MemberEvent) -> None:
        a.queues.add(e.queue)
        self._paused(a, e)
        if e.in_call and a.call is None:  # found mid-call by a resync (we restarted)
            a.call = "on_call"

    def _removed(self, a: LiveAgent, e: me.MemberEvent) -> None:
        a.queues.discard(e.queue)
        a.paused_in.discard(e.queue)
        if not a.queues:
            a.paused_in, a.reason, a.call, a.wrapup_until = set(), "", None, None

    def _paused(self, a: LiveAgent, e: me.MemberEvent) -> None:
        # Asterisk pauses per queue; one QueuePause for all queues gives one event each.
        if e.paused:
            a.paused_in.add(e.queue)
            a.reason = e.paused_reason
        else:
            a.paused_in.discard(e.queue)

    def _called(self, a: LiveAgent, e: me.AgentRinging) -> None:
        if a.call is None:
            a.call, a.uniqueid = "ringing", e.uniqueid

    def _not_answered(self, a: LiveAgent, e: me.AgentRingStopped) -> None:
        if a.call == "ringing":
            a.call, a.uniqueid = None, None

    def _member_status(self, a: LiveAgent, e: me.MemberEvent) -> None:
        a.queues.add(e.queue)
        self._paused(a, e)
        # A caller who hangs up while the phone rings leaves no AgentRingNoAnswer;
        # the phone going idle again ends the ringing.
        if a.call == "ringing" and e.status in (1, 5):
            a.call, a.uniqueid = None, None

    def _connected(self, a: LiveAgent, e: me.CallAnswered) -> None:
        a.call, a.uniqueid = "on_call", e.uniqueid

    def _completed(self, a: LiveAgent, e: me.AgentCallCompleted) -> None:
        a.last_call = e.uniqueid
        if self.wrapup_seconds > 0 or self._wrapup_listeners:
            a.call = "wrap_up"
            # With a holder listening, a few seconds at least: time for it to
            # look up the order before the wrap-up would end by itself.
            least = WRAPUP_GRACE_SECONDS if self._wrapup_listeners else 0.0
            a.wrapup_until = self.deps.clock.monotonic() + max(self.wrapup_seconds, least)
            self._wake.set()
            for listener in self._wrapup_listeners:
                try:
                    listener(a.agent_id, e.uniqueid, True)
                except Exception:
                    log.exception("wrap-up listener failed")
        else:
            a.call = None
        a.uniqueid = None

    # ------------------------------------------------------------ internals
    async def _agent_for(self, member_name: str) -> LiveAgent | None:
        number = agent_number(member_name)
        if number is None:
            return None
        agent_id = self._numbers.get(number)
        if agent_id is None:
            agent_id = await self.deps.db.run(
                lambda s: s.scalar(select(Agent.id).where(Agent.number == number)))
            if agent_id is None:
                return None
            self._numbers[number] = agent_id
        if agent_id not in self.agents:
            self.agents[agent_id] = LiveAgent(agent_id, member_name)
        return self.agents[agent_id]

    async def _record(self, a: LiveAgent) -> None:
        state, reason = a.derived()
        if (state, reason) == (a.state, a.recorded_reason) and a.since:
            return
        now = self.deps.clock.now()
        uniqueid = a.uniqueid if state in ("ringing", "on_call") else None

        def work(s: Session) -> None:
            s.execute(update(AgentStatePeriod).where(AgentStatePeriod.agent_id == a.agent_id,
                                                     AgentStatePeriod.ended_at.is_(None))
                      .values(ended_at=now))
            s.add(AgentStatePeriod(agent_id=a.agent_id, state=state, reason=reason,
                                   uniqueid=uniqueid, started_at=now))

        a.state, a.recorded_reason, a.since, a.overrun_alerted = state, reason, now, False
        if self.history:
            await self.deps.db.run(work)
        # Every instance follows the PBX model: each publishes this itself (not relayed).
        self.deps.bus.publish(AgentStateChanged(agent_id=a.agent_id, state=state,
                                                reason=reason, since=now.isoformat()),
                              relay=False)
        self._wake.set()
        for listener in self._change_listeners:
            try:
                await listener(a.agent_id)
            except Exception:
                log.exception("agent state listener failed")

    def _idle(self, agent_id: int) -> None:
        for listener in self._idle_listeners:
            try:
                listener(agent_id)
            except Exception:
                log.exception("agent idle listener failed")

    async def _timer_loop(self) -> None:
        """Ends wrap-ups and raises pause alerts when their time comes."""
        while True:
            self._wake.clear()
            await self._end_wrapups()
            await self._check_pauses()
            timeout = self._next_deadline()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _end_wrapups(self) -> None:
        now = self.deps.clock.monotonic()
        for a in list(self.agents.values()):
            if a.call == "wrap_up" and a.wrapup_until is not None and a.wrapup_until <= now:
                a.call, a.wrapup_until = None, None
                await self._record(a)
                self._wrapup_ended(a)
                if a.state in IDLE_STATES:
                    self._idle(a.agent_id)

    def _overrun_at(self, a: LiveAgent) -> datetime | None:
        limit = self.pause_limits.get(a.recorded_reason)
        if a.state != "paused" or a.overrun_alerted or limit is None or a.since is None:
            return None
        return a.since + timedelta(minutes=limit)

    async def _check_pauses(self) -> None:
        from agents.alerts import raise_alert

        if not self.history:
            return  # the elected backend raises them
        now = self.deps.clock.now()
        for a in list(self.agents.values()):
            due = self._overrun_at(a)
            if due is not None and due <= now:
                a.overrun_alerted = True
                limit = self.pause_limits.get(a.recorded_reason)
                await raise_alert(self.deps, "pause_overrun", a.agent_id,
                                  f"{a.member_name} paused for {a.recorded_reason} longer than "
                                  f"{limit} minutes (since {a.since:%H:%M} UTC)")

    def _next_deadline(self) -> float | None:
        now_mono, now = self.deps.clock.monotonic(), self.deps.clock.now()
        waits = [a.wrapup_until - now_mono for a in self.agents.values()
                 if a.call == "wrap_up" and a.wrapup_until is not None]
        if self.history:  # (otherwise the overruns are not ours to raise)
            waits += [(due - now).total_seconds() for a in self.agents.values()
                      if (due := self._overrun_at(a)) is not None]
        # At least a millisecond: a wait of a few nanoseconds is lost in the float
        # of the loop's clock, and the virtual-time loop then spun for ever (found
        # by bench/bench_scale.py with 500 agents).
        return max(min(waits), 0.001) if waits else None


_HANDLED: dict[type[me.PbxEvent], Callable[[AgentStates, LiveAgent, Any], None]] = {
    me.MemberAdded: AgentStates._added,
    me.MemberRemoved: AgentStates._removed,
    me.MemberPaused: AgentStates._paused,
    me.MemberStateChanged: AgentStates._member_status,
    me.AgentRinging: AgentStates._called,
    me.AgentRingStopped: AgentStates._not_answered,
    me.CallAnswered: AgentStates._connected,
    me.AgentCallCompleted: AgentStates._completed,
}
