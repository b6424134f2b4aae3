"""Finding the whole-call recording MixMonitor leaves for an answered call.

asterisk-conf's ``[hotline-record]`` names it
``${STRFTIME(${EPOCH},,%Y%m%d)}-${HOTLINE_CALL}.wav``: the PBX's local date
when the agent answered, then the caller channel's Uniqueid.  MixMonitor
closes the file when the recorded channel hangs up, which can be a moment
after the caller's own hangup reaches us, so we wait for it to be closed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)
_EXTENSIONS = "wav|WAV|wav16|gsm|sln"


def find_call_recording(folder: Path, uniqueid: str, now: datetime,
                        tz: ZoneInfo) -> Path | None:
    """The recording of call ``uniqueid`` in ``folder``, if there is one yet."""
    # The PBX's zone may differ from the city's; try both, today and yesterday
    # (a call that was answered before midnight), before listing the folder.
    days = {(now - timedelta(days=back)).astimezone(zone).strftime("%Y%m%d")
            for back in (0, 1) for zone in (tz, UTC)}
    for day in sorted(days, reverse=True):
        candidate = folder / f"{day}-{uniqueid}.wav"
        if candidate.is_file():
            return candidate
    pattern = re.compile(rf"\d{{8}}-{re.escape(uniqueid)}\.({_EXTENSIONS})$")
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if pattern.match(entry.name):
                    return folder / entry.name
    except OSError:
        pass
    return None


def recording_closed(path: Path) -> bool:
    """False while a WAV is still being written (Asterisk fills its sizes in at the end)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    if head[:4] != b"RIFF":
        return True  # headerless formats carry no sign; the hangup is the sign
    return len(head) >= 8 and int.from_bytes(head[4:8], "little") > 36


async def wait_for_call_recording(folder: Path, uniqueid: str, *, now: datetime, tz: ZoneInfo,
                                  wait_seconds: float) -> Path | None:
    """The closed recording of the call, waiting up to ``wait_seconds`` (loop time) for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        path = await loop.run_in_executor(None, find_call_recording, folder, uniqueid, now, tz)
        if path is not None and await loop.run_in_executor(None, recording_closed, path):
            return path
        if loop.time() >= deadline:
            log.warning("no closed call recording for %s in %s after %.0f s", uniqueid, folder,
                        wait_seconds)
            return None
        await asyncio.sleep(1.0)
