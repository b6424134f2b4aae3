"""The durable outbox: work that a database change starts, kept with that change.

A change that starts work (a call answered and ended, whose recording must
be transcribed, say) adds an :class:`OutboxItem` in the *same transaction*
(:func:`add`): either both are stored or neither is, so a backend killed at
any moment loses no job.  Each item has a unique ``key``, so the same fact
reported twice (by two backends that both read AMI, or a replay) is one
item.

:class:`OutboxWorker` processes items at least once: it claims a few with a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two backends never claim
the same item; SQLite has one backend and one writer), runs the handler of
their kind, and marks them done.  An item whose backend died keeps its
lease only until ``lease_until``: then another backend claims it again.
Handlers must therefore be idempotent (the transcription queue is: one job
per recording).  A failing handler is retried later, with a growing delay,
up to ``MAX_ATTEMPTS`` times; then the item is ``failed`` and kept with its
error for an operator.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import Clock
from core.db import Base, Database, UTCDateTime
from core.leases import LEASE

log = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"
# The kinds of work are the domains': each writes its own with add() (in a
# follow-up of its change, e.g. speech.recording_outbox) and registers its
# handler with OutboxWorker.handle(kind, handler).  Nothing here knows them.
MAX_ATTEMPTS = 8

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class OutboxItem(Base):
    """One piece of work to do once the change that caused it is committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Which backend runs it, and until when that claim holds (see core.leases).
    owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


def add(s: Session, kind: str, key: str, payload: dict[str, Any], now: datetime) -> bool:
    """Add an item in the caller's transaction; False if ``key`` is already there."""
    if s.scalar(select(OutboxItem.id).where(OutboxItem.key == key)) is not None:
        return False
    try:
        with s.begin_nested():
            s.add(OutboxItem(kind=kind, key=key, payload=payload, status=PENDING, attempts=0,
                             created_at=now, available_at=now))
    except IntegrityError:  # another backend added it a moment ago
        return False
    return True


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def claim(s: Session, kinds: list[str], owner: str, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due items of ``kinds`` that nobody holds a live lease on."""
    due = (OutboxItem.status == PENDING, OutboxItem.available_at <= now,
           (OutboxItem.lease_until.is_(None)) | (OutboxItem.lease_until < now))
    ids = list(s.scalars(select(OutboxItem.id).where(OutboxItem.kind.in_(kinds), *due)
                         .order_by(OutboxItem.id).limit(limit)
                         .with_for_update(skip_locked=True)))
    claimed = []
    for item_id in ids:
        # Compare-and-set as well: SQLite has no row locks (and reads outside the
        # write transaction), so the conditions are checked again as it writes.
        won = s.execute(update(OutboxItem).where(OutboxItem.id == item_id, *due)
                        .values(owner=owner, lease_until=now + LEASE,
                                attempts=OutboxItem.attempts + 1))
        if won.rowcount == 1:  # type: ignore[attr-defined]
            item = s.get(OutboxItem, item_id, populate_existing=True)
            assert item is not None
            claimed.append(Claimed(item.id, item.kind, dict(item.payload), item.attempts))
    return claimed


def finish(s: Session, item_id: int, owner: str, now: datetime, error: str | None) -> None:
    """Done, or (``error``) back to pending after a delay, or failed after the last try."""
    item = s.get(OutboxItem, item_id, with_for_update=True)
    if item is None or item.owner != owner or item.status != PENDING:
        return  # taken over meanwhile (our lease ran out): the new owner decides
    item.owner, item.lease_until = None, None
    if error is None:
        item.status, item.finished_at, item.last_error = DONE, now, None
        return
    item.last_error = error[:2000]
    if item.attempts >= MAX_ATTEMPTS:
        item.status, item.finished_at = FAILED, now
    else:
        item.available_at = now + timedelta(seconds=min(2 ** item.attempts, 300))


def release(s: Session, owner: str) -> int:
    """At shutdown: hand back what this backend holds, without using up an attempt."""
    result = s.execute(update(OutboxItem)
                       .where(OutboxItem.owner == owner, OutboxItem.status == PENDING)
                       .values(owner=None, lease_until=None,
                               attempts=OutboxItem.attempts - 1))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts(s: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = s.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in (PENDING, DONE, FAILED)}


class OutboxWorker:
    """Runs the handlers of the kinds registered here; ``start()``, then ``close()``."""

    def __init__(self, db: Database, clock: Clock, owner: str, *,
                 poll_seconds: float = 1.0, concurrency: int = 8) -> None:
        self.db, self.clock, self.owner = db, clock, owner
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.handlers: dict[str, Handler] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def handle(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._main = asyncio.create_task(self._loop(), name="outbox")

    async def close(self) -> None:
        """Stop claiming; stop what runs; hand it back for the next start (or another backend)."""
        tasks = [t for t in (self._main, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        try:
            await self.db.run(release, self.owner)
        except Exception:  # noqa: BLE001 - the leases run out by themselves
            log.warning("outbox: could not hand back claimed items; their leases will run out")

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            free = self.concurrency - len(self._running)
            if free > 0 and self.handlers:
                try:
                    items = await self.db.run(claim, sorted(self.handlers), self.owner,
                                              self.clock.now(), free)
                except Exception:  # noqa: BLE001 - database away: try again later
                    log.warning("outbox: cannot claim items (database unavailable?)")
                    items = []
                for item in items:
                    task = asyncio.create_task(self._run(item), name=f"outbox-{item.id}")
                    self._running[item.id] = task
                if items and len(items) == free:
                    continue
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _run(self, item: Claimed) -> None:
        error: str | None = None
        try:
            await self.handlers[item.kind](item.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept on the item, retried later
            log.exception("outbox item %s (%s) failed", item.id, item.kind)
            error = f"{exc.__class__.__name__}: {exc}"
        finally:
            self._running.pop(item.id, None)
        for _ in range(30):  # the database may stall: keep trying to record the outcome
            try:
                await self.db.run(finish, item.id, self.owner, self.clock.now(), error)
                break
            except Exception:  # noqa: BLE001
                await asyncio.sleep(1.0)
        self.wake()
