"""The live floor: figures per queue and agent, kept by one service per
instance and pushed to supervisors' consoles as they change.

Inputs: the PBX model's events (callers joining and leaving queues,
members) and the bus's events (published after the database has the
call's, order's or agent's change).  Each marks what it touches as dirty;
a flusher recomputes the dirty parts at most every ``min_interval`` seconds
(one query per kind for all queues, agents or departments, never one per
console) and publishes an event only for an entry that changed.  So a busy
floor gives each console at most a few updates per second per queue.

Waits are sent as the instant each caller joined (``since``): a console
counts the seconds itself, with no message per second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent
from core.bus import SubscriptionClosed
from core.events import LiveEvent
from core.logmask import mask_number
from core.tasks import cancel_and_wait
from floor import alerts, figures, thresholds
from floor.events import (
    FloorAgent,
    FloorAlertRaised,
    FloorOrders,
    FloorQueue,
    FloorThresholdsChanged,
    FloorTrends,
)
from floor.thresholds import Thresholds
from pbx import model_events as me

if TYPE_CHECKING:
    from agents.staffing import Staffing
    from core.config_sync import ConfigSync
    from hotline.deps import Deps
    from pbx.model import PbxModel

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a failed flush (the database away)
PARTS = ("queues", "agents", "orders", "trends", "alerts", "roster")
THRESHOLDS_PART = "floor_thresholds"  # core.config_sync's part
# Bus events (by the first part of their type) and the parts they change.
_TOUCHES = {
    "call": ("queues", "agents", "trends"), "callback": ("queues", "agents"),
    "agent": ("agents",), "order": ("orders",), "staffing": ("alerts", "agents"),
    "rota": ("roster", "agents"), "shift": ("roster", "agents"), "pbx": ("queues", "agents"),
    "floor": ("alerts",),  # raised or acknowledged (here or on another instance)
}
_OWN_FIGURES = {e.KIND for e in (FloorQueue, FloorAgent, FloorOrders, FloorTrends)}


class FloorService:
    def __init__(self, deps: Deps, staffing: Staffing, *, min_interval: float = 0.5,
                 tick_seconds: float = 30.0, thresholds: Thresholds | None = None) -> None:
        settings = deps.settings
        self.deps = deps
        self.staffing = staffing
        self.min_interval = min_interval
        self.tick_seconds = tick_seconds
        # The settings' thresholds until a supervisor sets others (stored:
        # floor/thresholds.py); ``thresholds_version`` is the row in force.
        self.defaults = thresholds or Thresholds(
            service_level_target=settings.service_level_target,
            draft_minutes=settings.order_target_minutes,
            sl_seconds=settings.service_level_seconds)
        self.thresholds = dataclasses.replace(self.defaults)
        self.thresholds_version: int | None = None
        self.model: PbxModel | None = None
        self.raise_alerts = True  # the elected instance raises them (hotline.app)
        self.queues: dict[str, dict[str, Any]] = {}
        self.agents: dict[int, dict[str, Any]] = {}
        self.orders: dict[str, Any] = {}
        self.trends: dict[str, Any] = {}
        self.alerts: list[dict[str, Any]] = []
        self.joined: dict[str, datetime] = {}  # uniqueid -> when it joined its queue
        self.flushes = 0
        self._roster: set[int] = set()
        self._dirty: set[str] = set(PARTS)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._next_due: datetime | None = None
        self._due_changed = asyncio.Event()
        # Alert keys stored already (raised or acknowledged), for the day: the
        # database answers for older ones (a draft still late tomorrow).
        self._raised: set[str] = set()
        self._raised_day: Any = None

    # ---------------------------------------------------------------- life
    async def start(self) -> None:
        await self._flush()
        self._tasks = [asyncio.create_task(self._listen(), name="floor-listen"),
                       asyncio.create_task(self._flusher(), name="floor-flush"),
                       asyncio.create_task(self._ticker(), name="floor-tick")]

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)

    def follow(self, model: PbxModel) -> None:
        self.model = model
        model.subscribe(me.CallQueued.NAME, self._queued)
        for name in (me.CallAnswered.NAME, me.CallAbandoned.NAME, me.CallEnded.NAME):
            model.subscribe(name, self._left)
        for name in (me.MemberAdded.NAME, me.MemberRemoved.NAME, me.MemberPaused.NAME,
                     me.MemberStateChanged.NAME, me.Resynced.NAME):
            model.subscribe(name, lambda _e: self.mark("queues", "agents"))

    def mark(self, *parts: str) -> None:
        self._dirty.update(parts)
        self._wake.set()

    def snapshot(self) -> dict[str, Any]:
        """What a supervisor's console starts from (then the floor.* events)."""
        return {"queues": self.queues, "agents": sorted(self.agents.values(),
                                                        key=lambda a: a["number"]),
                "orders": self.orders, "trends": self.trends, "alerts": self.alerts,
                "thresholds": {**self.thresholds.to_dict(), "version": self.thresholds_version},
                "as_of": self.deps.clock.now().isoformat()}

    def _newer(self, version: int) -> bool:
        return self.thresholds_version is None or version > self.thresholds_version

    def set_thresholds(self, version: int, values: dict[str, Any]) -> None:
        """Apply a stored set (this instance's, or another's via config_sync);
        an older version than the one in force is ignored."""
        if not self._newer(version):
            return
        known = {k: v for k, v in values.items() if k in thresholds.EDITABLE}
        self.thresholds = dataclasses.replace(self.defaults, **known)
        self.thresholds_version = version
        self.mark("queues", "orders")  # waits, service levels and drafts looked at again

    def apply_thresholds(self, version: int, values: dict[str, Any]) -> None:
        """Apply a stored set and tell this instance's consoles (each instance
        tells its own: the change reaches the others through config_sync)."""
        if not self._newer(version):
            return
        self.set_thresholds(version, values)
        self.deps.bus.publish(FloorThresholdsChanged(version=version, thresholds=values),
                              relay=False)

    def share(self, sync: ConfigSync) -> None:
        """The thresholds as stored: loaded at start, and again whenever any
        instance stores a new set (announced, or found by the periodic check)."""
        async def reload(_key: str) -> None:
            row = await self.deps.db.run(thresholds.newest)
            if row is not None:
                self.apply_thresholds(row.id, thresholds.applied(row, self.defaults).to_dict())

        sync.part(THRESHOLDS_PART, thresholds.stamp, reload)

    def acknowledged(self, source: str, alert_id: int) -> None:
        """Gone from the open list at once (the flush reloads it too)."""
        self.alerts = [a for a in self.alerts if (a["source"], a["id"]) != (source, alert_id)]
        self.mark("alerts")

    # -------------------------------------------------------------- inputs
    def _queued(self, e: me.CallQueued) -> None:
        self.joined.setdefault(e.uniqueid, e.at)
        self.mark("queues")

    def _left(self, e: Any) -> None:
        if isinstance(e, me.CallEnded):
            self.joined.pop(e.uniqueid, None)
        self.mark("queues", "agents")

    def _wanted(self, event: LiveEvent) -> bool:
        return event.KIND not in _OWN_FIGURES

    async def _listen(self) -> None:
        bus = self.deps.bus
        while True:
            sub = bus.subscribe(self._wanted, name="floor", max_backlog=4096)
            try:
                while True:
                    delivery = await sub.get()
                    head = delivery.event.type.split(".", 1)[0]
                    self.mark(*_TOUCHES.get(head, ()))
            except SubscriptionClosed:
                self.mark(*PARTS)  # fell behind: recompute everything
            finally:
                bus.unsubscribe(sub)

    async def _flusher(self) -> None:
        failing = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
                failing = False
            except Exception as exc:  # noqa: BLE001 - database away: try again shortly
                if not failing:
                    log.warning("floor figures not refreshed (%s); retrying every %.0f s",
                                exc, RETRY_SECONDS)
                failing = True
                self.mark(*PARTS)
            # What comes meanwhile is one flush.
            await asyncio.sleep(RETRY_SECONDS if failing else self.min_interval)

    async def _ticker(self) -> None:
        """Trends, orders and rota adherence move with time alone: look again
        every tick; and when the next caller passes the wait threshold."""
        tick_at = self.deps.clock.monotonic() + self.tick_seconds
        while True:
            now = self.deps.clock.monotonic()
            wait = tick_at - now
            due = self._next_due
            if due is not None:
                wait = min(wait, (due - self.deps.clock.now()).total_seconds())
            self._due_changed.clear()
            try:
                await asyncio.wait_for(self._due_changed.wait(), max(wait, 0.05))
                continue  # a new caller may pass the threshold sooner
            except TimeoutError:
                pass
            if self.deps.clock.monotonic() >= tick_at:
                tick_at = self.deps.clock.monotonic() + self.tick_seconds
                self.mark(*PARTS)
            else:
                self._next_due = None  # until the flush computes the next one
                self.mark("queues")

    # ------------------------------------------------------------- compute
    async def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        now = self.deps.clock.now()
        self.flushes += 1
        if "roster" in dirty:
            await self._load_roster(now)
        waiting = self._waiting()
        tz = self.deps.settings.tz
        day = figures.Day.of(now, tz)
        roster, on_queues = set(self._roster), self._followed()
        unknown = [u for q in waiting.values() for u in q if u not in self.joined]

        def work(s: Session) -> dict[str, Any]:
            out: dict[str, Any] = {}
            t = self.thresholds
            if "queues" in dirty:
                out["queues"] = figures.queue_figures(s, day, t.sl_seconds)
                out["callbacks"] = figures.callbacks_pending(s)
                out["since"] = figures.queued_since(s, unknown)
            if "agents" in dirty:
                ids = roster | set(on_queues)
                out["agents"] = figures.agent_figures(s, day, now)
                out["names"] = {a.id: (a.number, a.name) for a in s.scalars(
                    select(Agent).where(Agent.id.in_(ids)))} if ids else {}
            if "orders" in dirty:
                out["orders"] = figures.order_figures(s, now, t.draft_minutes)
            if "trends" in dirty:
                out["trends"] = figures.trends(s, now, tz, t.sl_seconds)
            return out

        got = await self.deps.db.run(work)
        bus = self.deps.bus
        if "queues" in got:
            for name, entry in self._queue_entries(got, waiting, now).items():
                if self.queues.get(name) != entry:
                    self.queues[name] = entry
                    bus.publish(FloorQueue(queue=name, figures=entry), relay=False)
        if "agents" in got:
            for agent_id, entry in self._agent_entries(got, roster, on_queues).items():
                if self.agents.get(agent_id) != entry:
                    self.agents[agent_id] = entry
                    bus.publish(FloorAgent(agent_id=agent_id, figures=entry), relay=False)
        if "orders" in got and got["orders"] != self.orders:
            self.orders = got["orders"]
            bus.publish(FloorOrders(figures=self.orders), relay=False)
        if "trends" in got and got["trends"] != self.trends:
            self.trends = got["trends"]
            bus.publish(FloorTrends(figures=self.trends), relay=False)
        await self._alerts(now, day, "alerts" in dirty)

    def _waiting(self) -> dict[str, list[str]]:
        if self.model is None:
            return {}
        return {q: sorted(t.waiting, key=lambda u: t.waiting[u])
                for q, t in self.model.state.queues.items()}

    def _followed(self) -> dict[int, dict[str, Any]]:
        return {a["agent_id"]: a for a in self.staffing.states.snapshot()
                if a["state"] != "logged_out"}

    def _queue_entries(self, got: dict[str, Any], waiting: dict[str, list[str]],
                       now: datetime) -> dict[str, dict[str, Any]]:
        labels = {r.queue: r.label for r in self.deps.routing.routes()}
        labels.setdefault(self.deps.routing.general.queue, self.deps.routing.general.label)
        names = set(self.deps.routing.queues()) | set(got["queues"]) | set(waiting)
        members = self.model.state.members.values() if self.model is not None else ()
        out = {}
        for name in sorted(names):
            callers = []
            for uniqueid in waiting.get(name, ()):
                since = self.joined.get(uniqueid) or got["since"].get(uniqueid) or now
                channel = self.model.state.channels.get(uniqueid, {}) if self.model else {}
                callers.append({"uniqueid": uniqueid, "since": since.isoformat(),
                                "caller": mask_number(channel.get("caller", ""))})
            mine = [m for m in members if m.queue == name]
            today = got["queues"].get(name, {"answered": 0, "abandoned": 0, "offered": 0,
                                             "service_level": None, "abandon_rate": None,
                                             "asa": None, "aht": None})
            oldest = min((datetime.fromisoformat(c["since"]) for c in callers), default=None)
            out[name] = {
                **today, "label": labels.get(name, name), "waiting": len(callers),
                "callers": callers,
                "longest_since": oldest.isoformat() if oldest else None,
                "callbacks_pending": got["callbacks"].get(name, 0),
                "logged_in": len(mine),
                "available": sum(1 for m in mine
                                 if not m.paused and not m.in_call and m.status == 1),
                "paused": sum(1 for m in mine if m.paused),
            }
        return out

    def _agent_entries(self, got: dict[str, Any], roster: set[int],
                       on_queues: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        out = {}
        for agent_id in sorted(roster | set(on_queues)):
            number, name = got["names"].get(agent_id, ("", ""))
            live = on_queues.get(agent_id)
            today = got["agents"].get(agent_id, {"calls_today": 0, "talk_seconds": 0,
                                                 "pause_seconds": 0})
            if live is None:
                adherence = "not_logged_in"
            elif agent_id not in roster:
                adherence = "off_shift"
            else:
                adherence = "ok"
            out[agent_id] = {
                "agent_id": agent_id, "number": number, "name": name,
                "member": live["member"] if live else "",
                "state": live["state"] if live else "logged_out",
                "since": live["since"] if live else None,
                "reason": live["reason"] if live else "",
                "call": live["uniqueid"] if live else None,
                "queues": live["queues"] if live else [],
                "rostered": agent_id in roster, "adherence": adherence, **today,
            }
        # Agents who left the shift and the queues drop off the floor.
        for gone in set(self.agents) - set(out):
            del self.agents[gone]
            self.deps.bus.publish(FloorAgent(agent_id=gone, figures={"agent_id": gone,
                                                                     "gone": True}),
                                  relay=False)
        return out

    async def _load_roster(self, now: datetime) -> None:
        local = now.astimezone(self.deps.settings.tz).replace(tzinfo=None)
        current = rota.shift_at(self.staffing.config, local)
        self._roster = await self.staffing.rostered((current.day, current.index))

    # -------------------------------------------------------------- alerts
    async def _alerts(self, now: datetime, day: figures.Day, reload: bool) -> None:
        t = self.thresholds
        if self._raised_day != day.local:
            self._raised, self._raised_day = set(), day.local
        candidates: list[alerts.Candidate] = []
        due: list[datetime] = []
        for name, q in self.queues.items():
            for c in q["callers"]:
                at = datetime.fromisoformat(c["since"]) + timedelta(seconds=t.long_wait_seconds)
                if at <= now:
                    candidates.append(alerts.Candidate(
                        "long_wait", f"long_wait:{name}:{c['uniqueid']}",
                        f"{name}: caller {c['caller']} waiting over {t.long_wait_seconds} s"))
                else:
                    due.append(at)
            sl = q["service_level"]
            if (sl is not None and q["offered"] >= t.service_level_min_offered
                    and sl < t.service_level_target):
                candidates.append(alerts.Candidate(
                    "service_level", f"service_level:{name}:{day.local}",
                    f"{name}: service level today {sl:.0%} under the target "
                    f"{t.service_level_target:.0%} ({q['offered']} calls offered)"))
        for d in self.orders.get("drafts", ()):
            candidates.append(alerts.Candidate(
                "draft_late", f"draft_late:{d['number']}:{d['order_id']}",
                f"draft {d['number']} not submitted within {t.draft_minutes} minutes"))
        next_due = min(due, default=None)
        if next_due != self._next_due:
            self._next_due = next_due
            self._due_changed.set()
        if not self.raise_alerts:
            candidates = []
        candidates = [c for c in candidates if c.key not in self._raised]
        if not candidates and not reload:
            return

        def work(s: Session) -> tuple[list[FloorAlertRaised], list[dict[str, Any]]]:
            made = alerts.raise_new(s, candidates, now)
            events = [FloorAlertRaised(alert_id=a.id, kind=a.kind, key=a.key, detail=a.detail,
                                       raised_at=now.isoformat()) for a in made]
            return events, alerts.open_alerts(s, day.start - timedelta(hours=12))

        events, self.alerts = await self.deps.db.run(work)
        self._raised.update(c.key for c in candidates)
        for event in events:
            log.warning("floor alert %s: %s", event.kind, event.detail)
            self.deps.bus.publish(event)


FLOOR_KEY: web.AppKey[FloorService] = web.AppKey("floor", FloorService)
