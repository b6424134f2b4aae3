"""Stopping background tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object] | None]) -> None:
    """Cancel the tasks (None entries skipped), then wait for each to end;
    what they raise while ending (their cancellation included) is dropped:
    the caller is shutting down."""
    pending = [t for t in tasks if t is not None]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
