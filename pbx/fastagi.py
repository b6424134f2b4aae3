"""Our FastAGI server (asyncio).

Why not panoramisk's ``fast_agi.Application``: its handler loops forever
on a closed socket (it keeps reading empty bytes), it has no header-read
timeout, no header size limit, no cap on concurrent sessions and no
command timeout, and it does not quote arguments.  pyst2's
``asterisk.fastagi`` does not import on Python 3.  So the server is ours;
the wire format lives in :mod:`pbx.agi_protocol` (pure, tested against
the Asterisk 22 transcripts).

Routing is by ``agi_network_script`` (the path of ``agi://host:port/ivr``).
A request for an unknown script is logged and handed to the fallback
handler, so the caller still reaches a queue.

How it is built, for speed (``bench/bench_fastagi.py``, BENCHMARKS.md):
each connection is an :class:`asyncio.Protocol` (:class:`_Connection`),
not a StreamReader/StreamWriter pair: the bytes are split into lines in
``data_received`` and a result line completes the running command's
future directly.  A command costs one write, one future and one wake-up of
the handler's task: no task, timer or timeout context per command.  Every
deadline (the header's, then each command's) is a number on the
connection, checked by one sweeper task per server.  Nothing is logged per
line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.tasks import cancel_and_wait
from pbx import agi_protocol
from pbx.agi_protocol import AgiResult, quote

log = logging.getLogger(__name__)


class AgiHangup(Exception):
    """The channel hung up (HANGUP notice, 511, or the socket closed)."""


class AgiCommandError(Exception):
    """A command was refused (510, 520) or answered with garbage."""


class AgiTimeout(AgiCommandError):
    pass


# Refused clients (session cap, garbage, stalled header) are logged at
# most once per this many seconds per kind; status() counts them all.
COMPLAINT_INTERVAL = 10.0

# Parsed results of the short, data-free lines that make up most answers
# ("200 result=1", "200 result=0", a digit): AgiResult is frozen, so one
# instance can serve every session.  Bounded; lines with data (a variable's
# value) or extra fields are never kept.
_RESULTS: dict[bytes, AgiResult] = {}
_RESULTS_MAX = 256
_CACHEABLE_LINE = 24


def _parse(raw: bytes) -> AgiResult:
    result = agi_protocol.parse_result(raw.decode("utf-8", errors="replace"))
    if (result.code == 200 and result.extra is None and result.data is None
            and len(raw) <= _CACHEABLE_LINE and len(_RESULTS) < _RESULTS_MAX):
        _RESULTS[raw] = result
    return result


class AgiChannel:
    """One FastAGI session, as handlers see it."""

    __slots__ = ("_conn", "_loop", "_transport", "env", "command_timeout", "hung_up")

    def __init__(self, connection: _Connection, transport: asyncio.Transport,
                 env: dict[str, str], command_timeout: float) -> None:
        self._conn = connection
        self._loop = connection.loop
        self._transport = transport
        self.env = env
        self.command_timeout = command_timeout
        self.hung_up = False

    @property
    def script(self) -> str:
        return script_of(self.env)

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    def _send(self, line: str, timeout: float | None = None) -> asyncio.Future[AgiResult]:
        """Write one command line; the future gets its result (or the
        AgiHangup / AgiCommandError / AgiTimeout it ended with)."""
        if self.hung_up:
            raise AgiHangup
        conn = self._conn
        previous = conn.waiter
        if previous is not None:
            if not previous.done():
                raise RuntimeError("another command is already running on this channel")
            conn.owed += 1  # it was cancelled before its answer came: skip that answer
        waiter = self._loop.create_future()
        conn.waiter = waiter
        conn.running = line
        conn.deadline = self._loop.time() + (timeout or self.command_timeout)
        self._transport.write(line.encode())
        return waiter

    async def command(self, *parts: object, timeout: float | None = None) -> AgiResult:
        """Send ``VERB WORDS`` followed by quoted arguments; return the result.

        ``parts``: the command words as plain strings, then arguments wrapped
        in :class:`Arg` (quoted and escaped).  Raises :class:`AgiHangup` once
        the channel is gone.
        """
        words = [quote(p.value) if isinstance(p, Arg) else agi_protocol.single_line(p)
                 for p in parts]
        return await self._send(" ".join(words) + "\n", timeout)

    # ------------------------------------------------------------ commands
    # Each builds its line directly (the same bytes command() would send);
    # every argument that comes from data goes through quote().
    async def answer(self) -> None:
        await self._send("ANSWER\n")

    async def get_variable(self, name: str) -> str | None:
        result = await self._send(f"GET VARIABLE {quote(name)}\n")
        return result.data if result.result == 1 else None

    async def set_variable(self, name: str, value: object) -> None:
        await self._send(f"SET VARIABLE {quote(name)} {quote(value)}\n")

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str | None:
        """Play a prompt; return the key that interrupted it, if any."""
        return _digit(await self._send(f"STREAM FILE {quote(prompt)} {quote(escape_digits)}\n"))

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        result = await self._send(f"WAIT FOR DIGIT {int(timeout_ms)}\n",
                                  timeout_ms / 1000 + self.command_timeout)
        return _digit(result)

    async def record_file(self, path: str, fmt: str = "wav", escape_digits: str = "#",
                          timeout_ms: int = 60_000, beep: bool = True,
                          silence_s: int = 3) -> AgiResult:
        parts: list[object] = ["RECORD FILE", Arg(path), Arg(fmt), Arg(escape_digits),
                               timeout_ms, 0]
        if beep:
            parts.append("BEEP")
        parts.append(f"s={silence_s}")
        return await self.command(*parts, timeout=timeout_ms / 1000 + self.command_timeout)

    async def exec(self, app: str, args: str = "", timeout: float | None = None) -> AgiResult:
        return await self.command("EXEC", app, Arg(args), timeout=timeout)

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", Arg(message), level)

    async def hangup(self) -> None:
        try:
            await self.command("HANGUP")
        except AgiHangup:
            pass


class Arg:
    """An argument to quote and escape (anything that comes from data)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _digit(result: AgiResult) -> str | None:
    if result.result is None or result.result <= 0:
        return None
    return chr(result.result)


