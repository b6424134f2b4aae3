"""app_queue's announcements to waiting callers in the stand-in: position,
estimated hold time, periodic announcements, in the channel's language,
numbers in Asterisk's Chinese and English syntax; and the production
configuration: a Mandarin caller hears only sounds we ship."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import pytest

from core.clock import run_simulated
from ivr import prompts
from pbxsim import CallerScript, PhoneBehaviour, SimCall
from pbxsim.queue_announce import number_files
from tests.pbxsim.helpers import PROD_CONF, TEST_CONF, AgiConn, FakeIvr, make_sim

QUEUES = """
[q-ann](base)
strategy = rrmemory
announce-frequency = 30
min-announce-frequency = 15
announce-holdtime = yes
announce-round-seconds = 30

[q-periodic](base)
periodic-announce = queue-periodic-announce
periodic-announce-frequency = 20

[q-limit](base)
announce-frequency = 30
announce-position = limit
announce-position-limit = 2
announce-holdtime = no
"""
DIALPLAN = """
[announced]
exten => _[ez][hn].,1,Answer()
 same => n,Set(CHANNEL(language)=${EXTEN:0:2})
 same => n,Queue(${EXTEN:2},,,,${QTIMEOUT})
 same => n,Hangup()
"""
SOUND_SECONDS = 1.0


def _conf(tmp_path: Path) -> Path:
    conf = tmp_path / "conf"
    shutil.copytree(TEST_CONF, conf)
    with (conf / "queues.conf").open("a") as fh:
        fh.write(QUEUES)
    with (conf / "extensions.conf").open("a") as fh:
        fh.write(DIALPLAN)
    return conf


def _sounds(tmp_path: Path, skip: tuple[str, ...] = ()) -> Path:
    """The Mandarin sounds we ship, one second each, English ones absent."""
    sounds = tmp_path / "sounds"
    for name in [*prompts.QUEUE_SOUNDS, *prompts.QUEUE_DIGITS]:
        if name in skip:
            continue
        path = sounds / "zh" / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * int(8000 * SOUND_SECONDS))
    return sounds


def heard(call: SimCall) -> list[tuple[float, str]]:
    return [(t, text.split(" ", 1)[1]) for t, text in call.events if text.startswith("heard ")]


def names(call: SimCall) -> list[str]:
    return [name for _, name in heard(call)]


def _waiting(tmp_path: Path, callers: list[tuple[str, str, float]], *, skip=(),
             busy=True) -> list[SimCall]:
    """One agent, busy with a first caller when ``busy``; then ``callers``
    (language, queue, patience) join and wait until they give up."""

    async def main() -> list[SimCall]:
        sim = await make_sim(_conf(tmp_path), sounds_dir=_sounds(tmp_path, skip))
        queue = callers[0][1]
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=1.0, talk_seconds=900))
        sim.queues.add_member(queue, "PJSIP/1001", membername="agent-1001")
        if busy:
            first = sim.place_call(caller_number="13800000000", caller_name="a",
                                   dialed=f"zh{queue}", context="announced",
                                   script=CallerScript(patience=900))
            await asyncio.sleep(5)
            assert first.outcome == "connected"
        placed = []
        for lang, q, patience in callers:
            placed.append(sim.place_call(caller_number="13900000000", caller_name="b",
                                         dialed=f"{lang}{q}", context="announced",
                                         script=CallerScript(patience=patience)))
            await asyncio.sleep(0.5)
        for c in placed:
            await c.done
        await sim.stop()
        return placed

    return run_simulated(main())


def test_waiting_callers_hear_position_hold_time_and_thanks_in_mandarin(tmp_path):
    first, second = _waiting(tmp_path, [("zh", "q-ann", 100), ("zh", "q-ann", 100)])
    # position 1: "you are next" and thanks, no hold time (app_queue skips it)
    assert names(first)[:2] == ["zh/queue-youarenext", "zh/queue-thankyou"]
    # position 2: "you are caller number 2", then the hold time: the queue's
    # average hold (1 s, the answered call's) + 30 - waited, rounded down to
    # 30 s (announce-round-seconds) = "30 seconds"; then thanks
    assert names(second)[:7] == [
        "zh/queue-thereare", "zh/digits/2", "zh/queue-callswaiting",
        "zh/queue-holdtime", "zh/digits/30", "zh/queue-seconds", "zh/queue-thankyou"]
    assert all(name.startswith("zh/") for name in names(first) + names(second))


def test_position_is_repeated_every_announce_frequency(tmp_path):
    (caller,) = _waiting(tmp_path, [("zh", "q-ann", 100)])
    starts = [t for t, name in heard(caller) if name == "zh/queue-youarenext"]
    assert len(starts) >= 3
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # announce-frequency 30 s, from the start of one announcement to the
    # next; app_queue looks once a second, so at most a second late
    assert all(30 <= gap <= 30 + 2 * SOUND_SECONDS + 1 for gap in gaps), gaps


def test_a_better_position_is_announced_after_min_announce_frequency(tmp_path):
    first, second = _waiting(tmp_path, [("zh", "q-ann", 20), ("zh", "q-ann", 100)])
    said = heard(second)
    moved = next(t for t, name in said if name == "zh/queue-youarenext")
    before = [t for t, name in said if name == "zh/queue-thereare" and t < moved]
    # the first caller gave up at 20 s: the second is now next, and hears it
    # at the first check 15 s (min-announce-frequency) after the last one,
    # not 30 s (announce-frequency)
    assert before and 15 <= moved - before[-1] < 30


def test_english_callers_hear_asterisks_english_sounds(tmp_path):
    (caller,) = _waiting(tmp_path, [("en", "q-ann", 40)])
    assert names(caller)[:2] == ["en/queue-youarenext", "en/queue-thankyou"]


def test_a_missing_mandarin_sound_falls_back_to_english(tmp_path):
    # What Asterisk does when zh/queue-thankyou is not installed: the
    # English one (the default language) - which the production check catches.
    (caller,) = _waiting(tmp_path, [("zh", "q-ann", 40)], skip=("queue-thankyou",))
    assert names(caller)[:2] == ["zh/queue-youarenext", "en/queue-thankyou"]


def test_position_limit_stops_announcing_positions_beyond_it(tmp_path):
    callers = _waiting(tmp_path, [("zh", "q-limit", 40)] * 3)
    assert names(callers[1])[:4] == ["zh/queue-thereare", "zh/digits/2",
                                     "zh/queue-callswaiting", "zh/queue-thankyou"]
    assert names(callers[2]) == []  # position 3 > limit 2, hold time off: nothing said


def test_periodic_announcement_every_frequency(tmp_path):
    (caller,) = _waiting(tmp_path, [("zh", "q-periodic", 70)])
    starts = [t for t, name in heard(caller)]
    assert names(caller) == ["zh/queue-periodic-announce"] * 3
    # every 20 s from joining (start delay unset): at 20, 40 and 60 s
    joined = next(t for t, text in caller.events if text.startswith("queued"))
    assert [round(t - joined) for t in starts] == [20, 40, 60]


def test_no_announcements_when_off(tmp_path):
    (caller,) = _waiting(tmp_path, [("zh", "q-rrmemory", 60)])
    assert heard(caller) == []


def test_hangup_during_an_announcement_leaves_the_queue_at_once(tmp_path):
    (caller,) = _waiting(tmp_path, [("zh", "q-ann", 0.5)])
    left = [t for t, text in caller.events if text == "hangup"]
    queued = next(t for t, text in caller.events if text.startswith("queued"))
    assert names(caller) == ["zh/queue-youarenext"]  # cut off in the first sound
    assert left and left[0] - queued < SOUND_SECONDS


def test_announcements_stop_when_the_caller_is_answered(tmp_path):
    (caller,) = _waiting(tmp_path, [("zh", "q-ann", 100)], busy=False)
    assert caller.outcome == "connected" and heard(caller) == []


@pytest.mark.parametrize("n,zh", [
    (0, "0"), (7, "7"), (10, "10"), (15, "10 5"), (20, "20"), (35, "30 5"),
    (100, "1 hundred"), (105, "1 hundred 0 5"), (110, "1 hundred 10"),
    (1005, "1 thousand 0 5"), (1050, "1 thousand 0 50"), (1500, "1 thousand 5 hundred"),
    (10005, "1 wan 0 5"), (10500, "1 wan 0 5 hundred"), (15000, "1 wan 5 thousand"),
    (100005, "10 wan 0 5"),
])
def test_numbers_in_asterisks_chinese_syntax(n, zh):
    assert [f.removeprefix("digits/") for f in number_files(n, "zh")] == zh.split()
    assert number_files(n, "zh_TW") == number_files(n, "zh")


@pytest.mark.parametrize("n,en", [
    (0, "0"), (7, "7"), (19, "19"), (21, "20 1"), (115, "1 hundred 15"),
    (2345, "2 thousand 3 hundred 40 5"),
])
def test_numbers_in_asterisks_english_syntax(n, en):
    assert [f.removeprefix("digits/") for f in number_files(n, "en")] == en.split()


def test_every_number_a_queue_announces_has_its_mandarin_digits():
    shipped = set(prompts.QUEUE_DIGITS)
    for n in range(0, 10_000):
        missing = set(number_files(n, "zh")) - shipped
        assert not missing, (n, missing)


# ------------------------------------------------- the production configuration

def test_production_dialplan_and_queues_announce_only_shipped_mandarin_sounds(tmp_path):
    """Through asterisk-conf/ with the sounds we ship: a caller who waits
    behind a busy agent hears Asterisk's announcements, every one of them a
    Mandarin file from asterisk-conf/sounds (none falls back to English)."""
    sounds = PROD_CONF / "sounds"

    async def ivr(conn: AgiConn) -> None:
        await conn.cmd("SET VARIABLE HOTLINE_QUEUE hotline-help")

    async def main() -> list[SimCall]:
        fake = await FakeIvr(ivr).start()
        sim = await make_sim(PROD_CONF, fastagi=fake.url, sounds_dir=sounds,
                             recordings_dir=tmp_path)
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=1.0, talk_seconds=600))
        sim.queues.add_member("hotline-help", "PJSIP/1001", membername="agent-1001")
        calls = []
        for patience in (600, 200, 200):
            calls.append(sim.place_call(caller_number="13800138000", caller_name="张三",
                                        dialed="12345", script=CallerScript(patience=patience)))
            await asyncio.sleep(3)
        for c in calls[1:]:
            await c.done
        await sim.stop()
        fake.close()
        return calls

    answered, next_up, third = run_simulated(main())
    assert answered.outcome == "connected" and heard(answered) == []
    for caller in (next_up, third):
        said = names(caller)
        assert said, "no announcement heard"
        for name in said:
            assert name.startswith("zh/") and (sounds / f"{name}.wav").is_file(), name
    assert "zh/queue-youarenext" in names(next_up)
    assert names(third)[:3] == ["zh/queue-thereare", "zh/digits/2", "zh/queue-callswaiting"]
    assert "zh/queue-periodic-announce" in names(third)  # 200 s > 90 s
    # "Please hold" is the queue's own announcement: 10 s after joining
    # (periodic-announce-startdelay), not 90 s, and never for the caller
    # answered at once (the IVR says none before the queue).
    for caller in (next_up, third):
        joined = next(t for t, e in caller.events if e.startswith("queued"))
        first = next(t for t, n in heard(caller) if n == "zh/queue-periodic-announce")
        # app_queue counts whole seconds of time(): up to one second early.
        assert 9 <= first - joined <= 25, (caller.events, first - joined)
