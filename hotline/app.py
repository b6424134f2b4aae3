"""The controller: builds every part of the backend, starts it, stops it.

Nothing runs at import time; everything with a lifetime (database engine,
AMI link, FastAGI server, HTTP server, background tasks) is created in
:meth:`Backend.start` and closed in :meth:`Backend.stop`, in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from agents.staffing import Staffing
from calls.followups import CallFollowUps
from calls.tracking import CallTracker
from console.app import build_app
from hotline import accounts, login_throttle
from hotline.bus import EventBus
from hotline.clock import Clock
from hotline.db import Database
from hotline.deps import Deps
from hotline.live_events import PbxView
from hotline.migrate import current_revision, head_revision
from hotline.pg_relay import PgRelay
from hotline.settings import Settings
from hotline.tasks import cancel_and_wait
from ivr import flows
from pbx.ami import AmiLink
from pbx.fastagi import FastAgiServer
from pbx.model import PbxModel
from pbx.model_events import Resynced
from routing.menu import RoutingTable
from speech.jobs import TranscriptionService
from speech.models import ModelError
from speech.options import TranscriptionOptions
from worksheets import callbacks_http
from worksheets.calendar_store import SharedCalendar, calendar_warnings
from worksheets.callback_dialer import CallbackDialer
from worksheets.knowledge_search import segmenter
from worksheets.retention import retention_job
from worksheets.service import follow_calls
from worksheets.supervision import deadline_warnings

log = logging.getLogger(__name__)


def _purge(session: Any, now: Any) -> tuple[int, int]:
    return accounts.purge_expired_sessions(session, now), login_throttle.purge(session, now)


class StartupError(Exception):
    """The backend cannot start; the message says why in one line."""


class Backend:
    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 transcription: TranscriptionOptions | None = None) -> None:
        """``transcription``: run the transcription service (its models are checked and
        loaded at start); None runs without it (tests that need no transcripts)."""
        self.settings = settings
        self._clock = clock
        self.deps: Deps | None = None
        self.fastagi: FastAgiServer | None = None
        self.staffing: Staffing | None = None
        self._runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._transcription_options = transcription
        self.transcription: TranscriptionService | None = None
        self.relay: PgRelay | None = None

    async def start(self) -> None:
        settings = self.settings
        clock = self._clock or Clock.for_running_loop()
        db = Database(settings.database_url)
        revision, head = current_revision(db.engine), head_revision()
        if revision != head:
            db.close()
            raise StartupError(
                f"database schema is at {revision or 'nothing'}, needs {head}: "
                "run `hotline migrate` first"
            )
        routing = await db.run(RoutingTable.load)
        deps = Deps(settings=settings, db=db, clock=clock, routing=routing, bus=EventBus(),
                    calendar=SharedCalendar())
        today = clock.now().astimezone(settings.tz).date()
        for warning in await db.run(lambda s: calendar_warnings(deps.calendar.fresh(s), today)):
            log.warning("calendar: %s", warning)
        self.deps = deps
        if db.engine.dialect.name == "postgresql":
            # Several instances may share this database: their consoles hear
            # each other's events.  SQLite means one instance, in-process only.
            self.relay = PgRelay(_libpq_conninfo(db), deps.bus)
            try:
                await self.relay.start()
            except Exception as exc:
                db.close()
                raise StartupError(f"live events: cannot LISTEN on PostgreSQL: {exc}") from None
        self.staffing = Staffing(deps)
        if self._transcription_options is not None:
            # Before the IVR can take calls: it hands descriptions to this service.
            service = TranscriptionService(deps, self._transcription_options)
            try:
                await service.start()
            except ModelError as exc:
                if self.relay:
                    await self.relay.close()
                db.close()
                raise StartupError(str(exc)) from None
            self.transcription = service
            deps.extras["transcription"] = service

        self.fastagi = FastAgiServer(
            flows.routes(deps),  # type: ignore[arg-type]
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

        # Started last before the PBX link, so that a failed start leaves no task behind.
        await self.staffing.start()
        if settings.ami is not None:
            ami = AmiLink(settings.ami, action_timeout=settings.ami_action_timeout,
                          ping_interval=settings.ami_ping_interval)
            deps.ami = ami
            # The one model of the PBX: the link's only subscriber; everybody
            # else follows its events, by name.
            model = PbxModel(ami, clock)
            deps.pbx = model
            model.attach()
            CallTracker(deps, follow_calls(CallFollowUps())).follow(model)
            dialer = CallbackDialer(deps, model, self.staffing)
            await dialer.start()
            deps.extras[callbacks_http.DIALER] = dialer
            dialer.follow(model)
            self.staffing.states.follow(model)
            self.staffing.follow(model)
            # The live PBX view, published once each resync is complete.
            model.subscribe(Resynced.NAME, lambda _e: deps.bus.publish(PbxView(
                resync=model.resyncs, **model.live()), relay=False))
            await ami.start()
        else:
            log.warning("HOTLINE_AMI_URL is not set: no PBX link; calls will not be tracked")
        self._tasks.append(asyncio.create_task(self.staffing.shift_changes(),
                                               name="shift-changes"))
        self._tasks.append(asyncio.create_task(self._purge_logins(), name="purge-logins"))
        self._tasks.append(asyncio.create_task(retention_job(deps), name="retention"))
        self._tasks.append(asyncio.create_task(deadline_warnings(deps),
                                               name="deadline-warnings"))
        log.info("backend up: http %s:%s, FastAGI %s:%s", settings.http_listen.host,
                 self.http_port, settings.agi_listen.host, self.fastagi.port)

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
            "live": {**deps.bus.status(),
                     "relay": self.relay.status() if self.relay else None} if deps else None,
        }

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.staffing:
            await self.staffing.close()
        if self.deps and self.deps.pbx:
            await self.deps.pbx.close()
        if self.deps and self.deps.ami:
            await self.deps.ami.close()
        dialer = self.deps.extras.get(callbacks_http.DIALER) if self.deps else None
        if dialer is not None:
            dialer.close()
        if self.fastagi:
            await self.fastagi.close()
        if self._runner:
            await self._runner.cleanup()
        if self.transcription:
            # After the IVR and the PBX link: nothing can hand it work any more.
            await self.transcription.close()
        if self.relay:
            await self.relay.close()
        if self.deps:
            self.deps.hashing.close()
            self.deps.db.close()


def _libpq_conninfo(db: Database) -> str:
    """The database URL as libpq reads it (no SQLAlchemy driver name)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
