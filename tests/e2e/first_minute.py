"""The caller's first minute, measured on the built-in PBX in simulated time.

For every IVR path, a caller who presses each key at the earliest moment
the IVR takes it (``key_delay`` after a prompt starts listening) calls the
production dialplan and IVR with the committed prompts (their real
lengths); the figure is the time from the answer to the queue entry
(QueueCallerJoin), or to the hangup for the callback offer taken.
Used by tests/e2e/test_first_minute.py (targets) and
bench/bench_first_minute.py (the table in BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from calls import records
from core.clock import run_simulated
from core.db import Database
from core.settings import PROJECT_ROOT
from ivr import prompts
from pbxsim import CallerScript, PhoneBehaviour
from tests.e2e.test_call_path import START, on_duty_agent
from tests.helpers import prepare_database, record_answer, start_stack

EARLIEST = 0.3  # seconds into a prompt that takes keys before the caller presses
OPEN_ORDER_CALLER = "13700137000"
SOUNDS = PROJECT_ROOT / "asterisk-conf" / "sounds"


@dataclass(frozen=True)
class Path_:
    """One way through the IVR: what the caller dials and does."""

    name: str
    keys: str = ""
    dialed: str = "12345"
    speech_seconds: float = 0.0
    busy: int = 0  # callers before this one: the first talks to the only agent, others wait
    caller: str = "13800138000"
    until: str = "queued"  # or "hangup" (the callback offer taken)
    after_greeting: bool = False  # the keys start once the greeting has been said


PATHS: tuple[Path_, ...] = (
    Path_("key in greeting, no description", keys="2"),
    Path_("key in greeting, describes 5 s (agents busy)", keys="2", speech_seconds=5.0,
          busy=1),
    Path_("legacy line (12315)", dialed="12315"),
    Path_("presses nothing", keys=""),
    Path_("English (9, then 4)", keys="94"),
    # Waits for the read-back (a 1 during the greeting would choose help).
    Path_("open order, adds to it (1)", keys="1", caller=OPEN_ORDER_CALLER, after_greeting=True),
    # The description (asked: the wait is long) skipped with #, then the offer.
    Path_("callback offer declined (2)", keys="2#2", busy=2),
    Path_("callback offer taken (1)", keys="2#1", busy=2, until="hangup"),
)
# The description asked of every caller (HOTLINE_DESCRIPTION_WHEN=always),
# agents free: what it costs those who describe, and those who skip it.
ALWAYS_PATHS: tuple[Path_, ...] = (
    Path_("always asked: skips it (#)", keys="2#"),
    Path_("always asked: describes 5 s (agents free)", keys="2", speech_seconds=5.0),
)
# Seconds from the answer to the queue (issue 15), and the paths' own targets.
TARGETS: dict[str, float] = {
    "key in greeting, no description": 15,
    "key in greeting, describes 5 s (agents busy)": 15 + 5,
    "legacy line (12315)": 10,
    "presses nothing": 40,
    "English (9, then 4)": 15,
    "open order, adds to it (1)": 20,  # the greeting, then the read-back takes 1
    "callback offer declined (2)": 15,
    "callback offer taken (1)": 15,  # to the hang-up, callback registered
    "always asked: skips it (#)": 15,
    "always asked: describes 5 s (agents free)": 15 + 5,
}


@dataclass
class Measured:
    seconds: dict[str, float] = field(default_factory=dict)
    timelines: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


def _open_order(s: Any) -> None:
    when = START - timedelta(days=3)
    records.start_call(s, uniqueid="old.1", now=when, caller_number=OPEN_ORDER_CALLER)
    records.record_ivr_choice(s, "old.1", key="1", category="help", queue="hotline-help",
                              now=when)
    record_answer(s, "old.1", member_name="agent-1001", agent_id=None,
                  hold_seconds=3, now=when)


def greeting_seconds() -> float:
    with wave.open(str(SOUNDS / f"{prompts.WELCOME}.wav"), "rb") as w:
        return w.getnframes() / w.getframerate()


def _elapsed(events: list[tuple[float, str]], until: str) -> float:
    answered = next(t for t, text in events if text == "answered")
    end = next(t for t, text in events
               if text.startswith("queued") or (until == "hangup" and text == "hangup"))
    return round(end - answered, 1)


def measure(url: str, tmp_path: Path, paths: tuple[Path_, ...] = PATHS,
            settings: dict[str, object] | None = None) -> Measured:
    """Run each path alone on a fresh PBX + backend; return the seconds per path."""
    prepare_database(url, START)
    agent_id, interface, _ = on_duty_agent(url)
    db = Database(url)
    db.call(_open_order)
    db.close()
    out = Measured()

    async def one(path: Path_, n: int) -> None:
        sim, backend = await start_stack(url, tmp_path / f"p{n}", START, sounds=True,
                                         settings_overrides=settings)
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=3600.0))
            assert backend.staffing is not None
            await backend.staffing.queue_login(agent_id)
            for i in range(path.busy):  # the same queue as the measured caller
                sim.place_call(caller_number=f"1391111000{i}", dialed="12345",
                               script=CallerScript(keys="2", key_delay=EARLIEST,
                                                   patience=3600))
                await asyncio.sleep(60)
            script = CallerScript(keys=path.keys, key_delay=EARLIEST, press_when_taken=True,
                                  patience=0.5, speech_seconds=path.speech_seconds)
            if path.after_greeting:
                script = replace(script, keys="", press_at=tuple(
                    (greeting_seconds() + EARLIEST + i, k) for i, k in enumerate(path.keys)))
            call = sim.place_call(caller_number=path.caller, dialed=path.dialed, script=script)
            await asyncio.wait_for(call.done, 600)
            out.timelines[path.name] = list(call.events)
            out.seconds[path.name] = _elapsed(call.events, path.until)
        finally:
            await backend.stop()
            await sim.stop()

    async def main() -> None:
        for n, path in enumerate(paths):
            await one(path, n)

    run_simulated(main())
    return out
