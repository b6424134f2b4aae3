"""The parts without the model: growing files, incremental resampling, start-up checks."""

from __future__ import annotations

import asyncio
import random
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from core.clock import Clock, run_simulated
from hotline.app import Backend, StartupError
from pbxsim import media
from pbxsim.channels import FarEnd
from speech.call_recordings import find_call_recording, recording_closed
from speech.descriptions import clamp_to
from speech.growing import GrowingWav
from speech.jobs import TranscriptionService
from speech.models import ModelError
from speech.options import TranscriptionOptions, check_models
from speech.resample import StreamResampler, resample
from speech.transcript import Transcript, Word
from speech.wav import AudioError
from tests.helpers import prepare_database, settings_for_test
from tests.speech.test_models import fake_model


def noise(samples: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    return struct.pack(f"<{samples}h", *(rng.randint(-9000, 9000) for _ in range(samples)))


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000), (8000, 12000),
                                          (44100, 16000), (8000, 8000)])
def test_given_audio_in_random_pieces_when_resampled_as_it_comes_then_same_as_whole(
        src: int, dst: int) -> None:
    pcm = bytes(4000) + noise(12001) + bytes(9000) + noise(3000, 2)
    rng = random.Random(src + dst)
    stream, out, at = StreamResampler(src, dst), b"", 0
    while at < len(pcm):
        step = rng.randint(1, 7000)  # odd sizes too: half a sample waits for the next piece
        out += stream.feed(pcm[at:at + step])
        at += step
    assert out + stream.finish() == resample(pcm, src, dst)


def test_given_a_wav_being_written_when_read_as_it_grows_then_every_sample_once(
        tmp_path: Path) -> None:
    path = tmp_path / "desc.wav"
    reader = GrowingWav(path)
    assert reader.read_new() == b"" and not reader.exists  # not created yet
    recording = media.GrowingWav(path)  # as the PBX writes it: sizes zero until closed
    assert reader.read_new() == b"" and reader.started and reader.sample_rate == 8000
    assert not recording_closed(path)
    audio = noise(8000)
    got = b""
    for at in range(0, len(audio), 2999):  # pieces that split samples
        _append_raw(path, audio[at:at + 2999])
        got += reader.read_new()
    assert got == audio[:len(got)] and len(audio) - len(got) < 2
    recording.samples = len(audio) // 2
    recording.close(b"", 6000)  # trailing silence cut off, sizes filled in
    assert recording_closed(path)
    assert reader.final_seconds() == 6000 / 8000


def _append_raw(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def test_given_a_wav_that_cannot_be_followed_when_read_then_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + struct.pack("<IHHIIHH", 16, 0x31, 1,
                                                                     8000, 1625, 65, 0)
                     + b"data\x00\x00\x00\x00")
    with pytest.raises(AudioError, match="cannot follow"):
        GrowingWav(path).read_new()
    path.write_bytes(b"not a wav at all")
    with pytest.raises(AudioError, match="RIFF"):
        GrowingWav(path).read_new()


def test_given_a_transcript_of_trimmed_audio_when_clamped_then_words_inside() -> None:
    transcript = Transcript("a b", [Word("a", 0.1, 0.5, 0.9), Word("b", 0.5, 3.2, 0.8)],
                            seconds_audio=4.0)
    clamped = clamp_to(transcript, 3.0)
    assert clamped.seconds_audio == 3.0 and clamped.words[1].end == 3.0
    assert clamp_to(transcript, None) is transcript


