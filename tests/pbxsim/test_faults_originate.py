"""Fault-injection hooks, AMI Originate, Local-channel members."""

from __future__ import annotations

import asyncio

from core.clock import run_simulated
from pbxsim import CallerScript, PhoneBehaviour
from tests.pbxsim.helpers import FIXTURES, AgiConn, AmiClient, FakeIvr, make_sim, record_events


def test_drop_stall_restart() -> None:
    async def main() -> None:
        sim = await make_sim()
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        sim.drop_ami_connections()
        await asyncio.sleep(0.1)
        assert ami._task.done()
        ami2 = await AmiClient.connect(sim.ami_port)
        await ami2.login()
        sim.stall_ami(30)
        start = sim.loop_time()
        pong = await ami2.action("Ping")
        assert pong["Ping"] == "Pong" and sim.loop_time() - start >= 30
        call = sim.place_call(caller_number="1", caller_name="x", script=CallerScript(patience=600))
        await asyncio.sleep(10)
        assert call.channel in sim.channels
        await sim.restart()
        assert not sim.channels and call.done.done()
        assert ami2._task.done()
        ami3 = await AmiClient.connect(sim.ami_port)
        await ami3.login()
        booted = await ami3.wait_for(lambda m: m.event == "FullyBooted")
        assert booted["Uptime"] == "0"
        await sim.stop()

    run_simulated(main())


def test_originate_to_pjsip_phone_then_trunk() -> None:
    async def main() -> None:
        sim = await make_sim()
        events = record_events(sim)
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=2, talk_seconds=20))
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        r = await ami.action(
            "Originate",
            Channel="PJSIP/1001",
            Context="callback-out",
            Exten="13800138000",
            Priority="1",
            CallerID='"12345 回访" <12345>',
            Async="true",
            Timeout="20000",
            Variable="CALLBACK_ID=7",
        )
        assert r["Message"] == "Originate successfully queued"
        resp = await ami.wait_for(lambda m: m.event == "OriginateResponse")
        assert (resp["Response"], resp["Reason"], resp["Context"], resp["Exten"]) == (
            "Success",
            "4",
            "callback-out",
            "13800138000",
        )
        assert resp["CallerIDName"] == "12345 回访" and resp["Channel"].startswith("PJSIP/1001-")
        await asyncio.sleep(60)
        apps = [
            d["Application"]
            for n, d in events
            if n == "Newexten" and d["Channel"] == resp["Channel"]
        ]
        assert apps[:3] == ["AppDial2", "NoOp", "Dial"]
        dial = [d for n, d in events if n == "DialEnd" and d.get("Channel") == resp["Channel"]]
        assert [d["DialStatus"] for d in dial] == ["ANSWER"]
        assert not sim.channels
        bad = await ami.action(
            "Originate", Channel="PJSIP/1001", Context="callback-out", Exten="12", Priority="1"
        )
        assert bad["Message"] == "Extension does not exist."
        nobody = await ami.action(
            "Originate",
            Channel="PJSIP/1999",
            Context="callback-out",
            Exten="13800138000",
            Priority="1",
            Async="true",
        )
        assert nobody["Response"] == "Success"
        fail = await ami.wait_for(
            lambda m: m.event == "OriginateResponse" and m["Response"] == "Failure"
        )
        assert fail["Channel"] == "PJSIP/1999"
        await sim.stop()

    run_simulated(main())


def test_local_member_and_local_originate_fixture_config() -> None:
    async def script(conn: AgiConn) -> None:
        await conn.cmd('STREAM FILE hello-world "0123456789*#"')
        await conn.cmd("WAIT FOR DIGIT 5000")
        await conn.cmd('EXEC Queue "hotline-help,,,,60"')
        await conn.cmd('SET VARIABLE "HOTLINE_QUEUE" "hotline-help"')

    async def main() -> None:
        ivr = await FakeIvr(script).start()
        sim = await make_sim(FIXTURES / "config", fastagi=ivr.url)
        events = record_events(sim)
        ami = await AmiClient.connect(sim.ami_port)
        await ami.login()
        await ami.action(
            "QueueAdd",
            Queue="hotline-help",
            Interface="Local/1001@agents/n",
            MemberName="agent-1001",
            StateInterface="Custom:agent-1001",
        )
        await ami.action(
            "Originate",
            Channel="Local/12345@from-pstn",
            Context="caller-script",
            Exten="s",
            Priority="1",
            CallerID='"张三" <13800138000>',
            Async="true",
            Variable="CALLER_KEY=2",
            Timeout="30000",
        )
        await asyncio.sleep(60)
        assert dict(ivr.sessions[0].log)["WAIT FOR DIGIT 5000"] == "200 result=50"
        conn = [d for n, d in events if n == "AgentConnect"]
        assert [d["Interface"] for d in conn] == ["Local/1001@agents/n"]
        assert conn[0]["DestChannel"].endswith(";1")
        done = [d for n, d in events if n == "AgentComplete"]
        assert done and done[0]["Reason"] == "agent"
        assert not sim.channels
        await sim.stop()
        ivr.close()

    run_simulated(main())
