"""The dependencies object handed from the controller to every domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.clock import Clock
from hotline.db import Database
from hotline.settings import Settings
from routing.menu import RoutingTable

if TYPE_CHECKING:
    from hotline.bus import EventBus
    from pbx.ami import AmiLink
    from pbx.model import PbxModel
    from worksheets.calendar_store import SharedCalendar


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    routing: RoutingTable
    bus: EventBus
    calendar: SharedCalendar  # .fresh(session): the calendar in force
    ami: AmiLink | None = None
    pbx: PbxModel | None = None  # the one model of the PBX and its commands
    extras: dict[str, Any] = field(default_factory=dict)
