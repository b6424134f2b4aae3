"""Fixtures of the transcription tests: a migrated database, the service's
dependencies, synthetic Korean speech and a worker pool shared per module
(each model load costs about 3 s)."""

from __future__ import annotations

import asyncio
import struct
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from core.bus import EventBus
from core.clock import Clock
from core.db import Database
from hotline.deps import Deps
from hotline.migrate import upgrade
from speech.jobs import TranscriptionService
from speech.live import LivePool
from speech.models import resolve_models
from speech.options import TranscriptionOptions
from speech.tables import TranscriptionJob, TranscriptRecord
from speech.workers import TranscriptionPool
from tests.helpers import settings_for_test
from tests.speech.conftest import sox, speech_dir  # noqa: F401  (shared fixtures)


def write_wav(path: Path, pcm16: bytes, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm16)
    return path


def silence(seconds: float, rate: int = 8000) -> bytes:
    return struct.pack(f"<{int(seconds * rate)}h", *([0] * int(seconds * rate)))


@pytest.fixture
def migrated_url(database_url: str) -> str:
    db = Database(database_url)
    try:
        upgrade(db.engine)
    finally:
        db.close()
    return database_url


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


@pytest.fixture
def deps(migrated_url: str, tmp_path: Path, recordings: Path) -> Iterator[Deps]:
    """Dependencies for a service on the running loop (set ``deps.clock`` in the test)."""
    settings = replace(settings_for_test(migrated_url, tmp_path), recordings_dir=recordings)
    db = Database(migrated_url)
    yield Deps(settings=settings, db=db, clock=None, routing=None,  # type: ignore[arg-type]
               bus=EventBus(), calendar=None)  # type: ignore[arg-type]
    db.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_pool() -> AsyncIterator[TranscriptionPool]:
    """One batch worker for the whole module, shared by the services of its tests."""
    async with TranscriptionPool(resolve_models(None), workers=1, retries=2) as pool:
        yield pool


def service_for(deps: Deps, pool: TranscriptionPool, live: LivePool | None = None,
                **options: object) -> TranscriptionService:
    deps.clock = Clock.for_running_loop()
    opts = TranscriptionOptions(workers=1, live_workers=1, preload=False, **options)  # type: ignore[arg-type]
    return TranscriptionService(deps, opts, pool=pool, live=live)


def jobs_and_transcripts(deps: Deps) -> tuple[list[TranscriptionJob], list[TranscriptRecord]]:
    from sqlalchemy import select

    return deps.db.call(lambda s: (list(s.scalars(select(TranscriptionJob))),
                                   list(s.scalars(select(TranscriptRecord)))))


async def wait_until(predicate, timeout: float = 60.0, step: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(step)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_live() -> AsyncIterator[LivePool]:
    """One live worker for the whole module."""
    live = LivePool(resolve_models(None), 1)
    await live.start()
    yield live
    await live.close()
