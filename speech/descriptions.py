"""A caller's description, transcribed while it is recorded.

The IVR tells the service a recording is about to start
(``description_recording``) and that it ended (``description_finished``).
In between, :func:`follow_description` reads the WAV as it grows and feeds
a live worker; whenever the recogniser closes an utterance (about a second
after the caller pauses) the transcript so far is stored and announced, so
it is ready long before the recording's own silence timeout ends it.  If
live decoding is impossible (a worker died, a format it cannot follow) the
job goes back to the queue and the batch workers transcribe the finished
file instead: late, but never lost.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from speech import job_store
from speech.growing import GrowingWav
from speech.live import LiveError, LiveStream
from speech.transcript import Transcript, Word
from speech.wav import AudioError

if TYPE_CHECKING:
    from speech.jobs import TranscriptionService

log = logging.getLogger(__name__)


@dataclass
class Description:
    """A description being recorded, and the job that will hold its transcript."""

    uniqueid: str
    path: Path
    job: job_store.ClaimedJob
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


def clamp_to(transcript: Transcript, seconds: float | None) -> Transcript:
    """The transcript of a recording cut to ``seconds`` (silence trimmed off its end)."""
    if seconds is None or seconds >= transcript.seconds_audio:
        return transcript
    words = [Word(w.word, min(w.start, seconds), min(w.end, seconds), w.conf)
             for w in transcript.words]
    return replace(transcript, words=words, seconds_audio=seconds)


async def _read(reader: GrowingWav) -> tuple[bytes, str | None]:
    try:
        return await asyncio.get_running_loop().run_in_executor(None, reader.read_new), None
    except AudioError as exc:
        return b"", exc.reason


async def follow_description(service: TranscriptionService, state: Description) -> None:
    """Transcribe ``state.path`` as it grows until the IVR says it ended (or it stalls)."""
    options, clock = service.options, service.deps.clock
    reader = GrowingWav(state.path)
    stream: LiveStream | None = None
    problem: str | None = None
    last_growth = clock.monotonic()
    try:
        while True:
            finished = state.finished.is_set()  # read before the last look at the file
            pcm, unreadable = await _read(reader)
            problem = problem or unreadable
            if pcm:
                last_growth = clock.monotonic()
            if pcm and problem is None:
                try:
                    if stream is None:
                        stream = await service.live.open(service.language_of(state.job),
                                                         reader.sample_rate)
                    snapshot = await stream.feed(pcm)
                    if snapshot is not None:
                        await service.store(state.job, snapshot, complete=False)
                except LiveError as exc:
                    problem = str(exc)
            if finished:
                break
            if clock.monotonic() - last_growth > options.stall_seconds:
                log.warning("description %s stopped growing for %.0f s; taking it as ended",
                            state.path.name, options.stall_seconds)
                break
            try:  # (asyncio.timeout: wait_for may swallow a cancellation on 3.11)
                async with asyncio.timeout(options.poll_seconds):
                    await state.finished.wait()
            except TimeoutError:
                pass
        await _conclude(service, state, reader, stream, problem)
    except asyncio.CancelledError:
        if stream is not None:
            await asyncio.shield(stream.drop())
        raise
    finally:
        if service.descriptions.get(state.uniqueid) is state:
            del service.descriptions[state.uniqueid]


async def _conclude(service: TranscriptionService, state: Description, reader: GrowingWav,
                    stream: LiveStream | None, problem: str | None) -> None:
    db, job = service.deps.db, state.job
    transcript: Transcript | None = None
    if stream is not None and problem is None:
        try:
            transcript = await stream.finish()
        except LiveError as exc:
            problem = str(exc)
    if transcript is None:
        if stream is not None:
            await stream.drop()
        if not reader.exists:
            # The caller left before the recording began: nothing to transcribe.
            await db.run(lambda s: job_store.forget(s, job.id, job.claim))
            return
        log.warning("live transcription of %s not possible (%s); queued for the batch workers",
                    state.path.name, problem or "no audio while it was recorded")
        await db.run(lambda s: job_store.release(s, job.id, job.claim, refund=False))
        service.wake()
        return
    loop = asyncio.get_running_loop()
    transcript = clamp_to(transcript, await loop.run_in_executor(None, reader.final_seconds))
    sha = await loop.run_in_executor(None, service.content_hash, state.path)
    await service.store(job, transcript, complete=True, sha256=sha)
