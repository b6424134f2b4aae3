"""Keys pressed at any moment, treated as Asterisk 22 treats them.

file.c waitstream_core acts on a DTMF end only when the key is in the
prompt's escape digits (``breakon``), and drops it otherwise; res_agi's
run_agi reads and frees every frame between commands; RECORD FILE stops on
its escape digits only.  So a key during a prompt without escape digits,
or between commands, is lost; with escape digits it interrupts the prompt
and is returned.
"""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

from core.clock import run_simulated
from pbxsim import CallerScript
from tests.pbxsim.helpers import TEST_CONF, make_sim

DIALPLAN = """
[keys]
exten => s,1,Answer()
 same => n,Playback(long)
 same => n,Read(AFTER_PLAYBACK,,1,,,1)
 same => n,Read(DURING_READ,long,1,,,1)
 same => n,Background(long)
 same => n,WaitExten(1)
exten => 7,1,Set(BACKGROUND=7)
 same => n,Hangup()
exten => i,1,Set(BACKGROUND=invalid)
 same => n,Hangup()
exten => t,1,Set(BACKGROUND=none)
 same => n,Hangup()
"""
PROMPT_SECONDS = 4.0


def _conf(tmp_path: Path) -> tuple[Path, Path]:
    conf = tmp_path / "conf"
    shutil.copytree(TEST_CONF, conf)
    with (conf / "extensions.conf").open("a") as fh:
        fh.write(DIALPLAN)
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    with wave.open(str(sounds / "long.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * PROMPT_SECONDS))
    return conf, sounds


def test_given_keys_at_fixed_moments_then_only_listeners_that_take_them_act(tmp_path):
    conf, sounds = _conf(tmp_path)
    # 1 s: during Playback (no escape digits): lost.  5 s: Read's own wait
    # after the playback: taken.  7 s: during Read's prompt (any key
    # interrupts it).  8 s: during Background: 7 jumps to extension 7.
    presses = ((1.0, "5"), (4.5, "6"), (6.0, "8"), (8.0, "7"))

    async def main():
        sim = await make_sim(conf, sounds_dir=sounds)
        try:
            call = sim.place_call(caller_number="13800138000", dialed="s",
                                  script=CallerScript(press_at=presses), context="keys")
            variables: dict[str, str | None] = {}

            def keep(c):
                for name in ("AFTER_PLAYBACK", "DURING_READ", "BACKGROUND"):
                    variables[name] = c.get_var(name)

            call.chan.on_hangup.insert(0, keep)
            await asyncio.wait_for(call.done, 60)
            return variables, call
        finally:
            await sim.stop()

    variables, call = run_simulated(main())
    assert [e for _, e in call.events if e.startswith("dtmf")] == [
        "dtmf 5", "dtmf 6", "dtmf 8", "dtmf 7"]
    assert variables == {"AFTER_PLAYBACK": "6", "DURING_READ": "8", "BACKGROUND": "7"}


def test_given_a_caller_who_presses_when_taken_then_keys_wait_for_a_prompt_naming_them(tmp_path):
    conf, sounds = _conf(tmp_path)
    with (conf / "extensions.conf").open("a") as fh:
        fh.write("""
[picky]
exten => s,1,Answer()
 same => n,Read(FIRST,long,1,,,1)
 same => n,Hangup()
""")

    async def main():
        sim = await make_sim(conf, sounds_dir=sounds)
        try:
            call = sim.place_call(caller_number="13800138000", dialed="s", context="picky",
                                  script=CallerScript(keys="4", key_delay=0.3,
                                                      press_when_taken=True))
            first: list[str | None] = []
            call.chan.on_hangup.insert(0, lambda c: first.append(c.get_var("FIRST")))
            await asyncio.wait_for(call.done, 60)
            return first, call
        finally:
            await sim.stop()

    first, call = run_simulated(main())
    assert first == ["4"]
    answered = next(t for t, e in call.events if e == "answered")
    pressed = next(t for t, e in call.events if e == "dtmf 4")
    assert abs(pressed - answered - 0.3) < 0.01  # 0.3 s into Read's prompt
