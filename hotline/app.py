"""The controller: builds every part of the backend, starts it, stops it.

Nothing runs at import time; everything with a lifetime (database engine,
AMI link, FastAGI server, HTTP server, background tasks) is created in
:meth:`Backend.start` and closed in :meth:`Backend.stop`, in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import IO, Any

from aiohttp import web

import hotline.models  # noqa: F401  (every domain's tables, before the first query)
from agents.shift_duty import ShiftDuty
from agents.staffing import Staffing
from calls.followups import CallFollowUps
from calls.tracking import CallTracker
from console.app import build_app
from core import accounts, login_throttle
from core.bus import EventBus
from core.clock import Clock
from core.config_sync import ConfigSync
from core.db import Database
from core.election import Election
from core.leases import InstanceRefused, LeaseKeeper, hold_sqlite, instance_owner
from core.live_events import PbxView
from core.outbox import OutboxItem, OutboxWorker
from core.pg_liveness import libpq_conninfo
from core.pg_relay import PgRelay
from core.settings import Settings
from core.tasks import cancel_and_wait
from floor.service import FLOOR_KEY, FloorService
from hotline.deps import Deps
from hotline.metrics import MetricsServer
from hotline.schema_compat import verdict as schema_verdict
from ivr import flows
from pbx.ami import AmiLink
from pbx.fastagi import FastAgiServer
from pbx.model import PbxModel
from pbx.model_events import Resynced
from reports.rollup import refresh_job
from routing.menu import ROUTING_PART, RoutingTable, routing_stamp
from speech import recording_outbox
from speech.jobs import TranscriptionService
from speech.models import ModelError
from speech.options import TranscriptionOptions
from speech.tables import TranscriptionJob
from worksheets.calendar_store import SharedCalendar, calendar_warnings
from worksheets.callback_dialer import CallbackDialer
from worksheets.knowledge_search import segmenter
from worksheets.models import CallbackAttempt, WorkOrder
from worksheets.pop import PopPusher
from worksheets.retention import retention_job
from worksheets.service import follow_calls, numbering
from worksheets.supervision import deadline_warnings

log = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0  # how often the elected backend looks for attempts of dead backends


def _purge(session: Any, now: Any) -> tuple[int, int]:
    return accounts.purge_expired_sessions(session, now), login_throttle.purge(session, now)


class StartupError(Exception):
    """The backend cannot start; the message says why in one line."""


class Backend:
    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 transcription: TranscriptionOptions | None = None,
                 instance_name: str | None = None) -> None:
        """``transcription``: run the transcription service (its models are checked and
        loaded at start); None runs without it (tests that need no transcripts).
        ``instance_name``: how this backend signs its claims and logs (default: settings)."""
        self.settings = settings
        self._clock = clock
        self.deps: Deps | None = None
        self.fastagi: FastAgiServer | None = None
        self.staffing: Staffing | None = None
        self.shift_duty: ShiftDuty | None = None
        self.floor: FloorService | None = None
        self._runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._transcription_options = transcription
        self.transcription: TranscriptionService | None = None
        self.owner = instance_owner(instance_name or settings.instance_name)
        self.election: Election | None = None
        self._leases: LeaseKeeper | None = None
        self._outbox: OutboxWorker | None = None
        self._sqlite_lock: IO[str] | None = None
        self._duty_tasks: dict[str, asyncio.Task[None]] = {}
        self._stopped = False
        self.relay: PgRelay | None = None
        self.config: ConfigSync | None = None
        self.metrics: MetricsServer | None = None
        self.schema_note = ""  # why this release runs on a newer schema (/healthz)

    async def start(self) -> None:
        """Start everything; a failed or cancelled start stops what it had started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        clock = self._clock or Clock.for_running_loop()
        try:
            self._sqlite_lock = hold_sqlite(settings.database_url)
        except InstanceRefused as exc:
            raise StartupError(str(exc)) from None
        db = Database(settings.database_url)
        try:
            schema = schema_verdict(db.engine)  # an older or incompatible schema is refused
            if schema.refused:
                raise StartupError(schema.message)
            if schema.message:
                log.warning("%s", schema.message)
            self.schema_note = schema.message
            routing = await db.run(RoutingTable.load)
            deps = Deps(settings=settings, db=db, clock=clock, routing=routing, bus=EventBus(),
                        calendar=SharedCalendar(), owner=self.owner)
            today = clock.now().astimezone(settings.tz).date()
            for warning in await db.run(
                    lambda s: calendar_warnings(deps.calendar.fresh(s), today)):
                log.warning("calendar: %s", warning)
        except BaseException:
            # Not yet in self.deps: stop() would not close it.
            db.close()
            self._release_sqlite()
            raise
        self.deps = deps
        self._leases = LeaseKeeper(db, clock, self.owner)
        for model in (OutboxItem, TranscriptionJob, CallbackAttempt):
            self._leases.keep(model)
        self._leases.keep(WorkOrder, "visit_owner", "visit_lease_until")  # 回访 calls
        if self._sqlite_lock is not None:
            # Alone on this database (the lock says so): what a previous run held is stale.
            await db.run(self._leases.expire_others)
        self._leases.start()
        deps.outbox = self._outbox = OutboxWorker(db, clock, self.owner)
        if db.engine.dialect.name == "postgresql":
            # Several instances may share this database: their consoles hear
            # each other's events.  SQLite means one instance, in-process only.
            self.relay = PgRelay(libpq_conninfo(db.engine), deps.bus)
            try:
                await self.relay.start()
            except Exception as exc:  # stop() closes the database and the rest
                raise StartupError(f"live events: cannot LISTEN on PostgreSQL: {exc}") from None
        self.staffing = Staffing(deps)
        # Written only once elected (core.election), so two backends never both do.
        self.staffing.states.history = False
        self.staffing.in_charge = False
        self.election = Election(db, self.owner)
        if self._transcription_options is not None:
            # Before the IVR can take calls: it hands descriptions to this service.
            service = TranscriptionService(deps, self._transcription_options)
            self.transcription = deps.transcription = service
            try:
                await service.start()
            except ModelError as exc:
                raise StartupError(str(exc)) from None
        self._outbox.start()

        # What a call's record starts elsewhere (a draft order, a callback task,
        # the transcription of its recording): run by the call tracker and by
        # the IVR's report of an unanswered caller alike.
        follow_ups = recording_outbox.follow_calls(
            follow_calls(CallFollowUps(), **numbering(settings)))
        self.fastagi = FastAgiServer(
            flows.routes(deps, follow_ups),  # type: ignore[arg-type]
            lambda agi: flows.fallback(agi, deps),
            host=settings.agi_listen.host, port=settings.agi_listen.port,
            command_timeout=settings.agi_command_timeout, max_sessions=settings.agi_max_sessions,
            allowed=settings.agi_allowed,
        )
        try:
            await self.fastagi.start()
        except OSError as exc:
            raise StartupError(f"HOTLINE_AGI_LISTEN: cannot listen on {settings.agi_listen}: "
                               f"{exc.strerror}") from None

        # jieba's dictionary (~0.5 s, ~40 MB) loads now, off the loop, so the
        # first knowledge-base search during a call does not wait for it.
        await asyncio.get_running_loop().run_in_executor(None, segmenter().warm_up)
        app = build_app(deps, self.staffing, self.status)
        # The live floor: figures for supervisors; alerts raised by the elected one.
        self.floor = FloorService(deps, self.staffing)
        self.floor.raise_alerts = False
        app[FLOOR_KEY] = self.floor
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.http_listen.host, settings.http_listen.port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"HOTLINE_HTTP_LISTEN: cannot listen on {settings.http_listen}: "
                               f"{exc.strerror}") from None
        server = site._server
        assert server is not None
        self.http_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if settings.metrics_listen is not None:
            floor = self.floor
            self.metrics = MetricsServer(deps, self.status, self.staffing.states.snapshot,
                                         lambda: floor.queues if floor is not None else {})
            try:
                await self.metrics.start(settings.metrics_listen.host,
                                         settings.metrics_listen.port)
            except OSError as exc:
                raise StartupError(f"HOTLINE_METRICS_LISTEN: cannot listen on "
                                   f"{settings.metrics_listen}: {exc.strerror}") from None

        # Started last before the PBX link, so that a failed start leaves no task behind.
        await self.staffing.start()
        await self._share_settings()
        if settings.ami is not None:
            ami = AmiLink(settings.ami, action_timeout=settings.ami_action_timeout,
                          ping_interval=settings.ami_ping_interval)
            deps.ami = ami
            # The one model of the PBX: the link's only subscriber; everybody
            # else follows its events, by name.
            model = PbxModel(ami, clock)
            deps.pbx = model
            model.attach()
            CallTracker(deps, follow_ups).follow(model)
            dialer = CallbackDialer(deps, model, self.staffing)
            await dialer.start()
            deps.dialer = dialer
            dialer.follow(model)
            self.staffing.states.follow(model)
            self.staffing.follow(model)
            PopPusher(deps).follow(model)  # after the tracker: the record is written
            self.floor.follow(model)
            # The live PBX view, published once each resync is complete (every
            # instance has its own model of the PBX: not relayed).
            model.subscribe(Resynced.NAME, lambda _e: deps.bus.publish(PbxView(
                resync=model.resyncs, **model.live()), relay=False))
        else:
            log.warning("HOTLINE_AMI_URL is not set: no PBX link; calls will not be tracked")
        await self.floor.start()
        self._register_duties()
        # Before the PBX link: a lone backend writes the state history from the first event.
        await self.election.start()
        if deps.ami is not None:
            await deps.ami.start()
        # Safe on every backend: idempotent, or set by compare-and-set.
        self._tasks.append(asyncio.create_task(self._purge_logins(), name="purge-logins"))
        self._tasks.append(asyncio.create_task(retention_job(deps), name="retention"))
        self._tasks.append(asyncio.create_task(deadline_warnings(deps),
                                               name="deadline-warnings"))
        self._tasks.append(asyncio.create_task(refresh_job(deps), name="report-rollups"))
        log.info("backend %s up: http %s:%s, FastAGI %s:%s", self.owner,
                 settings.http_listen.host, self.http_port, settings.agi_listen.host,
                 self.fastagi.port)

    async def _share_settings(self) -> None:
        """Settings another backend changes are reloaded here (its NOTIFY, or
        the periodic check of what the database holds)."""
        deps, staffing = self.deps, self.staffing
        assert deps is not None and staffing is not None
        self.config = deps.config = ConfigSync(deps, self.settings.config_check_seconds)

        async def reload_routing(_key: str) -> None:
            deps.routing = await deps.db.run(RoutingTable.load)

        self.config.part(ROUTING_PART, routing_stamp, reload_routing)
        staffing.share(self.config)
        if self.floor is not None:
            self.floor.share(self.config)
        await self.config.start()

    def _register_duties(self) -> None:
        """The once-only duties, started on the elected backend (core.election)."""
        assert self.election is not None and self.staffing is not None and self.deps
        staffing, deps = self.staffing, self.deps

        async def stop_history() -> None:
            staffing.states.hand_over_history()

        self.election.duty("agent state history and pause alerts",
                           staffing.states.take_over_history, stop_history)

        # Shift changes, no-show checks, taking off agents whose shift is over and
        # putting back those Asterisk lost: once, by the elected backend; what a
        # change has done is in the database, so a successor finishes it.
        duty = self.shift_duty = ShiftDuty(staffing, self.owner)

        async def take_charge() -> None:
            staffing.in_charge = True
            self._duty_tasks["shift changes"] = asyncio.create_task(duty.run(),
                                                                    name="shift-changes")

        async def hand_over() -> None:
            staffing.in_charge = False
            await cancel_and_wait([self._duty_tasks.pop("shift changes", None)])

        self.election.duty("shift changes and no-show alerts", take_charge, hand_over)
        floor = self.floor
        assert floor is not None

        async def raise_floor_alerts() -> None:
            floor.raise_alerts = True
            floor.mark("queues", "orders")

        async def leave_floor_alerts() -> None:
            floor.raise_alerts = False

        self.election.duty("floor alerts", raise_floor_alerts, leave_floor_alerts)

        async def drop_deactivated_forever() -> None:
            while True:
                try:
                    await staffing.drop_deactivated()
                except Exception:  # noqa: BLE001 - database or PBX away: next round
                    log.warning("deactivated agents not taken off the queues this round")
                await asyncio.sleep(SWEEP_SECONDS)

        self._duty("deactivated agents off the queues", drop_deactivated_forever)
        dialer = deps.dialer
        if dialer is not None:
            alone = self._sqlite_lock is not None

            async def sweep_forever() -> None:
                while True:
                    try:
                        await dialer.sweep(alone=alone)
                    except Exception:  # noqa: BLE001 - database away: next round
                        log.warning("callback attempts not swept (database unavailable?)")
                    await asyncio.sleep(SWEEP_SECONDS)

            self._duty("callback attempts of backends that are gone", sweep_forever)

    def _duty(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        assert self.election is not None

        async def start() -> None:
            self._duty_tasks[name] = asyncio.create_task(body(), name=name)

        async def stop() -> None:
            await cancel_and_wait([self._duty_tasks.pop(name, None)])

        self.election.duty(name, start, stop)

    async def _purge_logins(self, every: float = 3600.0) -> None:
        """Expired sessions and failed logins past the throttling window are
        deleted: at start, then hourly."""
        while True:
            try:
                await self._purge_logins_once()
            except Exception:
                log.exception("purging expired sessions failed; trying again later")
            await asyncio.sleep(every)

    async def _purge_logins_once(self) -> None:
        assert self.deps is not None
        sessions, failures = await self.deps.db.run(_purge, self.deps.clock.now())
        if sessions or failures:
            log.info("purged %d expired sessions, %d old failed logins", sessions, failures)

    def status(self) -> dict[str, Any]:
        deps = self.deps
        ami = deps.ami if deps else None
        return {
            "ami": ami.status() if ami else {"connected": False, "configured": False},
            "fastagi": self.fastagi.status() if self.fastagi else {"listening": False},
            "clock": deps.clock.now().isoformat() if deps else None,
            "transcription": (self.transcription.status() if self.transcription
                              else {"enabled": False}),
            "instance": self.election.status() if self.election else {"owner": self.owner},
            "schema": {"newer": bool(self.schema_note), "note": self.schema_note},
            "live": {**deps.bus.status(),
                     "relay": self.relay.status() if self.relay else None} if deps else None,
        }

    async def stop(self) -> None:
        """Stop in reverse order; safe after a failed or cancelled start.  Work in
        progress is handed back (outbox items, transcription jobs) or left to its
        lease (callback attempts), so the next start, or another backend, resumes it."""
        if self._stopped:
            return
        self._stopped = True
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.config:
            await self.config.close()
        if self.election:
            await self.election.close()
        if self.floor:
            await self.floor.close()
        if self.staffing:
            await self.staffing.close()
        if self.deps and self.deps.pbx:
            await self.deps.pbx.close()
        if self.deps and self.deps.ami:
            await self.deps.ami.close()
        if self.deps and self.deps.dialer is not None:
            self.deps.dialer.close()
        if self.fastagi:
            await self.fastagi.close()
        if self._runner:
            await self._runner.cleanup()
        if self.metrics:
            await self.metrics.close()
        if self._outbox:
            await self._outbox.close()
        if self.transcription:
            # After the IVR and the PBX link: nothing can hand it work any more.
            await self.transcription.close()
        if self.relay:
            await self.relay.close()
        if self._leases:
            await self._leases.close()
        if self.deps:
            self.deps.hashing.close()
            self.deps.db.close()
        self._release_sqlite()

    def _release_sqlite(self) -> None:
        if self._sqlite_lock is not None:
            self._sqlite_lock.close()  # closing the file drops the lock
            self._sqlite_lock = None
