"""The AMI link: one connection to one Asterisk, on panoramisk's Manager.

panoramisk 1.4 supplies the connection object (``Manager``: connect,
reconnect scheduling, ``register_event``) and the ``AMIProtocol`` base.
What it gets wrong for us is fixed here, each fix marked ``FIX(panoramisk)``
and covered by a test that reproduced the fault:

1. it decodes each TCP chunk on its own, so a read that splits a UTF-8
   character (a caller name such as 张三) corrupts it -> we buffer bytes and
   decode whole messages (:func:`pbx.ami_protocol.parse`);
2. it writes values with CR/LF unescaped (header injection) -> every action
   goes through :func:`pbx.ami_protocol.encode`, which refuses them;
3. its actions have no timeout -> every action here has one;
4. its response matching guesses list actions from the message text and
   never completes some (QueueAdd's "Added interface to queue") -> we
   follow ``EventList: start`` ... ``EventList: Complete`` exactly;
5. after a reconnect it re-sends unanswered actions, Originate included ->
   we never re-send; callers get :class:`AmiConnectionLost` and decide;
6. it runs event callbacks fire-and-forget on the reading path -> events
   go through a bounded queue to one dispatcher task, with a drop counter;
7. its ping never notices a peer that stopped answering -> two missed
   pongs close the link and reconnect, with exponential backoff.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from panoramisk.manager import Manager

from core.settings import AmiTarget
from core.tasks import cancel_and_wait, run_handlers
from pbx.ami_protocol import AmiMessage
from pbx.ami_session import (
    AmiConnectionLost,
    AmiError,
    AmiResult,
    AmiTimeout,
    HotlineAMIProtocol,
)
from pbx.events import AmiEvent, ListResult, parse_event

__all__ = ["AmiConnectionLost", "AmiError", "AmiLink", "AmiResult", "AmiTimeout",
           "HotlineAMIProtocol"]

log = logging.getLogger(__name__)

# hl-<12 hex digits unique to the link>-<n>; releases before 0024 sent hl-<n>,
# the same on every backend and after every restart.
_UNIQUE_ACTION_ID = re.compile(r"hl-[0-9a-f]{12}-[0-9]+")


def unique_action_id(action_id: str) -> bool:
    """Made by :meth:`AmiLink.new_action_id` of this release: no other link, of
    any backend or run, makes the same (an older release's may repeat)."""
    return _UNIQUE_ACTION_ID.fullmatch(action_id) is not None

EventHandler = Callable[[AmiEvent], Awaitable[None] | None]


class AmiLink(Manager):  # type: ignore[misc]
    """One logged-in AMI connection that stays up.

    ``await link.start()`` connects in the background; ``send()`` runs an
    action with a timeout; ``subscribe()`` registers an event handler that
    runs on the dispatcher task, in arrival order, and gets typed events
    (:mod:`pbx.events`; untyped ones as ``OtherEvent``); ``on_ready``
    callbacks run after each (re)login once Asterisk is FullyBooted, for
    resync.  A user without read class ``system`` never gets FullyBooted:
    then the link counts as ready ``boot_wait`` seconds after login.
    """

    def __init__(
        self,
        target: AmiTarget,
        *,
        action_timeout: float = 5.0,
        ping_interval: float = 10.0,
        event_queue_size: int = 10_000,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        boot_wait: float | None = None,
    ) -> None:
        super().__init__(
            host=target.host,
            port=target.port,
            username=target.username,
            secret=target.secret,
            protocol_factory=HotlineAMIProtocol,
            ping_delay=ping_interval,
            ping_interval=ping_interval,
            reconnect_timeout=backoff_initial,
            encoding="utf8",
            loop=None,
        )
        # Hand each new protocol its link at birth, so that not even the
        # banner arrives before the protocol knows where events go.
        self.config["protocol_factory"] = self._make_protocol
        self.target = target
        self.action_timeout = action_timeout
        self.ping_interval_s = ping_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._backoff = backoff_initial
        self._ids = itertools.count(1)
        # Unique to this link: Asterisk sends every session the events that carry
        # an ActionID (an OriginateResponse), so another backend's, or a previous
        # run's, "hl-1" must never be taken for ours.
        self._id_prefix = f"hl-{secrets.token_hex(6)}-"
        self._handlers: list[EventHandler] = []
        self._ready_callbacks: list[Callable[[], Awaitable[None]]] = []
        self._lost_callbacks: list[Callable[[], None]] = []
        self.boot_wait = action_timeout if boot_wait is None else boot_wait
        self._events: asyncio.Queue[AmiMessage | ListResult] = asyncio.Queue(
            maxsize=event_queue_size)
        self.events_dropped = 0
        self.events_received = 0
        self.connected = False  # logged in and FullyBooted
        self.last_heard = 0.0
        self.reconnects = 0
        self._ready = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._pinger_task: asyncio.Task[None] | None = None
        self._closing = False

    # ----------------------------------------------------------------- public
    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def on_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._ready_callbacks.append(callback)

    def on_events_lost(self, callback: Callable[[], None]) -> None:
        """``callback()`` runs (on the reading path: it must not block) each
        time events are dropped because the queue is full."""
        self._lost_callbacks.append(callback)

    @property
    def backlog(self) -> tuple[int, int]:
        """(events queued for the dispatcher, the queue's size)."""
        return self._events.qsize(), self._events.maxsize

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="ami-dispatcher")
        self.connect()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    def new_action_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    async def send(
        self,
        action: str,
        headers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        *,
        timeout: float | None = None,
        check: bool = True,
        in_stream: bool = False,
        action_id: str | None = None,
    ) -> AmiResult:
        """Send one action and wait for its complete answer.

        ``action_id``: one taken from :meth:`new_action_id` beforehand, for
        actions whose events may arrive before the answer is handled
        (an Async Originate's OriginateResponse).

        ``in_stream``: also hand the answer to subscribers as a
        :class:`pbx.events.ListResult`, in its place among the events
        (resync snapshots).

        Raises :class:`AmiTimeout` (FIX(panoramisk) 3), :class:`AmiConnectionLost`,
        :class:`pbx.ami_protocol.AmiProtocolError` for a value with CR/LF, and
        with ``check`` :class:`AmiError` for ``Response: Error``.
        """
        protocol = self.protocol
        if protocol is None or protocol.closed:
            raise AmiConnectionLost(action, "not connected")
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        action_id = action_id or self.new_action_id()
        message = AmiMessage.of([("Action", action), ("ActionID", action_id)])
        for key, value in pairs:
            values = value if isinstance(value, (list, tuple)) else [value]
            message.headers.extend((key, str(v)) for v in values)
        future = protocol.send_message(message, in_stream=in_stream)
        try:
            result = await asyncio.wait_for(future, timeout or self.action_timeout)
        except TimeoutError:
            protocol.pending.pop(action_id, None)
            raise AmiTimeout(action, "no answer in time") from None
        if check and (result.response.response or "").lower() == "error":
            raise AmiError(action, result.message)
        return result

    async def close(self) -> None:  # type: ignore[override]
        self._closing = True
        await cancel_and_wait([self._pinger_task, self._dispatcher, *self._tasks])
        if self.protocol is not None and not self.protocol.closed:
            try:
                await asyncio.wait_for(self.send("Logoff", timeout=1.0, check=False), 1.5)
            except Exception:
                pass
            self.protocol.closed = True
            self.protocol.transport.close()

    def status(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "host": f"{self.target.host}:{self.target.port}",
            "events_received": self.events_received,
            "events_dropped": self.events_dropped,
            "event_backlog": self._events.qsize(),
            "reconnects": self.reconnects,
        }

    # --------------------------------------------------------------- internal
    def _make_protocol(self) -> HotlineAMIProtocol:
        protocol = HotlineAMIProtocol()
        protocol.factory = self
        return protocol

    def enqueue_event(self, message: AmiMessage) -> None:
        self.events_received += 1
        message.read_ms = time.time() * 1000  # the wall clock, for latency logs only
        event = (message.event or "").lower()
        if event == "fullybooted" and not self.connected and self.protocol is not None:
            self._spawn(self._became_ready(), "ami-ready")
        elif event == "shutdown":
            log.warning("Asterisk is shutting down; will reconnect")
        # FIX(panoramisk) 6: a bounded queue between reading and handling.
        try:
            self._events.put_nowait(message)
        except asyncio.QueueFull:
            self.events_dropped += 1
            if self.events_dropped in (1, 10, 100) or self.events_dropped % 1000 == 0:
                log.error("AMI event queue full: %d events dropped", self.events_dropped)
            self._events_lost()

    def enqueue_list_result(self, action: str, result: AmiResult) -> None:
        """Called by the protocol when an ``in_stream`` answer is complete."""
        items = [parse_event(m) for m in result.events]
        item = ListResult(action, result.response, items=items, received_at=self.loop.time())
        try:
            self._events.put_nowait(item)
        except asyncio.QueueFull:
            self.events_dropped += 1
            log.error("AMI event queue full: %s answer not delivered", action)
            self._events_lost()

    def _events_lost(self) -> None:
        for callback in self._lost_callbacks:
            try:
                callback()
            except Exception:
                log.exception("AMI events-lost callback failed")

    async def _dispatch_loop(self) -> None:
        while True:
            item = await self._events.get()
            # Typed here, on the dispatcher, so that reading never waits on it.
            event = item if isinstance(item, ListResult) else parse_event(item)
            await run_handlers(self._handlers, event, log, f"AMI event {event.name}")

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        try:
            _transport, protocol = f.result()
        except OSError as exc:
            log.warning("AMI %s:%s unreachable (%s); retrying in %.1fs",
                        self.target.host, self.target.port, exc, self._backoff)
            self._schedule_reconnect()
            return
        self.protocol = protocol
        protocol.factory = self
        protocol.log = log
        self.last_heard = self.loop.time()
        self._spawn(self._login(), "ami-login")

    async def _login(self) -> None:
        try:
            result = await self.send(
                "Login",
                {"Username": self.target.username, "Secret": self.target.secret, "Events": "on"},
                check=False,
            )
        except AmiError as exc:
            log.error("AMI login failed: %s", exc)
            self._drop_connection()
            return
        if not result.ok:
            log.error("AMI login refused for %s: %s", self.target.username, result.message)
            self._drop_connection()
            return
        log.info("AMI logged in to %s:%s as %s", self.target.host, self.target.port,
                 self.target.username)
        self._backoff = self.backoff_initial
        if self._pinger_task is None or self._pinger_task.done():
            self._pinger_task = asyncio.create_task(self._ping_loop(), name="ami-pinger")
        self._spawn(self._boot_fallback(self.protocol), "ami-boot-wait")

    async def _boot_fallback(self, protocol: HotlineAMIProtocol) -> None:
        # Asterisk sends FullyBooted at login only to users that may read
        # the `system` class.  Without it, a successful login is all we get.
        await asyncio.sleep(self.boot_wait)
        if not self.connected and self.protocol is protocol and not protocol.closed:
            log.warning("no FullyBooted %.0fs after login (AMI user without read=system?); "
                        "treating Asterisk as booted", self.boot_wait)
            await self._became_ready()

    async def _became_ready(self) -> None:
        if self.connected:
            return
        self.connected = True
        self._ready.set()
        for callback in self._ready_callbacks:
            try:
                await callback()
            except Exception:
                log.exception("AMI resync callback failed")

    async def _ping_loop(self) -> None:
        # FIX(panoramisk) 7: a ping unanswered for two intervals means the
        # peer is gone, even if the socket still looks open.
        # `_closing` is checked as well as cancellation: Python 3.11's
        # wait_for() loses a cancel that lands as the pong arrives.
        while not self._closing:
            await asyncio.sleep(self.ping_interval_s)
            protocol = self.protocol
            if protocol is None or protocol.closed or self._closing:
                return
            try:
                await self.send("Ping", timeout=self.ping_interval_s * 2)
            except AmiTimeout:
                log.error("AMI ping unanswered for %.0fs; reconnecting", self.ping_interval_s * 2)
                self._drop_connection()
                return
            except AmiError:
                return

    def _drop_connection(self) -> None:
        protocol = self.protocol
        if protocol is not None and not protocol.closed:
            protocol.transport.abort()  # connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        was_connected = self.connected
        self.connected = False
        self._ready.clear()
        if self._closing:
            return
        if was_connected:
            log.error("AMI connection lost; reconnecting")
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._closing:
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.backoff_max)
        self.reconnects += 1
        self.loop.call_later(delay, self._reconnect_now)

    def _reconnect_now(self) -> None:
        if not self._closing:
            self.connect()

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # panoramisk hooks we replace: no blind re-sending, no fire-and-forget ping.
    async def send_awaiting_actions(self, *_: Any) -> None:
        self.awaiting_actions.clear()

    def ping(self) -> None:
        pass
