"""GSM 06.10 decoding through the ``sox`` program.

A pure-Python GSM full-rate decoder is several hundred lines of fixed-point
DSP; sox (Debian package ``sox``) links the reference libgsm, so we hand it
the bytes on stdin and read 16-bit PCM back.  Only GSM recordings (``gsm``
and ``wav49``) need it; everything else decodes without it.
"""

from __future__ import annotations

import shutil
import subprocess

from speech.wav import GSM_BLOCK_BYTES, AudioError

FRAME_BYTES, FRAME_SAMPLES = 33, 160  # raw GSM 06.10 (Asterisk's .gsm)
_SOX_TIMEOUT_PER_SECOND = 0.05  # sox decodes GSM at well over 100x real time


def check_raw_gsm(data: bytes) -> None:
    """Reject raw GSM that is empty, cut mid-frame or not GSM at all."""
    if not data:
        raise AudioError("empty file")
    if len(data) % FRAME_BYTES:
        raise AudioError(f"truncated GSM: {len(data)} bytes is not a whole number of "
                         f"{FRAME_BYTES}-byte frames")
    # Every raw GSM 06.10 frame starts with the signature nibble 0xD.
    for index in range(0, len(data), FRAME_BYTES):
        if data[index] >> 4 != 0xD:
            raise AudioError(f"corrupt GSM: frame {index // FRAME_BYTES} lacks the 0xD signature")


def decode_with_sox(data: bytes, container: str) -> bytes:
    """Decode raw GSM (``container="gsm"``) or a WAV49 file (``"wav"``) to 8 kHz PCM16 LE."""
    sox = shutil.which("sox")
    if sox is None:
        raise AudioError("GSM audio needs the sox program, which is not installed "
                         "(Debian: apt-get install sox)")
    seconds = len(data) / (FRAME_BYTES if container == "gsm" else GSM_BLOCK_BYTES / 2) * 0.02
    command = [sox, "-V1", "-t", container, "-", "-t", "raw", "-e", "signed-integer", "-b", "16",
               "-L", "-c", "1", "-r", "8000", "-"]
    try:
        done = subprocess.run(command, input=data, capture_output=True, check=False,
                              timeout=30 + seconds * _SOX_TIMEOUT_PER_SECOND)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"sox could not decode the GSM audio: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError("sox could not decode the GSM audio: "
                         + (message[-1] if message else f"exit status {done.returncode}"))
    return done.stdout
