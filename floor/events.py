"""The floor's live events: supervisors and admins only.

Figures (queues, agents, orders, trends) are computed by every instance
from its own PBX model and the shared database, so they are published with
``relay=False``; alerts are raised once (by the elected instance) and their
acknowledgement by the instance that took it, so those are relayed.  The
thresholds reach every instance through ``core.config_sync``; each tells
its own consoles (``relay=False``).
"""

from __future__ import annotations

from typing import Any

from core.events import SUPERVISORS, Audience, LiveEvent, live_event


@live_event
class FloorQueue(LiveEvent):
    """One queue's figures now (the whole entry: it replaces the last one)."""

    KIND = "floor.queue"
    queue: str
    figures: dict[str, Any]

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorAgent(LiveEvent):
    """One agent of the shift, as the floor shows them (replaces the last entry)."""

    KIND = "floor.agent"
    agent_id: int
    figures: dict[str, Any]

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorOrders(LiveEvent):
    KIND = "floor.orders"
    figures: dict[str, Any]

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorTrends(LiveEvent):
    KIND = "floor.trends"
    figures: dict[str, Any]

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorAlertRaised(LiveEvent):
    """A wait over its threshold, a service level under target, a late draft."""

    KIND = "floor.alert"
    alert_id: int
    kind: str
    key: str
    detail: str
    raised_at: str

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorAlertAcked(LiveEvent):
    """A supervisor acknowledged an alert (``source`` floor or staffing)."""

    KIND = "floor.alert_acked"
    source: str
    alert_id: int
    by: str
    at: str

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class FloorThresholdsChanged(LiveEvent):
    """A supervisor set the alert thresholds (``version``: the stored row).
    Published by each instance to its own consoles once it applied them
    (``relay=False``; the change itself travels by core.config_sync)."""

    KIND = "floor.thresholds"
    version: int
    thresholds: dict[str, Any]

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)
