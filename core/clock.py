"""One injectable clock for the backend and the built-in PBX.

Everything that waits (asyncio.sleep, wait_for timeouts, AMI pings, queue
ring timeouts, Wait() in the dialplan) uses the event loop's time, and
everything that stamps a record (call timelines, deadlines, shifts) asks a
:class:`Clock` bound to that same loop.  So:

* production and the demo run on an ordinary asyncio loop and a clock that
  follows the wall clock;
* tests run on :class:`VirtualTimeLoop`, whose time jumps to the next timer
  whenever no socket is ready and no executor job is running.  Minutes of
  simulated queueing then pass in a fraction of a second, while every byte
  still crosses a real TCP socket on loopback.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


class Clock:
    """Wall-clock time derived from an event loop's monotonic time.

    ``now()`` is safe to call from executor threads: it only reads the
    loop's time, it never touches the loop itself.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("Clock start must be timezone-aware")
        self._loop = loop
        self._origin = start or datetime.now(UTC)
        self._origin_loop_time = loop.time()

    @classmethod
    def for_running_loop(cls, start: datetime | None = None) -> Clock:
        return cls(asyncio.get_running_loop(), start)

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return self._origin + timedelta(seconds=self._loop.time() - self._origin_loop_time)

    def timestamp(self) -> float:
        """Seconds since the Unix epoch, as Asterisk stamps its events."""
        return self.now().timestamp()

    def monotonic(self) -> float:
        return self._loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _VirtualSelector:
    """Wraps the real selector; advances virtual time when the loop is idle."""

    # How long to look for socket activity in real time before deciding the
    # loop is idle.  Loopback writes are visible to the peer at once, so
    # this only guards against data still in the kernel.
    REAL_POLL = 0.0005

    def __init__(self, loop: VirtualTimeLoop, selector: selectors.BaseSelector) -> None:
        self._loop = loop
        self._selector = selector

    def select(self, timeout: float | None = None) -> list[Any]:
        events = self._selector.select(0)
        if events or timeout == 0:
            return events
        if self._loop.pending_real_work:
            # Threads or processes are working in real time; wait for them
            # rather than letting simulated time run away from them.
            wait = 0.005 if timeout is None else min(timeout, 0.005)
            return self._selector.select(wait)
        events = self._selector.select(self.REAL_POLL)
        if events:
            return events
        if timeout is None:
            # Nothing scheduled at all: behave like a real loop, briefly.
            return self._selector.select(0.01)
        self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._selector, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps forward whenever it would sleep.

    Real I/O is still real: sockets are polled before time advances, and
    time does not advance while an executor job (a database call, a
    transcription) is running.
    """

    def __init__(self, start_monotonic: float = 1_000_000.0) -> None:
        selector = selectors.DefaultSelector()
        self._virtual_now = start_monotonic
        self.pending_real_work = 0
        super().__init__(_VirtualSelector(self, selector))  # type: ignore[arg-type]
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._virtual_now += seconds

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        self.pending_real_work += 1
        fut = super().run_in_executor(executor, func, *args)

        def _done(_: Any) -> None:
            self.pending_real_work -= 1

        fut.add_done_callback(_done)
        return fut


def run_simulated(coro: Any) -> Any:
    """Run a coroutine on a fresh :class:`VirtualTimeLoop` (tests, benchmarks)."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
