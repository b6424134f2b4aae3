"""AMI queue actions (app_queue.c wording): QueueAdd, QueueRemove,
QueuePause, QueuePenalty, QueueLog, QueueStatus, QueueSummary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.ami_protocol import AmiMessage
from pbxsim.ami_actions import action, list_response
from pbxsim.config import is_true
from pbxsim.queue_reports import status_events, summary_events

if TYPE_CHECKING:
    from pbxsim.ami_server import AmiSession


@action("QueueAdd", "agent")
async def queue_add(s: AmiSession, m: AmiMessage) -> None:
    queue, iface = (m.get("Queue") or "").strip(), (m.get("Interface") or "").strip()
    if not queue:
        s.error(m, "'Queue' not specified.")
        return
    if not iface:
        s.error(m, "'Interface' not specified.")
        return
    try:
        penalty = int(m.get("Penalty") or 0)
        wrapup = int(m.get("Wrapuptime") or 0)
    except ValueError:
        penalty, wrapup = 0, 0
    res = s.sim.queues.add_member(
        queue,
        iface,
        membername=m.get("MemberName") or "",
        state_interface=m.get("StateInterface") or "",
        penalty=penalty,
        paused=is_true(m.get("Paused")),
        reason=m.get("Reason") or "",
        wrapuptime=wrapup,
    )
    {
        "ok": lambda: s.ack(m, "Added interface to queue"),
        "exists": lambda: s.error(m, "Unable to add interface: Already there"),
        "noqueue": lambda: s.error(m, "Unable to add interface to queue: No such queue"),
    }[res]()


@action("QueueRemove", "agent")
async def queue_remove(s: AmiSession, m: AmiMessage) -> None:
    queue, iface = (m.get("Queue") or "").strip(), (m.get("Interface") or "").strip()
    if not queue or not iface:
        s.error(m, "Need 'Queue' and 'Interface' parameters.")
        return
    res = s.sim.queues.remove_member(queue, iface)
    {
        "ok": lambda: s.ack(m, "Removed interface from queue"),
        "notthere": lambda: s.error(m, "Unable to remove interface: Not there"),
        "noqueue": lambda: s.error(m, "Unable to remove interface from queue: No such queue"),
        "notdynamic": lambda: s.error(m, "Member not dynamic"),
    }[res]()


@action("QueuePause", "agent")
async def queue_pause(s: AmiSession, m: AmiMessage) -> None:
    iface, paused_s = (m.get("Interface") or "").strip(), (m.get("Paused") or "").strip()
    if not iface or not paused_s:
        s.error(m, "Need 'Interface' and 'Paused' parameters.")
        return
    paused = is_true(paused_s)
    if not s.sim.queues.pause_member(m.get("Queue") or None, iface, paused, m.get("Reason") or ""):
        s.error(m, "Interface not found")
        return
    s.ack(m, "Interface paused successfully" if paused else "Interface unpaused successfully")


@action("QueuePenalty", "agent")
async def queue_penalty(s: AmiSession, m: AmiMessage) -> None:
    iface, pen = (m.get("Interface") or "").strip(), (m.get("Penalty") or "").strip()
    if not iface or not pen:
        s.error(m, "Need 'Interface' and 'Penalty' parameters.")
        return
    try:
        ok = int(pen) >= 0 and s.sim.queues.set_penalty(m.get("Queue") or None, iface, int(pen))
    except ValueError:
        ok = False
    if ok:
        s.ack(m, "Interface penalty set successfully")
    else:
        s.error(m, "Invalid interface, queuename or penalty")


@action("QueueLog", "agent")
async def queue_log(s: AmiSession, m: AmiMessage) -> None:
    s.sim.queues.write_log(
        m.get("Uniqueid") or "NONE",
        m.get("Queue") or "",
        m.get("Interface") or "",
        m.get("Event") or "",
        m.get("Message") or "",
    )
    s.ack(m, "Added Queue log entry")


@action("QueueStatus")
async def queue_status(s: AmiSession, m: AmiMessage) -> None:
    list_response(
        s,
        m,
        "Queue status will follow",
        status_events(s.sim.queues, m.get("Queue") or "", m.get("Member") or ""),
        "QueueStatusComplete",
    )


@action("QueueSummary")
async def queue_summary(s: AmiSession, m: AmiMessage) -> None:
    list_response(
        s,
        m,
        "Queue summary will follow",
        summary_events(s.sim.queues, m.get("Queue") or ""),
        "QueueSummaryComplete",
    )
