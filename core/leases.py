"""Who this backend is, and how long its claims on shared work hold.

Several backends may share one PostgreSQL database.  Work one of them has
taken (an outbox item, a transcription job, a callback attempt or a
回访 call in progress) carries its ``owner`` (:func:`instance_owner`: name, host, pid
and a per-run token, so a restarted backend is a new owner) and a
``lease_until``.  :class:`LeaseKeeper` renews the leases of everything this
backend owns every few seconds; when a backend dies its leases run out and
the others take its work over (each table's claim query treats an expired
lease as free).

SQLite is the embedded store of ONE backend: :func:`hold_sqlite` takes an
exclusive lock on a file next to the database for the process's life, and a
second backend on the same file is refused with a message saying so.  The
lock dies with the process, so after a crash (or kill -9) the next start
knows that every lease in the database is stale and takes the work at once.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import update

from core.clock import Clock
from core.db import Database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # how long a claim holds without renewal
RENEW_SECONDS = 5.0


class InstanceRefused(Exception):
    """This backend must not run beside another one (SQLite); the message says why."""


def instance_owner(name: str | None = None) -> str:
    """This run's owner tag, e.g. ``b1@host:4242/3f9c21ab`` (fits String(80))."""
    label = name or "backend"
    return f"{label}@{socket.gethostname()}:{os.getpid()}/{uuid.uuid4().hex[:8]}"[:80]


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def hold_sqlite(database_url: str) -> IO[str] | None:
    """Lock the SQLite database for this process; None for PostgreSQL or :memory:."""
    path = sqlite_path(database_url)
    if path is None:
        return None
    lock_path = path.with_name(path.name + ".instance-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fh = lock_path.open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InstanceRefused(
            f"HOTLINE_DATABASE_URL: the SQLite database {path} is in use by {holder}; "
            "SQLite serves one backend only: stop it, or run several on PostgreSQL"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"backend pid {os.getpid()} on {socket.gethostname()}\n")
    fh.flush()
    return fh


@dataclass
class LeaseKeeper:
    """Renews ``lease_until`` of every row this backend owns, in each registered table."""

    db: Database
    clock: Clock
    owner: str
    # (mapped class, owner column, lease column)
    tables: list[tuple[Any, str, str]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def keep(self, model: Any, owner: str = "owner", lease: str = "lease_until") -> None:
        """Renew ``model``'s rows whose column ``owner`` names this backend."""
        self.tables.append((model, owner, lease))

    def until(self) -> Any:
        return self.clock.now() + LEASE

    def renew(self, s: Any) -> None:
        until = self.until()
        for model, owner, lease in self.tables:
            s.execute(update(model).where(getattr(model, owner) == self.owner)
                      .values({lease: until}))

    def expire_others(self, s: Any) -> None:
        """Only for a backend that knows it is alone (SQLite): others' claims are stale."""
        for model, owner, lease in self.tables:
            s.execute(update(model).where(getattr(model, owner) != self.owner)
                      .values({lease: None}))

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="lease-keeper")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                await self.db.run(self.renew)
            except Exception:  # noqa: BLE001 - database away; leases are long enough to wait
                log.warning("cannot renew this backend's leases (database unavailable?)")
