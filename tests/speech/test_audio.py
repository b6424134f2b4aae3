"""Decoding every recording format Asterisk writes; rejecting unusable input."""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

import pytest

from speech import g711
from speech.audio import AudioError, decode_bytes, decode_file
from speech.resample import resample
from tests.speech.conftest import RECORDINGS

KO1_FILES = ["ko1-wav.wav", "ko1-gsm.gsm", "ko1-ulaw.ulaw", "ko1-alaw.alaw", "ko1-wav49.WAV",
             "ko1-sln16.sln16"]
KO1_SECONDS = 41700 / 8000  # ko1-wav.wav: 41,700 samples at 8 kHz


def wav_bytes(pcm: bytes, rate: int = 8000, channels: int = 1, tag: int = 1, bits: int = 16,
              declared: int | None = None) -> bytes:
    size = len(pcm) if declared is None else declared
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
            + fmt + b"data" + struct.pack("<I", size) + pcm)


def test_given_g711_bytes_when_decoded_then_matches_the_reference_tables() -> None:
    every_code = bytes(range(256))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop  # the reference; deprecated, so only used here
    assert g711.decode("ulaw", every_code) == audioop.ulaw2lin(every_code, 2)
    assert g711.decode("alaw", every_code) == audioop.alaw2lin(every_code, 2)


@pytest.mark.parametrize("name", KO1_FILES + ["hangup-midway.wav", "silence.wav"])
def test_given_each_fixture_format_when_decoded_then_16k_audio_of_the_recorded_length(
        name: str, sox: str) -> None:
    audio = decode_file(RECORDINGS / name, 16000)
    expected = {"hangup-midway.wav": 16160 / 8000, "silence.wav": 3.0}.get(name, KO1_SECONDS)
    assert audio.sample_rate == 16000
    # GSM codes whole 20 ms frames, so its copies may be a frame shorter.
    assert audio.duration == pytest.approx(expected, abs=0.021)


def test_given_wav_and_slin_of_the_same_samples_when_decoded_then_identical_pcm() -> None:
    wav = (RECORDINGS / "ko1-wav.wav").read_bytes()
    from_wav = decode_file(RECORDINGS / "ko1-wav.wav")
    from_sln = decode_bytes(wav[44:], "sln")
    assert from_wav.pcm16 == from_sln.pcm16


def test_given_8k_audio_when_upsampled_then_originals_kept_and_tone_reproduced() -> None:
    tone = [round(10000 * math.sin(2 * math.pi * 1000 * i / 8000)) for i in range(8000)]
    pcm = struct.pack(f"<{len(tone)}h", *tone)
    out = struct.unpack("<16000h", resample(pcm, 8000, 16000))
    assert list(out[0::2]) == tone
    error = max(abs(out[i] - 10000 * math.sin(2 * math.pi * 1000 * i / 16000))
                for i in range(100, 15900))
    assert error < 5
    down = resample(pcm, 8000, 6000)
    assert len(down) == 2 * 6000


@pytest.mark.parametrize(("data", "fmt", "reason"), [
    (b"", "wav", "empty"),
    (b"", "ulaw", "empty"),
    (b"\x01\x02\x03", "sln", "truncated"),
    (b"hello world, not audio", "wav", "corrupt"),
    (b"\xd8" + bytes(40), "gsm", "truncated"),
    (bytes(33), "gsm", "corrupt GSM"),
    (wav_bytes(bytes(100), declared=8000), "wav", "truncated"),
    (wav_bytes(bytes(101)), "wav", "truncated"),
    (wav_bytes(bytes(100), bits=8), "wav", "8-bit"),
    (wav_bytes(bytes(100), tag=0x55), "wav", "unsupported WAV encoding"),
    (wav_bytes(bytes(100), declared=0), "wav", "still being recorded"),
    (wav_bytes(bytes(100))[:30], "wav", "fmt"),
    (bytes(100), "mp3", "unsupported format"),
])
def test_given_unusable_input_when_decoded_then_audio_error_with_reason(
        data: bytes, fmt: str, reason: str) -> None:
    with pytest.raises(AudioError) as caught:
        decode_bytes(data, fmt)
    assert reason in caught.value.reason


def test_given_audio_over_the_limit_when_decoded_then_rejected_as_too_long() -> None:
    ten_seconds = bytes(2 * 8000 * 10)
    with pytest.raises(AudioError, match="too long"):
        decode_bytes(wav_bytes(ten_seconds), "wav", max_seconds=5)
    with pytest.raises(AudioError, match="too long"):
        decode_bytes(ten_seconds, "sln", max_seconds=5)
    assert decode_bytes(ten_seconds, "sln", max_seconds=11).duration == pytest.approx(10)


def test_given_a_missing_file_when_decoded_then_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cannot read"):
        decode_file(tmp_path / "gone.wav")


def test_given_stereo_and_g711_wav_when_decoded_then_mono_pcm() -> None:
    stereo = struct.pack("<4h", 100, 300, -100, -300)
    assert decode_bytes(wav_bytes(stereo, channels=2), "wav", 8000).pcm16 == struct.pack(
        "<2h", 200, -200)
    ulaw = decode_bytes(wav_bytes(b"\x00\xff", tag=7, bits=8), "wav", 8000)
    assert ulaw.pcm16 == g711.decode("ulaw", b"\x00\xff")


def test_given_gsm_when_sox_is_missing_then_reason_names_the_package(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("speech.gsm.shutil.which", lambda name: None)
    with pytest.raises(AudioError, match="apt-get install sox"):
        decode_file(RECORDINGS / "ko1-gsm.gsm")