def test_given_call_recordings_when_looked_up_then_found_by_date_and_uniqueid(
        tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # already 1 December in Baoji
    (tmp_path / "desc-1764468000.5.wav").write_bytes(b"x")
    assert find_call_recording(tmp_path, "1764468000.5", now, ZoneInfo("Asia/Shanghai")) is None
    (tmp_path / "20261201-1764468000.5.wav").write_bytes(b"x")
    (tmp_path / "20261130-1764468000.55.wav").write_bytes(b"x")
    assert find_call_recording(tmp_path, "1764468000.5", now, ZoneInfo("Asia/Shanghai")) == \
        tmp_path / "20261201-1764468000.5.wav"
    (tmp_path / "20250101-1764468000.6.WAV").write_bytes(b"x")  # an odd date: found by listing
    assert find_call_recording(tmp_path, "1764468000.6", now, ZoneInfo("UTC")) == \
        tmp_path / "20250101-1764468000.6.WAV"


def test_given_the_pbx_recording_a_caller_then_the_file_grows_with_its_clock(
        tmp_path: Path) -> None:
    """RECORD FILE writes as simulated time passes, in PROGRESS_SECONDS steps."""

    class Caller(FarEnd):
        def speech(self, chan: object) -> tuple[float, Path | None]:
            return 4.0, None

    async def main() -> list[tuple[float, int]]:
        from tests.pbxsim.helpers import make_sim

        sim = await make_sim(recordings_dir=tmp_path)
        chan = sim.new_channel("PJSIP/trunk-00000001", context="from-pstn", exten="12345")
        chan.far_end = Caller()
        path = tmp_path / "desc.wav"
        sizes: list[tuple[float, int]] = []

        async def watch() -> None:
            while True:
                await asyncio.sleep(0.25)
                sizes.append((sim.loop_time(), path.stat().st_size if path.exists() else 0))

        watcher = asyncio.create_task(watch())
        reason, samples = await media.record(chan, path, max_seconds=None, silence=3.0)
        watcher.cancel()
        sizes.append((-1.0, samples))
        await sim.stop()
        return sizes

    sizes = run_simulated(main())
    *growing, (_, samples) = sizes
    assert samples == 5 * 8000  # 4 s spoken + 3 s silence, trimmed to 1 s
    grew = sorted({size for _, size in growing})
    assert len(grew) >= 10 and grew[0] >= 44  # it grew step by step, not at the end
    assert max(grew) > 44 + samples * 2  # the 2 s of silence beyond the kept 1 s were there
    assert (tmp_path / "desc.wav").stat().st_size == 44 + samples * 2
    assert recording_closed(tmp_path / "desc.wav")


def test_given_a_model_dir_that_is_missing_or_not_vosk_when_started_then_the_setting_is_named(
        tmp_path: Path) -> None:
    settings = settings_for_test("sqlite:///unused.db", tmp_path)
    with pytest.raises(ModelError, match=r"^HOTLINE_VOSK_MODEL_ZH: .*not a directory"):
        check_models(replace(settings, vosk_models={"zh": tmp_path / "missing"}))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"^HOTLINE_VOSK_MODEL: .*not a Vosk model"):
        check_models(replace(settings, vosk_model=tmp_path / "empty"))
    fake = fake_model(tmp_path / "looks-right")  # passes the check, fails to load
    with pytest.raises(ModelError, match=r"^HOTLINE_VOSK_MODEL: .*could not load"):
        run_simulated(_start_service(replace(settings, vosk_model=fake)))


async def _start_service(settings: object) -> None:
    from core.bus import EventBus
    from hotline.deps import Deps

    deps = Deps(settings=settings, db=None, clock=Clock.for_running_loop(),  # type: ignore
                routing=None, bus=EventBus(), calendar=None)  # type: ignore[arg-type]
    service = TranscriptionService(deps, TranscriptionOptions(workers=1))
    await service.start()


def test_given_a_bad_model_setting_when_the_backend_starts_then_it_refuses_naming_it(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url)
    settings = replace(settings_for_test(url, tmp_path),
                       vosk_models={"zh": tmp_path / "nowhere"})

    async def main() -> None:
        await Backend(settings, transcription=TranscriptionOptions()).start()

    with pytest.raises(StartupError, match=r"^HOTLINE_VOSK_MODEL_ZH: "):
        run_simulated(main())
