"""Queue member legs: ring_entry (AgentCalled, DialBegin, ringing), rna
(AgentRingNoAnswer, autopause) and connect (answer, member gosub, bridge,
AgentConnect/AgentComplete, queue statistics).  Event order follows
tests/fixtures/asterisk-22/scenarios/sip-agent.ami.raw.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbxsim.channels import Bridge, Channel
from pbxsim.member_calls import LocalCall, MemberCall, place
from pbxsim.pbx import run_subroutine

if TYPE_CHECKING:
    from pbxsim.queues import Member, Queue, QueueEntry, QueueManager


@dataclass
class Attempt:
    """One member in one try_calling round (app_queue's callattempt)."""

    member: Member
    metric: int
    pos: int
    stillgoing: bool = True
    call: MemberCall | None = None
    waiter: asyncio.Task[bool] | None = None

    def release(self, cause: int) -> None:
        """Hang up an unanswered leg and make the member callable again."""
        self.member.pending = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.cancel()
        if self.call is not None and not self.call.chan.gone:
            self.call.cancel(cause)
            self.call.publish_state()


def can_ring(mgr: QueueManager, q: Queue, m: Member) -> bool:
    if m.paused or m.pending:
        return False
    m.status = (
        mgr._status_of(m.state_interface) if m.state_interface.startswith("PJSIP/") else m.status
    )
    if not m.ringinuse and m.status not in (0, 1):
        return False
    return not mgr.in_wrapup(q, m)


def ring_entry(mgr: QueueManager, q: Queue, entry: QueueEntry, a: Attempt) -> bool:
    """Call one member.  False (and the attempt is finished) when it cannot ring."""
    chan = entry.chan
    m = a.member
    if not can_ring(mgr, q, m):
        a.stillgoing = False
        return False
    call = place(mgr.sim, m.interface, chan)
    if call is None:
        a.stillgoing = False
        return False
    a.call = call
    m.pending = True
    mchan = call.chan
    mchan.cid_num, mchan.cid_name = chan.cid_num, chan.cid_name
    mchan.newexten("AppQueue", "(Outgoing Line)")
    mchan.emit(
        "NewCallerid", "call", [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
    )
    mchan.inherit_from(chan)
    dialed = m.interface.split("/", 1)[1]
    mchan.set_var("DIALEDPEERNUMBER", dialed)
    if isinstance(call, LocalCall):
        # ring_entry() gives ;1 the caller as its connected line without
        # publishing it; local_call() crosses it over to ;2's caller ID.
        call.pending_connected = (chan.cid_num, chan.cid_name)
    chan.emit(
        "AgentCalled",
        "agent",
        [("Queue", q.name), ("Interface", m.interface), ("MemberName", m.membername)],
        dest=mchan,
        dest_override={
            "Exten": chan.exten,
            "ConnectedLineNum": chan.cid_num or "<unknown>",
            "ConnectedLineName": chan.cid_name or "<unknown>",
        },
    )
    chan.emit("DialBegin", "call", [("DialString", m.interface)], dest=mchan)
    if call.is_pjsip:
        # The phone reports ringing: the member leg now shows the caller.
        mchan.exten = chan.exten
        mchan.conn_num, mchan.conn_name = chan.cid_num, chan.cid_name
    call.ring()
    if not call.is_pjsip:
        # A Local ;1 takes the caller's exten and connected line at answer.
        mchan.exten = chan.exten
        mchan.conn_num, mchan.conn_name = chan.cid_num, chan.cid_name
    if call.is_pjsip:
        # A phone reports ringing; a Local ;1 shows nothing until answered.
        mchan.newexten("AppQueue", "(Outgoing Line)")
        mchan.emit("NewConnectedLine", "call")
        chan.emit("DialState", "call", [("DialStatus", "RINGING")], dest=mchan)
    call.publish_state()
    a.waiter = asyncio.ensure_future(call.wait_answer(_ring_timeout(q)))
    return True


def _ring_timeout(q: Queue) -> float | None:
    return float(q.cfg.timeout) if q.cfg.timeout else None


def rna(mgr: QueueManager, q: Queue, entry: QueueEntry, a: Attempt, ring_ms: int) -> None:
    """Ring-no-answer: AgentRingNoAnswer, RINGNOANSWER, autopause."""
    chan, m = entry.chan, a.member
    assert a.call is not None
    chan.emit(
        "AgentRingNoAnswer",
        "agent",
        [
            ("Queue", q.name),
            ("Interface", m.interface),
            ("MemberName", m.membername),
            ("RingTime", str(ring_ms)),
        ],
        dest=a.call.chan,
    )
    mgr.write_log(chan.uniqueid, q.name, m.membername, "RINGNOANSWER", str(ring_ms))
    mode = q.cfg.autopause
    if mode in ("yes", "true", "1", "all"):
        if (
            q.cfg.autopausedelay > 0
            and m.lastcall
            and mgr.now() - m.lastcall < q.cfg.autopausedelay
        ):
            return
        mgr.pause_member(None if mode == "all" else q.name, m.interface, True, "Auto-Pause")


def _set_member_vars(
    mgr: QueueManager, q: Queue, entry: QueueEntry, m: Member, mchan_call: MemberCall
) -> None:
    chans = (entry.chan, mchan_call.chan)
    if q.cfg.setinterfacevar:
        for c in chans:
            for k, v in (
                ("MEMBERINTERFACE", m.interface),
                ("MEMBERNAME", m.membername),
                ("MEMBERCALLS", str(m.calls)),
                ("MEMBERLASTCALL", str(m.lastcall)),
                ("MEMBERPENALTY", str(m.penalty)),
                ("MEMBERDYNAMIC", "1" if m.dynamic else "0"),
                ("MEMBERREALTIME", "0"),
            ):
                c.set_var(k, v)
    if q.cfg.setqueueentryvar:
        hold = int(mgr.sim.loop_time() - entry.start)
        for c in chans:
            c.set_var("QEHOLDTIME", str(hold))
            c.set_var("QEORIGINALPOS", str(entry.opos))


def update_queue(mgr: QueueManager, q: Queue, m: Member, talk: int, insl: bool) -> None:
    """Count a completed call for the member (all queues with shared_lastcall)."""
    now, loop_now = mgr.now(), mgr.sim.loop_time()
    targets = (
        [qq for qq in mgr.queues.values() if qq.member(m.interface)] if mgr.shared_lastcall else [q]
    )
    for qq in targets:
        mm = qq.member(m.interface)
        if mm is None:
            continue
        mm.calls += 1
        mm.lastcall = now
        mm.lastcall_loop = loop_now
        mm.in_call = False
    q.completed += 1
    if insl:
        q.completed_insl += 1
    q.talktime = talk if q.completed == 1 else ((q.talktime << 2) - q.talktime + talk) >> 2


async def connect(
    mgr: QueueManager,
    q: Queue,
    entry: QueueEntry,
    a: Attempt,
    gosub: str,
    qcontinue: bool,
    *,
    ring_time: float,
) -> None:
    """The member answered: bridge until one side hangs up."""
    from pbxsim.queue_app import leave_queue, set_duration_var

    chan, m, call = entry.chan, a.member, a.call
    assert call is not None
    mchan = call.chan
    sim = mgr.sim
    call.answer()
    if not call.is_pjsip:
        mchan.newexten("AppQueue", "(Outgoing Line)")
        mchan.emit("NewConnectedLine", "call")
    chan.emit("DialEnd", "call", [("DialStatus", "ANSWER")], dest=mchan)
    hold = int(sim.loop_time() - entry.start)
    insl = hold <= q.cfg.servicelevel
    q.holdtime = (
        hold if (q.completed + q.abandoned) == 0 else ((q.holdtime << 2) - q.holdtime + hold) >> 2
    )
    _set_member_vars(mgr, q, entry, m, call)
    call.publish_state()
    m.pending = False
    leave_queue(mgr, q, entry)
    mgr.write_log(
        chan.uniqueid, q.name, m.membername, "CONNECT", f"{hold}|{mchan.uniqueid}|{int(ring_time)}"
    )
    if chan.far_end is not None:
        chan.far_end.left_queue(chan, q.name, f"connected {m.interface}")
    if gosub:
        target = gosub if "," in gosub else f"{gosub},s,1"
        await run_subroutine(mchan, target)
    set_duration_var(chan, "QUEUEWAIT", hold * 1000)
    chan.emit(
        "AgentConnect",
        "agent",
        [
            ("Queue", q.name),
            ("Interface", m.interface),
            ("MemberName", m.membername),
            ("HoldTime", str(hold)),
            ("RingTime", str(int(ring_time))),
        ],
        dest=mchan,
    )
    bridge = Bridge(sim)
    if call.is_pjsip or gosub:
        # Back from ringing (a phone) or from the member gosub, the leg shows
        # app_queue's outgoing line again.
        mchan.newexten("AppQueue", "(Outgoing Line)")
    bridge.enter(mchan)
    bridge.enter(chan)
    mchan.set_var("BRIDGEPEER", chan.name)
    chan.set_var("BRIDGEPEER", mchan.name)
    if call.is_pjsip:
        chan.set_var("BRIDGEPVTCALLID", str(uuid.uuid4()))
    m.in_call = True
    bridged_at = sim.loop_time()
    call.start_talking()
    await asyncio.wait(
        [chan.hangup_future, mchan.hangup_future, bridge.broken],
        return_when=asyncio.FIRST_COMPLETED,
    )
    talk = int(sim.loop_time() - bridged_at)
    if bridge.broken.done() and not (chan.hungup or mchan.hungup):
        why = bridge.broken.result()
        if why[0] == "transfer" and why[1] is mchan:
            transferred(mgr, q, entry, a, bridge, hold, talk, insl, why)
            return
        # Redirected (or a transfer by the caller's side): the channel named
        # goes elsewhere, its peer is hung up (the bridge dissolves).
        moved = why[1]
        assert isinstance(moved, Channel)
        peer = mchan if moved is chan else chan
        moved.pending_goto = why[-3:] if why[0] == "redirect" else (why[3], why[4], 1)
        peer.request_hangup(16, soft=True)
    agent_first = mchan.hungup and not chan.hungup
    first, second = (mchan, chan) if agent_first else (chan, mchan)
    first.set_var("BRIDGEPEER", "")
    # app_queue sends AgentComplete from a stasis thread woken by the
    # hangup request; see Interleavings.late_agent_complete.
    late = chan.name in sim.interleavings.late_agent_complete
    complete = [
        ("Queue", q.name),
        ("Interface", m.interface),
        ("MemberName", m.membername),
        ("HoldTime", str(hold)),
        ("TalkTime", str(talk)),
        ("Reason", "agent" if agent_first else "caller"),
    ]
    if not late:
        chan.emit("AgentComplete", "agent", complete, dest=mchan)
    second.set_var("BRIDGEPEER", "")
    if call.is_pjsip:
        chan.set_var("BRIDGEPVTCALLID", "")
    bridge.leave(first)
    bridge.leave(second)
    answered_ms = int((sim.loop_time() - bridged_at) * 1000)
    set_duration_var(chan, "ANSWEREDTIME", answered_ms)
    set_duration_var(chan, "DIALEDTIME", int((sim.loop_time() - chan.created_at) * 1000))
    bridge.destroy()
    update_queue(mgr, q, m, talk, insl)
    if not agent_first and not mchan.hungup:
        mchan.request_hangup(16, soft=True)
    mchan.finish(16)
    call.publish_state()
    if late:
        # The member's snapshot is gone by then: no Dest* headers.
        chan.emit("AgentComplete", "agent", complete)
    event = "COMPLETEAGENT" if agent_first else "COMPLETECALLER"
    mgr.write_log(chan.uniqueid, q.name, m.membername, event, f"{hold}|{talk}|{entry.opos}")
    if agent_first and chan.far_end is not None:
        chan.far_end.agent_gone(chan)
    _go_on(chan)


def _go_on(chan: Channel) -> None:
    """A caller redirected or transferred out of the bridge: Queue() returns
    as on an async goto and the dialplan goes on at the new place."""
    if chan.pending_goto is not None and not chan.gone:
        chan.hungup = True
        if not chan.hangup_future.done():
            chan.hangup_future.set_result(None)


def transferred(mgr: QueueManager, q: Queue, entry: QueueEntry, a: Attempt, bridge: Bridge,
                hold: int, talk: int, insl: bool, why: tuple[object, ...]) -> None:
    """The member's leg blind-transferred the caller (app_queue.c
    handle_blind_transfer): AgentComplete (transfer), BLINDTRANSFER, the
    caller goes on at the target, the member's leg hangs up."""
    chan, m, call = entry.chan, a.member, a.call
    assert call is not None
    mchan = call.chan
    context, exten = str(why[3]), str(why[4])
    chan.emit("AgentComplete", "agent", [
        ("Queue", q.name), ("Interface", m.interface), ("MemberName", m.membername),
        ("HoldTime", str(hold)), ("TalkTime", str(talk)), ("Reason", "transfer")], dest=mchan)
    mgr.write_log(chan.uniqueid, q.name, m.membername, "BLINDTRANSFER",
                  f"{exten}|{context}|{hold}|{talk}|{entry.opos}")
    for c in (chan, mchan):
        c.set_var("BRIDGEPEER", "")
    chan.pending_goto = (context, exten, 1)
    bridge.leave(mchan)
    bridge.leave(chan)
    bridge.destroy()
    update_queue(mgr, q, m, talk, insl)
    mchan.request_hangup(16, soft=True)
    mchan.finish(16)
    call.publish_state()
    _go_on(chan)
