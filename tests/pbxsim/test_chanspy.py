"""ChanSpy in the stand-in (pbxsim/chanspy.py): what app_chanspy.c shows on
AMI when a supervisor listens, for a bridged phone call and a Local agent,
when the target is missing, and when either side hangs up."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from core.clock import run_simulated
from pbxsim import PbxSim, PhoneBehaviour
from pbxsim.chanspy import _announcement, _wanted
from tests.pbxsim.helpers import TEST_CONF, AmiClient, make_sim

EXTENSIONS = """\
[general]
static = yes

[callers]
; A caller on the line to agent 1001's phone.
exten => 100,1,Dial(PJSIP/1001,20)
 same => n,Hangup()
; A caller talking to a Local agent (no audio reaches it).
exten => 200,1,Dial(Local/1002@agents/n,20)
 same => n,Hangup()

[agents]
exten => _X.,1,Answer()
 same => n,Wait(${AGENT_TALK})
 same => n,Hangup()

[supervisor-spy]
exten => s,1,Answer()
 same => n,ChanSpy(${SPY_TARGET},${SPY_OPTS})
 same => n,Set(SPY_RESULT=continued)
 same => n,Wait(60)
 same => n,Hangup()
"""
SPYER = "Local/s@supervisor-spy"


def _conf(tmp_path: Path) -> Path:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "extensions.conf").write_text(EXTENSIONS)
    shutil.copy(TEST_CONF / "manager.conf", conf / "manager.conf")
    return conf


class Timeline:
    """Every event with its simulated time."""

    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self.t0 = sim.loop_time()
        self.events: list[tuple[float, str, dict[str, str]]] = []
        sim.event_listeners.append(self._tap)

    def _tap(self, event: str, _priv: str, headers: list[tuple[str, str]]) -> None:
        self.events.append((self.sim.loop_time() - self.t0, event, dict(headers)))

    def find(self, event: str, **match: str) -> list[tuple[float, dict[str, str]]]:
        return [(t, h) for t, e, h in self.events
                if e == event and all(h.get(k, "").startswith(v) for k, v in match.items())]

    def index(self, event: str, **match: str) -> int:
        return next(i for i, (_t, e, h) in enumerate(self.events)
                    if e == event and all(h.get(k, "").startswith(v) for k, v in match.items()))


async def _start(tmp_path: Path, phone_talk: float = 0) -> tuple[PbxSim, Timeline, AmiClient]:
    """The stand-in, its timeline, a logged-in AMI client (and agent 1001's
    phone, answering after 1 s and talking ``phone_talk`` s, if given)."""
    sim = await make_sim(_conf(tmp_path))
    tl = Timeline(sim)
    if phone_talk:
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=1, talk_seconds=phone_talk))
    ami = await AmiClient.connect(sim.ami_port)
    await ami.login()
    return sim, tl, ami


async def _originate(ami: AmiClient, channel: str, wait: float, variables: str) -> None:
    r = await ami.action("Originate", Channel=channel, Application="Wait", Data=str(wait),
                         Async="true", CallerID='"supervisor" <9001>', Variable=variables)
    assert r["Response"] == "Success"


async def _spy(ami: AmiClient, target: str, opts: str, wait: float) -> None:
    await _originate(ami, SPYER, wait, f"SPY_TARGET={target},SPY_OPTS={opts}")


async def _local_agent_call(ami: AmiClient, talk: float) -> None:
    """A caller put through to Local/1002@agents, who hangs up after ``talk`` s."""
    await _originate(ami, "Local/200@callers/n", 60, f"__AGENT_TALK={talk:g}")


def test_spy_on_a_bridged_phone_call_starts_and_stops(tmp_path: Path) -> None:
    async def main() -> None:
        sim, tl, ami = await _start(tmp_path, phone_talk=20)
        await _originate(ami, "Local/100@callers/n", 60, "X=1")
        await asyncio.sleep(3)
        await _spy(ami, "PJSIP/1001", "qb", 40)
        await asyncio.sleep(60)
        [(start_t, start)] = tl.find("ChanSpyStart")
        assert start["SpyerChannel"] == "Local/s@supervisor-spy-00000001;2"
        assert start["SpyeeChannel"].startswith("PJSIP/1001-")
        assert start["SpyeeChannelStateDesc"] == "Up" and start["SpyerContext"] == "supervisor-spy"
        assert start["SpyeePriority"] == "1" and start["SpyerPriority"] == "2"
        assert 3 < start_t < 4  # answer, then one 100 ms scan
        # The phone hangs up after 20 s: ChanSpyStop just before its Hangup.
        [(stop_t, stop)] = tl.find("ChanSpyStop")
        assert stop["SpyeeChannel"] == start["SpyeeChannel"]
        assert tl.index("ChanSpyStop") < tl.index("Hangup", Channel=start["SpyeeChannel"])
        assert 20 < stop_t < 22
        # Without E the spyer keeps scanning; it hangs up when its far end
        # (the ;1 in Wait(40)) does.
        [(hup_t, _)] = tl.find("Hangup", Channel="Local/s@supervisor-spy-00000001;2")
        assert hup_t >= 43
        await sim.stop()

    run_simulated(main())


def test_spy_on_a_missing_channel_waits_or_stops_with_S(tmp_path: Path) -> None:
    async def main() -> None:
        sim, tl, ami = await _start(tmp_path)
        await _spy(ami, "PJSIP/9999", "q", 5)
        await asyncio.sleep(10)
        assert not tl.find("ChanSpyStart")
        spyer = "Local/s@supervisor-spy-00000000;2"
        # ChanSpy scans every 100 ms until the spyer hangs up.
        assert not tl.find("VarSet", Channel=spyer, Variable="SPY_RESULT")
        [(t, _)] = tl.find("Hangup", Channel=spyer)
        assert t >= 5
        # With S it returns after one scan and the dialplan goes on.
        await _spy(ami, "PJSIP/9999", "qS", 5)
        await asyncio.sleep(1)
        spyer = "Local/s@supervisor-spy-00000001;2"
        [(t, h)] = tl.find("VarSet", Channel=spyer, Variable="SPY_RESULT")
        assert h["Value"] == "continued" and t < 0.5 + tl.find("Newchannel", Channel=spyer)[0][0]
        await sim.stop()

    run_simulated(main())


def test_spy_ends_when_the_spied_channel_hangs_up(tmp_path: Path) -> None:
    async def main() -> None:
        sim, tl, ami = await _start(tmp_path)
        await _local_agent_call(ami, 10)
        await asyncio.sleep(1)
        # E: leave ChanSpy once the agent hangs up; the dialplan goes on.
        # u: the argument is the full name of the channel (its ;2 half).
        await _spy(ami, "Local/1002@agents-00000001;2", "qEu", 30)
        await asyncio.sleep(20)
        [(_, start)] = tl.find("ChanSpyStart")
        assert start["SpyeeChannel"] == "Local/1002@agents-00000001;2"
        [(stop_t, stop)] = tl.find("ChanSpyStop")
        assert stop["SpyeePriority"] == "3"  # its Hangup() step
        assert tl.index("ChanSpyStop") < tl.index("Hangup", Channel=start["SpyeeChannel"])
        [(cont_t, _)] = tl.find("VarSet", Channel=start["SpyerChannel"], Variable="SPY_RESULT")
        assert 10 <= stop_t <= cont_t < 11
        await sim.stop()

    run_simulated(main())


def test_spyer_hangup_waits_for_audio_or_the_spied_channel(tmp_path: Path) -> None:
    async def main() -> None:
        sim, tl, ami = await _start(tmp_path, phone_talk=30)
        # Audio flows through a phone: the spyer's hangup ends the spy at once.
        await _originate(ami, "Local/100@callers/n", 60, "X=1")
        await asyncio.sleep(2)
        await _spy(ami, "PJSIP/1001", "q", 4)
        # A Local agent hears nothing: app_chanspy's audiohook detach waits
        # for the agent's hangup (as in supervisor-recording-callback).
        await _local_agent_call(ami, 20)
        await asyncio.sleep(1)
        await _spy(ami, "Local/1002@agents", "q", 4)
        await asyncio.sleep(30)
        stops = {h["SpyeeChannel"].split("-")[0]: (t, h) for t, h in tl.find("ChanSpyStop")}
        quick_t, quick = stops["PJSIP/1001"]
        [(quick_req_t, _)] = tl.find("HangupRequest", Channel=quick["SpyerChannel"])
        assert quick_req_t == quick_t == 6  # its ;1's Wait(4) ended
        late_t, _ = stops["Local/1002@agents"]
        [(agent_hup_t, _)] = tl.find("Hangup", Channel="Local/1002@agents-00000003;2")
        # AGENT_TALK=20 from t=2, after Answer()'s 500 ms wait for media (__ast_answer)
        assert late_t == agent_hup_t == 22.5
        # The stuck spyer: HangupRequest (cause 0 from its ;1), and only after
        # ChanSpyStop the SoftHangupRequest and Hangup as its dialplan ends.
        late = next(h["SpyerChannel"] for _, h in tl.find("ChanSpyStop")
                    if h["SpyeeChannel"].startswith("Local/1002"))
        [(req_t, req)] = tl.find("HangupRequest", Channel=late)
        assert req["Cause"] == "0" and req_t < 8
        [(hup_t, hup)] = tl.find("Hangup", Channel=late)
        assert hup_t == late_t and hup["Cause"] == "0"
        assert tl.find("SoftHangupRequest", Channel=late)[0][0] == hup_t
        await sim.stop()

    run_simulated(main())


def test_cycle_key_moves_to_the_next_channel(tmp_path: Path) -> None:
    async def main() -> None:
        sim, tl, ami = await _start(tmp_path)
        await _local_agent_call(ami, 30)
        await asyncio.sleep(1)
        await _spy(ami, "Local/1002@agents", "q", 20)
        await asyncio.sleep(2)
        spyer = sim.channels["Local/s@supervisor-spy-00000002;2"]
        spyer.receive_dtmf("*")
        await asyncio.sleep(1)
        starts = [h["SpyeeChannel"] for _, h in tl.find("ChanSpyStart")]
        # Asterisk's channel container (names hashed into 1567 buckets) lists
        # ;1 (bucket 1529) before ;2 (bucket 1532) for this pair.
        assert starts == ["Local/1002@agents-00000001;1", "Local/1002@agents-00000001;2"]
        assert len(tl.find("ChanSpyStop")) == 1
        await sim.stop()

    run_simulated(main())


def test_announcement_groups_and_enforced_list(tmp_path: Path) -> None:
    async def main() -> None:
        sim = await make_sim(_conf(tmp_path))
        spyer = sim.new_channel("Local/s@x-00000000;2", context="x", exten="s", tech="Local")
        phone = sim.new_channel("PJSIP/1001-00000001", context="x", exten="s")
        # Not quiet: the technology letter by letter (no spy-pjsip sound), then the number.
        said = _announcement(spyer, phone, {}).split("&")
        assert said[:4] == ["letters/s", "letters/p", "letters/y", "letters/dash"]
        assert said[-4:] == ["digits/1", "digits/0", "digits/0", "digits/1"]
        assert _announcement(spyer, phone, {"s": ""}) == "digits/1&digits/0&digits/0&digits/1"
        phone.set_var("SPYGROUP", "sales:support")
        assert _wanted(spyer, phone, {"g": "support"})
        assert not _wanted(spyer, phone, {"g": "billing"})
        assert _wanted(spyer, phone, {"e": "PJSIP/1002:PJSIP/1001"})
        assert not _wanted(spyer, phone, {"e": "PJSIP/1002"})
        assert not _wanted(spyer, phone, {"b": ""})  # not bridged
        await sim.stop()

    run_simulated(main())
