"""Whole calls through the production dialplan (asterisk-conf/), with a
fake FastAGI IVR written here, compared with the Asterisk 22 fixtures."""

from __future__ import annotations

import asyncio
import re
import wave
from pathlib import Path

from core.clock import run_simulated
from pbxsim import CallerScript, PhoneBehaviour
from tests.pbxsim.helpers import AgiConn, AmiClient, FakeIvr, make_sim, record_events
from tests.pbxsim.test_ami import fixture_messages

LOG_LINE = re.compile(r"^\d{10}\|[^|]+\|[^|]+\|[^|]+\|[A-Z]+\|.*$")


def seq(events: list, channel: str) -> list[tuple[str, str]]:
    """(event, variable-or-app) for events whose Channel is ``channel``."""
    out = []
    for name, d in events:
        if d.get("Channel") == channel:
            out.append((name, d.get("Variable") or d.get("Application") or ""))
    return out


def fixture_seq(name: str, channel: str) -> list[tuple[str, str]]:
    return seq([(m.event, m.as_dict()) for m in fixture_messages(name) if m.event], channel)


def between(items: list[tuple[str, str]], first: tuple[str, str], last: tuple[str, str]) -> list:
    i = items.index(first)
    j = len(items) - 1 - items[::-1].index(last)
    return items[i : j + 1]


async def ivr_script(conn: AgiConn) -> None:
    if conn.env["agi_network_script"] == "survey":
        reply = await conn.cmd("WAIT FOR DIGIT 5000")
        await conn.cmd(f'SET VARIABLE "SURVEY" "{chr(int(reply.split("=")[1]))}"')
        return
    await conn.cmd('GET VARIABLE "HOTLINE_DIALED"')
    await conn.cmd('STREAM FILE welcome "0123456789*#"')
    await conn.cmd("WAIT FOR DIGIT 5000")
    await conn.cmd(f'RECORD FILE desc-{conn.env["agi_uniqueid"]} wav "#" 10000 0 s=2')
    await conn.cmd('SET VARIABLE "HOTLINE_QUEUE" "hotline-help"')


