"""app_queue's data: queues, members, waiting callers, queue_log, and the
member-side AMI events (QueueMemberAdded/Removed/Pause/Status,
Queue:<name>_avail / _pause_<iface> device states).

The Queue() application itself lives in :mod:`pbxsim.queue_app`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pbxsim.config import QueueConfig
from pbxsim.queue_announce import Announcements

if TYPE_CHECKING:
    from pbxsim.channels import Channel
    from pbxsim.core import PbxSim

log = logging.getLogger(__name__)
STATUS = {
    "UNKNOWN": 0,
    "NOT_INUSE": 1,
    "INUSE": 2,
    "BUSY": 3,
    "INVALID": 4,
    "UNAVAILABLE": 5,
    "RINGING": 6,
    "RINGINUSE": 7,
    "ONHOLD": 8,
}
Headers = list[tuple[str, str]]


def _follows(m: Member, device: str) -> bool:
    """device_state_cb(): does the member's state follow ``device``?  A
    Local state interface counts without its /options (``/n``)."""
    iface = m.state_interface
    if iface[:6].lower() == "local/" and "/" in iface[6:]:
        iface = iface[: 6 + iface[6:].index("/")]
    return iface.lower() == device.lower()


@dataclass
class Member:
    interface: str
    membername: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    reason: str = ""
    dynamic: bool = True
    wrapuptime: int = 0
    ringinuse: bool = False
    calls: int = 0
    lastcall: int = 0  # epoch seconds (AMI LastCall)
    lastcall_loop: float | None = None  # loop time, for wrapup
    lastpause: int = 0
    logintime: int = 0
    in_call: bool = False
    status: int = 0
    pending: bool = False  # being rung by some caller right now


@dataclass
class QueueEntry:
    chan: Channel
    prio: int
    start: float  # loop time of joining
    pos: int = 0
    opos: int = 0
    pending: bool = False
    linpos: int = 0
    linwrapped: bool = False
    announce: Any = None  # queue_announce.EntryAnnouncements


@dataclass
class Queue:
    cfg: QueueConfig
    members: list[Member] = field(default_factory=list)
    entries: list[QueueEntry] = field(default_factory=list)
    rrpos: int = 0
    wrapped: bool = False
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    completed_insl: int = 0
    abandoned_insl: int = 0
    avail_state: str | None = None
    announce: Announcements = field(init=False)  # its queues.conf announcement options

    def __post_init__(self) -> None:
        self.announce = Announcements.from_raw(self.cfg.raw)

    @property
    def name(self) -> str:
        return self.cfg.name

    def member(self, interface: str) -> Member | None:
        return next((m for m in self.members if m.interface == interface), None)


class QueueManager:
    """All queues of one simulator."""

    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self.queues: dict[str, Queue] = {n: Queue(c) for n, c in sim.queue_configs.items()}
        self.shared_lastcall = sim.queue_general.get("shared_lastcall", "no").lower() in (
            "yes",
            "true",
            "1",
        )
        self.membername_as_agent = sim.queue_general.get(
            "log_membername_as_agent", "no"
        ).lower() in ("yes", "true", "1")

    # --------------------------------------------------------------- log
    def now(self) -> int:
        return int(self.sim.clock.timestamp())

    def write_log(self, callid: str, queue: str, agent: str, event: str, data: str) -> None:
        """Append ``time|callid|queue|agent|event|data`` to queue_log."""
        path = self.sim.queue_log_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(f"{self.now()}|{callid}|{queue}|{agent}|{event}|{data}\n")
        except OSError as exc:
            log.warning("cannot write queue_log %s: %s", path, exc)

    def agent_name(self, m: Member) -> str:
        return m.membername if self.membername_as_agent else m.interface

    # ----------------------------------------------------------- members
    def member_headers(self, q: Queue, m: Member, *, status_event: bool = True) -> Headers:
        h: Headers = [("Queue", q.name)]
        h += (
            [("MemberName", m.membername), ("Interface", m.interface)]
            if status_event
            else [("Name", m.membername), ("Location", m.interface)]
        )
        h += [
            ("StateInterface", m.state_interface),
            ("Membership", "dynamic" if m.dynamic else "static"),
            ("Penalty", str(m.penalty)),
            ("CallsTaken", str(m.calls)),
            ("LastCall", str(m.lastcall)),
            ("LastPause", str(m.lastpause)),
            ("LoginTime", str(m.logintime)),
            ("InCall", "1" if m.in_call else "0"),
            ("Status", str(m.status)),
            ("Paused", "1" if m.paused else "0"),
            ("PausedReason", m.reason),
        ]
        if status_event:
            h.append(("Ringinuse", "1" if m.ringinuse else "0"))
        h.append(("Wrapuptime", str(m.wrapuptime)))
        return h

    def member_event(self, event: str, q: Queue, m: Member) -> None:
        self.sim.emit(event, "agent", self.member_headers(q, m))

    def _status_of(self, state_interface: str) -> int:
        return STATUS.get(self.sim.device_state(state_interface), 0)

    def add_member(
        self,
        queue: str,
        interface: str,
        *,
        membername: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        wrapuptime: int = 0,
        source: str = "MANAGER",
    ) -> str:
        """ "ok", "exists" or "noqueue"."""
        q = self.queues.get(queue)
        if q is None:
            return "noqueue"
        if q.member(interface):
            return "exists"
        now = self.now()
        m = Member(
            interface,
            membername or interface,
            state_interface or interface,
            penalty,
            paused,
            reason if paused else "",
            wrapuptime=wrapuptime,
            ringinuse=q.cfg.ringinuse,
            lastpause=now if paused else 0,
            logintime=now,
        )
        m.status = self._status_of(m.state_interface)
        q.members.append(m)
        self.sim.set_device_state(
            f"Queue:{q.name}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
        )
        self.member_event("QueueMemberAdded", q, m)
        self.refresh_avail(q)
        self.write_log(source, q.name, self.agent_name(m), "ADDMEMBER", "PAUSED" if paused else "")
        return "ok"

    def remove_member(self, queue: str, interface: str, source: str = "MANAGER") -> str:
        """ "ok", "notthere" or "noqueue"."""
        q = self.queues.get(queue)
        if q is None:
            return "noqueue"
        m = q.member(interface)
        if m is None:
            return "notthere"
        if not m.dynamic:
            return "notdynamic"
        q.members.remove(m)
        self.member_event("QueueMemberRemoved", q, m)
        self.sim.set_device_state(f"Queue:{q.name}_pause_{interface}", "NOT_INUSE")
        self.refresh_avail(q)
        self.write_log(source, q.name, self.agent_name(m), "REMOVEMEMBER", "")
        return "ok"

    def pause_member(
        self, queue: str | None, interface: str, paused: bool, reason: str = ""
    ) -> bool:
        """Pause/unpause in one queue or (queue None/"") in all.  False when not a member."""
        found = False
        for q in self.queues.values():
            if queue and q.name != queue:
                continue
            m = q.member(interface)
            if m is None:
                continue
            found = True
            m.paused = paused
            m.reason = reason if paused else ""
            if paused:
                m.lastpause = self.now()
            self.sim.set_device_state(
                f"Queue:{q.name}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
            )
            self.refresh_avail(q)
            self.member_event("QueueMemberPause", q, m)
            self.write_log(
                "NONE", q.name, self.agent_name(m), "PAUSE" if paused else "UNPAUSE", reason
            )
        return found

    def set_penalty(self, queue: str | None, interface: str, penalty: int) -> bool:
        found = False
        for q in self.queues.values():
            if queue and q.name != queue:
                continue
            m = q.member(interface)
            if m is not None:
                found = True
                m.penalty = penalty
                self.member_event("QueueMemberPenalty", q, m)
                self.write_log("NONE", q.name, interface, "PENALTY", str(penalty))
        return found

    # ------------------------------------------------------ availability
    def in_wrapup(self, q: Queue, m: Member) -> bool:
        wrap = m.wrapuptime or q.cfg.wrapuptime
        return bool(
            wrap and m.lastcall_loop is not None and self.sim.loop_time() - m.lastcall_loop < wrap
        )

    def is_available(self, q: Queue, m: Member, *, wrapup: bool = True) -> bool:
        if m.paused:
            return False
        if not m.ringinuse and m.status not in (STATUS["NOT_INUSE"], STATUS["UNKNOWN"]):
            return False
        if m.ringinuse and m.status in (STATUS["UNAVAILABLE"], STATUS["INVALID"]):
            return False
        return not (wrapup and self.in_wrapup(q, m))

    def num_available(self, q: Queue) -> int:
        n = 0
        for m in q.members:
            if self.is_available(q, m):
                n += 1
                if not q.cfg.autofill or q.cfg.strategy == "ringall":
                    break
        return n

    def refresh_avail(self, q: Queue) -> None:
        state = (
            "NOT_INUSE"
            # is_member_available(): wrapuptime overrides the device state.
            if any(self.is_available(q, m) for m in q.members)
            else "INUSE"
        )
        if state != q.avail_state:
            q.avail_state = state
            self.sim.set_device_state(f"Queue:{q.name}_avail", state, force=True)

    def member_device_changed(self, device: str, state: str) -> None:
        """A device changed: update members using it (QueueMemberStatus)."""
        code = STATUS.get(state, 0)
        for q in self.queues.values():
            for m in q.members:
                if _follows(m, device) and m.status != code:
                    m.status = code
                    self.member_event("QueueMemberStatus", q, m)

    def device_state_changed(self, device: str, state: str) -> None:
        if device.startswith("Queue:"):
            return
        for q in self.queues.values():
            if any(_follows(m, device) for m in q.members):
                self.refresh_avail(q)

    def empty_check(self, q: Queue, value: str, *, joinempty: bool) -> bool:
        """get_member_status(): True when the queue counts as empty under a
        joinempty (``joinempty=True``) or leavewhenempty setting."""
        flags: set[str] = set()
        for opt in value.strip().lower().split(","):
            opt = opt.strip()
            if opt in (
                "paused",
                "penalty",
                "inuse",
                "ringing",
                "invalid",
                "wrapup",
                "unavailable",
                "unknown",
            ):
                flags.add(opt)
            elif opt == "loose":
                flags = {"penalty", "invalid"}
            elif opt == "strict":
                flags = {"penalty", "invalid", "paused", "unavailable"}
            elif opt in ("yes", "true", "y", "t", "1", "on", "no", "false", "n", "f", "0", "off"):
                truthy = opt in ("yes", "true", "y", "t", "1", "on")
                flags = {"penalty", "invalid", "paused"} if truthy != joinempty else set()
        if not flags:
            return False
        by_code = {0: "unknown", 2: "inuse", 4: "invalid", 5: "unavailable", 6: "ringing"}
        for m in q.members:
            if by_code.get(m.status) in flags:
                continue
            if m.paused and "paused" in flags:
                continue
            if "wrapup" in flags and self.in_wrapup(q, m):
                continue
            return False
        return True
