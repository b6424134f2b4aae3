"""Settings changed on one backend reach every backend.

What backends keep built in memory from the database (the routing rules
and menu, pause reasons and limits, the rota's settings, the queues and
penalties of agents on the queues) is registered here as a *part*: a
``stamp`` (a cheap read that changes whenever the stored part does) and a
``reload`` (build it again from the database, for one ``key`` or all).

The backend that stores a change reloads its own copy and announces it
(:func:`announce`): a :class:`~core.live_events.ConfigChanged` event,
relayed to the other instances by PostgreSQL NOTIFY, on which each of them
reloads that part.  A NOTIFY may be missed (the relay was cut, or an older
release made the change): every ``every`` seconds each backend compares
the stamps with those it loaded and reloads what differs, and a relay gap
(the bus restarts its stream) checks every part at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from core.bus import Subscription, SubscriptionClosed
from core.events import LiveEvent
from core.live_events import ConfigChanged
from core.tasks import cancel_and_wait

if TYPE_CHECKING:
    from hotline.deps import Deps

log = logging.getLogger(__name__)

CHECK_SECONDS = 30.0  # a missed NOTIFY is healed within this (and one reload)


@dataclass
class Part:
    name: str
    stamp: Callable[[Session], Hashable]
    reload: Callable[[str], Awaitable[None]]


def announce(deps: Deps, part: str, key: object = "") -> None:
    """Tell every backend that ``part`` changed in the database (after the
    commit, once this backend has reloaded its own copy)."""
    deps.bus.publish(ConfigChanged(part=part, key=str(key)))


def _is_config_change(event: LiveEvent) -> bool:
    return event.KIND == ConfigChanged.KIND


class ConfigSync:
    """Keeps this backend's copies of the registered parts as the database has them."""

    def __init__(self, deps: Deps, every: float = CHECK_SECONDS) -> None:
        self.deps = deps
        self.every = every
        self.parts: dict[str, Part] = {}
        self.reloads: dict[str, int] = {}  # part -> reloads done (not a handler's own)
        self._stamps: dict[str, Hashable] = {}
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    def part(self, name: str, stamp: Callable[[Session], Hashable],
             reload: Callable[[str], Awaitable[None]]) -> None:
        self.parts[name] = Part(name, stamp, reload)
        self.reloads.setdefault(name, 0)

    async def start(self) -> None:
        """Follow changes from now on.  Every part is loaded again after its
        stamp is read: a change stored while the backend was starting (after
        it first loaded the part) is not missed."""
        self._stamps = await self.deps.db.run(self._read_stamps)
        for part in self.parts.values():
            await part.reload("")
        sub = self.deps.bus.subscribe(_is_config_change, name="config-sync")
        self._tasks = [asyncio.create_task(self._follow(sub), name="config-follow"),
                       asyncio.create_task(self._check_forever(), name="config-check")]

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks = []

    def _read_stamps(self, session: Session) -> dict[str, Hashable]:
        return {name: part.stamp(session) for name, part in self.parts.items()}

    async def _reload(self, name: str, key: str = "") -> None:
        part = self.parts[name]
        # Stamp first: a change stored during the reload is seen by the next check.
        stamp = await self.deps.db.run(part.stamp)
        await part.reload(key)
        if not key:
            self._stamps[name] = stamp
        async with self._changed:
            self.reloads[name] += 1
            self._changed.notify_all()

    async def check(self) -> list[str]:
        """Reload every part whose stamp moved since it was loaded; the names."""
        stamps = await self.deps.db.run(self._read_stamps)
        moved = [name for name, stamp in stamps.items() if self._stamps.get(name) != stamp]
        for name in moved:
            log.info("settings: %s changed in the database; reloading", name)
            await self._reload(name)
        return moved

    async def wait_reloaded(self, name: str, beyond: int) -> None:
        """Until ``name`` was reloaded more than ``beyond`` times (tests, tools)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.reloads[name] > beyond)

    async def _follow(self, sub: Subscription) -> None:
        bus = self.deps.bus
        try:
            while True:
                try:
                    delivery = await sub.get()
                except SubscriptionClosed:
                    # Relayed events may have been lost: follow again, then look
                    # at everything.
                    sub = bus.subscribe(_is_config_change, name="config-sync")
                    await self._guarded(self.check())
                    continue
                event = delivery.event
                assert isinstance(event, ConfigChanged)
                if delivery.local or event.part not in self.parts:
                    continue  # ours (reloaded already), or a part this release lacks
                await self._guarded(self._reload(event.part, event.key))
        finally:
            bus.unsubscribe(sub)

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self._guarded(self.check())

    async def _guarded(self, work: Awaitable[Any]) -> None:
        try:
            await work
        except Exception:  # noqa: BLE001 - database away: the next check heals it
            log.warning("settings not reloaded (database unavailable?); next check in %.0f s",
                        self.every, exc_info=True)
