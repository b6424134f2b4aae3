"""G.711 mu-law and A-law to 16-bit PCM, in pure Python.

``audioop`` does this too but is deprecated (removed in Python 3.13), so we
keep our own 256-entry tables.  Decoding is two ``bytes.translate`` calls
(the low and the high byte of each sample), which runs at C speed.
"""

from __future__ import annotations

from functools import cache


def ulaw_to_linear(code: int) -> int:
    """One mu-law byte to a signed 16-bit sample (ITU-T G.711, as libsox/audioop)."""
    u = ~code & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    return -(magnitude - 0x84) if u & 0x80 else magnitude - 0x84


def alaw_to_linear(code: int) -> int:
    """One A-law byte to a signed 16-bit sample (ITU-T G.711, as libsox/audioop)."""
    a = code ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    if exponent == 0:
        magnitude = (mantissa << 4) + 8
    else:
        magnitude = ((mantissa << 4) + 0x108) << (exponent - 1)
    # In A-law a set sign bit means a positive sample (the opposite of mu-law).
    return magnitude if a & 0x80 else -magnitude


@cache
def _byte_tables(law: str) -> tuple[bytes, bytes]:
    convert = ulaw_to_linear if law == "ulaw" else alaw_to_linear
    samples = [convert(code) & 0xFFFF for code in range(256)]
    return bytes(s & 0xFF for s in samples), bytes(s >> 8 for s in samples)


def decode(law: str, data: bytes) -> bytes:
    """Decode ``law`` ("ulaw" or "alaw") bytes to little-endian 16-bit PCM."""
    if law not in ("ulaw", "alaw"):
        raise ValueError(f"unknown G.711 law {law!r}")
    low_table, high_table = _byte_tables(law)
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(low_table)
    out[1::2] = data.translate(high_table)
    return bytes(out)
