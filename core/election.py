"""One backend of several runs the duties that must run once.

Shift changes and no-show checks, pause alerts, the agents' state history
and the sweep of callback attempts whose backend died must each run on
exactly one backend.  On PostgreSQL the backends elect it with a session
advisory lock (``pg_try_advisory_lock``) held on a connection of its own:
the lock dies with that connection, so when the elected backend dies (kill
-9, power, network) the server frees it and the next backend to try, every
``RETRY_SECONDS``, takes the duties over.  The elected backend checks its
connection as often; if the check fails or hangs (database away) it steps
down first, so that two backends run the duties together for at most one
check's time.  On SQLite there is one backend (``core.leases``): it is
always elected.

When the elected machine loses power or network nothing closes its
connection, and PostgreSQL would keep its session (and the lock) until TCP
gives up, hours later.  The election's session therefore carries TCP
keepalives on both ends and ``idle_session_timeout`` with a heartbeat from
its own thread (``core.pg_liveness``): the server ends the session of a
backend that went silent ``SESSION_TIMEOUT`` after its last heartbeat.
The budget for "another takes over within 15 s" of the death: the last
heartbeat was at most at the death, the server ends the session
``SESSION_TIMEOUT`` (10 s) later, and the next backend tries within
``RETRY_SECONDS`` (3 s): 13 s.  The dead one's own check fails after
``RETRY_SECONDS`` + ``CHECK_TIMEOUT`` (8 s), so if it was only cut off from
the database it has stepped down before anyone takes over.

The duties are plain start/stop pairs wrapped here at the assembly level
(``hotline.app``), not rewritten: :meth:`Election.duty` registers them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.db import Database
from core.pg_liveness import SessionThread, libpq_conninfo

log = logging.getLogger(__name__)

# The advisory lock's key: any constant the database's other users do not use.
LOCK_KEY = 0x12345_0001
RETRY_SECONDS = 3.0
CHECK_TIMEOUT = 5.0
HEARTBEAT_SECONDS = 2.0  # real time, on the session's thread
SESSION_TIMEOUT = 10.0  # the server ends a session silent for this long

Step = Callable[[], Awaitable[None]]
T = TypeVar("T")


class Election:
    def __init__(self, db: Database, owner: str, *, retry_seconds: float = RETRY_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 session_timeout: float = SESSION_TIMEOUT,
                 check_timeout: float = CHECK_TIMEOUT) -> None:
        self.db, self.owner = db, owner
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds, self.session_timeout = heartbeat_seconds, session_timeout
        self.check_timeout = check_timeout
        self.elected = False
        self.terms = 0  # how many times this backend was elected (tests, status)
        self._duties: list[tuple[str, Step, Step]] = []
        self._pool: SessionThread | None = None
        self._locked_on: Any = None  # the connection whose session holds the lock
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def shared(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    def duty(self, name: str, start: Step, stop: Step) -> None:
        """Run ``start`` when elected and ``stop`` when no longer (or at close)."""
        self._duties.append((name, start, stop))

    async def start(self) -> None:
        """Try once now (a lone backend is elected before it serves), then keep trying."""
        await self._round()
        self._task = asyncio.create_task(self._loop(), name="election")

    async def wait_elected(self) -> None:
        while not self.elected:
            self._changed.clear()
            await self._changed.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._step_down("stopping")

    def status(self) -> dict[str, Any]:
        return {"elected": self.elected, "owner": self.owner, "terms": self.terms}

    # ------------------------------------------------------------ internals
    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            await self._round()

    async def _round(self) -> None:
        if not self.shared:
            if not self.elected:
                await self._take_office()
            return
        if self.elected:
            if not await self._blocking(self._check):
                await self._step_down("lost its database session")
            return
        locked = await self._blocking(self._try_lock)
        if locked is not None:
            # Recorded here, from an answer that came in time: an attempt left
            # hanging on an abandoned session thread may still end later, and
            # must not touch the record of the session that holds the lock now.
            self._locked_on = locked
            await self._take_office()

    async def _blocking(self, fn: Callable[[Any], T]) -> T | None:
        """Run ``fn`` on the election's own thread and session; None when it
        failed or hung (the thread is then abandoned: whatever it returns later
        is never seen)."""
        if self._pool is None:
            self._pool = SessionThread(libpq_conninfo(self.db.engine), name="election",
                                       beat_seconds=self.heartbeat_seconds,
                                       session_timeout=self.session_timeout)
        future = self._pool.submit(fn)
        try:
            await _real_time_wait(future, self.check_timeout)
            return future.result()
        except TimeoutError:
            # The thread is stuck on a dead or stalled connection: leave it to
            # finish (or fail) on its own, closing its session, and start afresh.
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.close()
            return None
        except Exception:  # noqa: BLE001 - database unreachable: not elected this round
            # The session thread has discarded the connection; the next round opens one.
            log.debug("election round failed", exc_info=True)
            return None

    @staticmethod
    def _try_lock(conn: Any) -> Any:
        """The connection whose session took the lock, or None.  Only returns:
        it runs on a thread that may be abandoned while it waits."""
        # Autocommit (the session thread's connections): the lock is the
        # session's, no transaction is needed, and none is left to end on a
        # connection that died during a stall.
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        return conn if row and row[0] else None

    def _check(self, conn: Any) -> bool:
        if conn is None or conn is not self._locked_on:
            return False  # the session that held the lock is gone, and the lock with it
        conn.execute("SELECT 1")
        return True

    async def _take_office(self) -> None:
        self.elected, self.terms = True, self.terms + 1
        log.info("this backend (%s) is elected to run the once-only duties", self.owner)
        for name, start, _stop in self._duties:
            try:
                await start()
            except Exception:  # noqa: BLE001 - the other duties still run
                log.exception("duty %s could not start", name)
        self._changed.set()

    async def _step_down(self, why: str) -> None:
        if self.elected:
            log.warning("this backend steps down from the once-only duties: %s", why)
            self.elected = False
            for name, _start, stop in reversed(self._duties):
                try:
                    await stop()
                except Exception:  # noqa: BLE001
                    log.exception("duty %s did not stop cleanly", name)
            self._changed.set()
        self._locked_on = None
        pool, self._pool = self._pool, None
        if pool is not None:
            # Closing the session frees the advisory lock at once for the others
            # (unless its thread hangs on a dead connection: then the server does).
            with contextlib.suppress(TimeoutError):
                await _real_time_wait(pool.close(), self.check_timeout)


async def _real_time_wait(future: concurrent.futures.Future[Any], timeout: float) -> None:
    """Wait for the session thread; TimeoutError after ``timeout`` seconds of real
    time (on the tests' virtual-time loop a loop timeout would expire at once
    while the thread waits for the server)."""
    deadline = time.monotonic() + timeout
    while not future.done():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.01)
