"""Simulated media: prompt playback, digit collection, recording files.

No audio flows; what matters is timing and the files written.  A prompt
lasts as long as its WAV in ``sounds_dir`` (else 2.0 s).  Recordings are
8 kHz 16-bit mono WAV files written with the stdlib ``wave`` module.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import wave
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbxsim.channels import Channel

RATE = 8000
DEFAULT_PROMPT_SECONDS = 2.0
# A recording grows on disk in steps this long of simulated time, so a reader
# can follow it while it is made (Asterisk appends every 20 ms frame).
PROGRESS_SECONDS = 0.5
_duration_cache: dict[Path, float] = {}


def _sound_files(chan: Channel, name: str) -> list[Path]:
    """Where a sound named ``name`` may be: name, name.wav, name.WAV."""
    sounds = chan.sim.sounds_dir
    if sounds is None or not name:
        return []
    base = Path(name) if Path(name).is_absolute() else sounds / name
    return [base, base.with_name(base.name + ".wav"), base.with_name(base.name + ".WAV")]


def sound_exists(chan: Channel, name: str) -> bool:
    """ast_fileexists(): is there a sound file by that name in sounds_dir?"""
    return any(p.is_file() for p in _sound_files(chan, name))


def prompt_seconds(chan: Channel, name: str) -> float:
    """Length of a prompt: its WAV in sounds_dir (any of name, name.wav)."""
    for cand in _sound_files(chan, name):
        if cand in _duration_cache:
            return _duration_cache[cand]
        if cand.is_file():
            try:
                with wave.open(str(cand), "rb") as w:
                    secs = w.getnframes() / float(w.getframerate() or RATE)
            except (wave.Error, EOFError, OSError):
                secs = DEFAULT_PROMPT_SECONDS
            _duration_cache[cand] = secs
            return secs
    return DEFAULT_PROMPT_SECONDS


async def play(chan: Channel, files: str, escape: str = "") -> tuple[str | None, float]:
    """Play ``&``-joined prompts.  With ``escape`` digits the caller may
    interrupt.  Returns (digit | "" when played to the end | None on
    hangup, seconds into the last prompt)."""
    pos = 0.0
    for name in [f for f in files.split("&") if f]:
        length = prompt_seconds(chan, name)
        start = chan.sim.loop_time()
        if escape:
            remaining = length
            while remaining > 0:
                digit = await chan.read_digit(remaining, escape)
                if digit is None:
                    return None, chan.sim.loop_time() - start
                if digit == "":
                    break
                if digit in escape:
                    return digit, chan.sim.loop_time() - start
                remaining = length - (chan.sim.loop_time() - start)
        elif not await chan.sleep(length):
            return None, chan.sim.loop_time() - start
        pos = length
    return "", pos


async def collect_digits(
    chan: Channel, prompt: str, max_digits: int, timeout: float
) -> tuple[str, str]:
    """Prompt (interruptible by any key), then keys until ``#``, max_digits
    or the inter-digit timeout.  Returns (digits, "ok"|"timeout"|"hangup")."""
    digits = ""
    if prompt:
        first, _ = await play(chan, prompt, "0123456789*#")
        if first is None:
            return digits, "hangup"
        if first == "#":
            return digits, "ok"
        digits = first
    while max_digits <= 0 or len(digits) < max_digits:
        digit = await chan.read_digit(timeout)
        if digit is None:
            return digits, "hangup"
        if digit == "":
            return digits, "timeout"
        if digit == "#":
            return digits, "ok"
        digits += digit
    return digits, "ok"


def recording_path(chan: Channel, filename: str, fmt: str = "") -> Path:
    """Where a recording goes: relative names under recordings_dir.

    Without a recordings_dir relative names stay relative and
    :func:`write_wav` skips them (nothing lands in the working directory).
    """
    path = Path(filename)
    if fmt and not path.name.lower().endswith("." + fmt.lower()):
        path = path.with_name(path.name + "." + fmt)
    if not path.is_absolute() and chan.sim.recordings_dir is not None:
        path = chan.sim.recordings_dir / path
    return path


def speech_frames(wav_path: Path | None, seconds: float) -> bytes:
    """``seconds`` of 8 kHz 16-bit mono audio: the WAV's samples, else silence."""
    n = max(0, int(round(seconds * RATE)))
    if wav_path is None:
        return b"\x00\x00" * n
    try:
        with wave.open(str(wav_path), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError):
        return b"\x00\x00" * n
    if width != 2:
        return b"\x00\x00" * n
    samples = memoryview(raw).cast("h")
    if channels > 1:
        samples = samples[::channels]  # keep the first channel
    step = max(1, rate // RATE)
    if step > 1:
        samples = samples[::step]
    mono = samples.tobytes()
    mono = mono[: n * 2]
    return mono + b"\x00\x00" * (n - len(mono) // 2)


def audio_between(spoken: bytes, first: int, last: int) -> bytes:
    """Samples ``first``..``last`` of a recording of ``spoken`` followed by silence."""
    head = spoken[first * 2:last * 2]
    return head + b"\x00\x00" * (last - first - len(head) // 2)


class GrowingWav:
    """A WAV file written the way Asterisk's format_wav writes one.

    Created with a header whose RIFF and data sizes are zero, samples are
    appended as they are recorded, and on close the file is cut to its final
    length (trailing silence trimmed) and the sizes are filled in.  Relative
    paths (no recordings_dir) are not written at all.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples = 0
        self.enabled = path.is_absolute()
        if self.enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_wav_header(0))

    def append(self, frames: bytes) -> None:
        if self.enabled and frames:
            with self.path.open("ab") as fh:
                fh.write(frames)
        self.samples += len(frames) // 2

    def close(self, spoken: bytes, samples: int) -> None:
        """End the recording at ``samples`` samples long."""
        if samples > self.samples:
            self.append(audio_between(spoken, self.samples, samples))
        if not self.enabled:
            return
        with self.path.open("r+b") as fh:
            fh.truncate(44 + samples * 2)
            fh.seek(0)
            fh.write(_wav_header(samples * 2))
        self.samples = samples


def _wav_header(data_bytes: int) -> bytes:
    riff = 36 + data_bytes if data_bytes else 0  # zero while recording, as Asterisk
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
            + b"data" + struct.pack("<I", data_bytes))


async def _grow(chan: Channel, wav: GrowingWav, spoken: bytes, start: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        now = int(round((chan.sim.loop_time() - start) * RATE))
        wav.append(audio_between(spoken, wav.samples, now))


def write_wav(path: Path, frames: bytes) -> None:
    """Write 8 kHz 16-bit mono audio; relative paths (no recordings_dir) are skipped."""
    if not path.is_absolute():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)


async def record(
    chan: Channel, path: Path, *, max_seconds: float | None, silence: float, escape: str = ""
) -> tuple[str, int]:
    """Record the caller: they speak, then fall silent.

    Ends on silence (``silence`` > 0 seconds of it), ``max_seconds``, an
    escape digit or hangup.  Returns (reason, samples written) with reason
    "timeout" (silence or max length), "dtmf:<d>" or "hangup".  On
    silence the trailing silence is trimmed to one second, as Asterisk does.
    """
    speech_s, speech_wav = (0.0, None)
    if chan.far_end is not None:
        speech_s, speech_wav = chan.far_end.speech(chan)
    spoken = speech_frames(speech_wav, speech_s) if speech_wav is not None else b""
    start = chan.sim.loop_time()
    wav = GrowingWav(path)
    grower = asyncio.ensure_future(_grow(chan, wav, spoken, start))
    limit = max_seconds if max_seconds and max_seconds > 0 else None
    end_on_silence = speech_s + silence if silence > 0 else None
    candidates = [t for t in (limit, end_on_silence) if t is not None]
    wait_for = min(candidates) if candidates else None
    reason = "timeout"
    try:
        if escape:
            # res_agi's RECORD FILE stops on its escape digits only; other keys are dropped.
            digit = await chan.read_digit(wait_for, escape)
            while digit and digit not in escape:
                left = None if wait_for is None else wait_for - (chan.sim.loop_time() - start)
                digit = await chan.read_digit(left, escape) if left is None or left > 0 else ""
            if digit is None:
                reason = "hangup"
            elif digit:
                reason = "dtmf:" + digit
        else:
            if wait_for is None:
                await chan.sleep(24 * 3600)
            elif not await chan.sleep(wait_for):
                reason = "hangup"
    finally:
        grower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await grower
    elapsed = chan.sim.loop_time() - start
    kept = elapsed
    if (
        reason == "timeout"
        and end_on_silence is not None
        and (limit is None or end_on_silence <= limit)
    ):
        kept = max(0.0, elapsed - (silence - 1.0))
    samples = int(round(kept * RATE))
    wav.close(spoken, samples)
    return reason, samples
