"""Decode any recording Asterisk writes to mono 16-bit PCM at the model's rate.

Formats, chosen by file extension (``fmt`` for bytes):

=====================  =========================================
``wav`` ``wav16``      RIFF: 16-bit PCM (any rate, mono/stereo),
``WAV`` (wav49)        G.711, or GSM 06.10 (WAV49, needs sox)
``sln`` ``raw``        headerless signed 16-bit LE, 8 kHz
``sln16`` ... ``sln192``  the same at 16 ... 192 kHz
``ulaw`` ``ul`` ``pcmu``  headerless G.711 mu-law, 8 kHz
``alaw`` ``al`` ``pcma``  headerless G.711 A-law, 8 kHz
``gsm``                headerless GSM 06.10, 8 kHz (needs sox)
=====================  =========================================

Every failure is an :class:`AudioError` with a reason (empty, truncated,
corrupt, unsupported, too long); nothing else escapes.
"""

from __future__ import annotations

import os
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

from speech import g711, gsm
from speech.resample import resample
from speech.wav import ALAW, GSM610, PCM, AudioError, parse_wav

__all__ = ["Audio", "AudioError", "DEFAULT_MAX_SECONDS", "decode_bytes", "decode_file",
           "format_of"]

DEFAULT_MAX_SECONDS = 2 * 3600.0
_SLN_RATES = {"sln": 8000, "raw": 8000, "sln12": 12000, "sln16": 16000, "sln24": 24000,
              "sln32": 32000, "sln44": 44100, "sln48": 48000, "sln96": 96000,
              "sln192": 192000}
_G711 = {"ulaw": "ulaw", "ul": "ulaw", "pcmu": "ulaw", "mu": "ulaw",
         "alaw": "alaw", "al": "alaw", "pcma": "alaw"}
_WAV = {"wav", "wav16", "wav49"}
# Bytes per second of the densest input we accept (192 kHz stereo 16-bit), to
# refuse an absurd file from its size before reading it into memory.
_MAX_BYTES_PER_SECOND = 192000 * 2 * 2


@dataclass(frozen=True)
class Audio:
    """Decoded audio: mono little-endian 16-bit PCM at ``sample_rate``."""

    pcm16: bytes
    sample_rate: int
    source_format: str  # the format it was decoded from, e.g. "gsm", "wav"

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.pcm16) / 2 / self.sample_rate


def format_of(path: str | os.PathLike[str]) -> str:
    """The format name of a recording from its extension ("wav", "sln16", "gsm" ...)."""
    suffix = Path(path).suffix.lstrip(".")
    # Asterisk's wav49 files are "*.WAV": upper case is how it tells them apart,
    # but the container says so too, so both cases go through the RIFF parser.
    return suffix.lower()


def decode_file(path: str | os.PathLike[str], target_rate: int = 16000,
                max_seconds: float = DEFAULT_MAX_SECONDS) -> Audio:
    """Read and decode one recording; raise :class:`AudioError` with a reason."""
    fmt = format_of(path)
    _check_known(fmt)
    try:
        size = os.stat(path).st_size
        if size > max_seconds * _MAX_BYTES_PER_SECOND + 65536:
            raise AudioError(f"too long: {size} bytes is more than {max_seconds:.0f} s of audio")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    return decode_bytes(data, fmt, target_rate, max_seconds)


def decode_bytes(data: bytes, fmt: str = "wav", target_rate: int = 16000,
                 max_seconds: float = DEFAULT_MAX_SECONDS) -> Audio:
    """Decode the bytes of a recording in format ``fmt`` (see :func:`format_of`)."""
    fmt = fmt.lower().lstrip(".")
    _check_known(fmt)
    if not data:
        raise AudioError("empty file")
    try:
        pcm, rate = _decode(data, fmt, max_seconds)
        if len(pcm) < 2:
            raise AudioError("empty: no audio samples")
        return Audio(resample(pcm, rate, target_rate), target_rate, fmt)
    except AudioError:
        raise
    except (ValueError, MemoryError, OverflowError) as exc:
        # A defect in a file we failed to foresee must still be a reason, not a crash.
        raise AudioError(f"cannot decode {fmt} audio: {exc}") from None


def _check_known(fmt: str) -> None:
    if fmt not in _WAV and fmt not in _SLN_RATES and fmt not in _G711 and fmt != "gsm":
        raise AudioError(f"unsupported format {fmt!r}: expected wav, WAV (wav49), sln, "
                         "sln16, ulaw, alaw or gsm")


def _check_length(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise AudioError(f"too long: {seconds:.0f} s of audio, the limit is {max_seconds:.0f} s")


def _decode(data: bytes, fmt: str, max_seconds: float) -> tuple[bytes, int]:
    """Mono PCM16 LE and its rate, before resampling."""
    if fmt in _SLN_RATES:
        if len(data) % 2:
            raise AudioError("truncated: signed-linear audio ends in the middle of a sample")
        _check_length(len(data) / 2 / _SLN_RATES[fmt], max_seconds)
        return data, _SLN_RATES[fmt]
    if fmt in _G711:
        _check_length(len(data) / 8000, max_seconds)
        return g711.decode(_G711[fmt], data), 8000
    if fmt == "gsm":
        gsm.check_raw_gsm(data)
        _check_length(len(data) / gsm.FRAME_BYTES * gsm.FRAME_SAMPLES / 8000, max_seconds)
        return gsm.decode_with_sox(data, "gsm"), 8000
    wav = parse_wav(data)
    _check_length(wav.duration, max_seconds)
    if wav.encoding == GSM610:
        return gsm.decode_with_sox(data, "wav"), 8000
    if wav.encoding == PCM:
        pcm = wav.data
    else:
        pcm = g711.decode("alaw" if wav.encoding == ALAW else "ulaw", wav.data)
    return (_downmix(pcm) if wav.channels == 2 else pcm), wav.sample_rate


def _downmix(pcm: bytes) -> bytes:
    """Stereo to mono by averaging (MixMonitor can write one side per channel)."""
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    mono = array("h", [(a + b) >> 1 for a, b in zip(samples[0::2], samples[1::2], strict=True)])
    if sys.byteorder == "big":
        mono.byteswap()
    return mono.tobytes()
