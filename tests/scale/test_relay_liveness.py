"""The live relay's connections die without closing (black-holed in a TCP proxy
that keeps them open, as a dead network or a NAT would): the relay does not
hear its own NOTIFYs back, reconnects, and restarts the stream, so consoles
resync from a snapshot (with the banner) and hear the other instances again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from core.bus import STREAM_RESTARTED, EventBus, SubscriptionClosed
from core.live_events import CallQueued
from core.pg_relay import PgRelay
from tests.conftest import make_database_url
from tests.faults.db_proxy import StallingProxy


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgresql", tmp_path)


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_given_the_relays_connections_black_holed_then_it_reconnects_and_consoles_resync(
        pg_url: str) -> None:
    proxy, proxied = StallingProxy.for_url(pg_url)
    bus, other_bus = EventBus(), EventBus()
    relay = PgRelay(conninfo(proxied), bus, ping_seconds=0.2, echo_seconds=1.0)
    other = PgRelay(conninfo(pg_url), other_bus)
    await relay.start()
    await other.start()
    try:
        console = bus.subscribe(name="console")
        other_bus.publish(CallQueued("u1", "q", "138****8000", 1))
        assert (await asyncio.wait_for(console.get(), 10)).event.uniqueid == "u1"
        await until(lambda: relay._pings >= 1 and not relay._unheard)  # a ping came back
        stream = bus.stream

        assert proxy.black_hole() == 2  # the relay's LISTEN and NOTIFY connections
        with pytest.raises(SubscriptionClosed):
            await asyncio.wait_for(console.get(), 15)
        assert console.closed_reason == STREAM_RESTARTED and bus.stream != stream
        assert relay.status()["echo_timeouts"] == 1

        again = bus.subscribe(name="console after the resync")
        other_bus.publish(CallQueued("u2", "q", "138****8001", 1))
        assert (await asyncio.wait_for(again.get(), 10)).event.uniqueid == "u2"
        mine = other_bus.subscribe(name="the other's console")
        bus.publish(CallQueued("u3", "q", "138****8002", 1))  # it sends again, too
        assert (await asyncio.wait_for(mine.get(), 10)).event.uniqueid == "u3"
    finally:
        await relay.close()
        await other.close()
        proxy.close()
