"""Reading a WAV recording while Asterisk is still writing it.

While it records, Asterisk's WAV writer leaves the RIFF and data sizes at
zero and appends samples; it fills the sizes in when it closes the file.
With silence detection it may also cut the trailing silence off at the end,
so the finished file can be shorter than what was read while it grew.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from speech import g711
from speech.audio import _downmix
from speech.wav import ALAW, PCM, ULAW, AudioError

_HEADER_LIMIT = 4096  # the fmt and data chunk headers are always near the start


class GrowingWav:
    """Incremental reader of one WAV file: 16-bit PCM or G.711, mono or stereo.

    :meth:`read_new` returns the mono PCM16 samples added since the last call
    (whole frames only).  Raises :class:`AudioError` for anything it cannot
    follow (GSM, a corrupt header); the caller then waits for the finished
    file and transcribes it as a whole.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.sample_rate = 0
        self._data_at = 0  # offset of the first sample byte; 0 until the header is read
        self._encoding = PCM
        self._channels = 1
        self._frame_bytes = 2
        self._read = 0  # bytes of the data chunk already returned

    @property
    def exists(self) -> bool:
        return self._data_at > 0 or self.path.exists()

    @property
    def started(self) -> bool:
        """The header has been read (the recording has begun)."""
        return self._data_at > 0

    @property
    def seconds_read(self) -> float:
        if not self.sample_rate:
            return 0.0
        return self._read / self._frame_bytes / self.sample_rate

    def read_new(self) -> bytes:
        """Samples added since the last call (b"" if none yet or no file yet)."""
        try:
            with self.path.open("rb") as fh:
                if not self._data_at and not self._read_header(fh.read(_HEADER_LIMIT)):
                    return b""
                fh.seek(self._data_at + self._read)
                data = fh.read()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise AudioError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        data = data[:len(data) - len(data) % self._frame_bytes]
        self._read += len(data)
        return self._to_pcm16(data)

    def final_seconds(self) -> float | None:
        """Length of the finished file (by its header, else its size); None if unknown."""
        if not self._data_at:
            return None
        try:
            size = self.path.stat().st_size - self._data_at
            with self.path.open("rb") as fh:
                fh.seek(self._data_at - 4)
                declared = struct.unpack("<I", fh.read(4))[0]
        except (OSError, struct.error):
            return None
        held = min(size, declared) if declared else size
        return max(0, held) // self._frame_bytes / self.sample_rate

    def _read_header(self, head: bytes) -> bool:
        if len(head) < 12:
            return False
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise AudioError("corrupt WAV: no RIFF/WAVE header")
        pos, fmt = 12, None
        while pos + 8 <= len(head):
            chunk, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
            if chunk == b"fmt ":
                if pos + 8 + 16 > len(head):
                    return False
                fmt = struct.unpack_from("<HHIIHH", head, pos + 8)
            elif chunk == b"data":
                if fmt is None:
                    raise AudioError("corrupt WAV: the data chunk comes before the fmt chunk")
                self._set_format(fmt)
                self._data_at = pos + 8
                return True
            pos += 8 + size + (size & 1)
        return False  # the data chunk header is not written yet

    def _set_format(self, fmt: tuple[int, ...]) -> None:
        tag, channels, rate, _byte_rate, _align, bits = fmt
        if tag == PCM and bits == 16:
            width = 2
        elif tag in (ALAW, ULAW) and bits == 8:
            width = 1
        else:
            raise AudioError(f"cannot follow WAV encoding 0x{tag:04x} ({bits}-bit) as it grows")
        if channels not in (1, 2) or not 4000 <= rate <= 192000:
            raise AudioError(f"cannot follow a WAV of {channels} channels at {rate} Hz")
        self._encoding, self._channels, self.sample_rate = tag, channels, rate
        self._frame_bytes = width * channels

    def _to_pcm16(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self._encoding != PCM:
            data = g711.decode("alaw" if self._encoding == ALAW else "ulaw", data)
        return _downmix(data) if self._channels == 2 else data
