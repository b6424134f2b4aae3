"""Test helpers: a tiny AMI client, a scripted FastAGI server, a sim factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.clock import Clock
from pbx.agi_protocol import AgiEnvIncomplete, parse_env
from pbx.ami_protocol import AmiMessage, parse
from pbxsim import PbxSim

ROOT = Path(__file__).resolve().parents[2]
PROD_CONF = ROOT / "asterisk-conf"
FIXTURES = ROOT / "tests" / "fixtures" / "asterisk-22"
TEST_CONF = Path(__file__).resolve().parent / "conf"
SECRET = "s3cret"


class AmiClient:
    """Reads every message into ``messages``; ``action`` waits for the reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.messages: list[AmiMessage] = []
        self.raw = b""
        self._seq = 0
        self._task = asyncio.ensure_future(self._read())
        self._new = asyncio.Event()

    @classmethod
    async def connect(cls, port: int) -> AmiClient:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        return cls(r, w)

    async def _read(self) -> None:
        buf = b""
        while True:
            data = await self.reader.read(65536)
            if not data:
                break
            self.raw += data
            buf += data
            msgs, buf = parse(buf)
            self.messages.extend(msgs)
            self._new.set()

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def action(self, name: str, **headers: str) -> AmiMessage:
        self._seq += 1
        aid = f"t{self._seq}"
        lines = [f"Action: {name}", f"ActionID: {aid}"] + [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await self.wait_for(
            lambda m: m.get("ActionID") == aid and m.get("Response") is not None
        )

    async def wait_for(
        self, pred: Callable[[AmiMessage], bool], timeout: float = 600.0
    ) -> AmiMessage:
        async def _wait() -> AmiMessage:
            seen = 0
            while True:
                for m in self.messages[seen:]:
                    if pred(m):
                        return m
                seen = len(self.messages)
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(_wait(), timeout)

    def events(self, name: str | None = None) -> list[AmiMessage]:
        return [m for m in self.messages if m.event and (name is None or m.event == name)]

    async def login(self, secret: str = SECRET, user: str = "hotline") -> AmiMessage:
        return await self.action("Login", Username=user, Secret=secret)

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()


Script = Callable[["AgiConn"], Any]


class AgiConn:
    """One FastAGI connection as seen by our fake IVR."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.env: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []

    async def read_env(self) -> None:
        buf = b""
        while True:
            try:
                self.env, _ = parse_env(buf)
                return
            except AgiEnvIncomplete:
                buf += await self.reader.read(4096)

    async def cmd(self, line: str) -> str:
        self.writer.write((line + "\n").encode())
        await self.writer.drain()
        reply = (await self.reader.readline()).decode().rstrip("\n")
        while reply == "HANGUP":
            self.log.append((line, reply))
            reply = (await self.reader.readline()).decode().rstrip("\n")
        self.log.append((line, reply))
        return reply


class FakeIvr:
    """asyncio FastAGI server; ``script(conn)`` plays the backend's side."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.sessions: list[AgiConn] = []
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> FakeIvr:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = AgiConn(reader, writer)
        self.sessions.append(conn)
        await conn.read_env()
        try:
            await self.script(conn)
        finally:
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    @property
    def url(self) -> str:
        return f"agi://127.0.0.1:{self.port}"


async def make_sim(conf: Path = PROD_CONF, fastagi: str | None = None, **kw: Any) -> PbxSim:
    sim = PbxSim(
        conf,
        clock=Clock.for_running_loop(),
        globals_override={"FASTAGI": fastagi or "agi://127.0.0.1:9"},
        ami_secret_override={"hotline": SECRET},
        **kw,
    )
    await sim.start()
    return sim


def record_events(sim: PbxSim) -> list[tuple[str, dict[str, str]]]:
    """All events as (name, first-value dict), captured in-process."""
    out: list[tuple[str, dict[str, str]]] = []

    def tap(event: str, _priv: str, headers: list[tuple[str, str]]) -> None:
        d: dict[str, str] = {}
        for k, v in headers:
            d.setdefault(k, v)
        out.append((event, d))

    sim.event_listeners.append(tap)
    return out
