"""AMI server: login, banner, ping, queue actions, permissions, robustness."""

from __future__ import annotations

import asyncio

from core.clock import run_simulated
from pbx.ami_protocol import iter_transcript_received, parse
from pbxsim import CallerScript, PhoneBehaviour
from tests.pbxsim.helpers import FIXTURES, AmiClient, make_sim


def fixture_messages(name: str) -> list:
    data = (FIXTURES / "scenarios" / name).read_bytes()
    msgs, _ = parse(b"".join(iter_transcript_received(data)))
    return msgs


def keys(msg) -> list[str]:
    return [k for k, _ in msg.headers]


def test_banner_login_ping_logoff() -> None:
    async def main() -> None:
        sim = await make_sim()
        ami = await AmiClient.connect(sim.ami_port)
        resp = await ami.login()
        assert ami.raw.startswith(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n")
        assert resp.get("Message") == "Authentication accepted"
        booted = await ami.wait_for(lambda m: m.event == "FullyBooted")
        assert keys(booted) == ["Event", "Privilege", "Uptime", "LastReload", "Status"]
        assert booted["Privilege"] == "system,all"
        await asyncio.sleep(5)
        pong = await ami.action("Ping")
        assert keys(pong) == ["Response", "ActionID", "Ping", "Timestamp"]
        assert abs(float(pong["Timestamp"]) - sim.clock.timestamp()) < 1
        bye = await ami.action("Logoff")
        assert (bye["Response"], bye["Message"]) == ("Goodbye", "Thanks for all the fish.")
        await asyncio.sleep(0.1)
        assert ami._task.done()  # server closed the connection
        await sim.stop()

    run_simulated(main())


def test_bad_secret_and_unauthenticated() -> None:
    async def main() -> None:
        sim = await make_sim()
        ami = await AmiClient.connect(sim.ami_port)
        denied = await ami.action("QueueStatus")
        assert (denied["Response"], denied["Message"]) == ("Error", "Permission denied")
        bad = await ami.login(secret="wrong")
        assert (bad["Response"], bad["Message"]) == ("Error", "Authentication failed")
        await asyncio.sleep(0.1)
        assert ami._task.done()
        assert not ami.events()
        await sim.stop()

    run_simulated(main())


def test_acl_denies_other_address() -> None:
    from pbxsim.ami_server import acl_allows
    from pbxsim.config import ManagerUser

    u = ManagerUser("x", acl=[("deny", "0.0.0.0/0.0.0.0"), ("permit", "127.0.0.1/255.255.255.255")])
    assert acl_allows(u, "127.0.0.1") and not acl_allows(u, "10.1.2.3")


def test_queue_add_status_summary_match_fixture_shape() -> None:
    want = fixture_messages("three-calls.ami.raw")
    want_added = next(m for m in want if m.event == "QueueMemberAdded")
    want_params = next(m for m in want if m.event == "QueueParams")
    want_member = next(m for m in want if m.event == "QueueMember")
    want_complete = next(m for m in want if m.event == "QueueStatusComplete")
    want_summary = next(m for m in want if m.event == "QueueSummary")
    want_start = next(m for m in want if m.get("EventList") == "start")

    async def main() -> None:
        sim = await make_sim()
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        r1 = await ami.action(
            "QueueAdd",
            Queue="hotline-help",
            Interface="Local/1001@agents/n",
            MemberName="agent-1001",
            StateInterface="Custom:agent-1001",
            Penalty="0",
            Paused="false",
        )
        assert r1["Message"] == "Added interface to queue"
        r2 = await ami.action(
            "QueueAdd",
            Queue="hotline-help",
            Interface="Local/1002@agents/n",
            MemberName="agent-1002",
            Penalty="1",
            Paused="true",
            Reason="training",
        )
        assert r2["Response"] == "Success"
        dup = await ami.action("QueueAdd", Queue="hotline-help", Interface="Local/1002@agents/n")
        assert dup["Message"] == "Unable to add interface: Already there"
        nq = await ami.action("QueueAdd", Queue="nope", Interface="PJSIP/1")
        assert nq["Message"] == "Unable to add interface to queue: No such queue"
        added = ami.events("QueueMemberAdded")
        assert [keys(a) for a in added] == [keys(want_added)] * 2
        assert added[1]["Paused"] == "1" and added[1]["PausedReason"] == "training"
        assert added[0]["Status"] == "0"  # Custom: device state unknown, as in the fixture
        status = await ami.action("QueueStatus", Queue="hotline-help")
        assert keys(status) == keys(want_start)
        done = await ami.wait_for(lambda m: m.event == "QueueStatusComplete")
        assert keys(done) == keys(want_complete) and done["ListItems"] == "3"
        params = ami.events("QueueParams")[0]
        assert keys(params) == keys(want_params)
        assert params["Strategy"] == "rrmemory" and params["ServicelevelPerf"] == "0.0"
        members = ami.events("QueueMember")
        assert [keys(x) for x in members] == [keys(want_member)] * 2
        await ami.action("QueueSummary", Queue="hotline-help")
        summ = await ami.wait_for(lambda m: m.event == "QueueSummary")
        assert keys(summ) == keys(want_summary)
        assert (summ["LoggedIn"], summ["Available"]) == ("2", "1")
        p = await ami.action(
            "QueuePause",
            Queue="hotline-help",
            Interface="Local/1001@agents/n",
            Paused="true",
            Reason="meal",
        )
        assert p["Message"] == "Interface paused successfully"
        pause_ev = await ami.wait_for(lambda m: m.event == "QueueMemberPause")
        assert pause_ev["PausedReason"] == "meal"
        rm = await ami.action("QueueRemove", Queue="hotline-help", Interface="Local/1002@agents/n")
        assert rm["Message"] == "Removed interface from queue"
        rm2 = await ami.action("QueueRemove", Queue="hotline-help", Interface="Local/1002@agents/n")
        assert rm2["Message"] == "Unable to remove interface: Not there"
        await sim.stop()

    run_simulated(main())


def test_permissions_and_unknown_and_malformed() -> None:
    async def main() -> None:
        sim = await make_sim()
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        cmd = await ami.action("Command", Command="core show channels")
        assert (cmd["Response"], cmd["Message"]) == ("Error", "Permission denied")
        mix = await ami.action("MixMonitor", Channel="PJSIP/x-1", File="a.wav")
        assert mix["Message"] == "Permission denied"
        unk = await ami.action("FooBar")
        assert unk["Message"] == (
            "Invalid/unknown command: FooBar. Use Action: ListCommands to show available commands."
        )
        orig = await ami.action("Originate", Channel="Local/1001@agents")
        assert orig["Message"] == "Originate with 'Exten' requires 'Context' and 'Priority'"
        # Garbage: no Action header, header without colon, binary junk.
        ami.send_raw(b"NoColonHere\r\nfoo: bar\r\n\r\n\xff\xfe\x00garbage\r\n\r\n")
        missing = await ami.wait_for(lambda m: m.get("Message") == "Missing action in request")
        assert missing["Response"] == "Error"
        still = await ami.action("Ping")
        assert still["Ping"] == "Pong"
        await sim.stop()

    run_simulated(main())


def test_events_filtered_and_utf8_caller_name() -> None:
    async def main() -> None:
        sim = await make_sim()
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=1, talk_seconds=3))
        full = await AmiClient.connect(sim.ami_port)
        await full.login()
        quiet = await AmiClient.connect(sim.ami_port)
        await quiet.action("Login", Username="hotline", Secret="s3cret", Events="off")
        calls_only = await AmiClient.connect(sim.ami_port)
        await calls_only.action("Login", Username="hotline", Secret="s3cret", Events="call")
        odd = '张三 "O\'Neil" <x>'
        call = sim.place_call(
            caller_number="13800138000", caller_name=odd, dialed="12345", script=CallerScript()
        )
        await call.done
        await asyncio.sleep(1)
        first = full.events("Newchannel")[0]
        assert first["CallerIDName"] == odd and first["Channel"].startswith("PJSIP/trunk-")
        assert "张三".encode() in full.raw
        assert not quiet.events()
        assert {m["Privilege"] for m in calls_only.events()} == {"call,all"}
        assert {m["Privilege"] for m in full.events()} >= {"call,all", "dialplan,all"}
        await sim.stop()

    run_simulated(main())
