"""The elected backend's machine dies without closing its connection (the test
stalls its TCP proxy: the proxy stops forwarding and keeps the connection
open, so TCP keepalives would still be answered): the server ends
its silent session, freeing the lock, and another backend takes over; the
cut-off one has stepped down first.  A living, idle backend keeps office."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import election as election_module
from core.db import Database
from core.election import Election
from core.pg_liveness import KEEPALIVE, SessionThread, libpq_conninfo
from tests.conftest import make_database_url
from tests.faults.db_proxy import StallingProxy

# Short, so the test takes seconds; the same arithmetic as the defaults.
TIMES = {"retry_seconds": 0.2, "heartbeat_seconds": 0.2, "session_timeout": 1.5,
         "check_timeout": 1.0}


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgresql", tmp_path)


def recorded(election: Election, log: list[str]) -> Election:
    async def start() -> None:
        log.append(f"{election.owner} starts")

    async def stop() -> None:
        log.append(f"{election.owner} stops")

    election.duty("record", start, stop)
    return election


async def test_given_the_elected_backends_machine_cut_off_then_another_takes_over(
        pg_url: str) -> None:
    proxy, proxied = StallingProxy.for_url(pg_url)
    dbs = [Database(proxied), Database(pg_url)]
    log: list[str] = []
    a = recorded(Election(dbs[0], "a", **TIMES), log)
    b = recorded(Election(dbs[1], "b", **TIMES), log)
    try:
        await a.start()
        await b.start()
        assert (a.elected, b.elected) == (True, False)
        # Idle for longer than the session timeout, twice over: the heartbeat
        # keeps the living backend's session (and office).
        assert a._pool is not None
        beats = a._pool.beats
        while a._pool.beats < beats + 2 * TIMES["session_timeout"] / TIMES["heartbeat_seconds"]:
            await asyncio.sleep(0.05)
        assert (a.elected, b.elected, a.terms) == (True, False, 1)

        # a's machine is cut off: nothing it sent is forwarded, nothing is
        # closed, and it cannot come back on a new connection either.
        proxy.flowing.clear()
        await asyncio.wait_for(b.wait_elected(), 15)
        assert not a.elected
        assert log == ["a starts", "a stops", "b starts"]  # never both in office
    finally:
        await a.close()
        await b.close()
        proxy.close()
        for db in dbs:
            db.close()


async def test_the_default_timings_take_over_within_15_seconds() -> None:
    """The budget in core.election's docstring: last heartbeat at the death
    at worst, the server ends the session after SESSION_TIMEOUT, the next backend
    tries within RETRY_SECONDS; the dead one's check gives up before that."""
    e = election_module
    assert e.HEARTBEAT_SECONDS < e.SESSION_TIMEOUT / 2
    assert e.SESSION_TIMEOUT + e.RETRY_SECONDS < 15
    assert e.RETRY_SECONDS + e.CHECK_TIMEOUT < e.SESSION_TIMEOUT


def test_the_election_session_carries_keepalives_on_both_ends_and_a_timeout(
        pg_url: str) -> None:
    db = Database(pg_url)
    session = SessionThread(libpq_conninfo(db.engine), beat_seconds=60, session_timeout=10,
                            name="election-test")
    names = ("idle_session_timeout", "tcp_keepalives_idle", "tcp_keepalives_interval",
             "tcp_keepalives_count", "tcp_user_timeout")
    try:
        shown = session.submit(lambda conn: {
            name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}).result(10)
        client = session.submit(lambda conn: {
            k: conn.info.get_parameters().get(k) for k in KEEPALIVE}).result(10)
    finally:
        session.close().result(10)
        db.close()
    assert shown == {"idle_session_timeout": "10s", "tcp_keepalives_idle": "5",
                     "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
                     "tcp_user_timeout": "10000"}
    assert client == {k: str(v) for k, v in KEEPALIVE.items()}
