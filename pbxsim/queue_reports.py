"""Read-only views of the queues: QUEUE_* dialplan functions and the
QueueStatus / QueueSummary list events (app_queue.c field order)."""

from __future__ import annotations

from pbxsim.queues import STATUS, Headers, QueueManager


def dialplan_function(mgr: QueueManager, name: str, args: str) -> str | None:
    parts = [p.strip() for p in args.split(",")]
    q = mgr.queues.get(parts[0]) if parts else None
    if name == "QUEUE_EXISTS":
        return "1" if q else "0"
    if q is None:
        return "0"
    if name == "QUEUE_WAITING_COUNT":
        return str(len(q.entries))
    if name == "QUEUE_MEMBER" and len(parts) > 1:
        opt = parts[1].lower()
        if opt == "logged":
            return str(
                sum(
                    1
                    for m in q.members
                    if m.status not in (STATUS["UNAVAILABLE"], STATUS["INVALID"])
                )
            )
        if opt == "free":
            return str(sum(1 for m in q.members if m.status in (1, 0) and not m.paused))
        if opt == "ready":
            return str(sum(1 for m in q.members if mgr.is_available(q, m)))
        if opt == "count":
            return str(len(q.members))
        m = q.member(parts[2]) if len(parts) > 2 else None
        if m is not None:
            return {
                "penalty": str(m.penalty),
                "paused": "1" if m.paused else "0",
                "ringinuse": "1" if m.ringinuse else "0",
            }.get(opt, "")
    return None


def status_events(
    mgr: QueueManager, queue: str = "", member: str = ""
) -> list[tuple[str, Headers]]:
    out: list[tuple[str, Headers]] = []
    now = mgr.sim.loop_time()
    for q in mgr.queues.values():
        if queue and q.name.lower() != queue.lower():
            continue
        done = q.completed
        sl = 100.0 * q.completed_insl / done if done else 0.0
        tot = done + q.abandoned
        sl2 = 100.0 * (q.abandoned_insl + q.completed_insl) / tot if tot else 0.0
        out.append(
            (
                "QueueParams",
                [
                    ("Queue", q.name),
                    ("Max", str(q.cfg.maxlen)),
                    ("Strategy", q.cfg.strategy),
                    ("Calls", str(len(q.entries))),
                    ("Holdtime", str(q.holdtime)),
                    ("TalkTime", str(q.talktime)),
                    ("Completed", str(q.completed)),
                    ("Abandoned", str(q.abandoned)),
                    ("ServiceLevel", str(q.cfg.servicelevel)),
                    ("ServicelevelPerf", f"{sl:.1f}"),
                    ("ServicelevelPerf2", f"{sl2:.1f}"),
                    ("Weight", str(q.cfg.weight)),
                ],
            )
        )
        for m in q.members:
            if member and member not in (m.interface, m.membername):
                continue
            out.append(("QueueMember", mgr.member_headers(q, m, status_event=False)))
        for i, e in enumerate(q.entries, 1):
            c = e.chan
            out.append(
                (
                    "QueueEntry",
                    [
                        ("Queue", q.name),
                        ("Position", str(i)),
                        ("Channel", c.name),
                        ("Uniqueid", c.uniqueid),
                        ("CallerIDNum", c.cid_num or "unknown"),
                        ("CallerIDName", c.cid_name or "unknown"),
                        ("ConnectedLineNum", c.conn_num or "unknown"),
                        ("ConnectedLineName", c.conn_name or "unknown"),
                        ("Wait", str(int(now - e.start))),
                        ("Priority", str(e.prio)),
                    ],
                )
            )
    return out


def summary_events(mgr: QueueManager, queue: str = "") -> list[tuple[str, Headers]]:
    out: list[tuple[str, Headers]] = []
    now = mgr.sim.loop_time()
    for q in mgr.queues.values():
        if queue and q.name.lower() != queue.lower():
            continue
        logged = [
            m for m in q.members if m.status not in (STATUS["UNAVAILABLE"], STATUS["INVALID"])
        ]
        avail = [m for m in logged if m.status in (0, 1) and not m.paused]
        longest = max((int(now - e.start) for e in q.entries), default=0)
        out.append(
            (
                "QueueSummary",
                [
                    ("Queue", q.name),
                    ("LoggedIn", str(len(logged))),
                    ("Available", str(len(avail))),
                    ("Callers", str(len(q.entries))),
                    ("HoldTime", str(q.holdtime)),
                    ("TalkTime", str(q.talktime)),
                    ("LongestHoldTime", str(longest)),
                ],
            )
        )
    return out
