"""A minimal scripted AMI peer for testing the AMI link in isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pbx import ami_protocol
from pbx.ami_protocol import AmiMessage

Responder = Callable[[AmiMessage], list[bytes] | None]


class FakeAmi:
    def __init__(self, secret: str = "pw") -> None:
        self.secret = secret
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.received: list[AmiMessage] = []
        self.logins = 0
        self.stalled = False
        self.responders: dict[str, Responder] = {}

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop()
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    def drop(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    def push(self, data: bytes) -> None:
        for w in self.writers:
            w.write(data)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
                messages, buffer = ami_protocol.parse(buffer)
                for m in messages:
                    self.received.append(m)
                    if self.stalled:
                        continue
                    for out in self._answer(m):
                        writer.write(out)
        except (ConnectionError, asyncio.CancelledError):
            return

    def _answer(self, m: AmiMessage) -> list[bytes]:
        aid = m.action_id or ""
        action = (m.action or "").lower()
        custom = self.responders.get(action)
        if custom is not None:
            result = custom(m)
            if result is not None:
                return result
        if action == "login":
            if m.get("Secret") != self.secret:
                return [ami_protocol.encode({"Response": "Error", "ActionID": aid,
                                             "Message": "Authentication failed"})]
            self.logins += 1
            return [ami_protocol.encode({"Response": "Success", "ActionID": aid,
                                         "Message": "Authentication accepted"}),
                    ami_protocol.encode({"Event": "FullyBooted", "Privilege": "system,all",
                                         "Status": "Fully Booted"})]
        if action == "ping":
            return [ami_protocol.encode({"Response": "Success", "ActionID": aid, "Ping": "Pong",
                                         "Timestamp": "1.0"})]
        if action == "queueadd":
            return [ami_protocol.encode({"Response": "Success", "ActionID": aid,
                                         "Message": "Added interface to queue"})]
        if action == "queuestatus":
            return [ami_protocol.encode({"Response": "Success", "ActionID": aid,
                                         "EventList": "start",
                                         "Message": "Queue status will follow"}),
                    ami_protocol.encode({"Event": "QueueParams", "Queue": "q1", "ActionID": aid}),
                    ami_protocol.encode({"Event": "QueueMember", "Queue": "q1", "Name": "张三",
                                         "ActionID": aid}),
                    ami_protocol.encode({"Event": "QueueStatusComplete", "ActionID": aid,
                                         "EventList": "Complete", "ListItems": "2"})]
        if action == "logoff":
            return [ami_protocol.encode({"Response": "Goodbye", "ActionID": aid,
                                         "Message": "Thanks for all the fish."})]
        return [ami_protocol.encode({"Response": "Error", "ActionID": aid,
                                     "Message": "Invalid/unknown command"})]
