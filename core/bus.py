"""The live event bus of one instance: numbered, filtered, bounded.

Every event published here, or received from another instance through the
relay (:mod:`core.pg_relay`), is numbered in this instance's *stream*: a
random id chosen at start and a sequence number.  The last events are kept
in a ring, so a console that reconnects to the same instance gets what it
missed; one that comes back to another instance, after a restart, or after
more than the ring holds, gets a fresh snapshot instead of wrong gaps.

Each subscriber has a bounded backlog.  One that falls behind is closed
with a reason rather than allowed to stall a publish (as Home Assistant's
websocket_api does); its owner (the WebSocket) tells the console, which
reconnects and resyncs.  When the relay loses events between instances the
stream starts again, which closes every console so that none shows stale
state without saying so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.events import NOBODY, Audience, LiveEvent, Viewer

log = logging.getLogger(__name__)

FELL_BEHIND = "fell behind"
STREAM_RESTARTED = "live events restarted"


@dataclass(slots=True)
class Delivery:
    """An event with its number in this instance's stream."""

    seq: int
    event: LiveEvent
    local: bool  # published by this instance (not relayed from another)
    _json: str | None = None

    def json(self) -> str:
        """The console's message, encoded once for every console."""
        if self._json is None:
            body = {"type": self.event.type, "seq": self.seq, **self.event.fields()}
            self._json = json.dumps(body, ensure_ascii=False, default=str)
        return self._json


class SubscriptionClosed(Exception):
    """The bus closed this subscription; ``str(exc)`` says why."""


class Subscription:
    """A subscriber's backlog.  :meth:`get` raises SubscriptionClosed once
    the bus has closed it (fell behind, stream restarted)."""

    def __init__(self, accepts: Callable[[LiveEvent], bool] | None, viewer: Viewer | None,
                 limit: int, name: str, local_only: bool) -> None:
        self.accepts = accepts
        self.viewer = viewer
        self.limit = limit
        self.name = name
        self.local_only = local_only
        self.closed_reason: str | None = None
        self.closed = asyncio.Event()
        self._items: deque[Delivery] = deque()
        self._ready = asyncio.Event()

    def wants(self, event: LiveEvent, audience: Audience) -> bool:
        if self.viewer is not None:
            return audience.admits(self.viewer)
        return self.accepts is None or self.accepts(event)

    def offer(self, delivery: Delivery) -> bool:
        if len(self._items) >= self.limit:
            return False
        self._items.append(delivery)
        self._ready.set()
        return True

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            self._items.clear()
            self._ready.set()
            self.closed.set()

    def backlog(self) -> int:
        return len(self._items)

    async def get(self) -> Delivery:
        while not self._items:
            if self.closed_reason is not None:
                raise SubscriptionClosed(self.closed_reason)
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


class Relay(Protocol):
    """Carries this instance's events to the others (PostgreSQL NOTIFY)."""

    def send(self, event: LiveEvent) -> None: ...


@dataclass
class EventBus:
    max_backlog: int = 256
    ring_size: int = 2048
    stream: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    seq: int = 0
    relay: Relay | None = None
    published: int = 0
    dropped: int = 0
    _subs: list[Subscription] = field(default_factory=list)
    _ring: deque[Delivery] = field(default_factory=deque)

    def subscribe(self, accepts: Callable[[LiveEvent], bool] | None = None, name: str = "",
                  *, viewer: Viewer | None = None, local_only: bool = False,
                  max_backlog: int | None = None) -> Subscription:
        """Events ``accepts`` takes (all when None), or, with ``viewer``, the
        events whose audience admits that user.  ``local_only``: only this
        instance's own events (work that one instance must do once, such as
        collecting a call's recording)."""
        sub = Subscription(accepts, viewer, max_backlog or self.max_backlog, name, local_only)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: LiveEvent, *, relay: bool = True) -> None:
        """Number and fan out an event of this instance, here and, through
        the relay, on every other instance.  ``relay=False``: here only, for
        what every instance learns by itself (each reads AMI: the PBX model's
        calls, agent states and view), which relayed would reach consoles
        once per instance."""
        self.published += 1
        self._deliver(event, local=True)
        if relay and self.relay is not None:
            self.relay.send(event)

    def receive_relayed(self, event: LiveEvent) -> None:
        """An event another instance published."""
        self._deliver(event, local=False)

    def _deliver(self, event: LiveEvent, *, local: bool) -> None:
        audience = event.audience()  # once, not once per console
        if audience == NOBODY:
            # Internal (config.changed...): for the backend's own subscribers
            # only.  Not numbered nor kept for replays, so the numbers a
            # console may see have no gaps it could not explain.
            delivery = Delivery(self.seq, event, local)
        else:
            self.seq += 1
            delivery = Delivery(self.seq, event, local)
            self._ring.append(delivery)
            if len(self._ring) > self.ring_size:
                self._ring.popleft()
        for sub in list(self._subs):
            if (sub.local_only and not local) or not sub.wants(event, audience):
                continue
            if not sub.offer(delivery):
                self.dropped += 1
                log.warning("live subscriber %s fell behind (%d events unsent); closed",
                            sub.name or "?", sub.limit)
                self._subs.remove(sub)
                sub.close(FELL_BEHIND)

    def since(self, stream: str | None, after: int | None) -> list[Delivery] | None:
        """What was delivered after ``after`` in ``stream``, if the ring still
        holds all of it; None when the caller needs a fresh snapshot."""
        if stream != self.stream or after is None or after < 0 or after > self.seq:
            return None
        oldest = self._ring[0].seq if self._ring else self.seq + 1
        if after + 1 < oldest:
            return None
        return [d for d in self._ring if d.seq > after]

    def restart_stream(self, why: str) -> None:
        """Events may have been lost (the relay was cut): start a new stream
        and close every subscriber that sees other instances' events, so that
        consoles reconnect to a fresh snapshot."""
        log.warning("live event stream restarted: %s", why)
        self.stream = uuid.uuid4().hex[:16]
        self._ring.clear()
        for sub in [s for s in self._subs if not s.local_only]:
            self._subs.remove(sub)
            sub.close(STREAM_RESTARTED)

    def status(self) -> dict[str, Any]:
        return {"stream": self.stream, "seq": self.seq, "subscribers": len(self._subs),
                "published": self.published, "dropped": self.dropped}
