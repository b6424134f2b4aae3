"""Noticing a dead peer on the PostgreSQL connections that mostly wait.

The election's connection and the live relay's LISTEN connection sit idle
for seconds.  When the machine at one end loses power or network, nothing
is sent, so by default nobody notices for hours: Linux starts TCP
keepalives after 2 h.  Three layers, each for one way of dying:

* **Client side** (``KEEPALIVE``, libpq parameters): the backend probes the
  server after 5 s of silence and gives up after 3 unanswered probes 2 s
  apart; ``tcp_user_timeout`` ends a connection whose sent data stays
  unacknowledged for 10 s.  A dead database host or network then fails the
  backend's connection within about 11 s instead of hanging.
* **Server side, per session** (``SERVER_KEEPALIVE``, set with libpq's
  ``options``): ``tcp_keepalives_*`` and ``tcp_user_timeout`` are ordinary
  user-settable settings in PostgreSQL (``context = user`` in
  ``pg_settings``), so only these sessions probe their client, with no
  change to the server's configuration.  The server then ends the session
  of a machine that is gone (no TCP answer) within about 11 s, and with it
  the advisory lock it held.
* **Application heartbeat** (:class:`SessionThread`): TCP keepalives are
  answered by whatever holds the other end of the TCP connection; behind a
  proxy, a load balancer or a NAT that keeps the connection open, the
  session of a dead backend would stay.  The election's session therefore
  also sets ``idle_session_timeout`` (PostgreSQL 14 and later; user
  settable) and its thread sends ``SELECT 1`` whenever it was idle for
  ``beat_seconds`` in real time: the server ends the session of a backend
  that went silent, whatever the network in between.  (The other way, the
  living backends ending a silent holder's session with
  ``pg_terminate_backend``, works for a login of the same role too, but
  needs a heartbeat table and a judge; the server's own timer needs
  neither.)  The heartbeat runs on
  the connection's own thread, not on the event loop, so a busy loop (or
  the tests' virtual clock) never lets a living backend's session lapse.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import psycopg.conninfo

log = logging.getLogger(__name__)

T = TypeVar("T")

KEEPALIVE: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # milliseconds
}
SERVER_KEEPALIVE: dict[str, int] = {
    "tcp_keepalives_idle": 5,
    "tcp_keepalives_interval": 2,
    "tcp_keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # milliseconds
}


def connect_options(conninfo: str = "", **server_settings: int | str) -> dict[str, Any]:
    """psycopg connect arguments: client keepalives, and the session's own
    server settings (``SERVER_KEEPALIVE`` plus ``server_settings``), after
    any ``options`` the database URL (``conninfo``) gives, such as a
    search_path, which are kept (a later ``-c`` of the same name wins)."""
    settings = {**SERVER_KEEPALIVE, **server_settings}
    ours = " ".join(f"-c {k}={v}" for k, v in settings.items())
    given = psycopg.conninfo.conninfo_to_dict(conninfo).get("options") if conninfo else None
    return {**KEEPALIVE, "options": f"{given} {ours}" if given else ours}


def libpq_conninfo(engine: Any) -> str:
    """A SQLAlchemy engine's URL as libpq reads it (no driver name)."""
    return str(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))


Job = Callable[["psycopg.Connection[Any] | None"], T]


class SessionThread:
    """One thread owning one PostgreSQL session.

    Jobs run one at a time on the thread and are given the connection (None
    when it could not be opened: the job decides what that means).  When no
    job came for ``beat_seconds`` the thread sends ``SELECT 1`` itself, so the
    session's ``idle_session_timeout`` only fires when this process is gone.
    A failed job or heartbeat discards the connection; the next job opens a
    new one.  :meth:`close` ends the session after the job in hand (if a job
    hangs on a dead connection, when it finally fails)."""

    def __init__(self, conninfo: str, *, beat_seconds: float, session_timeout: float,
                 name: str) -> None:
        self.conninfo = conninfo
        self.beat_seconds = beat_seconds
        self.session_timeout = session_timeout
        self.beats = 0
        self._jobs: queue.Queue[tuple[Callable[..., Any], concurrent.futures.Future[Any]] | None]
        self._jobs = queue.Queue()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = concurrent.futures.Future[None]()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job[T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    def close(self) -> concurrent.futures.Future[None]:
        """End the session (the server frees its locks) and the thread; the
        future is done once the connection is closed."""
        self._jobs.put(None)
        return self._closed

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        try:
            while True:
                try:
                    item = self._jobs.get(timeout=self.beat_seconds)
                except queue.Empty:
                    self._beat()
                    continue
                if item is None:
                    return
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(job(self._connection()))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    self._discard()
                    future.set_exception(exc)
        finally:
            self._discard()
            self._closed.set_result(None)

    def _connection(self) -> psycopg.Connection[Any] | None:
        if self._conn is None:
            # connect_timeout: a thread left waiting on a cut-off network ends.
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10,
                                   **connect_options(self.conninfo))
            try:
                # SET rather than options: a server before 14 refuses an unknown
                # setting in options by refusing the connection.
                conn.execute(f"SET idle_session_timeout = {int(self.session_timeout * 1000)}")
            except psycopg.errors.UndefinedObject:
                log.warning("PostgreSQL before 14 has no idle_session_timeout: a dead "
                            "machine's session ends only by TCP keepalives (about 11 s), "
                            "not through a proxy that keeps its connection open")
            self._conn = conn
        return self._conn

    def _beat(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute("SELECT 1")
            self.beats += 1
        except psycopg.Error as exc:
            log.warning("database session %s lost: %s", self._thread.name, exc)
            self._discard()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass
