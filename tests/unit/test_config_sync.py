"""core.config_sync on one bus: what makes a backend reload a part of its
settings (another backend's event, a relay gap, the periodic check) and
what does not (its own event, an unchanged database, a part it lacks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from core.bus import EventBus
from core.clock import run_simulated
from core.config_sync import ConfigSync, announce
from core.db import Database
from core.live_events import ConfigChanged


class Stored:
    """A part whose stored state is a number; its reloads are recorded."""

    def __init__(self) -> None:
        self.state = 0
        self.loaded: list[tuple[str, int]] = []  # (key, state seen)

    def stamp(self, _session: Any) -> int:
        return self.state

    async def reload(self, key: str) -> None:
        self.loaded.append((key, self.state))


@asynccontextmanager
async def started(tmp_path: Path, every: float = 30.0
                  ) -> AsyncIterator[tuple[ConfigSync, Stored, Any]]:
    deps = SimpleNamespace(db=Database(f"sqlite:///{tmp_path / 'h.db'}"), bus=EventBus())
    sync = ConfigSync(deps, every)  # type: ignore[arg-type]
    part = Stored()
    sync.part("rules", part.stamp, part.reload)
    await sync.start()
    assert part.loaded == [("", 0)]  # loaded again once its stamp is read
    part.loaded.clear()
    try:
        yield sync, part, deps
    finally:
        await sync.close()
        deps.db.close()


async def settle(sync: ConfigSync, name: str, before: int) -> None:
    await asyncio.wait_for(sync.wait_reloaded(name, before), 5)


def test_given_another_backends_event_then_the_part_is_reloaded_for_its_key(
        tmp_path: Path) -> None:
    async def main() -> list[tuple[str, int]]:
        async with started(tmp_path) as (sync, part, deps):
            deps.bus.receive_relayed(ConfigChanged(part="elsewhere"))  # not kept here
            deps.bus.receive_relayed(ConfigChanged(part="rules", key="7"))
            await settle(sync, "rules", 0)
            return part.loaded

    assert run_simulated(main()) == [("7", 0)]


def test_given_its_own_announcement_then_nothing_is_reloaded_again(tmp_path: Path) -> None:
    async def main() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        async with started(tmp_path, every=3600) as (sync, part, deps):
            announce(deps, "rules")  # the handler reloaded its own copy
            deps.bus.receive_relayed(ConfigChanged(part="rules", key="after"))
            await settle(sync, "rules", 0)
            return part.loaded, [("after", 0)]

    loaded, expected = run_simulated(main())
    assert loaded == expected


def test_given_a_missed_event_then_the_periodic_check_reloads_within_its_period(
        tmp_path: Path) -> None:
    async def main() -> tuple[float, list[tuple[str, int]]]:
        loop = asyncio.get_running_loop()
        async with started(tmp_path, every=30) as (sync, part, _deps):
            await asyncio.sleep(45)  # unchanged: two checks, no reload
            assert part.loaded == []
            part.state, changed_at = 1, loop.time()
            await asyncio.wait_for(sync.wait_reloaded("rules", 0), 60)
            return loop.time() - changed_at, part.loaded

    took, loaded = run_simulated(main())
    assert took <= 30 and loaded == [("", 1)]


def test_given_a_relay_gap_then_every_part_is_checked_at_once(tmp_path: Path) -> None:
    async def main() -> list[tuple[str, int]]:
        async with started(tmp_path, every=3600) as (sync, part, deps):
            part.state = 2
            deps.bus.restart_stream("events from instance b went missing")
            await settle(sync, "rules", 0)
            # Followed again after the gap.
            deps.bus.receive_relayed(ConfigChanged(part="rules", key="x"))
            await settle(sync, "rules", 1)
            return part.loaded

    assert run_simulated(main()) == [("", 2), ("x", 2)]
