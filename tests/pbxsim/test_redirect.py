"""AMI Redirect on the stand-in, driven by the backend's named command
(pbx.commands) over real sockets: a caller waiting in a queue is moved in
the dialplan (pbx.c async goto: Queue() returns as on a hangup, logging an
abandon, and the dialplan goes on); manager.c's refusals word for word."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import Clock, run_simulated
from core.settings import AmiTarget
from pbx import model_events as me
from pbx.ami import AmiLink
from pbx.commands import AmiError
from pbx.model import PbxModel
from pbxsim import CallerScript
from tests.pbxsim.helpers import SECRET, make_sim, record_events


def test_given_a_waiting_caller_when_redirected_then_queued_again_not_hung_up() -> None:
    async def main():
        sim = await make_sim()
        events = record_events(sim)
        link = AmiLink(AmiTarget("127.0.0.1", sim.ami_port, "hotline", SECRET))
        model = PbxModel(link, Clock.for_running_loop())
        model.attach()
        seen: list[tuple[str, str]] = []
        for name in (me.CallQueued.NAME, me.CallAbandoned.NAME, me.CallEnded.NAME):
            model.subscribe(name, lambda e: seen.append((e.NAME, getattr(e, "queue", ""))))
        try:
            await link.start()
            await link.wait_ready(10)
            # FastAGI does not answer: the dialplan queues the caller (general).
            call = sim.place_call(caller_number="13800138000", caller_name="张三",
                                  dialed="12345", script=CallerScript(patience=3600))
            while not any(c.app == "Queue" for c in sim.channels.values()):
                await asyncio.sleep(0.5)
            caller = next(c for c in sim.channels.values() if c.app == "Queue")
            await asyncio.sleep(5)
            errors = []
            for args in (("PJSIP/nobody-00000001", "from-pstn", "12345"),
                         (caller.name, "from-pstn", "12345", "nolabel")):
                with pytest.raises(AmiError) as refused:
                    await model.commands.redirect(*args)
                errors.append(refused.value.message)
            await model.commands.redirect(caller.name, "from-pstn", "12345", "overflow")
            await asyncio.sleep(5)
            still_up = not caller.gone and caller.app == "Queue"
            caller.request_hangup(16)
            await asyncio.wait_for(call.done, 60)
            await asyncio.sleep(1)
            return errors, still_up, seen, [n for n, h in events
                                            if n.startswith("QueueCaller") or n == "Hangup"
                                            and h.get("Uniqueid") == caller.uniqueid]
        finally:
            await model.close()
            await link.close()
            await sim.stop()

    errors, still_up, seen, events = run_simulated(main())
    assert errors == ["Channel does not exist: PJSIP/nobody-00000001", "Priority is invalid"]
    assert still_up
    assert events == ["QueueCallerJoin", "QueueCallerAbandon", "QueueCallerLeave",
                      "QueueCallerJoin", "QueueCallerAbandon", "QueueCallerLeave", "Hangup"]
    # One call, queued twice, abandoned once (at the hangup), ended once.
    assert seen == [("call.queued", "hotline-general"), ("call.queued", "hotline-general"),
                    ("call.abandoned", "hotline-general"), ("call.ended", "")]