def test_answered_call_matches_fixture(tmp_path: Path) -> None:
    async def main() -> None:
        ivr = await FakeIvr(ivr_script).start()
        sim = await make_sim(
            fastagi=ivr.url, recordings_dir=tmp_path, queue_log_path=tmp_path / "queue_log"
        )
        events = record_events(sim)
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=2.0, talk_seconds=4.0))
        r = await ami.action(
            "QueueAdd",
            Queue="hotline-help",
            Interface="PJSIP/1001",
            MemberName="agent-1001",
            Penalty="0",
        )
        assert r["Response"] == "Success"
        call = sim.place_call(
            caller_number="13800138000",
            caller_name="张三",
            dialed="12345",
            script=CallerScript(keys="2", key_delay=1.5, survey_key="4"),
        )
        await call.done
        await asyncio.sleep(1)
        caller = call.channel
        assert caller.startswith("PJSIP/trunk-")
        assert call.outcome == "connected" and call.agent == "PJSIP/1001"

        # FastAGI: environment and results as res_agi sends them.
        ivr_conn, survey = ivr.sessions
        env = ivr_conn.env
        assert env["agi_request"] == f"{ivr.url}/ivr" and env["agi_network"] == "yes"
        assert (env["agi_channel"], env["agi_uniqueid"]) == (caller, call.uniqueid)
        assert (env["agi_callerid"], env["agi_calleridname"]) == ("13800138000", "张三")
        assert (env["agi_context"], env["agi_extension"], env["agi_priority"]) == (
            "from-pstn",
            "12345",
            "5",  # NoOp, Set(CHANNEL(language)), Set(__HOTLINE_DIALED), Answer, AGI
        )
        assert env["agi_version"] == "22.10.1" and env["agi_type"] == "PJSIP"
        replies = dict(ivr_conn.log)
        assert replies['GET VARIABLE "HOTLINE_DIALED"'] == "200 result=1 (12345)"
        assert replies['STREAM FILE welcome "0123456789*#"'] == "200 result=50 endpos=12000"
        assert replies["WAIT FOR DIGIT 5000"] == "200 result=0"
        rec = f'RECORD FILE desc-{call.uniqueid} wav "#" 10000 0 s=2'
        assert (
            replies[rec] == "200 result=0 (timeout) endpos=48000"
        )  # 5 s speech + 1 s kept silence
        with wave.open(str(tmp_path / f"desc-{call.uniqueid}.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (
                8000,
                1,
                2,
                48000,
            )
        assert dict(survey.log)["WAIT FOR DIGIT 5000"] == "200 result=52"

        # Member channel: the same events, in the same order, as the real PJSIP phone.
        member = next(
            d["Channel"]
            for n, d in events
            if n == "Newchannel" and d["Channel"].startswith("PJSIP/1001")
        )
        ours, theirs = seq(events, member), fixture_seq("sip-agent.ami.raw", "PJSIP/1001-00000000")
        # Our dialplan passes the call's id to the member channel (the
        # fixture's did not): one more inherited variable, nothing else.
        ours = [item for item in ours if item != ("VarSet", "__HOTLINE_CALL")]
        norm = lambda items: [(e, "inherited" if v.startswith("__") else v) for e, v in items]  # noqa: E731
        assert norm(ours) == norm(theirs)

        # Caller channel from Queue() to the end of the bridge.
        fix_caller = fixture_seq("sip-agent.ami.raw", "Local/12345@from-pstn-00000000;2")
        span = (("VarSet", "ANSWEREDTIME"), ("BridgeLeave", ""))
        assert between(seq(events, caller), *span) == between(fix_caller, *span)

        # Whole caller channel: dialplan steps of asterisk-conf, then the survey and Hangup.
        apps = [v for e, v in seq(events, caller) if e == "Newexten"]
        assert apps == [
            "NoOp",
            "Set",
            "Set",
            "Answer",
            "AGI",
            "GosubIf",  # (the IVR answered: no failover)
            "GotoIf",
            "GotoIf",
            "Set",
            "Set",
            "Queue",
            "GotoIf",
            "AGI",
            "GosubIf",
            "Hangup",
        ]
        names = [e for e, _ in seq(events, caller)]
        assert names[0] == "Newchannel" and names[-2:] == ["SoftHangupRequest", "Hangup"]
        assert ("VarSet", "QUEUESTATUS") in seq(events, caller)  # 'c' option: CONTINUE
        assert (
            next(d for n, d in events if n == "VarSet" and d["Variable"] == "QUEUESTATUS")["Value"]
            == "CONTINUE"
        )
        dtmf = [d for n, d in events if n == "DTMFEnd"]
        assert [(d["Digit"], d["Direction"]) for d in dtmf] == [
            ("2", "Received"),
            ("4", "Received"),
        ]

        # MixMonitor from the member gosub wrote its file.
        mix = next(
            d["Value"]
            for n, d in events
            if n == "VarSet" and d["Variable"] == "MIXMONITOR_FILENAME"
        )
        assert Path(mix).parent == tmp_path and Path(mix).exists()

        # queue_log: same lines as Asterisk writes for an answered call.
        lines = (tmp_path / "queue_log").read_text().splitlines()
        assert all(LOG_LINE.match(x) for x in lines)
        kinds = [x.split("|")[4] for x in lines]
        assert kinds == ["QUEUESTART", "ADDMEMBER", "ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
        enter = lines[2].split("|")
        assert enter[1:4] == [call.uniqueid, "hotline-help", "NONE"] and enter[5:] == [
            "",
            "13800138000",
            "1",
        ]
        connect = lines[3].split("|")
        assert connect[3] == "agent-1001" and connect[6].startswith(connect[0][:6])
        complete = lines[4].split("|")
        assert complete[5:] == [connect[5], "4", "1"]
        await sim.stop()
        ivr.close()

    run_simulated(main())


def test_fastagi_down_falls_back_to_general_queue(tmp_path: Path) -> None:
    async def main() -> None:
        sim = await make_sim(fastagi="agi://127.0.0.1:9", queue_log_path=tmp_path / "queue_log")
        events = record_events(sim)
        sim.add_phone("PJSIP/2001", PhoneBehaviour(answer_after=1.0, talk_seconds=5.0))
        sim.queues.add_member("hotline-general", "PJSIP/2001", membername="agent-2001")
        call = sim.place_call(
            caller_number="13900139000", caller_name="Li Si", dialed="96110", script=CallerScript()
        )
        await call.done
        varsets = {
            d["Variable"]: d["Value"]
            for n, d in events
            if n == "VarSet" and d["Channel"] == call.channel
        }
        assert varsets["AGISTATUS"] == "FAILURE"
        assert varsets["HOTLINE_QUEUE"] == "hotline-general"
        assert varsets["__HOTLINE_DIALED"] == "96110"
        joins = [d for n, d in events if n == "QueueCallerJoin"]
        assert [d["Queue"] for d in joins] == ["hotline-general"]
        assert call.outcome == "connected"
        # The "unanswered"/"survey" AGI also fails, and no failover backend is set:
        # [hotline-agi-failover] returns at once; the dialplan still ends with Hangup.
        assert [
            d["Application"] for n, d in events if n == "Newexten" and d["Channel"] == call.channel
        ][-7:] == ["AGI", "GosubIf", "Set", "Set", "GotoIf", "Return", "Hangup"]
        await sim.stop()

    run_simulated(main())
