"""RIFF/WAVE parsing for the WAV files Asterisk writes.

Pure: bytes in, a description of the audio out, or :class:`AudioError`
naming what is wrong.  Asterisk writes 16-bit PCM (``wav``, ``wav16``) and
GSM 06.10 in a WAV container (``wav49``, extension ``WAV``); G.711 in WAV
is accepted too because other tools produce it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class AudioError(ValueError):
    """The audio cannot be used; ``reason`` says why in words for an operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


PCM, ALAW, ULAW, GSM610, EXTENSIBLE = 0x0001, 0x0006, 0x0007, 0x0031, 0xFFFE
_NAMES = {0x0002: "MS ADPCM", 0x0003: "IEEE float", 0x0011: "IMA ADPCM", 0x0055: "MP3",
          0x0050: "MPEG"}
# WAVE_FORMAT_EXTENSIBLE names its real encoding by a GUID whose first two
# bytes are the classic format tag; the rest is this fixed suffix.
_GUID_SUFFIX = bytes.fromhex("000000001000800000aa00389b71")
GSM_BLOCK_BYTES, GSM_BLOCK_SAMPLES = 65, 320  # two GSM frames per block (MS layout)


@dataclass(frozen=True)
class WavAudio:
    """Where the samples are and how they are encoded."""

    encoding: int  # PCM, ALAW, ULAW or GSM610
    channels: int
    sample_rate: int
    bits: int
    data: bytes  # the data chunk, exactly as declared in the header

    @property
    def frames(self) -> int:
        """Samples per channel."""
        if self.encoding == GSM610:
            return len(self.data) // GSM_BLOCK_BYTES * GSM_BLOCK_SAMPLES
        return len(self.data) // (self.channels * self.bits // 8)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def _chunks(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Chunk id -> (offset of its body, declared size); first of each id wins."""
    found: dict[bytes, tuple[int, int]] = {}
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        found.setdefault(chunk_id, (pos + 8, size))
        if chunk_id == b"data":
            break  # audio runs to the end; anything after it is not ours to parse
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes
    return found


def _format(body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) < 16:
        raise AudioError(f"corrupt WAV: the fmt chunk is {len(body)} bytes, needs 16")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _GUID_SUFFIX:
            raise AudioError("unsupported WAV: WAVE_FORMAT_EXTENSIBLE with an unknown sub-format")
        tag = struct.unpack_from("<H", body, 24)[0]
    return tag, channels, rate, block_align, bits


def parse_wav(data: bytes) -> WavAudio:
    """Parse a whole WAV file; raise :class:`AudioError` for anything unusable."""
    if not data:
        raise AudioError("empty file")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("corrupt WAV: no RIFF/WAVE header")
    chunks = _chunks(data)
    if b"fmt " not in chunks:
        raise AudioError("corrupt WAV: no fmt chunk")
    fmt_at, fmt_size = chunks[b"fmt "]
    if fmt_at + fmt_size > len(data):
        raise AudioError("truncated WAV: the file ends inside its fmt chunk")
    tag, channels, rate, block_align, bits = _format(data[fmt_at:fmt_at + fmt_size])
    if b"data" not in chunks:
        raise AudioError("truncated or corrupt WAV: no data chunk")
    at, size = chunks[b"data"]
    held = len(data) - at
    if size == 0 and held > 0:
        # Asterisk fills in the sizes when it closes the file.
        raise AudioError("incomplete WAV: the header declares no audio (still being recorded?)")
    if size > held:
        raise AudioError(f"truncated WAV: the header declares {size} bytes of audio, "
                         f"the file holds {held}")
    if not 1 <= channels <= 2:
        raise AudioError(f"unsupported WAV: {channels} channels (expected mono or stereo)")
    if not 4000 <= rate <= 192000:
        raise AudioError(f"corrupt WAV: sample rate {rate} Hz")
    body = data[at:at + size]
    if tag == PCM:
        if bits != 16:
            raise AudioError(f"unsupported WAV: {bits}-bit PCM (only 16-bit is accepted)")
        if size % (2 * channels):
            raise AudioError("truncated WAV: the audio ends in the middle of a sample")
    elif tag in (ALAW, ULAW):
        if bits != 8:
            raise AudioError(f"corrupt WAV: G.711 with {bits} bits per sample")
    elif tag == GSM610:
        if channels != 1 or block_align != GSM_BLOCK_BYTES:
            raise AudioError("unsupported WAV: GSM 06.10 other than mono WAV49 (65-byte blocks)")
        if size % GSM_BLOCK_BYTES:
            raise AudioError("truncated WAV49: the audio ends in the middle of a GSM block")
    else:
        name = _NAMES.get(tag, "unknown")
        raise AudioError(f"unsupported WAV encoding 0x{tag:04x} ({name}); Asterisk writes "
                         "16-bit PCM or GSM (wav49)")
    if not body:
        raise AudioError("empty WAV: no audio samples")
    return WavAudio(tag, channels, rate, bits, body)
