"""The worker-process pool with the real model: one pool of two workers per module."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from speech.live import LiveDecoder
from speech.models import ModelChoice, ModelError, resolve_models
from speech.workers import TranscriptionError, TranscriptionPool
from tests.speech.conftest import RECORDINGS
from tests.speech.test_audio import KO1_FILES, KO1_SECONDS
from tests.speech.test_recognizer import assert_well_timed

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool() -> AsyncIterator[TranscriptionPool]:
    async with TranscriptionPool(resolve_models(None), workers=2) as started:
        yield started


async def busy_worker(pool: TranscriptionPool) -> int:
    """The pid of a worker once it has said it is recognising a job's audio."""
    async with asyncio.timeout(60):
        while not pool.worker_pids(decoding_only=True):
            await asyncio.sleep(0.02)
    return pool.worker_pids(decoding_only=True)[0]


async def test_given_same_samples_in_wav_and_slin_when_two_workers_decode_then_same_text(
        pool: TranscriptionPool, speech_dir: Path) -> None:
    wav = (speech_dir / "pothole.wav").read_bytes()
    slin = speech_dir / "pothole.sln"
    slin.write_bytes(wav[44:])
    first, second = await asyncio.gather(pool.transcribe_job(speech_dir / "pothole.wav"),
                                         pool.transcribe_job(slin))
    assert first.worker_pid != second.worker_pid
    assert first.transcript.text == second.transcript.text
    assert first.transcript.words == second.transcript.words
    assert first.transcript.words


async def test_given_every_fixture_format_when_transcribed_then_no_error(
        pool: TranscriptionPool) -> None:
    names = KO1_FILES + ["hangup-midway.wav"]
    transcripts = await asyncio.gather(*(pool.transcribe(RECORDINGS / n) for n in names))
    for name, transcript in zip(names, transcripts, strict=True):
        expected = 16160 / 8000 if name.startswith("hangup") else KO1_SECONDS
        assert transcript.seconds_audio == pytest.approx(expected, abs=0.021), name
        assert transcript.words, name
        assert_well_timed(transcript)
    stats = pool.stats()
    assert stats.jobs_done >= len(names) and stats.backlog == 0
    assert stats.real_time_factor == pytest.approx(
        stats.processing_seconds / stats.audio_seconds, rel=0.01)


async def test_given_bad_input_when_submitted_then_fails_with_reason_and_pool_lives_on(
        pool: TranscriptionPool, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes((RECORDINGS / "ko1-wav.wav").read_bytes()[:5000])
    failed = pool.stats().jobs_failed
    with pytest.raises(TranscriptionError, match="truncated WAV"):
        await pool.transcribe(truncated)
    with pytest.raises(TranscriptionError, match="empty"):
        await pool.transcribe(b"", fmt="sln")
    with pytest.raises(TranscriptionError, match="no model for language 'zh'"):
        await pool.transcribe(truncated, "zh")
    assert pool.stats().jobs_failed == failed + 2
    assert (await pool.transcribe(RECORDINGS / "silence.wav")).words == []


async def test_given_a_worker_killed_mid_job_when_replaced_then_the_job_completes_once(
        pool: TranscriptionPool, speech_dir: Path) -> None:
    before = pool.stats()
    job = asyncio.create_task(pool.transcribe_job(speech_dir / "bus.wav"))
    victim = await busy_worker(pool)
    os.kill(victim, signal.SIGKILL)
    outcome = await job
    after = pool.stats()
    assert outcome.attempts == 2 and outcome.worker_pid != victim
    assert outcome.transcript.words
    assert after.jobs_done == before.jobs_done + 1
    assert after.worker_restarts == before.worker_restarts + 1
    assert victim not in pool.worker_pids()


async def test_given_no_retries_left_when_the_worker_is_killed_then_the_job_fails_with_reason(
        speech_dir: Path) -> None:
    async with TranscriptionPool(resolve_models(None), workers=1, retries=0) as single:
        job = asyncio.create_task(single.transcribe(speech_dir / "bus.wav"))
        os.kill(await busy_worker(single), signal.SIGKILL)
        with pytest.raises(TranscriptionError, match="killed by SIGKILL"):
            await job
        assert single.stats().jobs_failed == 1


async def test_given_a_directory_that_is_not_a_model_when_the_pool_starts_then_model_error(
        tmp_path: Path) -> None:
    pool = TranscriptionPool([ModelChoice(tmp_path, "zh")], workers=1)
    with pytest.raises(ModelError, match="^speech worker 0 could not load the model: "
                                         ".*not a Vosk model"):
        await pool.start()
    assert pool.worker_pids() == []


async def test_given_a_directory_that_is_not_a_model_when_a_live_decoder_starts_then_model_error(
        tmp_path: Path) -> None:
    """The live workers start as the pool's do; a failed start is stopped and retried afresh."""
    decoder = LiveDecoder([ModelChoice(tmp_path, "zh")])
    try:
        for restarts in (0, 1):
            with pytest.raises(ModelError, match="^live speech worker 0 could not load the "
                                                 "model: .*not a Vosk model"):
                await decoder.start()
            assert not decoder.alive and decoder.restarts == restarts
    finally:
        await decoder.close()
