"""Rational-ratio resampling of 16-bit PCM in pure Python (no numpy).

A polyphase windowed-sinc (Kaiser) filter: correct for any pair of integer
rates, band-limited to the lower of the two Nyquist frequencies.  For the
common 8 kHz -> 16 kHz case the even output samples are the input samples
unchanged and only the odd ones are filtered.

Pure-Python filtering sample by sample would cost more than the speech
recogniser itself, so: when the ratio is an integer upsampling (8 -> 16 kHz,
the case that matters) each phase is one convolution done as a single
big-integer multiplication (samples and fixed-point taps packed into 64-bit
fields, which cannot carry into each other), about 10 ms per second of audio;
other ratios work on whole strided slices with ``map``.  Output is
deterministic: the same samples always give the same bytes.
"""

from __future__ import annotations

import math
import sys
from array import array
from functools import cache
from operator import add, sub

# Zero crossings of the sinc kept on each side; 16 gives a narrow transition
# band (about 5% of the lower Nyquist) and > 70 dB image rejection.
ZERO_CROSSINGS = 16
KAISER_BETA = 8.0
TAP_BITS = 15  # fixed-point taps for the big-integer path; |tap| <= 1
_FLIP_SIGN = bytes(b ^ 0x80 for b in range(256))
# Output samples computed per block, so a 2-hour call never needs more than
# a few MB of Python lists at once.
BLOCK = 1 << 16


def _bessel_i0(x: float) -> float:
    total, term, k = 1.0, 1.0, 1
    while term > 1e-12 * total:
        term *= (x / (2 * k)) ** 2
        total += term
        k += 1
    return total


