"""In-process fan-out of live events to consoles (WebSocket clients).

Each subscriber has a bounded queue; a subscriber that falls behind is
dropped rather than allowed to stall a broadcast (as Home Assistant's
websocket_api does).  Across several backend instances this would go
through PostgreSQL LISTEN/NOTIFY or Redis; one process needs neither.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Subscription:
    queue: asyncio.Queue[dict[str, Any]]
    accepts: Callable[[dict[str, Any]], bool]
    dropped: bool = False
    name: str = ""


@dataclass
class EventBus:
    max_backlog: int = 256
    _subs: list[Subscription] = field(default_factory=list)
    published: int = 0

    def subscribe(self, accepts: Callable[[dict[str, Any]], bool] = lambda _e: True,
                  name: str = "") -> Subscription:
        sub = Subscription(asyncio.Queue(maxsize=self.max_backlog), accepts, name=name)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, type_: str, **payload: Any) -> None:
        event = {"type": type_, **payload}
        self.published += 1
        for sub in list(self._subs):
            if not sub.accepts(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("live subscriber %s fell behind; dropped", sub.name or "?")
                sub.dropped = True
                self._subs.remove(sub)
