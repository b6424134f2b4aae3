"""app_queue's announcements to waiting callers: position, estimated hold
time and periodic announcements (say_position / say_periodic_announcement).

The options are queues.conf's, with Asterisk 22's defaults: announce-frequency
(0 = off), min-announce-frequency (15), announce-position (yes|no|limit|more,
default yes), announce-position-limit (10), announce-position-only-up,
announce-holdtime (yes|no|once, default yes), announce-round-seconds (0, 5,
10, 15, 20 or 30), announce-to-first-user, periodic-announce (comma list,
default ``queue-periodic-announce``), periodic-announce-frequency (0 = off),
periodic-announce-startdelay, random-periodic-announce,
relative-periodic-announce, and the sound names queue-youarenext,
queue-thereare, queue-callswaiting, queue-quantity1/2, queue-holdtime,
queue-minute(s), queue-seconds, queue-thankyou.

Sounds are looked up as Asterisk's file.c does for the channel's language
(``CHANNEL(language)``): ``<lang>/<name>``, then ``<name>``, then
``en/<name>``; a sound found nowhere is skipped silently (app_queue's
play_file).  Asterisk's stock English sounds (``queue-*``, ``digits/*``)
are assumed installed, as they are with Asterisk's core sounds, so a
caller whose language lacks a sound hears the English one — which is
what a test should catch.  Numbers are said as say.c says them for the
language: Chinese (``zh``) and English (anything else) here.

Every sound played is noted on the caller's timeline as ``heard <file>``
(the file as resolved, e.g. ``heard zh/digits/3``).  Keys pressed during an
announcement are not listened for (no queue ``context`` is simulated).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pbxsim import media
from pbxsim.config import is_true

if TYPE_CHECKING:
    from pbxsim.channels import Channel
    from pbxsim.queues import Queue, QueueEntry

STOCK_SOUND_PREFIXES = ("queue-", "digits/")
DEFAULT_LANGUAGE = "en"
ROUNDING_VALUES = (0, 5, 10, 15, 20, 30)


def _int(raw: dict[str, str], key: str, default: int) -> int:
    try:
        return int((raw.get(key) or "").strip())
    except ValueError:
        return default


@dataclass
class Announcements:
    """A queue's announcement options (queues.conf keys, Asterisk defaults)."""

    frequency: int = 0
    min_frequency: int = 15
    position: str = "yes"  # yes | no | limit | more
    position_limit: int = 10
    position_only_up: bool = False
    holdtime: str = "yes"  # yes | no | once
    rounding: int = 0
    to_first_user: bool = False
    periodic: list[str] = field(default_factory=lambda: ["queue-periodic-announce"])
    periodic_frequency: int = 0
    periodic_startdelay: int = -1
    periodic_random: bool = False
    periodic_relative: bool = False
    sounds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, str]) -> Announcements:
        a = cls()
        a.frequency = _int(raw, "announce-frequency", 0)
        a.min_frequency = _int(raw, "min-announce-frequency", 15)
        pos = (raw.get("announce-position") or "yes").strip().lower()
        a.position = pos if pos in ("limit", "more") else ("yes" if is_true(pos) else "no")
        a.position_limit = _int(raw, "announce-position-limit", 10)
        a.position_only_up = is_true(raw.get("announce-position-only-up"))
        hold = (raw.get("announce-holdtime") or "yes").strip().lower()
        a.holdtime = "once" if hold == "once" else ("yes" if is_true(hold) else "no")
        rounding = _int(raw, "announce-round-seconds", 0)
        a.rounding = rounding if rounding in ROUNDING_VALUES else 0
        a.to_first_user = is_true(raw.get("announce-to-first-user"))
        if raw.get("periodic-announce"):
            value = raw["periodic-announce"]
            a.periodic = [s.strip() for s in value.replace("|", ",").split(",")] \
                if "," in value else [value.strip()]
        a.periodic_frequency = _int(raw, "periodic-announce-frequency", 0)
        a.periodic_startdelay = _int(raw, "periodic-announce-startdelay", -1)
        a.periodic_random = is_true(raw.get("random-periodic-announce"))
        a.periodic_relative = is_true(raw.get("relative-periodic-announce"))
        for key in ("queue-youarenext", "queue-thereare", "queue-callswaiting",
                    "queue-quantity1", "queue-quantity2", "queue-holdtime", "queue-minutes",
                    "queue-minute", "queue-seconds", "queue-thankyou"):
            a.sounds[key] = raw.get(key, key).strip()
        return a

    def sound(self, key: str) -> str:
        return self.sounds.get(key, key)


