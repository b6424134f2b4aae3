"""Worker processes that transcribe recordings while they are being written.

A caller's description must be on the agent's screen moments after the
caller stops speaking; decoding the file afterwards takes about a third of
its length, so instead the audio is decoded as it lands.  Each
:class:`LiveDecoder` is one process holding the models (loaded once) and
serving several recordings at once; a :class:`LivePool` spreads recordings
over a few of them.  The batch workers (:mod:`speech.workers`) are kept
apart so a long call recording never delays a live description.

A decoder that dies fails its open recordings with :class:`LiveError`
(their owners fall back to batch transcription of the finished file) and is
started afresh for the next recording.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from speech.models import ModelChoice
from speech.transcript import Transcript
from speech.worker_process import describe_death, live_main, receive
from speech.workers import start_worker

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 60.0  # a feed is a fraction of a second of work; this means "hung"


class LiveError(Exception):
    """Live transcription of a recording failed; the message says why."""


class LiveDecoder:
    """One live worker process; requests are answered in order, one at a time."""

    def __init__(self, choices: list[ModelChoice], index: int = 0,
                 start_method: str = "spawn") -> None:
        self._choices = choices
        self.index = index
        self._context: Any = multiprocessing.get_context(start_method)
        self._process: Any = None
        self._conn: Connection | None = None
        # Held across send and receive so answers pair with their requests.
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(2, thread_name_prefix=f"speech-live-{index}")
        self._ids = itertools.count(1)
        self.open_streams = 0
        self.restarts = 0
        self._closed = False

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.alive else None

    async def start(self) -> None:
        """Start the process and wait until its models are loaded (ModelError if not)."""
        if self.alive:
            return
        if self._closed:
            raise LiveError(f"live speech worker {self.index} is closed")
        if self._process is not None:
            self.restarts += 1
            await asyncio.get_running_loop().run_in_executor(self._threads, self._stop)
        def keep(process: Any, conn: Connection) -> None:
            self._process, self._conn = process, conn

        pid, seconds = await start_worker(
            self._context, live_main, (self._choices,), name=f"live speech worker {self.index}",
            threads=self._threads, keep=keep)
        log.info("live speech worker %d (pid %d) loaded in %.1f s", self.index, pid, seconds)

    async def request(self, *message: Any) -> tuple[Any, ...]:
        """Send one request and return its answer; LiveError if the process died or hung."""
        if not self.alive:
            raise LiveError(f"live speech worker {self.index} is not running")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._threads, self._roundtrip, message)
        if answer is None:
            process = self._process
            reason = await loop.run_in_executor(self._threads, describe_death, process)
            if process.is_alive():
                process.kill()
            raise LiveError(f"live speech worker {self.index} {reason}")
        if answer[0] == "error":
            raise LiveError(str(answer[1]))
        return tuple(answer)

    def _roundtrip(self, message: tuple[Any, ...]) -> Any:
        with self._lock:
            conn, process = self._conn, self._process
            if conn is None or process is None:
                return None
            try:
                conn.send(message)
            except OSError:
                return None
            return receive(conn, process, REQUEST_TIMEOUT)

    def new_id(self) -> int:
        return next(self._ids)

    def _stop(self) -> None:
        with self._lock:
            process, conn = self._process, self._conn
            self._process, self._conn = None, None
        if process is None:
            return
        if process.is_alive() and conn is not None:
            try:
                conn.send(("stop",))
            except OSError:
                pass
            process.join(5.0)
        if process.is_alive():
            process.kill()
        process.join()
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._threads, self._stop)
        self._threads.shutdown(wait=False)


class LiveStream:
    """One recording being transcribed on a :class:`LiveDecoder`."""

    def __init__(self, decoder: LiveDecoder, sid: int) -> None:
        self.decoder = decoder
        self.sid = sid
        self._open = True

    async def feed(self, pcm16: bytes) -> Transcript | None:
        """Add audio; the transcript so far when it gained words, else None."""
        answer = await self._call("feed", pcm16)
        return Transcript.from_dict(answer[1]) if answer[1] is not None else None

    async def finish(self) -> Transcript:
        answer = await self._call("finish")
        self._closed()
        return Transcript.from_dict(answer[1])

    async def drop(self) -> None:
        if self._open:
            self._closed()
            try:
                await self.decoder.request("drop", self.sid)
            except LiveError:
                pass

    async def _call(self, op: str, *args: Any) -> tuple[Any, ...]:
        if not self._open:
            raise LiveError("the live transcription of this recording has ended")
        try:
            return await self.decoder.request(op, self.sid, *args)
        except LiveError:
            self._closed()
            raise

    def _closed(self) -> None:
        if self._open:
            self._open = False
            self.decoder.open_streams -= 1


class LivePool:
    """A few live decoders; each new recording goes to the least busy one."""

    def __init__(self, choices: list[ModelChoice], size: int = 1,
                 start_method: str = "spawn") -> None:
        if size < 1:
            raise ValueError("a live pool needs at least one worker")
        self._decoders = [LiveDecoder(choices, i, start_method) for i in range(size)]
        self._starting: dict[int, asyncio.Task[None]] = {}

    @property
    def size(self) -> int:
        return len(self._decoders)

    async def start(self) -> None:
        """Start every decoder now (raises ModelError if a model does not load)."""
        await asyncio.gather(*(self._ensure(d) for d in self._decoders))

    async def open(self, language: str, sample_rate: int) -> LiveStream:
        """Begin transcribing a recording of ``sample_rate`` Hz in ``language``."""
        decoder = min(self._decoders, key=lambda d: (not d.alive, d.open_streams))
        await self._ensure(decoder)
        sid = decoder.new_id()
        decoder.open_streams += 1
        stream = LiveStream(decoder, sid)
        await stream._call("open", language, sample_rate)
        return stream

    async def _ensure(self, decoder: LiveDecoder) -> None:
        # Several recordings may ask for a dead decoder at once: one restart.
        if decoder.alive:
            return
        task = self._starting.get(decoder.index)
        if task is None:
            task = asyncio.create_task(decoder.start(), name=f"speech-live-start-{decoder.index}")
            self._starting[decoder.index] = task
            task.add_done_callback(lambda _t: self._starting.pop(decoder.index, None))
        await asyncio.shield(task)

    def status(self) -> list[dict[str, Any]]:
        return [{"index": d.index, "pid": d.pid, "streams": d.open_streams,
                 "restarts": d.restarts} for d in self._decoders]

    def pids(self) -> list[int]:
        return [d.pid for d in self._decoders if d.pid is not None]

    async def close(self) -> None:
        for task in list(self._starting.values()):
            task.cancel()
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        await asyncio.gather(*(d.close() for d in self._decoders))
