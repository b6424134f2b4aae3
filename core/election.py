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

The duties are plain start/stop pairs wrapped here at the assembly level
(``hotline.app``), not rewritten: :meth:`Election.duty` registers them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from core.db import Database

log = logging.getLogger(__name__)

# The advisory lock's key: any constant the database's other users do not use.
LOCK_KEY = 0x12345_0001
RETRY_SECONDS = 5.0
CHECK_TIMEOUT = 5.0

Step = Callable[[], Awaitable[None]]


class Election:
    def __init__(self, db: Database, owner: str, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.db, self.owner = db, owner
        self.retry_seconds = retry_seconds
        self.elected = False
        self.terms = 0  # how many times this backend was elected (tests, status)
        self._duties: list[tuple[str, Step, Step]] = []
        self._conn: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
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
        elif await self._blocking(self._try_lock):
            await self._take_office()

    async def _blocking(self, fn: Callable[[], bool]) -> bool:
        """Run ``fn`` on the election's own thread; a hang counts as a failure."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="election")
        future = self._pool.submit(fn)
        # The deadline is in real time: on the tests' virtual-time loop a loop
        # timeout would expire at once while the thread waits for the server.
        deadline = time.monotonic() + CHECK_TIMEOUT
        try:
            while not future.done():
                if time.monotonic() > deadline:
                    raise TimeoutError
                await asyncio.sleep(0.01)
            return future.result()
        except TimeoutError:
            # The thread is stuck on a dead or stalled connection: leave it to
            # finish (or fail) on its own and start afresh with a new one.
            pool, conn = self._pool, self._conn
            self._pool, self._conn = None, None
            future.add_done_callback(lambda _f: _discard(conn))
            pool.shutdown(wait=False)
            return False
        except Exception:  # noqa: BLE001 - database unreachable: not elected this round
            log.debug("election round failed", exc_info=True)
            _discard(self._conn)
            self._conn = None
            return False

    def _try_lock(self) -> bool:
        if self._conn is None:
            # Autocommit: the lock is the session's, no transaction is needed, and
            # none is left to end on a connection that died during a stall (its
            # commit would warn "transaction already deassociated from connection").
            self._conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                       {"k": LOCK_KEY}).scalar())

    def _check(self) -> bool:
        if self._conn is None:
            return False
        self._conn.execute(text("SELECT 1"))
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
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            # Closing the session frees the advisory lock at once for the others.
            await asyncio.get_running_loop().run_in_executor(self._pool, _discard, conn)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def _discard(conn: Any) -> None:
    if conn is None:
        return
    try:
        conn.invalidate()
        conn.close()
    except Exception:  # noqa: BLE001 - it is being thrown away
        pass
