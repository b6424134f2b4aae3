"""Live events between backend instances: PostgreSQL LISTEN/NOTIFY.

Why PostgreSQL and not Redis: several instances already need one PostgreSQL
database, so this adds no service to run, secure and watch.  NOTIFY is
delivered to every listening session, in the order each sender sent, and
an event that does not fit in a NOTIFY (8000 bytes) is sent in pieces.

Each instance sends on one connection and listens on another (a listening
psycopg connection is busy waiting).  Every message carries the sender's
id and its own counter, so a listener that sees a counter skip (a lost
NOTIFY, a sender that reconnected) or loses its own connection restarts the
bus's stream: its consoles reconnect to a fresh snapshot rather than show
state that silently misses events.

A connection can also die without closing (the database's machine or the
network gone, a proxy that keeps the TCP connection open): both carry TCP
keepalives (``core.pg_liveness``), and the relay hears its own NOTIFYs
back — every event, and a ping on a channel of its own when nothing was
sent for ``PING_SECONDS``.  One not heard back within ``ECHO_SECONDS``
means a connection is lost though no error says so: the relay cuts both
connections, reconnects and restarts the stream (the consoles resync with
the banner, as on any gap).  That watch runs in real time on a thread of
its own: a NOTIFY in flight stops the tests' virtual clock (below), so a
loop timer would never fire while one is lost.

Under the tests' virtual-time loop, time must not jump while a NOTIFY is on
its way to the other instances: the sender counts it as real work until its
own listener hears it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

import psycopg

from core.bus import EventBus
from core.events import LiveEvent, from_wire
from core.pg_liveness import connect_options
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
PIECE = 7000  # bytes of (ASCII) JSON per NOTIFY; the payload limit is 8000 bytes
RETRY_SECONDS = 2.0
PING_SECONDS = 2.0  # real time without sending anything: ping ourselves
ECHO_SECONDS = 5.0  # real time for our own NOTIFY to come back


class PgRelay:
    def __init__(self, conninfo: str, bus: EventBus, channel: str = CHANNEL, *,
                 ping_seconds: float = PING_SECONDS, echo_seconds: float = ECHO_SECONDS) -> None:
        self.conninfo = conninfo
        self.bus = bus
        self.channel = channel
        self.origin = uuid.uuid4().hex[:12]
        self.echo_channel = f"{channel}_{self.origin}"  # our pings: no one else listens
        self.ping_seconds, self.echo_seconds = ping_seconds, echo_seconds
        self._counter = 0
        # (channel, payload, echo key or None); the key is stamped when sent
        self._outbox: asyncio.Queue[tuple[str, str, str | None]] = asyncio.Queue()
        self._unheard: dict[str, float] = {}  # echo key -> real time sent, oldest first
        self._last_sent = time.monotonic()
        self._pings = 0
        self._conns: dict[str, psycopg.AsyncConnection[Any]] = {}  # "send"/"listen" -> open
        self._watch_stop = threading.Event()
        self._heard: dict[str, int] = {}  # origin -> last counter
        self._pieces: dict[tuple[str, int], list[str]] = {}
        self._in_flight: set[int] = set()
        self._tasks: list[asyncio.Task[Any]] = []
        self.sent = 0
        self.received = 0
        self.gaps = 0
        self.echo_timeouts = 0

    async def start(self) -> None:
        """Listen first (so nothing sent after start is missed), then send.
        Raises psycopg.Error if PostgreSQL cannot be reached."""
        conn = await self._listener()
        self._tasks = [asyncio.create_task(self._listen_forever(conn), name="live-relay-listen"),
                       asyncio.create_task(self._send_forever(), name="live-relay-send")]
        self.bus.relay = self
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._watch, args=(loop,), name="live-relay-watch",
                         daemon=True).start()

    async def close(self) -> None:
        self._watch_stop.set()
        self.bus.relay = None
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        self._release(self._in_flight)

    def status(self) -> dict[str, Any]:
        return {"kind": "postgresql", "channel": self.channel, "sent": self.sent,
                "received": self.received, "gaps": self.gaps,
                "echo_timeouts": self.echo_timeouts}

    # ------------------------------------------------------------ sending
    def send(self, event: LiveEvent) -> None:
        self._counter += 1
        # ASCII only, so that characters are bytes and a piece fits the limit.
        body = json.dumps({"o": self.origin, "c": self._counter, "e": event.to_wire()},
                          ensure_ascii=True, separators=(",", ":"), default=str)
        pieces = [body[i:i + PIECE] for i in range(0, len(body), PIECE)] or [""]
        for index, piece in enumerate(pieces):
            head = f"{self.origin}:{self._counter}:{index}:{len(pieces)}:"
            last = index == len(pieces) - 1
            self._outbox.put_nowait((self.channel, head + piece,
                                     f"e{self._counter}" if last else None))
        self._hold(self._counter)

    async def _send_forever(self) -> None:
        while True:
            try:
                async with await self._connect() as conn:
                    self._conns["send"] = conn
                    while True:
                        channel, payload, key = await self._outbox.get()
                        self._last_sent = time.monotonic()
                        if key is not None:
                            self._unheard[key] = self._last_sent
                        await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
                        self.sent += channel == self.channel  # not our pings
            except (psycopg.Error, OSError) as exc:
                # What was queued is lost to the others; their listeners see
                # the counter skip and resync their consoles.
                log.error("live relay: cannot send to PostgreSQL: %s", exc)
                self._conns.pop("send", None)
                self._drain_outbox()
                await asyncio.sleep(RETRY_SECONDS)

    def _drain_outbox(self) -> None:
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self._unheard.clear()
        self._release(set(self._in_flight))

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True,
                                                     **connect_options(self.conninfo))

    # ---------------------------------------------------------- listening
    async def _listener(self) -> psycopg.AsyncConnection[Any]:
        conn = await self._connect()
        await conn.execute(f'LISTEN "{self.channel}"; LISTEN "{self.echo_channel}"')
        return conn

    async def _listen_forever(self, conn: psycopg.AsyncConnection[Any] | None) -> None:
        while True:
            try:
                if conn is None:
                    conn = await self._listener()
                    # Whatever was sent meanwhile is lost to this instance.
                    self.bus.restart_stream("the live relay reconnected to PostgreSQL")
                self._conns["listen"] = conn
                self._unheard.clear()  # sent before this LISTEN: never heard
                try:
                    raise await self._until_lost(conn)
                finally:
                    self._conns.pop("listen", None)
                    await conn.close()
            except (psycopg.Error, OSError) as exc:
                log.error("live relay: lost PostgreSQL LISTEN: %s", exc)
                self._unheard.clear()
                self._heard.clear()
                self._pieces.clear()
                self._release(set(self._in_flight))
                await asyncio.sleep(RETRY_SECONDS)
            conn = None

    async def _until_lost(self, conn: psycopg.AsyncConnection[Any]) -> Exception:
        """Read notifications as the socket has them; return why it stopped.

        A reader callback on the socket rather than ``conn.notifies()``, which
        wakes up ten times a second to poll even when nothing happens."""
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[Exception] = loop.create_future()
        pgconn = conn.pgconn
        echo = self.echo_channel.encode()

        def readable() -> None:
            try:
                pgconn.consume_input()
            except psycopg.Error as exc:
                if not lost.done():
                    lost.set_result(exc)
                return
            while (note := pgconn.notifies()) is not None:
                if note.relname == echo:
                    self._unheard.pop(note.extra.decode("ascii", "replace"), None)
                else:
                    self._heard_payload(note.extra.decode("utf-8", "replace"))

        fd = conn.fileno()
        loop.add_reader(fd, readable)
        try:
            readable()  # what arrived with the LISTEN's answer
            return await lost
        finally:
            loop.remove_reader(fd)

    def _heard_payload(self, payload: str) -> None:
        try:
            origin, counter_s, index_s, total_s, piece = payload.split(":", 4)
            counter, index, total = int(counter_s), int(index_s), int(total_s)
        except ValueError:
            log.warning("live relay: a NOTIFY that is not ours on %s", self.channel)
            return
        if origin == self.origin:
            if index == total - 1:
                self._unheard.pop(f"e{counter}", None)
                self._release({counter})
            return
        key = (origin, counter)
        parts = self._pieces.setdefault(key, [])
        if len(parts) != index:  # a piece went missing
            self._pieces.pop(key, None)
            self._gap(origin, counter)
            return
        parts.append(piece)
        if len(parts) < total:
            return
        del self._pieces[key]
        last = self._heard.get(origin)
        self._heard[origin] = counter
        if last is not None and counter != last + 1:
            self._gap(origin, counter)
        try:
            event = from_wire(json.loads("".join(parts))["e"])
        except (KeyError, TypeError, ValueError) as exc:
            # Another release's event this one does not know: skip it, loudly.
            log.warning("live relay: cannot read an event from %s: %s", origin, exc)
            return
        self.received += 1
        self.bus.receive_relayed(event)

    def _gap(self, origin: str, counter: int) -> None:
        self.gaps += 1
        self.bus.restart_stream(f"events from instance {origin} went missing (at {counter})")

    # ------------------------------------------------------ the echo watch
    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        tick = min(self.ping_seconds, self.echo_seconds) / 4
        while not self._watch_stop.wait(tick):
            try:
                loop.call_soon_threadsafe(self._check_echo, time.monotonic(), tick)
            except RuntimeError:  # the loop is closed
                return

    def _check_echo(self, posted: float, tick: float) -> None:
        now = time.monotonic()
        if now - posted > tick:
            return  # the loop was busy: let it read its sockets before judging
        if "listen" not in self._conns:
            return  # reconnecting: what is sent meanwhile cannot come back
        oldest = next(iter(self._unheard.values()), None)
        if oldest is not None and now - oldest > self.echo_seconds:
            self.echo_timeouts += 1
            log.error("live relay: our own NOTIFY was not heard back in %.0f s: "
                      "reconnecting to PostgreSQL", now - oldest)
            self._unheard.clear()
            for conn in list(self._conns.values()):
                _cut(conn)  # the waiting task fails and reconnects
        elif oldest is None and now - self._last_sent > self.ping_seconds and "send" in self._conns:
            self._pings += 1
            key = f"p{self._pings}"
            self._outbox.put_nowait((self.echo_channel, key, key))

    # ------------------------------------------------ virtual-time fairness
    def _hold(self, counter: int) -> None:
        loop = asyncio.get_running_loop()
        if hasattr(loop, "pending_real_work"):
            self._in_flight.add(counter)
            loop.pending_real_work += 1

    def _release(self, counters: set[int]) -> None:
        loop = asyncio.get_running_loop()
        for counter in list(counters):
            if counter in self._in_flight:
                self._in_flight.discard(counter)
                loop.pending_real_work -= 1  # type: ignore[attr-defined]


def _cut(conn: psycopg.AsyncConnection[Any]) -> None:
    """Shut the connection's socket down under it: whoever waits on it gets an
    error at once (closing a connection a task waits on would not wake it)."""
    with contextlib.suppress(OSError, psycopg.Error):
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
