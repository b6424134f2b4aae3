"""The job queue with the real model: exactly once, killed workers, restarts, failures.

One batch worker is shared by the whole module (each model load costs
about 3 s); every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.bus import Delivery
from core.live_events import CallEnded, TranscriptReady
from hotline.deps import Deps
from pbxsim import media
from speech import job_store
from speech.live import LivePool
from speech.tables import DONE, FAILED, QUEUED, RUNNING, TranscriptionJob
from speech.workers import TranscriptionPool
from tests.transcripts.conftest import (
    jobs_and_transcripts,
    service_for,
    silence,
    wait_until,
    write_wav,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


def mixmonitor_name(deps: Deps, uniqueid: str) -> str:
    return f"{deps.clock.now().astimezone(deps.settings.tz):%Y%m%d}-{uniqueid}.wav"


def job_status(deps: Deps, job_id: int) -> Any:
    async def check() -> str:
        return await deps.db.run(lambda s: s.get(TranscriptionJob, job_id).status)
    return check


def ready_events(deps: Deps) -> list[dict[str, Any]]:
    sub = deps.bus.subscribe(lambda e: isinstance(e, TranscriptReady), name="test")
    seen: list[dict[str, Any]] = []
    original = sub.offer

    def keep(delivery: Delivery) -> bool:
        seen.append({"type": delivery.event.type, **delivery.event.fields()})
        return original(delivery)

    sub.offer = keep  # type: ignore[method-assign]
    return seen


async def test_given_duplicate_jobs_and_events_when_transcribed_then_exactly_one_transcript(
        deps: Deps, shared_pool: TranscriptionPool, speech_dir: Path, recordings: Path) -> None:
    service = service_for(deps, shared_pool)
    uniqueid = "1764468000.11"
    await service.start()
    seen = ready_events(deps)
    try:
        path = write_wav(recordings / mixmonitor_name(deps, uniqueid),
                         (speech_dir / "pothole.wav").read_bytes()[44:])
        ids = await asyncio.gather(*(service.enqueue(path, "call", uniqueid) for _ in range(3)))
        for _ in range(2):  # the bus may repeat itself too
            deps.bus.publish(CallEnded(uniqueid=uniqueid, outcome="answered"))
        assert len(set(ids)) == 1
        await wait_until(lambda: _is(job_status(deps, ids[0]), DONE))
        await asyncio.sleep(1.5)  # let the duplicate events find the job done
        # A second backend on the same database adds nothing either.
        other = service_for(deps, shared_pool)
        await other.start()
        assert await other.enqueue(path, "call", uniqueid) == ids[0]
        await other.close()
        stats = await service.stats()
    finally:
        await service.close()
    jobs, transcripts = jobs_and_transcripts(deps)
    assert len(jobs) == 1 and len(transcripts) == 1
    assert (jobs[0].status, jobs[0].attempts, jobs[0].kind) == (DONE, 1, "call")
    assert jobs[0].content_sha256 is not None
    record = transcripts[0]
    assert record.call_uniqueid == uniqueid and record.complete and record.words
    assert record.text.split() == [w["word"] for w in record.words]
    assert [e["transcript_id"] for e in seen] == [record.id]
    assert (stats["backlog"], stats["running"], stats["done"], stats["failed"]) == (0, 0, 1, 0)
    assert stats["since_start"]["audio_seconds"] == pytest.approx(record.seconds_audio, abs=1e-3)
    assert 0 < stats["real_time_factor"] < 5 and stats["throughput"] > 0


async def _is(check: Any, status: str) -> bool:
    return bool(await check() == status)


async def test_given_a_worker_killed_mid_job_when_it_is_replaced_then_one_transcript(
        deps: Deps, shared_pool: TranscriptionPool, speech_dir: Path, recordings: Path) -> None:
    service = service_for(deps, shared_pool)
    await service.start()
    try:
        path = write_wav(recordings / "20261130-1764468000.12.wav",
                         (speech_dir / "bus.wav").read_bytes()[44:])
        job_id = await service.enqueue(path, "call", "1764468000.12")
        await wait_until(_decoding(shared_pool))  # the worker said so: no sleep-then-kill
        victim = shared_pool.worker_pids(decoding_only=True)[0]
        os.kill(victim, signal.SIGKILL)
        await wait_until(lambda: _is(job_status(deps, job_id), DONE))
    finally:
        await service.close()
    jobs, transcripts = jobs_and_transcripts(deps)
    assert len(transcripts) == 1 and transcripts[0].words
    assert (jobs[0].status, jobs[0].attempts) == (DONE, 2)  # the killed run counts
    assert victim not in shared_pool.worker_pids()


def _busy(pool: TranscriptionPool) -> Any:
    async def check() -> bool:
        return bool(pool.worker_pids(busy_only=True))
    return check


def _decoding(pool: TranscriptionPool) -> Any:
    async def check() -> bool:
        return bool(pool.worker_pids(decoding_only=True))
    return check


async def test_given_a_service_closed_mid_job_when_a_new_one_starts_then_the_job_completes_once(
        deps: Deps, shared_pool: TranscriptionPool, speech_dir: Path, recordings: Path) -> None:
    first = service_for(deps, shared_pool)
    await first.start()
    path = write_wav(recordings / "20261130-1764468000.13.wav",
                     (speech_dir / "bus.wav").read_bytes()[44:])
    job_id = await first.enqueue(path, "call", "1764468000.13")
    await wait_until(_busy(shared_pool))
    await first.close()  # mid-job
    [job], _ = jobs_and_transcripts(deps)
    assert (job.status, job.attempts) == (QUEUED, 0)  # handed back, not counted

    # And a backend that died without closing leaves a job "running"...
    crashed = write_wav(recordings / "20261130-1764468000.14.wav", silence(3.0))
    now = datetime.now().astimezone()
    stale, _ = deps.db.call(lambda s: job_store.enqueue(
        s, key=crashed.name, path=str(crashed), kind="call", uniqueid="1764468000.14",
        language=None, now=now))
    deps.db.call(lambda s: _claim_as_a_dead_backend(s.get(TranscriptionJob, stale)))

    second = service_for(deps, shared_pool)
    await second.start()  # ...which the next start queues again
    try:
        await wait_until(lambda: _all_done(deps), timeout=120)
        # The dead backend's result, arriving late, is not stored.
        late = deps.db.call(lambda s: job_store.fail(s, stale, "dead", "late", now=now))
        assert late is False
    finally:
        await second.close()
    jobs, transcripts = jobs_and_transcripts(deps)
    assert sorted(j.status for j in jobs) == [DONE, DONE]
    assert [bool(t.words) for t in sorted(transcripts, key=lambda t: t.call_uniqueid)] == [
        True, False]  # (the second recording is silence)
    assert {j.id: j.attempts for j in jobs}[job_id] == 1
    assert {j.call_uniqueid: j.attempts for j in jobs}["1764468000.14"] == 2


def _claim_as_a_dead_backend(job: TranscriptionJob) -> None:
    job.status, job.claim, job.attempts = RUNNING, "dead", 1


async def _all_done(deps: Deps) -> bool:
    jobs, _ = jobs_and_transcripts(deps)
    return bool(jobs) and all(j.status == DONE for j in jobs)


async def test_given_a_corrupt_recording_when_transcribed_then_listed_failed_and_retry_works(
        deps: Deps, shared_pool: TranscriptionPool, recordings: Path) -> None:
    service = service_for(deps, shared_pool, max_attempts=2)
    await service.start()
    try:
        good = write_wav(recordings / "tmp.wav", silence(2.0)).read_bytes()
        path = recordings / "20261130-1764468000.15.wav"
        path.write_bytes(good[:1000])  # cut off: the header promises more
        job_id = await service.enqueue(path, "call", "1764468000.15")
        await wait_until(lambda: _is(job_status(deps, job_id), FAILED))
        [failed] = await service.failed_jobs()
        assert failed["id"] == job_id and "truncated WAV" in failed["reason"]
        assert failed["recording"] == path.name and failed["uniqueid"] == "1764468000.15"
        stats = await service.stats()
        assert stats["failed"] == 1 and stats["backlog"] == 0

        path.write_bytes(good)  # the file is repaired; a supervisor retries
        assert (await service.retry(job_id))["status"] == QUEUED
        await wait_until(lambda: _is(job_status(deps, job_id), DONE))
        with pytest.raises(job_store.JobError, match="done, not failed"):
            await service.retry(job_id)
        assert await service.failed_jobs() == []

        # A job interrupted more often than allowed fails with that reason.
        now = datetime.now().astimezone()
        again = write_wav(recordings / "20261130-1764468000.16.wav", silence(1.0))
        stuck, _ = deps.db.call(lambda s: job_store.enqueue(
            s, key=again.name, path=str(again), kind="call", uniqueid="1764468000.16",
            language=None, now=now))
        deps.db.call(lambda s: setattr(s.get(TranscriptionJob, stuck), "attempts", 2))
        service.wake()
        await wait_until(lambda: _is(job_status(deps, stuck), FAILED))
        assert "interrupted 2 times" in (await service.failed_jobs())[0]["reason"]
    finally:
        await service.close()
    _, transcripts = jobs_and_transcripts(deps)
    assert [t.text for t in transcripts] == [""]  # the repaired recording is silence
    assert transcripts[0].seconds_audio == 2.0


async def record_as_asterisk(path: Path, pcm: bytes, *, step: float = 0.5, pace: float = 0.1,
                             on_half: Any = None, hold_at: int | None = None,
                             hold_until: Any = None) -> None:
    """Write ``pcm`` as Asterisk records: sizes zero, ``step`` s of audio every ``pace`` s.

    With ``hold_at``, writing stops once that many bytes are out until
    ``hold_until()`` is true: the test waits for the recogniser, not for time."""
    wav = media.GrowingWav(path)
    chunk = int(step * 8000) * 2
    for at in range(0, len(pcm), chunk):
        if hold_at is not None and at >= hold_at:
            await wait_until(hold_until)
            hold_at = None
        wav.append(pcm[at:at + chunk])
        if on_half is not None and at >= len(pcm) // 2:
            on_half()
            on_half = None
        await asyncio.sleep(pace)
    wav.close(pcm, len(pcm) // 2)


# The database plays no part here beyond the job row: SQLite only, to save time.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_given_the_live_worker_killed_mid_description_then_batch_gives_one_transcript(
        deps: Deps, shared_pool: TranscriptionPool, shared_live: LivePool, speech_dir: Path,
        recordings: Path) -> None:
    service = service_for(deps, shared_pool, shared_live)
    await service.start()
    seen = ready_events(deps)
    victim = shared_live.pids()[0]
    # Two sentences with a pause: the first is final (and stored) during the pause.
    first_sentence = (speech_dir / "pothole.wav").read_bytes()[44:] + silence(1.5)
    pcm = b"".join([first_sentence, (speech_dir / "bus.wav").read_bytes()[44:], silence(1.0)])
    try:
        first = recordings / "desc-1764468000.31.wav"
        await service.description_recording("1764468000.31", first)
        await record_as_asterisk(first, pcm, on_half=lambda: os.kill(victim, signal.SIGKILL))
        await service.description_finished("1764468000.31")
        await wait_until(lambda: _all_done(deps))
        # The next description gets a fresh live worker and is transcribed as it grows.
        await shared_live.start()  # (it is restarted on demand; here, before the caller speaks)
        second = recordings / "desc-1764468000.32.wav"
        await service.description_recording("1764468000.32", second)
        # The second sentence only once the first is announced on its own:
        # a slow (loaded) recogniser would otherwise read both at once.
        async def first_announced() -> bool:
            return any(e["uniqueid"].endswith(".32") for e in seen)

        await record_as_asterisk(second, pcm, pace=0.25, hold_at=len(first_sentence),
                                 hold_until=first_announced)
        await service.description_finished("1764468000.32")
        await wait_until(lambda: _all_done(deps))
    finally:
        await service.close()
    jobs, transcripts = jobs_and_transcripts(deps)
    by_call = {j.call_uniqueid: j for j in jobs}
    assert len(jobs) == len(transcripts) == 2 and all(t.complete and t.words for t in transcripts)
    assert by_call["1764468000.31"].attempts == 2  # the live run, then the batch run
    assert by_call["1764468000.32"].attempts == 1
    assert victim not in shared_live.pids() and shared_live.pids()
    # The first sentence was stored on its own (during the pause), then the whole.
    announced = [(e["final"], e["text"]) for e in seen if e["uniqueid"].endswith(".32")]
    assert announced[0][0] is False and announced[-1][0] is True
    assert announced[-1][1].startswith(announced[0][1]) and announced[-1][1] != announced[0][1]
    assert all(t.kind == "description" for t in transcripts)
