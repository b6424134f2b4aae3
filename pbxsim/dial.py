"""Dial(Tech/resource[&...][,timeout[,options]]): ring, bridge, hang up.

Sets DIALSTATUS (ANSWER, NOANSWER, CANCEL, CHANUNAVAIL), DIALEDPEERNAME,
DIALEDPEERNUMBER, ANSWEREDTIME, DIALEDTIME.  The caller leg ends the
dialplan when the bridge ends (Dial returns -1), as without the ``g``
option in Asterisk.  The order of events follows app_dial.c's
dial_exec_full (see supervisor-recording-callback.ami.raw, the
``[callback-out]`` Dial of a Local channel).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pbxsim.channels import Bridge
from pbxsim.expressions import split_args
from pbxsim.member_calls import MemberCall, place

if TYPE_CHECKING:
    from pbxsim.channels import Channel


def _durations(chan: Channel, answered_ms: int, dialed_ms: int) -> None:
    chan.set_var("ANSWEREDTIME", str(answered_ms // 1000))
    chan.set_var("ANSWEREDTIME_MS", str(answered_ms))
    chan.set_var("DIALEDTIME", str(dialed_ms // 1000))
    chan.set_var("DIALEDTIME_MS", str(dialed_ms))


def _prepare(chan: Channel, call: MemberCall, number: str) -> None:
    """The new outgoing channel before ast_call(): DIALEDPEERNUMBER, the
    caller's inheritable variables, then one snapshot with AppDial, its
    caller ID and its connected line."""
    tc = call.chan
    tc.set_var("DIALEDPEERNUMBER", number)
    tc.inherit_from(chan)
    old_cid, old_conn = (tc.cid_num, tc.cid_name), (tc.conn_num, tc.conn_name)
    if not tc.cid_num:
        # No caller ID from the channel driver: the dialplan extension, and
        # (no hint name) the caller's connected-line name.
        tc.cid_num, tc.cid_name = chan.exten, chan.conn_name or None
    tc.conn_num, tc.conn_name = chan.cid_num, chan.cid_name
    tc.exten = chan.exten
    tc.newexten("AppDial", "(Outgoing Line)")
    if (tc.cid_num, tc.cid_name) != old_cid:
        tc.set_caller(tc.cid_num, tc.cid_name)
    if (tc.conn_num, tc.conn_name) != old_conn:
        tc.emit("NewConnectedLine", "call")


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
    prepared: list[tuple[MemberCall, str]] = []
    for target in targets:
        call = place(sim, target, chan)
        if call is None:
            continue
        number = target.split("/", 1)[1]
        _prepare(chan, call, number)
        prepared.append((call, number))
    calls: list[MemberCall] = []
    for call, number in prepared:
        # ast_call(), then DialBegin: a Local ;2 is already running by then.
        if not call.is_pjsip:
            call.ring()
        chan.emit("DialBegin", "call", [("DialString", number)], dest=call.chan)
        if call.is_pjsip:
            call.ring()
            chan.emit("DialState", "call", [("DialStatus", "RINGING")], dest=call.chan)
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
    # wait_for_answer() clears the answered channel's extension (shown from
    # DialEnd on, and as a Newexten when it joins the bridge).
    old_exten, mchan.exten = mchan.exten, ""
    winner.publish_state()
    chan.set_var("DIALSTATUS", "ANSWER")
    chan.set_var("DIALEDPEERNAME", mchan.name)
    chan.set_var("DIALEDPEERNUMBER", mchan.get_var("DIALEDPEERNUMBER") or "")
    chan.emit("DialEnd", "call", [("DialStatus", "ANSWER")], dest=mchan)
    bridge = Bridge(sim)
    if old_exten:
        mchan.newexten("AppDial", "(Outgoing Line)")
    bridge.enter(mchan)
    bridge.enter(chan)
    mchan.set_var("BRIDGEPEER", chan.name)
    chan.set_var("BRIDGEPEER", mchan.name)
    answered_at = sim.loop_time()
    winner.start_talking()
    await asyncio.wait(
        [chan.hangup_future, mchan.hangup_future], return_when=asyncio.FIRST_COMPLETED
    )
    # The side that hung up leaves first; the called channel is hung up as
    # it leaves (by its far end, or by app_dial once the caller has gone).
    peer_first = mchan.hungup and not chan.hungup
    first, second = (mchan, chan) if peer_first else (chan, mchan)
    first.set_var("BRIDGEPEER", "")
    second.set_var("BRIDGEPEER", "")
    bridge.leave(first)
    if not peer_first:
        bridge.leave(second)
        if not mchan.hungup:
            mchan.request_hangup(16, soft=True)
    mchan.finish(16)
    winner.publish_state()
    if peer_first:
        bridge.leave(second)
    bridge.destroy()
    _durations(
        chan, int((sim.loop_time() - answered_at) * 1000), int((sim.loop_time() - start) * 1000)
    )
    chan.set_var("DIALSTATUS", "ANSWER")
    return 0 if "g" in options and not chan.hungup else -1
