"""The media-related FastAGI commands (res_agi result formats), mixed into
:class:`pbxsim.agi_client.AgiSession`: STREAM FILE, CONTROL STREAM FILE,
GET OPTION, WAIT FOR DIGIT, GET DATA, SAY *, RECORD FILE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.agi_protocol import format_result
from pbxsim import media

if TYPE_CHECKING:
    from pbxsim.channels import Channel

USAGE = b"520 Invalid command syntax.  Proper usage not available.\n"


class MediaCommands:
    """Command handlers that play, listen or record on ``self.chan``."""

    chan: Channel

    async def cmd_stream_file(self, argv: list[str]) -> bytes:
        if len(argv) < 4 or len(argv) > 5:
            return USAGE
        offset = int(argv[4]) if len(argv) > 4 else 0
        digit, pos = await media.play(self.chan, argv[2], argv[3])
        endpos = offset + int(pos * media.RATE)
        if digit is None:
            self.chan.set_var("PLAYBACKSTATUS", "FAILED")
            return format_result(200, -1, endpos=endpos)
        res = ord(digit) if digit else 0
        out = format_result(200, res, endpos=endpos)
        self.chan.set_var("PLAYBACKSTATUS", "SUCCESS" if res == 0 else "FAILED")
        return out

    async def cmd_control_stream_file(self, argv: list[str]) -> bytes:
        if len(argv) < 4:
            return USAGE
        digit, pos = await media.play(self.chan, argv[2], argv[3])
        offset_ms = int(pos * 1000)
        if digit is None:
            self.chan.set_var("CPLAYBACKSTATUS", "ERROR")
            res = -1
        elif digit:
            res = ord(digit)
            self.chan.set_var("CPLAYBACKSTATUS", "USERSTOPPED")
            self.chan.set_var("CPLAYBACKSTOPKEY", digit)
        else:
            res = 0
            self.chan.set_var("CPLAYBACKSTATUS", "SUCCESS")
        self.chan.set_var("CPLAYBACKOFFSET", str(offset_ms))
        return format_result(200, res, endpos=offset_ms)

    async def cmd_get_option(self, argv: list[str]) -> bytes:
        digit, pos = await media.play(self.chan, argv[2], argv[3])
        endpos = int(pos * media.RATE)
        if digit == "":
            timeout = int(argv[4]) / 1000 if len(argv) > 4 else 5.0
            got = await self.chan.read_digit(timeout, argv[3])
            digit = got if got is None or got in argv[3] else ""
        if digit is None:
            return format_result(200, -1, endpos=endpos)
        return format_result(200, ord(digit) if digit else 0, endpos=endpos)

    async def cmd_wait_for_digit(self, argv: list[str]) -> bytes:
        if len(argv) != 4:
            return USAGE
        ms = int(argv[3])
        digit = await self.chan.read_digit(None if ms < 0 else ms / 1000)
        if digit is None:
            return format_result(200, -1)
        return format_result(200, ord(digit) if digit else 0)

    async def cmd_get_data(self, argv: list[str]) -> bytes:
        timeout_ms = int(argv[3]) if len(argv) > 3 else 0
        max_digits = int(argv[4]) if len(argv) > 4 else 1024
        timeout = timeout_ms / 1000 if timeout_ms > 0 else 5.0
        digits, how = await media.collect_digits(self.chan, argv[2], max_digits, timeout)
        if how == "hangup":
            return format_result(200, -1)
        if how == "timeout":
            return format_result(200, digits, "timeout")
        return format_result(200, digits)

    async def _say(self, files: list[str], escape: str) -> bytes:
        for f in files:
            digit, _ = await media.play(self.chan, f, escape)
            if digit is None:
                return format_result(200, -1)
            if digit:
                return format_result(200, ord(digit))
        return format_result(200, 0)

    async def cmd_say_digits(self, argv: list[str]) -> bytes:
        int(argv[2])
        return await self._say([f"digits/{d}" for d in argv[2]], argv[3])

    async def cmd_say_number(self, argv: list[str]) -> bytes:
        int(argv[2])
        return await self._say([f"digits/{d}" for d in argv[2].lstrip("-")], argv[3])

    async def cmd_say_alpha(self, argv: list[str]) -> bytes:
        return await self._say([f"letters/{c}" for c in argv[2]], argv[3])

    cmd_say_phonetic = cmd_say_alpha

    async def cmd_receive_char(self, argv: list[str]) -> bytes:
        return format_result(200, 0, "timeout")

    async def cmd_record_file(self, argv: list[str]) -> bytes:
        if len(argv) < 6:
            return USAGE
        path = media.recording_path(self.chan, argv[2], argv[3])
        timeout_ms = int(argv[5])
        silence = 0.0
        for extra in argv[6:9]:
            if extra.startswith("s="):
                silence = float(extra[2:] or 0)
        offset = int(argv[6]) if len(argv) > 6 and argv[6].isdigit() else 0
        beep = (len(argv) > 6 and not argv[6].isdigit() and not argv[6].startswith("s=")) or (
            len(argv) > 7 and not argv[7].startswith("s=")
        )
        if beep:
            digit, _ = await media.play(self.chan, "beep", argv[4])
            if digit is None or digit:
                return format_result(
                    200, -1 if digit is None else ord(digit), "randomerror", endpos=offset
                )
        try:
            reason, samples = await media.record(
                self.chan,
                path,
                max_seconds=timeout_ms / 1000 if timeout_ms > 0 else None,
                silence=silence,
                escape=argv[4],
            )
        except OSError:
            return format_result(200, -1, "writefile")
        if reason == "hangup":
            return format_result(200, -1, "hangup", endpos=samples)
        if reason.startswith("dtmf:"):
            return format_result(200, ord(reason[5:]), "dtmf", endpos=samples)
        return format_result(200, 0, "timeout", endpos=samples)
