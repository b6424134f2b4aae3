"""The Queue() application (app_queue's queue_exec / try_calling).

Queue(queuename,options,URL,announceoverride,timeout,AGI,gosub,rule,position):
only option ``c`` (continue after the agent hangs up) changes behaviour
here; the 7th argument is the member gosub, run on the member channel
when it answers.  Events, variables and queue_log lines follow the
Asterisk 22 fixtures.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from pbxsim import queue_announce
from pbxsim.expressions import split_args
from pbxsim.queue_bridge import Attempt, connect, ring_entry, rna
from pbxsim.queues import Queue, QueueEntry, QueueManager

if TYPE_CHECKING:
    from pbxsim.channels import Channel

RECHECK = 1.0  # app_queue re-checks its turn every second


def set_duration_var(chan: Channel, name: str, ms: int) -> None:
    chan.set_var(name, str(ms // 1000))
    chan.set_var(name + "_MS", str(ms))


def _insert(q: Queue, entry: QueueEntry, position: int) -> None:
    idx = len(q.entries)
    for i, cur in enumerate(q.entries):
        if entry.prio > cur.prio or (position and entry.prio >= cur.prio and position <= i + 1):
            idx = i
            break
    q.entries.insert(idx, entry)
    for i, cur in enumerate(q.entries, 1):
        cur.pos = i


def leave_queue(mgr: QueueManager, q: Queue, entry: QueueEntry) -> None:
    if entry not in q.entries:
        return
    q.entries.remove(entry)
    if not q.entries:
        mgr.sim.set_device_state(f"Queue:{q.name}", "NOT_INUSE", force=True)
    entry.chan.emit(
        "QueueCallerLeave",
        "agent",
        [("Queue", q.name), ("Position", str(entry.pos)), ("Count", str(len(q.entries)))],
    )
    for i, cur in enumerate(q.entries, 1):
        cur.pos = i
    entry.chan.set_var("QUEUEPOSITION", str(entry.pos))


def record_abandoned(mgr: QueueManager, q: Queue, entry: QueueEntry) -> None:
    chan = entry.chan
    chan.set_var("ABANDONED", "TRUE")
    held = int(mgr.sim.loop_time() - entry.start)
    if held <= q.cfg.servicelevel:
        q.abandoned_insl += 1
    q.abandoned += 1
    chan.emit(
        "QueueCallerAbandon",
        "agent",
        [
            ("Queue", q.name),
            ("Position", str(entry.pos)),
            ("OriginalPosition", str(entry.opos)),
            ("HoldTime", str(held)),
        ],
    )


def is_our_turn(mgr: QueueManager, q: Queue, entry: QueueEntry) -> bool:
    avl = mgr.num_available(q)
    idx = 0
    for cur in q.entries:
        if cur is entry:
            break
        if idx >= avl:
            return False
        if not cur.pending:
            idx += 1
    return idx < avl and (q.cfg.autofill or entry.pos == 1)


def calc_metric(mgr: QueueManager, q: Queue, entry: QueueEntry, pos: int) -> int:
    m = q.members[pos]
    usepenalty = 0 if len(q.members) <= q.cfg.penaltymemberslimit else 1
    base = m.penalty * 1_000_000 * usepenalty
    strategy = q.cfg.strategy
    if strategy == "ringall":
        return base
    if strategy == "linear":
        if pos < entry.linpos:
            return base + 1000 + pos
        if pos > entry.linpos:
            entry.linwrapped = True
        return base + pos
    if strategy in ("rrmemory", "rrordered", "roundrobin"):
        if pos < q.rrpos:
            return base + 1000 + pos
        if pos > q.rrpos:
            q.wrapped = True
        return base + pos
    if strategy == "random":
        return base + random.randrange(1000)
    if strategy == "wrandom":
        return random.randrange((1 + m.penalty) * 1000)
    if strategy == "fewestcalls":
        return base + m.calls
    if strategy == "leastrecent":
        if not m.lastcall:
            return base
        return base + 1_000_000 - (mgr.now() - m.lastcall)
    return base


def _find_best(attempts: list[Attempt]) -> Attempt | None:
    best: Attempt | None = None
    # app_queue builds its list by prepending, so on equal metrics the
    # member added last wins; iterate in that order.
    for a in reversed(attempts):
        if a.stillgoing and a.call is None and (best is None or a.metric < best.metric):
            best = a
    return best


def _store_next(q: Queue, entry: QueueEntry, attempts: list[Attempt]) -> None:
    best = _find_best(attempts)
    if q.cfg.strategy in ("rrmemory", "rrordered", "roundrobin"):
        q.rrpos = best.metric % 1000 if best else (0 if q.wrapped else q.rrpos + 1)
        q.wrapped = False
    elif q.cfg.strategy == "linear":
        entry.linpos = best.metric % 1000 if best else (0 if entry.linwrapped else entry.linpos + 1)
        entry.linwrapped = False


async def try_calling(
    mgr: QueueManager,
    q: Queue,
    entry: QueueEntry,
    expire: float | None,
    gosub: str,
    qcontinue: bool,
) -> str:
    """Ring members once.  Returns "answered", "noanswer" or "hangup"."""
    chan = entry.chan
    now = mgr.sim.loop_time()
    attempts = [Attempt(m, calc_metric(mgr, q, entry, i), i) for i, m in enumerate(q.members)]
    if expire is not None and (not q.cfg.timeout or expire - now <= q.cfg.timeout):
        to: float | None = max(0.0, expire - now)
    else:
        to = float(q.cfg.timeout) if q.cfg.timeout else None
    entry.pending = True
    ringing: list[Attempt] = []

    def ring_one() -> None:
        while True:
            best = _find_best(attempts)
            if best is None:
                return
            group = (
                [a for a in attempts if a.stillgoing and a.call is None and a.metric <= best.metric]
                if q.cfg.strategy == "ringall"
                else [best]
            )
            placed = False
            for a in group:
                if ring_entry(mgr, q, entry, a):
                    ringing.append(a)
                    placed = True
            if placed:
                return

    ring_one()
    start = mgr.sim.loop_time()
    winner: Attempt | None = None
    # wait_for_answer() learns of the caller's hangup only by reading its
    # hangup frame; a caller that hung up before Queue() (the frame read by
    # AGI, which answered HANGUP) is rung for, connected and bridged as if
    # present (load-120-calls: 7 such calls answered with ANSWEREDTIME 0).
    deaf = chan.hungup
    while True:
        live = [a for a in ringing if a.stillgoing and a.waiter is not None]
        if not live:
            break
        remaining = None if to is None else to - (mgr.sim.loop_time() - start)
        if remaining is not None and remaining <= 0:
            break
        waits: list[asyncio.Future[Any]] = [a.waiter for a in live if a.waiter is not None]
        done, _ = await asyncio.wait(
            waits if deaf else [*waits, chan.hangup_future],
            timeout=remaining,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if chan.hungup and not deaf:
            break
        for a in live:
            task = a.waiter
            if task is not None and task in done:
                a.waiter = None
                if task.result() and winner is None:
                    winner = a
                elif winner is None:
                    a.stillgoing = False
        if winner is not None:
            break
        if not [a for a in ringing if a.stillgoing]:
            ring_one()
    _store_next(q, entry, attempts)
    entry.pending = False
    elapsed = mgr.sim.loop_time() - start
    if winner is not None:
        for a in ringing:
            if a is not winner and a.call is not None and not a.call.chan.gone:
                chan.emit("DialEnd", "call", [("DialStatus", "CANCEL")], dest=a.call.chan)
                a.release(26)
        await connect(mgr, q, entry, winner, gosub, qcontinue, ring_time=elapsed)
        return "answered"
    still = [a for a in ringing if a.call is not None and not a.call.chan.gone]
    if chan.hungup and not deaf:
        for a in still:
            chan.emit("DialEnd", "call", [("DialStatus", "CANCEL")], dest=a.call.chan)  # type: ignore[union-attr]
            mgr.write_log(
                chan.uniqueid, q.name, a.member.membername, "RINGCANCELED", str(int(elapsed * 1000))
            )
            a.release(0)
        return "hangup"
    for a in still:
        rna(mgr, q, entry, a, int((to or elapsed) * 1000))
    for a in still:
        chan.emit("DialEnd", "call", [("DialStatus", "NOANSWER")], dest=a.call.chan)  # type: ignore[union-attr]
        a.release(0)
    return "noanswer"


async def queue_exec(chan: Channel, data: str) -> int:
    """Queue(): wait, ring members, bridge; see the module docstring."""
    for name in (
        "ANSWEREDTIME",
        "ANSWEREDTIME_MS",
        "DIALEDTIME",
        "DIALEDTIME_MS",
        "QUEUEWAIT",
        "QUEUEWAIT_MS",
    ):
        chan.set_var(name, "")
    args = split_args(data) + [""] * 9
    qname, options, url, _announce, timeout_s, _agi, gosub, _rule, position = (
        a.strip() for a in args[:9]
    )
    mgr = chan.sim.queues
    q = mgr.queues.get(qname)
    chan.vars.pop("ABANDONED", None)
    if q is None:
        return 0
    loop_start = mgr.sim.loop_time()
    expire = loop_start + int(timeout_s) if timeout_s.lstrip("-").isdigit() else None
    try:
        prio = int(chan.get_var("QUEUE_PRIO") or 0)
    except ValueError:
        prio = 0
    qcontinue = "c" in options.split("(")[0]
    reason = None
    if mgr.empty_check(q, q.cfg.joinempty, joinempty=True):
        reason = "JOINEMPTY"
    elif q.cfg.maxlen and len(q.entries) >= q.cfg.maxlen:
        reason = "FULL"
    if reason:
        chan.set_var("QUEUESTATUS", reason)
        return 0
    entry = QueueEntry(chan, prio, loop_start)
    _insert(q, entry, int(position) if position.isdigit() else 0)
    entry.opos = entry.pos
    queue_announce.joined(q, entry, mgr.now())
    if len(q.entries) == 1:
        mgr.sim.set_device_state(f"Queue:{q.name}", "RINGING", force=True)
    chan.emit(
        "QueueCallerJoin",
        "agent",
        [("Queue", q.name), ("Position", str(entry.pos)), ("Count", str(len(q.entries)))],
    )
    mgr.write_log(
        chan.uniqueid, q.name, "NONE", "ENTERQUEUE", f"{url}|{chan.cid_num or ''}|{entry.opos}"
    )
    if chan.far_end is not None:
        chan.far_end.queued(chan, q.name)
    res, reason, handled = await _wait_loop(mgr, q, entry, expire, gosub, qcontinue)
    # stop: (queue_exec's cleanup)
    now = mgr.sim.loop_time()
    if chan.get_var("QUEUEWAIT") in ("", None):
        set_duration_var(chan, "QUEUEWAIT", int(now - loop_start) * 1000)
    if chan.get_var("DIALEDTIME") in ("", None):
        set_duration_var(chan, "DIALEDTIME", int((now - chan.created_at) * 1000))
    if chan.get_var("ANSWEREDTIME") in ("", None):
        set_duration_var(chan, "ANSWEREDTIME", 0)
    if res < 0:
        if not handled:
            record_abandoned(mgr, q, entry)
            mgr.write_log(
                chan.uniqueid,
                q.name,
                "NONE",
                "ABANDON",
                f"{entry.pos}|{entry.opos}|{int(now - loop_start)}",
            )
        elif qcontinue:
            reason, res = "CONTINUE", 0
    if entry in q.entries:
        leave_queue(mgr, q, entry)
        if chan.far_end is not None:
            chan.far_end.left_queue(chan, q.name, (reason or "abandon").lower())
    if reason:
        chan.set_var("QUEUESTATUS", reason)
    return res


async def _wait_loop(
    mgr: QueueManager,
    q: Queue,
    entry: QueueEntry,
    expire: float | None,
    gosub: str,
    qcontinue: bool,
) -> tuple[int, str | None, bool]:
    """(res, QUEUESTATUS reason, handled) as queue_exec's main loop ends."""
    chan = entry.chan

    def timed_out() -> bool:
        return expire is not None and mgr.sim.loop_time() >= expire

    def exit_timeout() -> tuple[int, str | None, bool]:
        record_abandoned(mgr, q, entry)
        mgr.write_log(
            chan.uniqueid,
            q.name,
            "NONE",
            "EXITWITHTIMEOUT",
            f"{entry.pos}|{entry.opos}|{int(mgr.sim.loop_time() - entry.start)}",
        )
        return 0, "TIMEOUT", False

    def exit_empty() -> tuple[int, str | None, bool]:
        record_abandoned(mgr, q, entry)
        mgr.write_log(
            chan.uniqueid,
            q.name,
            "NONE",
            "EXITEMPTY",
            f"{entry.pos}|{entry.opos}|{int(mgr.sim.loop_time() - entry.start)}",
        )
        return 0, "LEAVEEMPTY", False

    announce = q.announce

    async def announcements() -> bool:
        """Position, then periodic announcement, when due; False on hangup."""
        waited = int(mgr.sim.loop_time() - entry.start)
        if announce.frequency and not await queue_announce.say_position(
                q, entry, mgr.now(), waited):
            return False
        if timed_out():
            return True
        return not announce.periodic_frequency or await queue_announce.say_periodic(
            q, entry, mgr.now)

    while True:
        # wait_our_turn: callers 2..n (and everyone while nobody is free)
        while not is_our_turn(mgr, q, entry):
            if chan.hungup:
                return -1, None, False
            if timed_out():
                return exit_timeout()
            if mgr.empty_check(q, q.cfg.leavewhenempty, joinempty=False):
                return exit_empty()
            if not await announcements():
                return -1, None, False
            if timed_out():
                return exit_timeout()
            if not await chan.sleep(RECHECK):
                return -1, None, False
        # the head caller's loop (makeannouncement = announce-to-first-user)
        if announce.to_first_user and not await announcements():
            return -1, None, False
        if timed_out():
            return exit_timeout()
        result = await try_calling(mgr, q, entry, expire, gosub, qcontinue)
        if result == "answered":
            return -1, None, True
        if result == "hangup" or chan.hungup:
            return -1, None, False
        if mgr.empty_check(q, q.cfg.leavewhenempty, joinempty=False):
            return exit_empty()
        if timed_out():
            return exit_timeout()
        if not await chan.sleep(q.cfg.retry):
            return -1, None, False
