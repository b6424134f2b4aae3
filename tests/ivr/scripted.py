"""A scripted PBX for IVR tests: plays the Asterisk side of one FastAGI session."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

from pbx import agi_protocol

ENV = ("agi_network: yes\nagi_network_script: {script}\nagi_request: agi://127.0.0.1/{script}\n"
       "agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: {uid}\n"
       "agi_callerid: {num}\nagi_calleridname: {name}\nagi_extension: 12345\n\n")


def write_wav(path: Path, seconds: float, tone: bool) -> None:
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(i / 5)) if tone else 0)
        for i in range(int(8000 * seconds)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)


@dataclass
class Script:
    keys: list[str | None] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # what GET VARIABLE answers
    record: str = "speech"  # speech | silence | hangup | none
    record_seconds: float = 4.0
    hang_up_at: int | None = None  # command number that meets a hangup


@dataclass
class Session:
    played: list[str] = field(default_factory=list)
    set_vars: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


async def run_session(port: int, uid: str, script: Script, number: str = "13800138000",
                      name: str = "张三", agi_script: str = "ivr") -> Session:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV.format(uid=uid, num=number, name=name, script=agi_script).encode())
    keys, out = list(script.keys), Session()
    hung_up = False
    while True:
        line = await reader.readline()
        if not line:
            break
        out.commands.append(line.decode().rstrip("\n"))
        words = agi_protocol.split_command(line.decode())
        verb = " ".join(words[:2])
        if hung_up or (script.hang_up_at is not None and len(out.commands) >= script.hang_up_at):
            writer.write((b"" if hung_up else b"HANGUP\n") + agi_protocol.format_result(511))
            hung_up = True
            continue
        if verb == "STREAM FILE":
            out.played.append(words[2])
            escape = words[3] if len(words) > 3 else ""
            key = keys.pop(0) if keys and escape else None
            writer.write(agi_protocol.format_result(200, ord(key) if key else 0, endpos=8000))
        elif verb == "WAIT FOR":
            key = keys.pop(0) if keys else None
            writer.write(agi_protocol.format_result(200, ord(key) if key else 0))
        elif verb == "SET VARIABLE":
            out.set_vars[words[2]] = words[3]
            writer.write(b"200 result=1\n")
        elif verb == "GET VARIABLE":
            value = script.variables.get(words[2])
            writer.write(f"200 result=1 ({value})\n".encode() if value is not None
                         else b"200 result=0\n")
        elif verb == "RECORD FILE":
            path = Path(words[2] + "." + words[3])
            endpos = int(8000 * script.record_seconds)
            if script.record != "none":
                write_wav(path, script.record_seconds, tone=script.record != "silence")
            if script.record == "hangup":
                writer.write(agi_protocol.format_result(200, -1, "hangup", endpos=endpos))
                hung_up = True
            else:
                writer.write(agi_protocol.format_result(200, 0, "timeout", endpos=endpos))
        else:
            writer.write(b"200 result=0\n")
    writer.close()
    return out