@cache
def _phase_taps(up: int, down: int) -> tuple[int, int, tuple[tuple[float, ...], ...]]:
    """Taps per phase for output = sum_k taps[p][k - kmin] * x[i - k]."""
    half = ZERO_CROSSINGS * max(up, down)
    cutoff = 0.5 / max(up, down)  # cycles per sample at the upsampled rate
    gain = 2 * cutoff * up
    norm = _bessel_i0(KAISER_BETA)

    def tap(n: int) -> float:
        if abs(n) > half:
            return 0.0
        x = 2 * cutoff * n
        sinc = 1.0 if n == 0 else math.sin(math.pi * x) / (math.pi * x)
        window = _bessel_i0(KAISER_BETA * math.sqrt(1 - (n / half) ** 2)) / norm
        return gain * sinc * window

    kmin, kmax = -(half // up) - 1, half // up
    phases = tuple(
        tuple(tap(p + k * up) for k in range(kmin, kmax + 1)) for p in range(up)
    )
    return kmin, kmax, phases


def _to_array(pcm16: bytes) -> array:
    samples = array("h")
    samples.frombytes(pcm16[: len(pcm16) & ~1])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _to_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def resample(pcm16: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Resample little-endian mono 16-bit PCM from ``src_rate`` to ``dst_rate``.

    The output holds ``floor(n * dst_rate / src_rate)`` samples, so the
    duration is kept to within one output sample.
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    if src_rate == dst_rate:
        return pcm16
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    if pcm16 == bytes(len(pcm16)):
        # Digital silence (the PBX's own, between words) filters to silence.
        return bytes(len(pcm16) // 2 * up // down * 2)
    x = _to_array(pcm16)
    n_out = len(x) * up // down
    out = array("h")
    # Blocks start on multiples of `up` outputs so every block sees the same
    # phase pattern; BLOCK is rounded to such a multiple.
    block = max(up, BLOCK // up * up)
    for start in range(0, n_out, block):
        out.extend(_block(x, up, down, start, min(block, n_out - start)))
    return _to_bytes(out)


def _clip(values: list[int] | list[float]) -> list[int]:
    return [-32768 if v < -32768 else 32767 if v > 32767 else v for v in map(round, values)]


def _convolve_phase(window: list[int], packed: int, taps: tuple[float, ...], first: int,
                    count: int) -> list[int]:
    """``count`` outputs of ``sum_o taps[o] * window[m - o]`` from ``m = first``.

    ``packed`` is the window as offset-binary 16-bit values in 64-bit fields.
    Positive and negative taps are multiplied separately so every field stays
    non-negative and below 2**64 (no carries); the 32768 offset is removed after.
    """
    fixed = [round(t * (1 << TAP_BITS)) for t in taps]

    def fields(coefficients: list[int]) -> array:
        product = packed * sum(c << (64 * o) for o, c in enumerate(coefficients))
        size = 8 * (len(window) + len(coefficients))
        values = array("Q")
        values.frombytes(product.to_bytes(size, "little"))
        if sys.byteorder == "big":
            values.byteswap()
        return values[first: first + count]

    positive = fields([max(c, 0) for c in fixed])
    negative = fields([max(-c, 0) for c in fixed])
    bias = 32768 * sum(fixed) - (1 << (TAP_BITS - 1))  # offset removal and rounding
    return _clip([(v - bias) >> TAP_BITS for v in map(sub, positive, negative)])


def _pack(window: list[int]) -> int:
    raw = _to_bytes(array("h", window))
    buf = bytearray(8 * len(window))
    buf[0::8] = raw[0::2]
    buf[1::8] = raw[1::2].translate(_FLIP_SIGN)  # signed -> offset binary (+32768)
    return int.from_bytes(buf, "little")


def _block(x: array, up: int, down: int, n_start: int, count: int) -> list[int]:
    kmin, kmax, phases = _phase_taps(up, down)
    first = n_start * down // up  # input index of the block's first output
    last = ((n_start + count - 1) * down) // up
    lo, hi = first - kmax, last - kmin + 1
    # The input window, zero-padded where it runs off either end.
    window = [0] * max(0, -lo) + list(x[max(lo, 0): min(hi, len(x))])
    window += [0] * (hi - lo - len(window))
    result = [0] * count
    packed = _pack(window) if down == 1 else 0
    for r in range(min(up, count)):
        n_r = (count - r + up - 1) // up
        i0 = (r * down) // up + first - lo  # window index of x[i] for j = 0
        taps = phases[(r * down) % up]
        if down == 1 and sum(1 for h in taps if h != 0.0) > 1:
            result[r::up] = _convolve_phase(window, packed, taps, i0 - kmin, n_r)
            continue
        acc: list[float] | None = None
        for offset, h in enumerate(taps):
            if h == 0.0:
                continue
            k = kmin + offset
            start = i0 - k
            column = window[start: start + (n_r - 1) * down + 1: down]
            term = map(h.__mul__, column) if h != 1.0 else column
            acc = list(term) if acc is None else list(map(add, acc, term))
        values = acc if acc is not None else [0.0] * n_r
        result[r::up] = _clip(values)
    return result


class StreamResampler:
    """:func:`resample` for audio that arrives in pieces, with the same output.

    Each output sample is given out as soon as every input sample its filter
    reaches has arrived (16 input samples of look-ahead at 8 -> 16 kHz), so
    concatenating what :meth:`feed` and :meth:`finish` return gives exactly
    the bytes :func:`resample` gives for the whole recording.  Keeps the
    input it has seen (a minute of 8 kHz audio is about 1 MB).
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
        g = math.gcd(src_rate, dst_rate)
        self.up, self.down = dst_rate // g, src_rate // g
        self._x = array("h")
        self._emitted = 0
        self._odd = b""

    def feed(self, pcm16: bytes) -> bytes:
        """Add input; return the output samples that are now settled."""
        data = self._odd + pcm16
        cut = len(data) & ~1
        data, self._odd = data[:cut], data[cut:]
        if self.up == self.down:
            return data
        self._x.extend(_to_array(data))
        kmin = _phase_taps(self.up, self.down)[0]
        # Output j reads inputs up to j * down // up - kmin; keep to those held.
        last_input = len(self._x) - 1 + kmin
        ready = max(0, ((last_input + 1) * self.up + self.down - 1) // self.down)
        ready = min(ready, len(self._x) * self.up // self.down)
        ready -= ready % self.up  # blocks must start on a multiple of `up`
        return self._emit(ready)

    def finish(self) -> bytes:
        """The rest of the output, as if the input ended here."""
        if self.up == self.down:
            return b""
        return self._emit(len(self._x) * self.up // self.down)

    def _emit(self, upto: int) -> bytes:
        if upto <= self._emitted:
            return b""
        kmin, kmax, _ = _phase_taps(self.up, self.down)
        lo = max(0, self._emitted * self.down // self.up - kmax)
        hi = min(len(self._x), (upto - 1) * self.down // self.up - kmin + 1)
        window = self._x[lo:hi].tobytes()
        if window == bytes(len(window)):  # silence in, silence out (and no work)
            count, self._emitted = upto - self._emitted, upto
            return bytes(2 * count)
        out = array("h")
        block = max(self.up, BLOCK // self.up * self.up)
        for start in range(self._emitted, upto, block):
            out.extend(_block(self._x, self.up, self.down, start, min(block, upto - start)))
        self._emitted = max(self._emitted, upto)
        return _to_bytes(out)
