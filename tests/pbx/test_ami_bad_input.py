"""The AMI link when the peer sends what Asterisk never would.

A message past the size limit or lines that are no message at all mean
the stream cannot be trusted: the link closes it, reconnects, logs in
again and runs its resync callbacks; nothing read after the garbage is
believed.  Invalid UTF-8 inside a value is only a bad value: it is
replaced and the link stays up.  Waits are on events, under virtual time.
"""

from __future__ import annotations

import asyncio

import pytest

from core.clock import run_simulated
from pbx.ami_protocol import MAX_MESSAGE_BYTES
from tests.pbx.fake_ami import FakeAmi
from tests.pbx.test_ami_link import linked


def joined(uniqueid: str, name: str = "张三") -> bytes:
    return (f"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-{uniqueid}\r\n"
            f"CallerIDName: {name}\r\nUniqueid: {uniqueid}\r\n\r\n").encode()


async def run_garbage(garbage: bytes) -> dict[str, object]:
    fake = FakeAmi()
    link = await linked(fake, backoff_initial=0.5)
    resyncs: asyncio.Queue[int] = asyncio.Queue()
    seen: list[str] = []
    arrived = asyncio.Event()

    async def on_ready() -> None:
        resyncs.put_nowait(fake.logins)

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        if event.name == "QueueCallerJoin":
            seen.append(event.uniqueid)
            if event.uniqueid == "after":
                arrived.set()

    link.on_ready(on_ready)
    link.subscribe(on_event)
    # One good event, the garbage, and an event right behind it in the same write.
    fake.push(joined("before") + garbage + joined("behind"))
    logins_at_resync = await asyncio.wait_for(resyncs.get(), 60)
    fake.push(joined("after"))
    await asyncio.wait_for(arrived.wait(), 60)
    out = {"logins": fake.logins, "logins_at_resync": logins_at_resync, "seen": seen,
           "reconnects": link.reconnects, "connected": link.connected}
    await link.close()
    await fake.stop()
    return out


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"Event: Huge\r\nData: " + b"x" * (MAX_MESSAGE_BYTES + 10), id="oversized"),
        pytest.param(b"\x00\x01\x02\x03 garbage\r\nmore garbage\r\n\r\n", id="junk-lines"),
        pytest.param(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", id="not-ami"),
        pytest.param(b"\xff\xfe\xfd\r\n\r\n", id="binary-block"),
    ],
)
def test_given_garbage_in_the_stream_then_link_reconnects_resyncs_and_goes_on(garbage):
    out = run_simulated(run_garbage(garbage))
    assert out["logins_at_resync"] == 2 and out["logins"] == 2
    assert out["reconnects"] >= 1 and out["connected"] is True
    # What came before the garbage was used; what came right behind it was not.
    assert out["seen"] == ["before", "after"]


def test_given_invalid_utf8_in_a_value_then_event_kept_and_link_stays_up():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        seen: list = []
        arrived = asyncio.Event()

        def on_event(event) -> None:  # type: ignore[no-untyped-def]
            if event.name == "QueueCallerJoin":
                seen.append(event)
                if event.uniqueid == "2.2":
                    arrived.set()

        link.subscribe(on_event)
        # A legacy trunk's GBK caller name (张三 in GB2312), then a UTF-8 one.
        fake.push(joined("1.1", "x").replace(b"x", b"\xd5\xc5\xc8\xfd") + joined("2.2"))
        await asyncio.wait_for(arrived.wait(), 60)
        pong = await link.send("Ping")
        out = ([e.caller_name for e in seen], fake.logins, link.reconnects, pong.ok)
        await link.close()
        await fake.stop()
        return out

    names, logins, reconnects, pong = run_simulated(main())
    assert names == ["\ufffd\ufffd\ufffd\ufffd", "张三"]
    assert (logins, reconnects, pong) == (1, 0, True)
