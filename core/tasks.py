"""Stopping background tasks; running event handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object] | None]) -> None:
    """Cancel the tasks (None entries skipped), then wait for each to end;
    what they raise while ending (their cancellation included) is dropped:
    the caller is shutting down."""
    pending = [t for t in tasks if t is not None]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def run_handlers(handlers: Iterable[Callable[[Any], Awaitable[None] | None]], event: Any,
                       log: logging.Logger, what: str) -> None:
    """Call each handler with ``event``, awaiting those that return an
    awaitable; one that fails is logged (``what`` names the event) and the
    others still run.  Cancellation goes through."""
    for handler in handlers:
        try:
            result = handler(event)
            if result is not None:
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler failed on %s", what)
