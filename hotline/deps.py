"""The dependencies object handed from the controller to every domain.

Typed: each optional part (the PBX link, the transcription service, the
callback dialer, the PBX model, the outbox) is a field of its own type,
None when this backend runs without it.  Only the controller
(``hotline.app``) fills them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.clock import Clock
from core.db import Database
from core.leases import instance_owner
from core.passwords import HashingPool
from core.settings import Settings

# The domains import this module: at run time it imports only core (an
# import-linter contract in pyproject.toml); their types are for the checker.
if TYPE_CHECKING:
    from core.bus import EventBus
    from core.config_sync import ConfigSync
    from core.outbox import OutboxWorker
    from pbx.ami import AmiLink
    from pbx.model import PbxModel
    from routing.menu import RoutingTable
    from speech.jobs import TranscriptionService
    from worksheets.calendar_store import SharedCalendar
    from worksheets.callback_dialer import CallbackDialer


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
    transcription: TranscriptionService | None = None
    dialer: CallbackDialer | None = None
    outbox: OutboxWorker | None = None
    # Reloads settings another backend changed (core.config_sync).
    config: ConfigSync | None = None
    # This run of this backend, as it signs the work it claims (core.leases).
    owner: str = field(default_factory=instance_owner)
    # Password hashing's own threads: never the database's (see core.passwords).
    hashing: HashingPool = field(default_factory=HashingPool)
