"""The AMI link, against a scripted peer over real sockets (virtual time).

Each FIX(panoramisk) in pbx/ami.py has a test here; the ones marked
"reproduces" first show the fault in panoramisk's own class.
"""

from __future__ import annotations

import asyncio

import pytest
from panoramisk.ami_protocol import AMIProtocol

from core.clock import run_simulated
from core.settings import AmiTarget
from pbx import ami_protocol
from pbx.ami import AmiConnectionLost, AmiError, AmiLink, AmiTimeout, unique_action_id
from pbx.ami_protocol import AmiProtocolError
from tests.pbx.fake_ami import FakeAmi

EVENT = ("Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-1\r\nCallerIDName: 张三\r\n"
         "Uniqueid: 1.1\r\n\r\n")


async def linked(fake: FakeAmi, **kwargs) -> AmiLink:
    await fake.start()
    link = AmiLink(AmiTarget("127.0.0.1", fake.port, "hotline", "pw"), **kwargs)
    await link.start()
    await link.wait_ready(5)
    return link


def test_reproduces_panoramisk_splitting_utf8_across_reads():
    class Factory:
        got = []

        def dispatch(self, message):
            self.got.append(message)

    proto = AMIProtocol()
    proto.connection_made(type("T", (), {"close": lambda self: None})())
    proto.factory = Factory()
    proto.encoding = "utf8"
    data = EVENT.encode()
    cut = data.index("张".encode()) + 1  # inside the character
    proto.data_received(data[:cut])
    proto.data_received(data[cut:])
    assert Factory.got and Factory.got[0]["CallerIDName"] != "张三"  # panoramisk's fault


def test_given_utf8_split_mid_character_when_link_reads_then_name_intact():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        seen: list = []
        link.subscribe(lambda e: seen.append(e) if e.name == "QueueCallerJoin" else None)
        data = EVENT.encode()
        cut = data.index("张".encode()) + 1
        fake.push(data[:cut])
        await asyncio.sleep(0.1)
        fake.push(data[cut:])
        await asyncio.sleep(0.1)
        await link.close()
        await fake.stop()
        return seen

    seen = run_simulated(main())
    assert [e.caller_name for e in seen] == ["张三"]


def test_given_crlf_in_value_when_sent_then_refused_and_nothing_reaches_the_peer():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        before = len(fake.received)
        with pytest.raises(AmiProtocolError):
            await link.send("Originate", {"CallerID": '"x" <1>\r\nAction: Command'})
        await asyncio.sleep(0.1)
        after = len(fake.received)
        await link.close()
        await fake.stop()
        return before, after

    before, after = run_simulated(main())
    assert after == before


def test_given_queueadd_when_answered_then_completes_and_list_actions_collect_events():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        added = await link.send("QueueAdd", {"Queue": "q1", "Interface": "PJSIP/1001"})
        status = await link.send("QueueStatus")
        await link.close()
        await fake.stop()
        return added, status

    added, status = run_simulated(main())
    assert added.message == "Added interface to queue" and added.events == []
    assert [e.event for e in status.events] == ["QueueParams", "QueueMember"]
    assert status.events[1].get("Name") == "张三"
    assert status.complete is not None and status.complete.get("ListItems") == "2"


def test_given_error_response_then_ami_error():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        try:
            await link.send("Bogus")
        finally:
            await link.close()
            await fake.stop()

    with pytest.raises(AmiError, match="Invalid/unknown command"):
        run_simulated(main())


def test_given_peer_that_never_answers_an_action_then_timeout():
    async def main():
        fake = FakeAmi()
        fake.responders["queuepause"] = lambda m: []
        link = await linked(fake, action_timeout=2.0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            await link.send("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true"})
        except AmiTimeout:
            return loop.time() - start
        finally:
            await link.close()
            await fake.stop()

    waited = run_simulated(main())
    assert waited == pytest.approx(2.0, abs=0.1)


def test_given_connection_dropped_then_reconnects_and_pending_originate_is_not_resent():
    async def main():
        fake = FakeAmi()
        fake.responders["originate"] = lambda m: []  # never answered before the drop
        link = await linked(fake, backoff_initial=0.5)
        ready_count = []

        async def on_ready():
            ready_count.append(1)

        link.on_ready(on_ready)
        pending = asyncio.create_task(link.send("Originate", {"Channel": "PJSIP/1001"},
                                                timeout=30))
        await asyncio.sleep(0.2)
        fake.drop()
        with pytest.raises(AmiConnectionLost):
            await pending
        await link.wait_ready(10)
        await asyncio.sleep(1.0)
        originates = [m for m in fake.received if m.action == "Originate"]
        await link.close()
        await fake.stop()
        return fake.logins, len(originates), len(ready_count), link.reconnects

    logins, originates, readies, reconnects = run_simulated(main())
    assert logins == 2 and originates == 1 and readies == 1 and reconnects >= 1


