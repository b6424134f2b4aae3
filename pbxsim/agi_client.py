"""AGI(agi://host:port/script[?args]): the FastAGI client side of res_agi.

Connects to the backend's FastAGI server, sends the ``agi_*`` environment,
then serves one command line at a time until the server closes.  Channel
hangup is announced once with a bare ``HANGUP`` line; after it only the
"dead-safe" commands run, others get 511.  AGISTATUS ends SUCCESS,
FAILURE (cannot connect) or HANGUP (the channel hung up; dialplan stops).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pbx.agi_protocol import encode_env, format_result, split_command
from pbxsim.agi_media import USAGE, MediaCommands
from pbxsim.channels import UP
from pbxsim.expressions import split_args

if TYPE_CHECKING:
    from pbxsim.channels import Channel

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0
# Commands res_agi allows after hangup (its "dead" flag).
DEAD_OK = {
    "exec",
    "get variable",
    "get full variable",
    "noop",
    "set variable",
    "verbose",
    "database get",
    "database put",
    "database del",
    "database deltree",
    "asyncagi break",
}
COMMANDS = [
    "answer",
    "asyncagi break",
    "channel status",
    "control stream file",
    "database del",
    "database deltree",
    "database get",
    "database put",
    "exec",
    "get data",
    "get full variable",
    "get option",
    "get variable",
    "hangup",
    "noop",
    "receive char",
    "record file",
    "say alpha",
    "say digits",
    "say number",
    "say phonetic",
    "set autohangup",
    "set callerid",
    "set context",
    "set extension",
    "set music",
    "set priority",
    "set variable",
    "stream file",
    "wait for digit",
    "verbose",
]


def _env(chan: Channel, url: str, script: str, args: list[str]) -> dict[str, str]:
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": url,
        "agi_channel": chan.name,
        "agi_language": chan.language,
        "agi_type": chan.tech,
        "agi_uniqueid": chan.uniqueid,
        "agi_version": "22.10.1",
        "agi_callerid": chan.cid_num or "unknown",
        "agi_calleridname": chan.cid_name or "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": chan.dnid or "unknown",
        "agi_rdnis": "unknown",
        "agi_context": chan.context,
        "agi_extension": chan.exten,
        "agi_priority": str(chan.priority),
        "agi_enhanced": "0.0",
        "agi_accountcode": chan.accountcode,
        "agi_threadid": str(140000000000000 + id(chan) % 10**9),
    }
    for i, arg in enumerate(args, 1):
        env[f"agi_arg_{i}"] = arg
    return env


async def agi_app(chan: Channel, data: str) -> int:
    """The AGI() application."""
    parts = split_args(data)
    url = parts[0].strip() if parts else ""
    args = parts[1:]
    if not url.lower().startswith("agi://"):
        log.warning("%s: only FastAGI (agi://) is simulated, not %r", chan.name, url)
        chan.set_var("AGISTATUS", "FAILURE")
        return 0
    split = urlsplit(url)
    host, port = split.hostname or "127.0.0.1", split.port or 4573
    script = split.path.lstrip("/")
    if split.query:
        args = split.query.split("&") + args
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), CONNECT_TIMEOUT
        )
    except (TimeoutError, OSError):
        log.info("%s: FastAGI %s unreachable", chan.name, url)
        chan.set_var("AGISTATUS", "FAILURE")
        return 0
    chan.fastagi_served.append(f"{host}:{port}")
    session = AgiSession(chan, reader, writer)
    try:
        writer.write(encode_env(_env(chan, url.split("?")[0], script, args)))
        await writer.drain()
        status = await session.run()
    except (ConnectionError, OSError):
        status = "HANGUP" if session.needhup or chan.hungup else "SUCCESS"
    finally:
        try:
            # res_agi tells a FastAGI server "HANGUP" when the session ends.
            writer.write(b"HANGUP\n")
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (TimeoutError, OSError, ConnectionError):
            pass
    chan.set_var("AGISTATUS", status)
    return -1 if status == "HANGUP" else 0


class AgiSession(MediaCommands):
    """One FastAGI conversation for one channel."""

    def __init__(
        self, chan: Channel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.chan = chan
        self.reader = reader
        self.writer = writer
        self.dead = chan.hungup
        self.needhup = chan.hungup
        self.failed = False

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def run(self) -> str:
        chan = self.chan
        line_task: asyncio.Task[bytes] | None = None
        try:
            while True:
                if chan.hungup and not self.dead:
                    self.dead = self.needhup = True
                    await self.send(b"HANGUP\n")
                if line_task is None:
                    line_task = asyncio.ensure_future(self.reader.readline())
                waits: list[asyncio.Future[object]] = [line_task]  # type: ignore[list-item]
                if not self.dead:
                    waits.append(chan.hangup_future)  # type: ignore[arg-type]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if not line_task.done():
                    continue  # hangup: loop sends HANGUP, keeps waiting for the line
                raw = line_task.result()
                line_task = None
                if not raw:
                    break
                await self.send(await self.handle(raw.decode("utf-8", "replace").rstrip("\r\n")))
        finally:
            if line_task is not None and not line_task.done():
                line_task.cancel()
        if self.needhup:
            return "HANGUP"
        return "FAILURE" if self.failed else "SUCCESS"

    async def handle(self, line: str) -> bytes:
        words = split_command(line)
        lowered = [w.lower() for w in words]
        name = ""
        for cmd in sorted(COMMANDS, key=len, reverse=True):
            n = len(cmd.split())
            if " ".join(lowered[:n]) == cmd:
                name = cmd
                break
        if not name:
            return format_result(510)
        if self.dead and name not in DEAD_OK:
            return format_result(511)
        argv = words
        handler = getattr(self, "cmd_" + name.replace(" ", "_"), None)
        if handler is None:
            return format_result(510)
        try:
            return await handler(argv)
        except (IndexError, ValueError):
            return USAGE

    # ---------------------------------------------------------- commands
    async def cmd_answer(self, argv: list[str]) -> bytes:
        if self.chan.state != UP:
            self.chan.set_state(UP)
        return format_result(200, 0)

    async def cmd_asyncagi_break(self, argv: list[str]) -> bytes:
        return format_result(200, 0)

    async def cmd_noop(self, argv: list[str]) -> bytes:
        return format_result(200, 0)

    async def cmd_verbose(self, argv: list[str]) -> bytes:
        log.debug("AGI VERBOSE %s: %s", self.chan.name, argv[1])
        return format_result(200, 1)

    async def cmd_hangup(self, argv: list[str]) -> bytes:
        target = self.chan if len(argv) < 2 else self.chan.sim.channels.get(argv[1])
        if target is None:
            return format_result(200, -1)
        target.request_hangup(16, soft=True)
        return format_result(200, 1)

    async def cmd_channel_status(self, argv: list[str]) -> bytes:
        if len(argv) < 3:
            return format_result(200, self.chan.state)
        other = self.chan.sim.channels.get(argv[2])
        return format_result(200, other.state if other else -1)

    async def cmd_get_variable(self, argv: list[str]) -> bytes:
        name = argv[2]
        if name.endswith(")"):
            value: str | None = self.chan.substitute("${" + name + "}")
        else:
            value = self.chan.get_var(name)
        return format_result(200, 0) if value is None else format_result(200, 1, value)

    async def cmd_get_full_variable(self, argv: list[str]) -> bytes:
        target = self.chan if len(argv) < 5 else self.chan.sim.channels.get(argv[4])
        if target is None:
            return format_result(200, 0)
        return format_result(200, 1, target.substitute(argv[3]))

    async def cmd_set_variable(self, argv: list[str]) -> bytes:
        if len(argv) != 4:
            return USAGE
        from pbxsim.apps import assign

        assign(self.chan, argv[2], argv[3])
        return format_result(200, 1)

    async def cmd_set_callerid(self, argv: list[str]) -> bytes:
        from pbxsim.apps import parse_callerid

        name, num = parse_callerid(argv[2])
        self.chan.set_caller(num, name)
        return format_result(200, 1)

    async def cmd_set_context(self, argv: list[str]) -> bytes:
        self.chan.context = argv[2]
        return format_result(200, 0)

    async def cmd_set_extension(self, argv: list[str]) -> bytes:
        self.chan.exten = argv[2]
        return format_result(200, 0)

    async def cmd_set_priority(self, argv: list[str]) -> bytes:
        from pbxsim.pbx import _resolve_priority

        prio = _resolve_priority(self.chan, self.chan.context, self.chan.exten, argv[2])
        if prio is None:
            return USAGE
        self.chan.priority = prio
        return format_result(200, 0)

    async def cmd_set_music(self, argv: list[str]) -> bytes:
        return format_result(200, 0)

    async def cmd_set_autohangup(self, argv: list[str]) -> bytes:
        secs = float(argv[2])
        if secs > 0:
            self.chan.sim.loop.call_later(
                secs,
                self.chan.request_hangup,
                16,
            )
        return format_result(200, 0)

    async def cmd_database_get(self, argv: list[str]) -> bytes:
        value = self.chan.sim.astdb.get(f"{argv[2]}/{argv[3]}")
        return format_result(200, 0) if value is None else format_result(200, 1, value)

    async def cmd_database_put(self, argv: list[str]) -> bytes:
        self.chan.sim.astdb[f"{argv[2]}/{argv[3]}"] = argv[4]
        return format_result(200, 1)

    async def cmd_database_del(self, argv: list[str]) -> bytes:
        found = self.chan.sim.astdb.pop(f"{argv[2]}/{argv[3]}", None)
        return format_result(200, 1 if found is not None else 0)

    async def cmd_database_deltree(self, argv: list[str]) -> bytes:
        prefix = argv[2] + "/" + (argv[3] + "/" if len(argv) > 3 else "")
        for key in [k for k in self.chan.sim.astdb if k.startswith(prefix)]:
            del self.chan.sim.astdb[key]
        return format_result(200, 1)

    async def cmd_exec(self, argv: list[str]) -> bytes:
        from pbxsim.apps import execute, known_app

        if len(argv) < 2:
            return USAGE
        if not known_app(argv[1]):
            return format_result(200, -2)
        res = await execute(self.chan, argv[1], argv[2] if len(argv) > 2 else "", via_agi=True)
        return format_result(200, -1 if res < 0 else 0)
