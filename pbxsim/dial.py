"""Dial(Tech/resource[&...][,timeout[,options]]): ring, bridge, hang up.

Sets DIALSTATUS (ANSWER, NOANSWER, CANCEL, CHANUNAVAIL), DIALEDPEERNAME,
DIALEDPEERNUMBER, ANSWEREDTIME, DIALEDTIME.  The caller leg ends the
dialplan when the bridge ends (Dial returns -1), as without the ``g``
option in Asterisk.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pbxsim.channels import Bridge
from pbxsim.expressions import split_args
from pbxsim.member_calls import LocalCall, MemberCall, place

if TYPE_CHECKING:
    from pbxsim.channels import Channel


def _durations(chan: Channel, answered_ms: int, dialed_ms: int) -> None:
    chan.set_var("ANSWEREDTIME", str(answered_ms // 1000))
    chan.set_var("ANSWEREDTIME_MS", str(answered_ms))
    chan.set_var("DIALEDTIME", str(dialed_ms // 1000))
    chan.set_var("DIALEDTIME_MS", str(dialed_ms))


async def dial_exec(chan: Channel, data: str) -> int:
    args = split_args(data) + ["", ""]
    targets = [t for t in args[0].split("&") if t]
    timeout = float(args[1]) if args[1].strip() else None
    options = args[2]
    sim = chan.sim
    for name in (
        "DIALSTATUS",
        "DIALEDPEERNUMBER",
        "DIALEDPEERNAME",
        "ANSWEREDTIME",
        "ANSWEREDTIME_MS",
        "DIALEDTIME",
        "DIALEDTIME_MS",
        "RINGTIME",
        "RINGTIME_MS",
        "PROGRESSTIME",
        "PROGRESSTIME_MS",
    ):
        chan.set_var(name, "")
    start = sim.loop_time()
    calls: list[MemberCall] = []
    for target in targets:
        call = place(sim, target, chan)
        if call is None:
            continue
        mchan = call.chan
        mchan.set_caller(chan.cid_num, chan.cid_name, event=False)
        mchan.newexten("AppDial", "(Outgoing Line)")
        mchan.set_connected(chan.cid_num, chan.cid_name)
        for k, v in chan.inheritable():
            mchan.set_var(k, v)
        if isinstance(call, LocalCall):
            call.inherit(chan.inheritable())
        chan.emit("DialBegin", "call", [("DialString", target.split("/", 1)[1])], dest=mchan)
        call.ring()
        if call.is_pjsip:
            chan.emit("DialState", "call", [("DialStatus", "RINGING")], dest=mchan)
        call.publish_state()
        calls.append(call)
    if not calls:
        chan.set_var("DIALSTATUS", "CHANUNAVAIL")
        return 0
    waiters = {asyncio.ensure_future(c.wait_answer(timeout)): c for c in calls}
    winner: MemberCall | None = None
    pending: set[asyncio.Future[Any]] = set(waiters)
    while pending and winner is None and not chan.hungup:
        done, pending = await asyncio.wait(
            pending | {chan.hangup_future}, return_when=asyncio.FIRST_COMPLETED
        )
        pending.discard(chan.hangup_future)
        for t in done:
            if t in waiters and t.result():
                winner = waiters[t]
                break
    for t in pending:
        t.cancel()
    for c in calls:
        if c is not winner and not c.chan.gone:
            status = "CANCEL" if (chan.hungup or winner) else "NOANSWER"
            chan.emit("DialEnd", "call", [("DialStatus", status)], dest=c.chan)
            c.cancel(26 if winner else 0)
            c.publish_state()
    if winner is None:
        chan.set_var("DIALSTATUS", "CANCEL" if chan.hungup else "NOANSWER")
        _durations(chan, 0, int((sim.loop_time() - start) * 1000))
        return -1 if chan.hungup else 0
    mchan = winner.chan
    winner.answer()
    winner.publish_state()
    chan.set_var("DIALSTATUS", "ANSWER")
    chan.set_var("DIALEDPEERNAME", mchan.name)
    chan.set_var("DIALEDPEERNUMBER", winner.interface.split("/", 1)[1])
    chan.emit("DialEnd", "call", [("DialStatus", "ANSWER")], dest=mchan)
    if "g" in options:
        pass
    bridge = Bridge(sim)
    bridge.enter(mchan)
    bridge.enter(chan)
    chan.set_var("BRIDGEPEER", mchan.name)
    mchan.set_var("BRIDGEPEER", chan.name)
    answered_at = sim.loop_time()
    winner.start_talking()
    await asyncio.wait(
        [chan.hangup_future, mchan.hangup_future], return_when=asyncio.FIRST_COMPLETED
    )
    chan.set_var("BRIDGEPEER", "")
    bridge.leave(mchan)
    if not mchan.hungup:
        mchan.request_hangup(16, soft=True)
    mchan.finish(16)
    winner.publish_state()
    bridge.leave(chan)
    bridge.destroy()
    _durations(
        chan, int((sim.loop_time() - answered_at) * 1000), int((sim.loop_time() - start) * 1000)
    )
    chan.set_var("DIALSTATUS", "ANSWER")
    return 0 if "g" in options and not chan.hungup else -1