@dataclass
class EntryAnnouncements:
    """What app_queue keeps per waiting caller (queue_ent's last_pos...)."""

    last_pos: int = 0  # epoch s of the last position announcement (0 = never)
    last_pos_said: int = 0
    last_periodic: int = 0
    periodic_index: int = 0


def joined(q: Queue, entry: QueueEntry, now: int) -> None:
    """queue_exec's set-up of the announcement timers for a new caller."""
    a = q.announce
    state = EntryAnnouncements(last_periodic=now)
    if a.periodic_startdelay >= 0:
        state.last_periodic += a.periodic_startdelay - a.periodic_frequency
    entry.announce = state


# ----------------------------------------------------------------- numbers

def number_files(n: int, language: str) -> list[str]:
    """The digit sounds say.c plays for ``n`` in ``language``."""
    if language[:2].lower() == "zh":
        return _zh(n)
    return _en(n)


def _en(n: int) -> list[str]:
    if n == 0:
        return ["digits/0"]
    out: list[str] = []
    if n < 0:
        out.append("digits/minus")
        n = -n
    if n >= 1_000_000:
        out += _en(n // 1_000_000) + ["digits/million"]
        n %= 1_000_000
    if n >= 1000:
        out += _en(n // 1000) + ["digits/thousand"]
        n %= 1000
    if n >= 100:
        out += [f"digits/{n // 100}", "digits/hundred"]
        n %= 100
    if n >= 20:
        out.append(f"digits/{n // 10 * 10}")
        n %= 10
    if n:
        out.append(f"digits/{n}")
    return out


def _zh(n: int) -> list[str]:
    """Chinese numbers: 十五 = 10 5, 一百零五 = 1 hundred 0 5, 一万零五 =
    1 wan 0 5.  A 零 is said where a part shrinks by two digits or more
    (except right after the thousands), as Asterisk's zh number syntax."""
    if n == 0:
        return ["digits/0"]
    if n < 0:
        return ["digits/minus", *_zh_part(-n, 0)]
    return _zh_part(n, 0)


def _zh_part(n: int, width: int) -> list[str]:
    if n >= 100_000_000:
        return [*_zh_part(n // 100_000_000, 0), "digits/yi",
                *_zh_part(n % 100_000_000, len(str(n)))]
    if n >= 10_000:
        return [*_zh_part(n // 10_000, 0), "digits/wan", *_zh_part(n % 10_000, len(str(n)))]
    return _zh_below_wan(n, width)


def _zh_below_wan(n: int, width: int) -> list[str]:
    """Up to 9999; ``width`` is the digit count of the number this part was
    cut from (0 when none), which decides whether a 零 comes first."""
    out: list[str] = []
    if n >= 1000:
        out += [f"digits/{n // 1000}", "digits/thousand"]
        width, n = len(str(n)), n % 1000
    while n:
        digits = len(str(n))
        if width and width - digits > 1:
            out.append("digits/0")
            width = digits
            continue
        if n >= 100:
            out += [f"digits/{n // 100}", "digits/hundred"]
            width, n = digits, n % 100
        elif n >= 10:
            out.append(f"digits/{n // 10 * 10}")
            width, n = digits, n % 10
        else:
            out.append(f"digits/{n}")
            n = 0
    return out


# ------------------------------------------------------------------ sounds

def resolve(chan: Channel, name: str) -> str | None:
    """The file a sound plays from for the channel's language, or None."""
    sounds = chan.sim.sounds_dir
    if not name:
        return None
    if sounds is None:
        return name
    return _lookup(sounds, chan.language or "", name)


@functools.lru_cache(maxsize=4096)
def _lookup(sounds: Path, language: str, name: str) -> str | None:
    """file.c's search, once per sounds directory, language and sound (the
    files of a run do not change; every waiting caller asks again)."""
    langs, lang = [], language
    while lang:  # the language, then without its dialect (zh_TW, zh)
        langs.append(lang)
        lang = lang.rsplit("_", 1)[0] if "_" in lang else ""
    candidates = [f"{lang}/{name}" for lang in langs] + [name]
    if DEFAULT_LANGUAGE not in langs:
        candidates.append(f"{DEFAULT_LANGUAGE}/{name}")
    for cand in candidates:
        base = sounds / cand
        if any(p.is_file() for p in (base.with_name(base.name + ".wav"),
                                     base.with_name(base.name + ".WAV"),
                                     base.with_name(base.name + ".gsm"))):
            return cand
    if name.startswith(STOCK_SOUND_PREFIXES):
        return f"{DEFAULT_LANGUAGE}/{name}"  # Asterisk's core sounds
    return None


async def play_file(chan: Channel, name: str) -> bool:
    """app_queue's play_file: False if the caller hung up."""
    path = resolve(chan, name)
    if path is None:
        return not chan.hungup
    note = getattr(chan.far_end, "note", None)
    if note is not None:
        note(f"heard {path}")
    result, _ = await media.play(chan, path)
    return result is not None


async def say_number(chan: Channel, n: int) -> bool:
    for name in number_files(n, chan.language or DEFAULT_LANGUAGE):
        if not await play_file(chan, name):
            return False
    return True


# ------------------------------------------------------------ the announcements

async def say_position(q: Queue, entry: QueueEntry, now: int, waited: int) -> bool:
    """Position and hold time, when due.  False if the caller hung up."""
    a, st, chan = q.announce, entry.announce, entry.chan
    if now - st.last_pos < a.min_frequency:
        return True
    if st.last_pos_said == entry.pos and now - st.last_pos < a.frequency:
        return True
    if a.position_only_up and st.last_pos_said > 0 and st.last_pos_said <= entry.pos:
        return True
    say_thanks = False
    ok = True
    skip_holdtime = False
    if a.position == "yes" or a.position == "more" or (
            a.position == "limit" and entry.pos <= a.position_limit):
        say_thanks = True
        if entry.pos == 1:
            ok = await play_file(chan, a.sound("queue-youarenext"))
            skip_holdtime = ok
        elif a.position == "more" and entry.pos > a.position_limit:
            ok = (await play_file(chan, a.sound("queue-quantity1"))
                  and await say_number(chan, a.position_limit)
                  and await play_file(chan, a.sound("queue-quantity2")))
        else:
            ok = (await play_file(chan, a.sound("queue-thereare"))
                  and await say_number(chan, entry.pos)
                  and await play_file(chan, a.sound("queue-callswaiting")))
    if ok and not skip_holdtime:
        remaining = abs(q.holdtime + 30 - waited)
        mins = remaining // 60
        secs = (remaining - 60 * mins) // a.rounding * a.rounding if a.rounding else 0
        due = a.holdtime == "yes" or (a.holdtime == "once" and not st.last_pos)
        if mins + secs > 0 and due:
            say_thanks = True
            ok = await play_file(chan, a.sound("queue-holdtime"))
            if ok and mins >= 1:
                ok = await say_number(chan, mins) and await play_file(
                    chan, a.sound("queue-minute" if mins == 1 else "queue-minutes"))
            if ok and secs >= 1:
                ok = await say_number(chan, secs) and await play_file(
                    chan, a.sound("queue-seconds"))
    if ok and say_thanks:
        ok = await play_file(chan, a.sound("queue-thankyou"))
    st.last_pos = now
    st.last_pos_said = entry.pos
    return ok


async def say_periodic(q: Queue, entry: QueueEntry, clock: Callable[[], int]) -> bool:
    """The periodic announcement, when due (``clock``: epoch seconds).
    False if the caller hung up."""
    a, st, now = q.announce, entry.announce, clock()
    if now - st.last_periodic < a.periodic_frequency:
        return True
    if a.periodic_random and a.periodic:
        st.periodic_index = random.randrange(len(a.periodic))
    elif st.periodic_index >= len(a.periodic) or not a.periodic[st.periodic_index]:
        st.periodic_index = 0
    ok = await play_file(entry.chan, a.periodic[st.periodic_index] if a.periodic else "")
    st.last_periodic = clock() if a.periodic_relative else now
    if not a.periodic_random:
        st.periodic_index += 1
    return ok
