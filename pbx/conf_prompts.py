"""Sound files Asterisk will play: their format, and the city's own
recordings of the IVR's prompts (HOTLINE_PROMPTS_DIR), checked by
``hotline asterisk-conf check``."""

from __future__ import annotations

import array
import wave
from pathlib import Path
from typing import Protocol


class Reporter(Protocol):
    def error(self, file: str, line: int | None, message: str) -> None: ...

    def warning(self, file: str, line: int | None, message: str) -> None: ...


def wav_samples(report: Reporter, path: Path, shown: str) -> array.array[int] | None:
    """The samples of a WAV Asterisk can play; None (and an error) otherwise."""
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        report.error(shown, None, f"not a WAV file Asterisk can play: {exc}")
        return None
    if shape != (1, 2, 8000):
        # format_wav plays 8 kHz 16-bit mono only; anything else is refused or garbled.
        report.error(shown, None, f"{shape[0]} channel(s), {shape[1] * 8}-bit, {shape[2]} Hz: "
                                  "Asterisk's .wav must be mono 16-bit 8000 Hz")
        return None
    return array.array("h", frames[:len(frames) // 2 * 2])


SILENCE_LEVEL = 300  # |sample| below this (about -40 dBFS) is silence
MAX_EDGE_SILENCE = 0.3  # seconds of silence allowed before and after the words
QUIET_PEAK = 8000  # a peak below about -12 dBFS is too quiet on a phone line
CLIPPED = 32767


def check_city_prompts(report: Reporter, prompts_dir: Path) -> None:
    """The city's own recordings (HOTLINE_PROMPTS_DIR): every prompt the IVR
    plays must be there as 8 kHz 16-bit mono WAV; silence at either end,
    a quiet or a clipped recording is worth a warning (asterisk-conf/README.md
    says how to record them)."""
    from ivr import prompts  # late: pbx/ is below ivr/, the check reads its list

    label = "HOTLINE_PROMPTS_DIR"
    for name in prompts.PLAYED:
        if not (prompts_dir / f"{name}.wav").is_file():
            report.error(label, None, f"the IVR plays '{name}', but {name}.wav is missing "
                                      f"from {prompts_dir}")
    for path in sorted(prompts_dir.rglob("*.wav")):
        shown = f"{label}/{path.relative_to(prompts_dir).as_posix()}"
        samples = wav_samples(report, path, shown)
        if samples is None:
            continue
        loud = [i for i, v in enumerate(samples) if abs(v) >= SILENCE_LEVEL]
        if not loud:
            report.error(shown, None, "silent: nothing was recorded")
            continue
        lead, trail = loud[0] / 8000, (len(samples) - 1 - loud[-1]) / 8000
        if max(lead, trail) > MAX_EDGE_SILENCE:
            report.warning(shown, None, f"{lead:.1f} s of silence before and {trail:.1f} s after "
                                        f"the words: trim to {MAX_EDGE_SILENCE} s at most")
        peak = max(abs(min(samples)), max(samples))
        if peak >= CLIPPED:
            report.warning(shown, None, "clipped (peak at full scale): record lower")
        elif peak < QUIET_PEAK:
            report.warning(shown, None, "too quiet (peak below -12 dBFS): normalise it")
