"""The protocol object of one AMI connection (panoramisk's AMIProtocol,
fixed): whole-message decoding, checked encoding, exact list matching,
no re-sending after a loss.  :class:`pbx.ami.AmiLink` owns it; see the
FIX(panoramisk) notes there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from panoramisk.ami_protocol import AMIProtocol

from pbx import ami_protocol
from pbx.ami_protocol import AmiMessage

if TYPE_CHECKING:
    from pbx.ami import AmiLink

log = logging.getLogger("pbx.ami")


class AmiError(Exception):
    """An action was answered with ``Response: Error``."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


class AmiTimeout(AmiError):
    pass


class AmiConnectionLost(AmiError):
    pass


@dataclass
class AmiResult:
    """The answer to one action: its response and, for list actions, the
    events between ``EventList: start`` and the ``...Complete`` event."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)
    complete: AmiMessage | None = None

    @property
    def ok(self) -> bool:
        return (self.response.response or "").lower() in ("success", "goodbye", "follows")

    @property
    def message(self) -> str:
        return self.response.get("Message", "") or ""


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[AmiResult]
    response: AmiMessage | None = None
    events: list[AmiMessage] = field(default_factory=list)
    in_stream: bool = False  # also put the whole answer into the event stream


def _is_ami(message: AmiMessage) -> bool:
    """Asterisk sends the banner, events and responses; nothing else."""
    return message.event is not None or message.response is not None or (
        message.get("Banner") is not None)


class HotlineAMIProtocol(AMIProtocol):  # type: ignore[misc]
    """AMIProtocol with whole-message decoding and exact response matching."""

    factory: Any  # the AmiLink (panoramisk's base types it loosely)
    closed: bool

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        factory = getattr(self, "factory", None)
        super().connection_made(transport)  # resets factory to None
        self.factory = factory
        self.buffer = b""
        self.pending: dict[str, _Pending] = {}

    # FIX(panoramisk) 1: decode whole messages, never chunks.
    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            messages, self.buffer = ami_protocol.parse(self.buffer)
        except ami_protocol.AmiProtocolError as exc:
            self._unusable(str(exc))
            return
        for message in messages:
            if not _is_ami(message):
                # Lines that are neither an event nor a response: the framing is
                # lost (or the peer is not Asterisk), so nothing after them can
                # be trusted.  A new connection and a resync can.
                self._unusable(f"junk instead of a message: {message.headers[:1]!r}")
                return
            self.on_message(message)

    def _unusable(self, why: str) -> None:
        log.error("AMI stream unusable (%s); closing the link to reconnect", why[:120])
        self.buffer = b""
        self.transport.abort()  # connection_lost follows: reconnect and resync

    def on_message(self, message: AmiMessage) -> None:
        banner = message.get("Banner")
        if banner is not None:
            self.version = banner.partition("/")[2]
            return
        factory: AmiLink = self.factory
        factory.last_heard = factory.loop.time()
        action_id = message.action_id
        pending = self.pending.get(action_id) if action_id else None
        if pending is not None:
            if message.response is not None and pending.response is None:
                pending.response = message
                # FIX(panoramisk) 4: list actions announce themselves exactly.
                if (message.get("EventList") or "").lower() == "start":
                    return
                self._resolve(action_id, AmiResult(message))
                return
            if message.is_event and pending.response is not None:
                if (message.get("EventList") or "").lower() == "complete":
                    self._resolve(action_id, AmiResult(pending.response, pending.events, message))
                else:
                    pending.events.append(message)
                return
        if message.is_event:
            factory.enqueue_event(message)

    def _resolve(self, action_id: str | None, result: AmiResult) -> None:
        pending = self.pending.pop(action_id or "", None)
        if pending is None:
            return
        if pending.in_stream:
            # Exactly here in the stream: events read before the answer were
            # queued before it, events read after it come after.
            self.factory.enqueue_list_result(pending.action, result)
        if not pending.future.done():
            pending.future.set_result(result)

    # FIX(panoramisk) 2: encode through our checked encoder.
    def send_message(self, message: AmiMessage,
                     in_stream: bool = False) -> asyncio.Future[AmiResult]:
        data = ami_protocol.encode(message)  # raises on CR/LF before anything is sent
        action_id = message.action_id or ""
        future: asyncio.Future[AmiResult] = asyncio.get_running_loop().create_future()
        self.pending[action_id] = _Pending(message.action or "", future, in_stream=in_stream)
        self.transport.write(data)
        return future

    def connection_lost(self, exc: Exception | None) -> None:
        # FIX(panoramisk) 5: fail what is unanswered; never queue it for re-sending.
        for pending in self.pending.values():
            if not pending.future.done():
                pending.future.set_exception(
                    AmiConnectionLost(pending.action, "connection lost before the answer")
                )
        self.pending.clear()
        if not self.closed:
            self.closed = True
            self.factory.connection_lost(exc)