def script_of(env: dict[str, str]) -> str:
    script = env.get("agi_network_script", "")
    if not script:
        request = env.get("agi_request", "")
        script = request.split("://", 1)[-1].partition("/")[2]
    return script.split("?", 1)[0].strip("/")


Handler = Callable[[AgiChannel], Awaitable[None]]


def _peer_address(transport: asyncio.BaseTransport) -> str:
    """The client's IP address; an IPv4-mapped IPv6 address as plain IPv4."""
    peer = transport.get_extra_info("peername")
    host = str(peer[0]) if peer else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


class _Connection(asyncio.Protocol):
    """One FastAGI connection: the header block, then the answers to the
    running command of its :class:`AgiChannel`."""

    __slots__ = ("server", "loop", "transport", "buffer", "deadline", "channel", "task",
                 "waiter", "running", "owed", "in_usage", "strays")

    def __init__(self, server: FastAgiServer, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()  # the header so far, then a partial line
        self.deadline: float | None = None  # header's, then the running command's
        self.channel: AgiChannel | None = None
        self.task: asyncio.Task[None] | None = None
        self.waiter: asyncio.Future[AgiResult] | None = None
        self.running = ""  # the command line waiting for its answer
        self.owed = 0  # answers still due to cancelled commands
        self.in_usage = False  # inside a "520-" usage block
        self.strays = 0  # lines that answered no command

    # ---------------------------------------------------------- transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self.server
        peer = _peer_address(transport)
        if server.allowed is not None and peer not in server.allowed:
            # Anyone who reaches the port could otherwise create calls and
            # callback tasks: only the configured Asterisk servers may talk.
            server.sessions_rejected += 1
            server._complain(logging.WARNING, "address", "FastAGI connection from %s refused: "
                             "not in HOTLINE_AGI_ALLOW", peer)
            transport.close()
            return
        if len(server._connections) >= server.max_sessions:
            server.sessions_rejected += 1
            server._complain(logging.ERROR, "cap", "FastAGI session cap (%d) reached; "
                             "refusing sessions", server.max_sessions)
            transport.close()
            return
        self.transport = transport  # type: ignore[assignment]
        server._connections.add(self)
        self.deadline = self.loop.time() + server.header_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)
        self.deadline = None
        if self.channel is not None:
            self.channel.hung_up = True
            self._end_waiter(AgiHangup())
            # Break the connection <-> channel cycle, so that refcounting, not
            # the garbage collector, frees the session (a burst of sessions
            # otherwise costs extra collections).
            self.channel = None

    def eof_received(self) -> bool:
        return False  # close; connection_lost ends the running command

    def data_received(self, data: bytes) -> None:
        if self.channel is None:
            if self.transport is not None:
                self._header(data)
            return
        if self.buffer:
            data = bytes(self.buffer) + data
            self.buffer.clear()
        lines = data.split(b"\n")
        rest = lines.pop()  # b"" when the data ends a line, as it mostly does
        for raw in lines:
            self._line(raw)
        if rest:
            if len(rest) > agi_protocol.MAX_LINE_BYTES:
                self._fail(AgiCommandError("AGI answer line longer than 8 KiB"))
                return
            self.buffer += rest

    # ------------------------------------------------------------- header
    def _header(self, data: bytes) -> None:
        buffer = self.buffer
        if buffer:
            seen = len(buffer)
            buffer += data
            end = buffer.find(b"\n\n", seen - 1)  # only the new bytes are searched
            size = len(buffer)
        else:
            end = data.find(b"\n\n")  # the usual case: the whole header in one read
            size = len(data)
        if end < 0:
            if size > agi_protocol.MAX_ENV_BYTES:
                self._bad_request("AGI environment larger than 16 KiB")
            elif not buffer:
                buffer += data
            return
        if end > agi_protocol.MAX_ENV_BYTES:
            self._bad_request("AGI environment larger than 16 KiB")
            return
        if buffer:
            data = bytes(buffer)
        try:
            env, rest = agi_protocol.parse_env(data)
        except agi_protocol.AgiProtocolError as exc:
            self._bad_request(str(exc))
            return
        buffer.clear()
        self.deadline = None
        server = self.server
        server.sessions_served += 1
        assert self.transport is not None
        self.channel = channel = AgiChannel(self, self.transport, env, server.command_timeout)
        if rest:
            self.data_received(rest)
        self.task = task = self.loop.create_task(server._session(self, channel))
        server._tasks.add(task)

    def _bad_request(self, why: str) -> None:
        self.server.bad_requests += 1
        self.server._complain(logging.WARNING, "garbage",
                              "FastAGI garbage from client: %s; closed", why)
        self.deadline = None
        assert self.transport is not None
        self.transport.close()

    # -------------------------------------------------------------- lines
    def _line(self, raw: bytes) -> None:
        result = None if self.in_usage else _RESULTS.get(raw)
        if result is None:
            if raw[-1:] == b"\r":
                raw = raw[:-1]
            if self.in_usage:  # usage block, ends with "520 End of proper usage."
                if raw.startswith(b"520 "):
                    self.in_usage = False
                    self._answer(AgiCommandError("520 invalid command syntax"))
                return
            if raw == b"HANGUP":
                # The notice comes before the result of the running command
                # (or between commands): that result is still delivered, the
                # next command raises AgiHangup.
                assert self.channel is not None
                self.channel.hung_up = True
                return
            if not raw:
                return
            if raw.startswith(b"520-"):
                self.in_usage = True
                return
            if len(raw) > agi_protocol.MAX_LINE_BYTES:
                self._fail(AgiCommandError("AGI answer line longer than 8 KiB"))
                return
            try:
                result = _RESULTS.get(raw) or _parse(raw)
            except agi_protocol.AgiProtocolError as exc:
                self._answer(AgiCommandError(str(exc)))
                return
            code = result.code
            if code != 200:
                if code == 100:
                    return  # "100 result=0 Trying...": the real answer follows
                if code == 511:
                    assert self.channel is not None
                    self.channel.hung_up = True
                    self._answer(AgiHangup())
                    return
                if code == 510 or code == 520:
                    self._answer(AgiCommandError(f"{code} {result.text}"))
                    return
        self._answer(result)

    def _answer(self, outcome: AgiResult | Exception) -> None:
        """Complete the running command with its result or its error."""
        waiter = self.waiter
        if waiter is None or self.owed or waiter.done():
            self._stray()
            return
        self.waiter = None
        self.deadline = None
        if isinstance(outcome, Exception):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)

    def _stray(self) -> None:
        """An answer with no command waiting for it."""
        if self.owed:
            self.owed -= 1  # the answer to a cancelled command
            return
        waiter = self.waiter
        if waiter is not None and waiter.done():
            self.waiter = None  # the cancelled command's answer, before the next command
            self.deadline = None
            return
        if self.channel is not None and not self.channel.hung_up:
            self.strays += 1
            if self.strays == 1:
                log.warning("FastAGI %s: an answer to no command; ignored",
                            self.channel.env.get("agi_channel", "?"))

    def _end_waiter(self, exc: Exception) -> None:
        waiter = self.waiter
        self.waiter = None
        self.deadline = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _fail(self, exc: Exception) -> None:
        """The session cannot go on: end the running command, drop the link."""
        if self.channel is not None:
            self.channel.hung_up = True
        self._end_waiter(exc)
        if self.transport is not None:
            self.transport.abort()

    def expire(self) -> None:
        """Called by the server's sweeper once ``deadline`` has passed."""
        self.deadline = None
        if self.channel is None:
            self.server.bad_requests += 1
            self.server._complain(logging.WARNING, "stall",
                                  "FastAGI client sent no complete header in %.0fs; closed",
                                  self.server.header_timeout)
            assert self.transport is not None
            self.transport.close()
            return
        waiter = self.waiter
        if waiter is None or waiter.done():
            return  # answered meanwhile, or the command was cancelled
        verb = " ".join(self.running.split(" ", 2)[:2]).strip()
        self._fail(AgiTimeout(f"no answer to {verb!r} in time"))


