"""The AMI TCP server: sessions, login/ACL, event broadcast, fault hooks.

Wire behaviour follows main/manager.c: banner line, ``Response:`` blocks
with the ActionID echoed, events filtered by the user's ``read`` classes
and the session's ``Events:`` mask.  Events caused by an action are
delivered after that action's response, as Asterisk does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import TYPE_CHECKING

from pbx.ami_protocol import AmiMessage, AmiProtocolError, parse
from pbxsim.ami_actions import handle_action

if TYPE_CHECKING:
    from pbxsim.config import ManagerUser
    from pbxsim.core import PbxSim

log = logging.getLogger(__name__)
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
ALL_CLASSES = {
    "system",
    "call",
    "log",
    "verbose",
    "command",
    "agent",
    "user",
    "config",
    "dtmf",
    "reporting",
    "cdr",
    "dialplan",
    "originate",
    "agi",
    "cc",
    "aoc",
    "test",
    "security",
    "message",
}


def _clean(value: object) -> str:
    # A CR/LF inside a value would split the message; Asterisk never sends one.
    return str(value).replace("\r", " ").replace("\n", " ")


def render(headers: list[tuple[str, object]]) -> bytes:
    """One AMI message (CRLF lines, blank line at the end)."""
    return ("".join(f"{k}: {_clean(v)}\r\n" for k, v in headers) + "\r\n").encode("utf-8")


def acl_allows(user: ManagerUser, host: str) -> bool:
    """Asterisk ACL semantics: rules in order, last match wins, default permit."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    allowed = True
    for kind, spec in user.acl:
        net_text, _, mask = spec.partition("/")
        try:
            net = ipaddress.ip_network(f"{net_text}/{mask}" if mask else net_text, strict=False)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            allowed = kind == "permit"
    return allowed


class AmiSession:
    """One manager connection."""

    def __init__(
        self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.sim = server.sim
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.host = peer[0] if peer else "127.0.0.1"
        self.user: ManagerUser | None = None
        self.authenticated = False
        self.event_mask: set[str] = set(ALL_CLASSES)
        self.holding = False
        self.held: list[bytes] = []
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False

    # ------------------------------------------------------------ output
    def wants(self, privilege: str) -> bool:
        if not self.authenticated or self.user is None:
            return False
        read = self.user.read
        return ("all" in read or privilege in read) and privilege in self.event_mask

    def deliver_event(self, data: bytes) -> None:
        if self.holding:
            self.held.append(data)
        else:
            self.outbox.put_nowait(data)

    def send(self, data: bytes) -> None:
        self.outbox.put_nowait(data)

    def respond(
        self, msg: AmiMessage, response: str, *extra: tuple[str, object], message: str | None = None
    ) -> None:
        """``Response: X`` + ActionID + extras (+ Message)."""
        headers: list[tuple[str, object]] = [("Response", response)]
        aid = msg.get("ActionID")
        if aid:
            headers.append(("ActionID", aid))
        headers += list(extra)
        if message is not None:
            headers.append(("Message", message))
        self.send(render(headers))

    def error(self, msg: AmiMessage, message: str) -> None:
        self.respond(msg, "Error", message=message)

    def ack(self, msg: AmiMessage, message: str) -> None:
        self.respond(msg, "Success", message=message)

    async def _writer_loop(self) -> None:
        try:
            while True:
                data = await self.outbox.get()
                if data is None:
                    break
                await self.server.wait_unstalled()
                if self.server.fragment:
                    await self._write_fragmented(data, self.server.fragment)
                    continue
                self.writer.write(data)
                if self.outbox.empty():
                    await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            self.writer.close()

    async def _write_fragmented(self, data: bytes, size: int) -> None:
        # Fault injection: tiny TCP segments, so that the client's reads end
        # inside lines and inside multi-byte characters.
        for i in range(0, len(data), size):
            self.writer.write(data[i:i + size])
            await self.writer.drain()
            await asyncio.sleep(0.001)

    # ------------------------------------------------------------- input
    async def run(self) -> None:
        writer_task = asyncio.ensure_future(self._writer_loop())
        self.send(BANNER)
        buffer = b""
        try:
            while not self.closed:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                await self.server.wait_unstalled()
                buffer += chunk
                try:
                    messages, buffer = parse(buffer)
                except AmiProtocolError:
                    log.warning("AMI: oversized message from %s dropped", self.host)
                    buffer = b""
                    continue
                for msg in messages:
                    if msg.get("Banner") is not None:
                        continue
                    if not await self._process(msg):
                        return
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            self.outbox.put_nowait(None)
            try:
                await asyncio.wait_for(writer_task, 5.0)
            except (TimeoutError, asyncio.CancelledError, ConnectionError, OSError):
                writer_task.cancel()
            self.server.sessions.discard(self)

    async def _process(self, msg: AmiMessage) -> bool:
        """Handle one action; False ends the session."""
        self.holding = True
        try:
            keep = await handle_action(self, msg)
        except Exception:  # a malformed action must not kill the server
            log.exception("AMI action failed: %r", msg.headers)
            self.error(msg, "Internal error")
            keep = True
        finally:
            self.holding = False
            for data in self.held:
                self.outbox.put_nowait(data)
            self.held.clear()
        return keep

    def close(self) -> None:
        self.closed = True
        self.outbox.put_nowait(None)
        try:
            self.writer.close()
        except (ConnectionError, OSError):
            pass


class AmiServer:
    """Listens for AMI clients and fans events out to them."""

    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self.sessions: set[AmiSession] = set()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self._stall_until = 0.0
        self.fragment = 0  # >0: write events in segments of this many bytes
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._client, host, port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await session.run()
        finally:
            if task is not None:
                self._handlers.discard(task)

    def broadcast(self, event: str, privilege: str, headers: list[tuple[str, str]]) -> None:
        if not self.sessions:
            return
        data = render([("Event", event), ("Privilege", f"{privilege},all"), *headers])
        for session in list(self.sessions):
            if not session.closed and session.wants(privilege):
                session.deliver_event(data)

    async def wait_unstalled(self) -> None:
        while True:
            remaining = self._stall_until - self.sim.loop_time()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)

    def stall(self, seconds: float) -> None:
        self._stall_until = max(self._stall_until, self.sim.loop_time() + seconds)

    def inject(self, data: bytes) -> None:
        """Fault injection: raw bytes into every session's stream, in order."""
        for session in list(self.sessions):
            if not session.closed:
                session.send(data)

    def close_all(self) -> None:
        for session in list(self.sessions):
            session.close()

    async def drop_all(self) -> None:
        self.close_all()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5.0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        await self.drop_all()
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.wait_closed(), 5.0)
            except TimeoutError:
                pass