def test_given_silent_peer_then_two_missed_pings_reconnect():
    async def main():
        fake = FakeAmi()
        link = await linked(fake, ping_interval=5.0)
        loop = asyncio.get_running_loop()
        fake.stalled = True
        start = loop.time()
        while link.connected:
            await asyncio.sleep(0.5)
        lost_after = loop.time() - start
        fake.stalled = False
        await link.wait_ready(60)
        await link.close()
        await fake.stop()
        return lost_after, fake.logins

    lost_after, logins = run_simulated(main())
    assert 10.0 <= lost_after <= 16.0  # two intervals without a pong
    assert logins == 2


def test_given_slow_handler_then_reader_keeps_going_and_overflow_is_counted():
    async def main():
        fake = FakeAmi()
        link = await linked(fake)
        link._events = asyncio.Queue(maxsize=5)  # a small queue for the test
        gate = asyncio.Event()

        async def slow(_m):
            await gate.wait()

        link.subscribe(slow)
        fake.push(EVENT.encode() * 50)
        await asyncio.sleep(0.5)
        pong = await link.send("Ping")  # the reader is not blocked by the handler
        dropped = link.events_dropped
        gate.set()
        await link.close()
        await fake.stop()
        return pong.ok, dropped

    ok, dropped = run_simulated(main())
    assert ok and dropped >= 40


def test_given_wrong_secret_then_never_ready_and_retries():
    async def main():
        fake = FakeAmi(secret="other")
        await fake.start()
        link = AmiLink(AmiTarget("127.0.0.1", fake.port, "hotline", "pw"), backoff_initial=1.0)
        await link.start()
        with pytest.raises(TimeoutError):
            await link.wait_ready(10)
        attempts = sum(1 for m in fake.received if m.action == "Login")
        await link.close()
        await fake.stop()
        return attempts

    assert run_simulated(main()) >= 3


def test_encode_used_by_link_matches_wire_format():
    data = ami_protocol.encode({"Action": "Ping", "ActionID": "x"})
    assert data == b"Action: Ping\r\nActionID: x\r\n\r\n"


def test_given_user_without_system_class_when_no_fullybooted_then_ready_after_boot_wait():
    async def main():
        fake = FakeAmi()
        # Asterisk sends FullyBooted at login only to users that may read `system`.
        fake.responders["login"] = lambda m: [ami_protocol.encode(
            {"Response": "Success", "ActionID": m.action_id or "",
             "Message": "Authentication accepted"})]
        await fake.start()
        link = AmiLink(AmiTarget("127.0.0.1", fake.port, "hotline", "pw"), boot_wait=3.0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        readied: list[float] = []

        async def on_ready():
            readied.append(loop.time() - start)

        link.on_ready(on_ready)
        await link.start()
        await link.wait_ready(10)
        await asyncio.sleep(0.1)
        await link.close()
        await fake.stop()
        return readied

    readied = run_simulated(main())
    assert len(readied) == 1 and 3.0 <= readied[0] < 4.0


def test_given_in_stream_list_action_then_result_delivered_between_events_in_read_order():
    from pbx import events as ev

    async def main():
        fake = FakeAmi()
        before = ami_protocol.encode({"Event": "Newchannel", "Uniqueid": "1.1"})
        after = ami_protocol.encode({"Event": "Hangup", "Uniqueid": "1.1"})

        def status(m):
            aid = m.action_id or ""
            return [before,
                    ami_protocol.encode({"Response": "Success", "ActionID": aid,
                                         "EventList": "start"}),
                    ami_protocol.encode({"Event": "QueueMember", "Queue": "q", "ActionID": aid,
                                         "Name": "agent-1", "Location": "PJSIP/1"}),
                    ami_protocol.encode({"Event": "QueueStatusComplete", "ActionID": aid,
                                         "EventList": "Complete", "ListItems": "1"}),
                    after]

        fake.responders["queuestatus"] = status
        link = await linked(fake)
        seen: list = []
        link.subscribe(lambda e: seen.append(e) if e.name != "FullyBooted" else None)
        result = await link.send("QueueStatus", in_stream=True)
        await asyncio.sleep(0.1)
        await link.close()
        await fake.stop()
        return seen, result

    seen, result = run_simulated(main())
    assert [e.name for e in seen] == ["Newchannel", "QueueStatus", "Hangup"]
    listed = seen[1]
    assert isinstance(listed, ev.ListResult) and listed.message is result.response
    assert [(i.name, i.member_name) for i in listed.items] == [("QueueMember", "agent-1")]


def test_two_links_never_make_the_same_action_id():
    """Asterisk sends every session an OriginateResponse with the Originate's
    ActionID: another backend's, or a previous run's, must never be taken for
    one of ours (and each fits callback_attempts.action_id)."""
    async def main():
        target = AmiTarget("127.0.0.1", 5038, "hotline", "pw")
        one, two = AmiLink(target), AmiLink(target)
        return ([one.new_action_id() for _ in range(100)],
                [two.new_action_id() for _ in range(100)])

    ids_one, ids_two = run_simulated(main())
    assert len(set(ids_one)) == 100 and not set(ids_one) & set(ids_two)
    assert max(len(i) for i in ids_one + ids_two) <= 40
    assert all(unique_action_id(i) for i in ids_one + ids_two)
    assert not unique_action_id("hl-7")  # an older release's: the same on every backend
