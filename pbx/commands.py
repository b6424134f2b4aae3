"""Named, typed commands to the PBX: the one place that writes AMI actions.

Domain code (agents/, worksheets/, ivr/, console/) calls these; none of it
builds an action by hand.  Each method says what it asks of Asterisk, with
the headers Asterisk 22's manager documents for that action
(apps/app_queue.c: QueueAdd, QueueRemove, QueuePause, QueuePenalty, QueueSummary;
main/manager.c: Originate, Redirect, Hangup; main/bridge_basic.c via
manager_bridges.c: BlindTransfer).  Values are escaped by the AMI encoder,
which refuses CR/LF.

Errors are the link's: :class:`AmiError` for ``Response: Error``,
:class:`AmiTimeout` / :class:`AmiConnectionLost` when no answer came (the
action may have been carried out: nothing here is re-sent), and
:class:`PbxDown` when no link is up to send it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbx.ami_session import AmiConnectionLost, AmiError, AmiResult, AmiTimeout

if TYPE_CHECKING:
    from pbx.ami import AmiLink

__all__ = ["AmiConnectionLost", "AmiError", "AmiTimeout", "PbxCommands", "PbxDown",
           "QueueFigures"]


class PbxDown(AmiError):
    """No AMI link is up: the command was not sent."""


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One queue of QueueSummary: what callers and supervisors are told."""

    queue: str
    logged_in: int
    available: int
    callers: int
    hold_time: int  # app_queue's running average hold, seconds
    longest_hold_time: int


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class PbxCommands:
    """The commands the backend gives Asterisk, over one AMI link (or none)."""

    def __init__(self, link: AmiLink | None) -> None:
        self.link = link

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.connected

    def _up(self, action: str) -> AmiLink:
        if self.link is None or not self.link.connected:
            raise PbxDown(action, "the PBX is not connected")
        return self.link

    # ----------------------------------------------------------- queues
    async def queue_add(self, queue: str, interface: str, member_name: str, penalty: int = 0,
                        *, paused: bool = False) -> bool:
        """Make ``interface`` a dynamic member; False if it was one already."""
        try:
            await self._up("QueueAdd").send("QueueAdd", {
                "Queue": queue, "Interface": interface, "Penalty": penalty,
                "MemberName": member_name, "Paused": "true" if paused else "false"})
        except AmiError as exc:
            if isinstance(exc, AmiConnectionLost | AmiTimeout):
                raise
            # app_queue answers "Unable to add interface: Already there".
            if "already" in exc.message.lower():
                return False
            raise
        return True

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._up("QueueRemove").send("QueueRemove", {"Queue": queue,
                                                           "Interface": interface})

    async def pause(self, interface: str, paused: bool, reason: str = "",
                    queue: str | None = None) -> None:
        """Pause or resume a member in ``queue``, or in every queue when None."""
        headers = [("Interface", interface), ("Paused", "true" if paused else "false"),
                   ("Reason", reason)]
        if queue is not None:
            headers.append(("Queue", queue))
        await self._up("QueuePause").send("QueuePause", headers)

    async def queue_penalty(self, interface: str, penalty: int,
                            queue: str | None = None) -> None:
        """Set a member's penalty in ``queue``, or in every queue it is on when
        None (app_queue.c manager_queue_member_penalty; QueueMemberPenalty follows)."""
        headers: list[tuple[str, object]] = [("Interface", interface), ("Penalty", penalty)]
        if queue is not None:
            headers.append(("Queue", queue))
        await self._up("QueuePenalty").send("QueuePenalty", headers)

    async def queue_summary(self, queue: str | None = None, *,
                            timeout: float | None = None) -> list[QueueFigures]:
        headers = {"Queue": queue} if queue else {}
        result = await self._up("QueueSummary").send("QueueSummary", headers, timeout=timeout)
        return [QueueFigures(e.get("Queue") or "", _int(e.get("LoggedIn")),
                             _int(e.get("Available")), _int(e.get("Callers")),
                             _int(e.get("HoldTime")), _int(e.get("LongestHoldTime")))
                for e in result.events if e.event == "QueueSummary"]

    # ------------------------------------------------------------ calls
    def new_action_id(self) -> str:
        """An ActionID to register before :meth:`originate` (its OriginateResponse
        may arrive before the answer is handled)."""
        return self._up("Originate").new_action_id()

    async def originate(self, channel: str, context: str, exten: str, *,
                        caller_id: str = "", ring_seconds: int = 30,
                        variables: Sequence[tuple[str, str]] = (),
                        action_id: str | None = None) -> str:
        """Ring ``channel``; when answered it runs ``context,exten,1``.  Async:
        the outcome comes as an OriginateResponse (``originate.outcome`` in
        the model).  Returns the ActionID."""
        link = self._up("Originate")
        action_id = action_id or link.new_action_id()
        headers: list[tuple[str, object]] = [
            ("Channel", channel), ("Context", context), ("Exten", exten), ("Priority", "1"),
            ("Async", "true"), ("Timeout", str(ring_seconds * 1000))]
        if caller_id:
            headers.append(("CallerID", caller_id))
        headers += [("Variable", f"{name}={value}") for name, value in variables]
        await link.send("Originate", headers, action_id=action_id)
        return action_id

    async def spy(self, phone: str, target_interface: str, mode: str, caller_id: str) -> str:
        """Ring a supervisor's ``phone``; answered, ``[supervisor-spy]`` runs
        ChanSpy on ``target_interface`` in ``mode`` (options fixed by the dialplan)."""
        return await self.originate(phone, "supervisor-spy", "s", caller_id=caller_id,
                                    variables=[("SPY_TARGET", target_interface),
                                               ("SPY_MODE", mode)])

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        """Send a channel elsewhere in the dialplan (manager.c Redirect); its
        bridge partner is hung up unless it is redirected too."""
        await self._up("Redirect").send("Redirect", {
            "Channel": channel, "Context": context, "Exten": exten, "Priority": priority})

    async def blind_transfer(self, channel: str, context: str, exten: str) -> None:
        """Transfer the *other* party of ``channel``'s bridge to ``exten@context``
        (BlindTransfer: the transferer's channel leaves the call)."""
        await self._up("BlindTransfer").send("BlindTransfer", {
            "Channel": channel, "Context": context, "Exten": exten})

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self._up("Hangup").send("Hangup", {"Channel": channel, "Cause": cause})

    # ----------------------------------------------------- snapshots
    async def snapshot(self, action: str) -> AmiResult:
        """A list action whose answer goes into the event stream in its place
        (QueueStatus, DeviceStateList, CoreShowChannels): for resync only."""
        return await self._up(action).send(action, in_stream=True)
