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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pbx import agi_protocol
from pbx.agi_protocol import AgiResult

log = logging.getLogger(__name__)


class AgiHangup(Exception):
    """The channel hung up (HANGUP notice, 511, or the socket closed)."""


class AgiCommandError(Exception):
    """A command was refused (510, 520) or answered with garbage."""


class AgiTimeout(AgiCommandError):
    pass


class AgiChannel:
    """One FastAGI session, as handlers see it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 env: dict[str, str], command_timeout: float) -> None:
        self._reader = reader
        self._writer = writer
        self.env = env
        self.command_timeout = command_timeout
        self.hung_up = False
        # The running command's deadline, watched by the server's sweeper:
        # one timer per server instead of one per command (the hot path).
        self.deadline: float | None = None
        self.timed_out = False
        self._loop = asyncio.get_running_loop()

    @property
    def script(self) -> str:
        return script_of(self.env)

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    async def command(self, *parts: object, timeout: float | None = None) -> AgiResult:
        """Send ``VERB WORDS`` followed by quoted arguments; return the result.

        ``parts``: the command words as plain strings, then arguments wrapped
        in :class:`Arg` (quoted and escaped).  Raises :class:`AgiHangup` once
        the channel is gone.
        """
        if self.hung_up:
            raise AgiHangup
        words = [agi_protocol.quote(p.value) if isinstance(p, Arg) else str(p) for p in parts]
        line = " ".join(words) + "\n"
        self._writer.write(line.encode())
        self.deadline = self._loop.time() + (timeout or self.command_timeout)
        try:
            if self._writer.transport.get_write_buffer_size() > 65536:
                await self._writer.drain()
            return await self._read_result()
        except (ConnectionError, asyncio.IncompleteReadError, AgiHangup):
            self.hung_up = True
            if self.timed_out:
                raise AgiTimeout(f"no answer to {words[0]!r} in time") from None
            raise AgiHangup from None
        finally:
            self.deadline = None

    def expire(self, now: float) -> None:
        """Called by the server's sweeper: end a command past its deadline."""
        if self.deadline is not None and now >= self.deadline and not self.timed_out:
            self.timed_out = True
            self._writer.transport.abort()  # the read fails; command() says AgiTimeout

    async def _read_result(self) -> AgiResult:
        while True:
            raw = await self._reader.readline()
            if not raw:
                self.hung_up = True
                raise AgiHangup
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line == "HANGUP":
                # The notice comes before the result of the running command.
                self.hung_up = True
                continue
            if line.startswith("520-"):
                while True:  # usage block, ends with "520 End of proper usage."
                    more = await self._reader.readline()
                    if not more or more.startswith(b"520 "):
                        break
                raise AgiCommandError("520 invalid command syntax")
            if not line:
                continue
            try:
                result = agi_protocol.parse_result(line)
            except agi_protocol.AgiProtocolError as exc:
                raise AgiCommandError(str(exc)) from None
            if result.dead_channel:
                self.hung_up = True
                raise AgiHangup
            if result.code == 510:
                raise AgiCommandError(f"510 {result.text}")
            return result

    # ------------------------------------------------------------ commands
    async def answer(self) -> None:
        await self.command("ANSWER")

    async def get_variable(self, name: str) -> str | None:
        result = await self.command("GET VARIABLE", Arg(name))
        return result.data if result.result == 1 else None

    async def set_variable(self, name: str, value: object) -> None:
        await self.command("SET VARIABLE", Arg(name), Arg(value))

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str | None:
        """Play a prompt; return the key that interrupted it, if any."""
        result = await self.command("STREAM FILE", Arg(prompt), Arg(escape_digits))
        return _digit(result)

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        result = await self.command("WAIT FOR DIGIT", timeout_ms,
                                    timeout=timeout_ms / 1000 + self.command_timeout)
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
    ) -> None:
        self.routes = routes
        self.fallback = fallback
        self.host = host
        self.port = port
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.max_sessions = max_sessions
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[Any]] = set()
        self._channels: set[AgiChannel] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.sessions_served = 0
        self.sessions_rejected = 0
        self.bad_requests = 0

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        # A listen backlog as deep as the session cap: with the default 100,
        # a burst of calls overflows it and the PBX's connects wait for a
        # SYN retransmit (a second or more).
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=agi_protocol.MAX_LINE_BYTES,
            backlog=max(100, self.max_sessions),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep(), name="fastagi-command-timeouts")
        log.info("FastAGI listening on %s:%d", self.host, self.port)

    async def _sweep(self) -> None:
        """End commands past their deadline (one timer for all sessions)."""
        interval = min(0.5, self.command_timeout / 4)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for channel in list(self._channels):
                channel.expire(now)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        for task in list(self._sessions):
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        if self._server is not None:
            await self._server.wait_closed()

    def status(self) -> dict[str, Any]:
        return {
            "listening": self.listening,
            "address": f"{self.host}:{self.port}",
            "sessions_active": len(self._sessions),
            "sessions_served": self.sessions_served,
            "sessions_rejected": self.sessions_rejected,
            "bad_requests": self.bad_requests,
        }

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._sessions) >= self.max_sessions:
            self.sessions_rejected += 1
            log.error("FastAGI session cap (%d) reached; refusing a session", self.max_sessions)
            writer.close()
            return
        assert task is not None
        self._sessions.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Server shutdown.  Swallowed so that asyncio's stream callback
            # does not log the cancelled session as an error.
            pass
        finally:
            self._sessions.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except Exception:
                pass

    async def _read_env(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        buffer = b""
        while True:
            try:
                env, _rest = agi_protocol.parse_env(buffer)
                return env
            except agi_protocol.AgiEnvIncomplete:
                pass
            chunk = await reader.read(4096)
            if not chunk:
                return None
            buffer += chunk

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.header_timeout):
                env = await self._read_env(reader)
        except TimeoutError:
            self.bad_requests += 1
            log.warning("FastAGI client sent no complete header in %.0fs; closed",
                        self.header_timeout)
            return
        except agi_protocol.AgiProtocolError as exc:
            self.bad_requests += 1
            log.warning("FastAGI garbage from client: %s; closed", exc)
            return
        except ConnectionError:
            return
        if env is None:
            return  # connected and closed
        self.sessions_served += 1
        channel = AgiChannel(reader, writer, env, self.command_timeout)
        self._channels.add(channel)
        try:
            await self._run_handler(channel, env)
        finally:
            self._channels.discard(channel)

    async def _run_handler(self, channel: AgiChannel, env: dict[str, str]) -> None:
        script = channel.script
        handler = self.routes.get(script)
        if handler is None:
            log.warning("FastAGI request for unknown script %r (channel %s); using the fallback",
                        script, env.get("agi_channel", "?"))
            handler = self.fallback
        try:
            await handler(channel)
        except AgiHangup:
            log.debug("caller hung up during %s", script)
        except (AgiCommandError, ConnectionError) as exc:
            log.warning("FastAGI %s session ended: %s", script, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("FastAGI handler %s failed", script)