class FastAgiServer:
    """Accepts FastAGI sessions and runs the handler routed by script name."""

    def __init__(
        self,
        routes: dict[str, Handler],
        fallback: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        header_timeout: float = 5.0,
        command_timeout: float = 30.0,
        max_sessions: int = 500,
        allowed: tuple[str, ...] | None = None,
    ) -> None:
        """``allowed``: the only client addresses served (None: any, for tests
        and benchmarks of the protocol alone)."""
        self.routes = routes
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.fallback = fallback
        self.host = host
        self.port = port
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.max_sessions = max_sessions
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()  # open, counted against the cap
        self._tasks: set[asyncio.Task[None]] = set()  # handlers still running
        self._sweeper: asyncio.Task[None] | None = None
        self.sessions_served = 0
        self.sessions_rejected = 0
        self.bad_requests = 0
        self._complaints: dict[str, tuple[float, int]] = {}  # kind: (last logged, unlogged)

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        self.loop = loop = asyncio.get_running_loop()
        # A listen backlog as deep as the session cap: with the default 100,
        # a burst of calls overflows it and the PBX's connects wait for a
        # SYN retransmit (a second or more).
        self._server = await loop.create_server(
            lambda: _Connection(self, loop), self.host, self.port,
            backlog=max(100, self.max_sessions),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep(), name="fastagi-deadlines")
        log.info("FastAGI listening on %s:%d", self.host, self.port)

    async def _sweep(self) -> None:
        """End headers and commands past their deadline (one timer for all)."""
        interval = min(0.5, self.command_timeout / 4, self.header_timeout / 4)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for conn in list(self._connections):
                deadline = conn.deadline
                if deadline is not None and now >= deadline:
                    conn.expire()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            self._server.close()
        await cancel_and_wait(list(self._tasks))
        for conn in list(self._connections):  # those still reading a header
            if conn.transport is not None:
                conn.transport.close()
        await asyncio.sleep(0)  # let the transports call connection_lost
        if self._server is not None:
            await self._server.wait_closed()

    def _complain(self, level: int, kind: str, message: str, *args: object) -> None:
        """Log a refused client, at most once per COMPLAINT_INTERVAL per kind:
        a flood of bad clients must not become a flood of log lines.  The
        counters in status() count every one."""
        assert self.loop is not None
        now = self.loop.time()
        last, unlogged = self._complaints.get(kind, (-COMPLAINT_INTERVAL, 0))
        if now - last < COMPLAINT_INTERVAL:
            self._complaints[kind] = (last, unlogged + 1)
            return
        if unlogged:
            message += f" (and {unlogged} more like it in the last {COMPLAINT_INTERVAL:.0f} s)"
        log.log(level, message, *args)
        self._complaints[kind] = (now, 0)

    def status(self) -> dict[str, Any]:
        return {
            "listening": self.listening,
            "address": f"{self.host}:{self.port}",
            "sessions_active": len(self._connections),
            "sessions_served": self.sessions_served,
            "sessions_rejected": self.sessions_rejected,
            "bad_requests": self.bad_requests,
        }

    async def _session(self, conn: _Connection, channel: AgiChannel) -> None:
        script = channel.script
        if not agi_protocol.valid_uniqueid(channel.uniqueid):
            self.bad_requests += 1
            self._complain(logging.WARNING, "uniqueid", "FastAGI session with a malformed "
                           "agi_uniqueid refused (script %r)", script)
            self._tasks.discard(conn.task)  # type: ignore[arg-type]
            assert conn.transport is not None
            conn.transport.close()
            return
        handler = self.routes.get(script)
        if handler is None:
            log.warning("FastAGI request for unknown script %r (channel %s); using the fallback",
                        script, channel.env.get("agi_channel", "?"))
            handler = self.fallback
        try:
            await handler(channel)
        except AgiHangup:
            log.debug("caller hung up during %s", script)
        except (AgiCommandError, ConnectionError) as exc:
            log.warning("FastAGI %s session ended: %s", script, exc)
        except asyncio.CancelledError:
            pass  # server shutdown
        except Exception:
            log.exception("FastAGI handler %s failed", script)
        finally:
            self._tasks.discard(conn.task)  # type: ignore[arg-type]
            assert conn.transport is not None
            conn.transport.close()
