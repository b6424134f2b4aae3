"""A pool of transcription worker processes behind an asyncio API.

Each worker is a process (``spawn`` by default) that loads every configured
model once and then serves jobs one at a time over its own pipe.  One named
asyncio task per worker takes jobs from a bounded queue, so a full queue
makes :meth:`TranscriptionPool.transcribe` wait (back-pressure).

Why not ``ProcessPoolExecutor``: when one of its processes dies (the kernel's
OOM killer, a SIGKILL, a Kaldi abort) the whole executor is broken for good.
Here the task that owns the dead worker notices (the process sentinel
becomes readable), starts a replacement, and retries the job up to
``retries`` times before failing it with a reason.

Blocking waits on the pipes run through ``loop.run_in_executor`` (on the
pool's own threads, two per worker, so they never starve the loop's default
executor) so the event loop stays free and counts them as work in progress.

With the ``spawn`` start method the parent's ``__main__`` module is
re-imported in every worker: scripts that create a pool need the usual
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from speech.audio import DEFAULT_MAX_SECONDS
from speech.models import ModelChoice, ModelError
from speech.transcript import Transcript
from speech.worker_process import describe_death, receive, worker_main

log = logging.getLogger(__name__)

AudioSource = str | os.PathLike[str] | bytes


async def start_worker(context: Any, target: Callable[..., None], args: tuple[Any, ...], *,
                       name: str, threads: Executor,
                       keep: Callable[[Any, Connection], None]) -> tuple[int, float]:
    """Start a worker process (``target(*args, conn)``) and wait until its models are
    loaded: its pid and the seconds loading took.  ``keep(process, conn)`` is told
    of the process as soon as it runs, so its owner can stop it whatever happens
    next.  A worker that cannot load a model, or dies first, is a ModelError
    naming ``name`` and why."""
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child),
                              name=name.replace(" ", "-"), daemon=True)
    process.start()
    child.close()  # so a dead worker shows up as EOF on our end
    keep(process, parent)
    loop = asyncio.get_running_loop()
    message = await loop.run_in_executor(threads, receive, parent, process, None)
    if message is None:
        reason = await loop.run_in_executor(threads, describe_death, process)
        raise ModelError(f"{name} {reason} while loading the model")
    if message[0] == "failed":
        await loop.run_in_executor(threads, process.join)
        raise ModelError(f"{name} could not load the model: {message[1]}")
    return message[1], message[2]


class TranscriptionError(Exception):
    """A job failed; ``reason`` says why (bad audio, worker kept dying, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PoolClosed(TranscriptionError):
    """The pool was closed before the job finished."""


@dataclass(frozen=True)
class JobOutcome:
    """A transcript with who made it and how many attempts it took."""

    transcript: Transcript
    worker_pid: int
    attempts: int


@dataclass(frozen=True)
class PoolStats:
    """Counters since the pool started; ``real_time_factor`` = processing / audio seconds."""

    workers: int
    backlog: int  # jobs waiting for a worker
    running: int
    jobs_done: int
    jobs_failed: int
    retries: int
    worker_restarts: int
    audio_seconds: float
    processing_seconds: float
    real_time_factor: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Job:
    source: str | bytes
    fmt: str
    language: str
    future: asyncio.Future[JobOutcome]
    attempts: int = 0


@dataclass
class _Slot:
    index: int
    process: Any = None  # multiprocessing.Process (context-specific class)
    conn: Connection | None = None
    busy: bool = False
    decoding: bool = False  # the worker said it has the audio and is recognising it
    task: asyncio.Task[None] | None = None


@dataclass
class _Counters:
    done: int = 0
    failed: int = 0
    retries: int = 0
    restarts: int = 0
    audio: float = 0.0
    spent: float = 0.0
    running: int = 0


class TranscriptionPool:
    """Worker processes that transcribe recordings; create, ``await start()``, use, close.

    ``model_choices[0]`` serves ``language=None``.  ``max_backlog`` bounds
    the jobs waiting for a worker.  A worker that dies mid-job is replaced
    and the job retried up to ``retries`` times.  ``job_timeout`` (seconds,
    wall clock, None = no limit) treats a silent worker as dead.
    """

    def __init__(self, model_choices: list[ModelChoice], workers: int = 1, *,
                 max_backlog: int = 100, retries: int = 2,
                 max_seconds: float = DEFAULT_MAX_SECONDS, job_timeout: float | None = None,
                 start_method: str = "spawn") -> None:
        if not model_choices:
            raise ModelError("no model to load")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._choices = list(model_choices)
        self._default_language = self._choices[0].language
        self._retries = retries
        self._max_seconds = max_seconds
        self._job_timeout = job_timeout
        self._context: Any = multiprocessing.get_context(start_method)
        self._slots = [_Slot(i) for i in range(workers)]
        # One thread per worker waits on its pipe; the others cover spawning,
        # stopping and waits left behind by cancelled tasks.
        self._threads = ThreadPoolExecutor(2 * workers + 1, thread_name_prefix="speech-pool")
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(max_backlog)
        self._counters = _Counters()
        self._started = False
        self._closing = False
        self._closed = False

    @property
    def languages(self) -> list[str]:
        return [choice.language for choice in self._choices]

    async def __aenter__(self) -> TranscriptionPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the workers and wait until each has loaded its models.

        Raises :class:`ModelError` (and stops everything) if a model fails to load.
        """
        if self._started:
            return
        self._started = True
        try:
            await asyncio.gather(*(self._spawn(slot) for slot in self._slots))
        except BaseException:
            await self.close()
            raise
        for slot in self._slots:
            slot.task = asyncio.create_task(self._serve(slot), name=f"speech-worker-{slot.index}")

    async def transcribe(self, audio: AudioSource, language: str | None = None, *,
                         fmt: str | None = None) -> Transcript:
        """Transcribe a recording file (path) or its bytes (``fmt``: format, default wav).

        Raises :class:`TranscriptionError` with the reason when it cannot.
        """
        return (await self.transcribe_job(audio, language, fmt=fmt)).transcript

    async def transcribe_job(self, audio: AudioSource, language: str | None = None, *,
                             fmt: str | None = None) -> JobOutcome:
        """Like :meth:`transcribe`, also saying which worker did it and in how many attempts."""
        if self._closing:
            raise PoolClosed("the transcription pool is closed")
        await self.start()
        language = language or self._default_language
        if language not in self.languages:
            raise TranscriptionError(f"no model for language {language!r} "
                                     f"(loaded: {', '.join(self.languages)})")
        if isinstance(audio, bytes | bytearray):
            source: str | bytes = bytes(audio)
            fmt = fmt or "wav"
        else:
            source, fmt = str(Path(audio).resolve()), fmt or ""
        job = _Job(source, fmt, language, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        return await job.future

    def stats(self) -> PoolStats:
        c = self._counters
        return PoolStats(
            workers=len(self._slots), backlog=self._queue.qsize(), running=c.running,
            jobs_done=c.done, jobs_failed=c.failed, retries=c.retries,
            worker_restarts=c.restarts, audio_seconds=round(c.audio, 3),
            processing_seconds=round(c.spent, 3),
            real_time_factor=round(c.spent / c.audio, 4) if c.audio else 0.0,
        )

    def worker_pids(self, busy_only: bool = False, decoding_only: bool = False) -> list[int]:
        """Process ids of the live workers (for monitoring, and for tests that kill one):
        all, those given a job, or those that said they are recognising its audio."""
        return [slot.process.pid for slot in self._slots
                if slot.process is not None and slot.process.is_alive()
                and (slot.busy or not busy_only) and (slot.decoding or not decoding_only)]

    async def close(self) -> None:
        """Stop the workers; jobs not yet finished fail with :class:`PoolClosed`.
        Closing twice (a failed start closes, then its owner) is harmless."""
        if self._closed:
            return
        self._closed = self._closing = True
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(PoolClosed("the transcription pool was closed"))
        tasks = [slot.task for slot in self._slots if slot.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, self._stop_worker, slot)
                               for slot in self._slots))
        self._threads.shutdown(wait=False)

    # -- internals -----------------------------------------------------------------

    def _stop_worker(self, slot: _Slot) -> None:
        process, conn = slot.process, slot.conn
        if process is None:
            return
        if process.is_alive() and not slot.busy and conn is not None:
            try:
                conn.send(("stop",))
            except OSError:
                pass
            process.join(5.0)
        if process.is_alive():
            process.kill()  # busy with a job nobody will read, or not stopping
        process.join()
        if conn is not None:
            conn.close()
        slot.process, slot.conn, slot.busy = None, None, False

    async def _spawn(self, slot: _Slot) -> None:
        """Start the worker of ``slot`` and wait until its models are loaded."""
        def keep(process: Any, conn: Connection) -> None:
            slot.process, slot.conn = process, conn

        pid, seconds = await start_worker(
            self._context, worker_main, (self._choices, self._max_seconds),
            name=f"speech worker {slot.index}", threads=self._threads, keep=keep)
        log.info("speech worker %d (pid %d) loaded %s in %.1f s", slot.index, pid,
                 ", ".join(c.name for c in self._choices), seconds)

    async def _serve(self, slot: _Slot) -> None:
        while True:
            job = await self._queue.get()
            if job.future.done():  # the caller gave up while it waited
                continue
            self._counters.running += 1
            try:
                await self._run(slot, job)
            except asyncio.CancelledError:
                if not job.future.done():
                    job.future.set_exception(PoolClosed("the transcription pool was closed"))
                raise
            finally:
                self._counters.running -= 1

    async def _run(self, slot: _Slot, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if slot.process is None or not slot.process.is_alive():
                try:
                    await self._replace(slot)
                except ModelError as exc:
                    self._fail(job, f"no worker could be started: {exc}")
                    return
            job.attempts += 1
            pid = slot.process.pid
            slot.busy = True
            try:
                assert slot.conn is not None
                slot.conn.send(("job", job.source, job.fmt, job.language))
                message = await loop.run_in_executor(
                    self._threads, receive, slot.conn, slot.process, self._job_timeout)
                if message is not None and message[0] == "decoding":
                    slot.decoding = True
                    message = await loop.run_in_executor(
                        self._threads, receive, slot.conn, slot.process, self._job_timeout)
            except OSError:
                message = None
            # Not in a finally: when close() cancels us mid-job the worker is still
            # busy, and close() must know it so it kills rather than waits.
            slot.busy = slot.decoding = False
            if message is not None:
                self._finish(job, message, pid)
                return
            reason = await loop.run_in_executor(self._threads, describe_death, slot.process)
            if slot.process.is_alive():
                slot.process.kill()
            log.warning("speech worker %d (pid %d) %s during a job (attempt %d)",
                        slot.index, pid, reason, job.attempts)
            if job.attempts > self._retries:
                self._fail(job, f"the speech worker {reason} during the job, "
                                f"{job.attempts} times; giving up")
                return
            self._counters.retries += 1

    async def _replace(self, slot: _Slot) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._threads, self._stop_worker, slot)
        self._counters.restarts += 1
        await self._spawn(slot)

    def _finish(self, job: _Job, message: tuple[Any, ...], pid: int) -> None:
        if message[0] == "done":
            transcript = Transcript.from_dict(message[1])
            self._counters.done += 1
            self._counters.audio += transcript.seconds_audio
            self._counters.spent += transcript.seconds_spent
            if not job.future.done():
                job.future.set_result(JobOutcome(transcript, pid, job.attempts))
        else:
            self._fail(job, str(message[1]))

    def _fail(self, job: _Job, reason: str) -> None:
        self._counters.failed += 1
        if not job.future.done():
            job.future.set_exception(TranscriptionError(reason))
