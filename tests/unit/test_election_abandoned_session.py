"""A lock attempt left hanging on an abandoned session thread (the check
timed out during a database stall) ends later, after a new session took the
lock: its late answer must not make the elected backend step down.

The session threads are the real ones (core.pg_liveness); only the server
behind them is a stand-in: an advisory lock held by one connection at a time,
freed when that connection closes, and a first connection whose lock attempt
hangs until the test lets it answer."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine

from core import pg_liveness
from core.election import Election


class Rows:
    def __init__(self, row: tuple[Any, ...]) -> None:
        self.row = row

    def fetchone(self) -> tuple[Any, ...]:
        return self.row


class FakeServer:
    """Advisory lock semantics of PostgreSQL, for one key."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.holder: FakeConnection | None = None
        self.connections: list[FakeConnection] = []
        self.answer_late = threading.Event()  # the stalled attempt may answer

    def connect(self, _conninfo: str, **_options: Any) -> FakeConnection:
        # The first session's lock attempt hangs, as on a stalled database.
        conn = FakeConnection(self, stalled=not self.connections)
        self.connections.append(conn)
        return conn


class FakeConnection:
    def __init__(self, server: FakeServer, *, stalled: bool) -> None:
        self.server, self.stalled = server, stalled
        self.attempts: list[bool] = []
        self.closed = threading.Event()

    def execute(self, sql: str, _params: Any = None) -> Rows:
        if sql.startswith("SELECT pg_try_advisory_lock"):
            if self.stalled:
                self.server.answer_late.wait(10)
            with self.server.mutex:
                if self.server.holder in (None, self):
                    self.server.holder = self
                granted = self.server.holder is self
            self.attempts.append(granted)
            return Rows((granted,))
        return Rows((1,))  # SET idle_session_timeout, SELECT 1

    def close(self) -> None:
        with self.server.mutex:
            if self.server.holder is self:
                self.server.holder = None  # the lock dies with the session
        self.closed.set()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    fake = FakeServer()
    monkeypatch.setattr(pg_liveness.psycopg, "connect", fake.connect)
    return fake


async def test_a_late_answer_on_an_abandoned_session_leaves_the_elected_backend_in_office(
        server: FakeServer) -> None:
    db: Any = SimpleNamespace(engine=create_engine("postgresql+psycopg://hotline@db.invalid/h"))
    log: list[str] = []

    async def start() -> None:
        log.append("starts")

    async def stop() -> None:
        log.append("stops")

    # No retries of its own: the test runs each round.
    election = Election(db, "a", retry_seconds=3600, heartbeat_seconds=3600,
                        session_timeout=7200, check_timeout=0.2)
    election.duty("record", start, stop)
    try:
        await election.start()  # the attempt hangs: abandoned after the check's timeout
        assert not election.elected and len(server.connections) == 1
        stuck = server.connections[0]

        await election._round()  # the next retry, on a new session: elected
        assert election.elected and len(server.connections) == 2
        current = server.connections[1]
        assert server.holder is current

        # The database answers the abandoned attempt at last (not granted: the
        # new session holds the lock), and its thread ends its session.
        server.answer_late.set()
        assert await asyncio.to_thread(stuck.closed.wait, 10)
        assert stuck.attempts == [False]

        await election._round()  # the elected backend's next check
        assert election.elected, "stepped down after the abandoned attempt's late answer"
        await election._round()
        assert election.elected and election.terms == 1
        assert log == ["starts"]
        assert server.holder is current and not current.closed.is_set()
    finally:
        server.answer_late.set()
        await election.close()
    assert log == ["starts", "stops"] and current.closed.is_set()


async def test_a_lock_granted_late_on_an_abandoned_session_is_freed_and_taken_anew(
        server: FakeServer) -> None:
    """The other order: the abandoned attempt is granted after the timeout.
    That session ends once the attempt is over, freeing the lock, and the
    next round takes it on the new session (not in office meanwhile)."""
    db: Any = SimpleNamespace(engine=create_engine("postgresql+psycopg://hotline@db.invalid/h"))
    election = Election(db, "a", retry_seconds=3600, heartbeat_seconds=3600,
                        session_timeout=7200, check_timeout=0.2)
    try:
        await election.start()
        stuck = server.connections[0]
        server.answer_late.set()
        assert await asyncio.to_thread(stuck.closed.wait, 10)
        assert stuck.attempts == [True] and server.holder is None
        assert not election.elected

        await election._round()
        assert election.elected and server.holder is server.connections[1]
        await election._round()  # its check passes on the session that holds the lock
        assert election.elected and election.terms == 1
    finally:
        server.answer_late.set()
        await election.close()
