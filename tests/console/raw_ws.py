"""A WebSocket client that can stop reading: a console whose browser tab
froze.  Its socket's receive buffer is small, so the backend's sends back
up after a few dozen messages instead of after megabytes of kernel buffer.
Frames are read by hand (RFC 6455 section 5.2; the server never masks)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

OP_TEXT, OP_CLOSE = 0x1, 0x8


class StallingConsole:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, token: str, query: str = "") -> StallingConsole:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        # A small stream limit too: what asyncio buffers counts as read.
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /api/ws{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Authorization: Bearer {token}\r\n\r\n").encode())
        status = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        return cls(reader, writer)

    def stop_reading(self) -> None:
        transport = self.writer.transport
        transport.pause_reading()

    def resume_reading(self) -> None:
        self.writer.transport.resume_reading()

    async def frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return opcode, await self.reader.readexactly(length)

    async def message(self) -> dict[str, Any]:
        opcode, payload = await self.frame()
        assert opcode == OP_TEXT, (opcode, payload)
        return json.loads(payload)

    async def rest_until_close(self) -> tuple[list[dict[str, Any]], int, str]:
        """Every message still on its way, then the close frame's code and reason."""
        messages = []
        while True:
            opcode, payload = await self.frame()
            if opcode == OP_CLOSE:
                (code,) = struct.unpack("!H", payload[:2])
                return messages, code, payload[2:].decode()
            if opcode == OP_TEXT:
                messages.append(json.loads(payload))

    def close(self) -> None:
        self.writer.close()
