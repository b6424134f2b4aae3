"""Transcription speed: real-time factor per worker and throughput with 1 vs 2 workers.

Usage: python bench/bench_speech.py [--jobs N] [--file RECORDING] [--workers 1,2]

Every run transcribes the same recording N times through a fresh
TranscriptionPool (model load time is reported apart, not counted).
RTF = recogniser seconds / audio seconds inside a worker; throughput =
audio seconds transcribed per wall-clock second with all workers busy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from pathlib import Path

from speech.models import resolve_models
from speech.workers import TranscriptionPool

DEFAULT_FILE = (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "asterisk-22"
                / "recordings" / "ko1-wav.wav")


async def measure(path: Path, workers: int, jobs: int) -> dict[str, float]:
    started = time.perf_counter()
    async with TranscriptionPool(resolve_models(None), workers=workers) as pool:
        loaded = time.perf_counter()
        await asyncio.gather(*(pool.transcribe(path) for _ in range(jobs)))
        finished = time.perf_counter()
        stats = pool.stats()
    wall = finished - loaded
    return {"workers": workers, "load_s": loaded - started, "jobs": jobs,
            "audio_s": stats.audio_seconds, "wall_s": wall, "rtf": stats.real_time_factor,
            "throughput": stats.audio_seconds / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; {args.jobs} x {args.file.name}")
    print(f"{'workers':>7} {'load s':>7} {'audio s':>8} {'wall s':>7} {'RTF/worker':>10} "
          f"{'audio s per s':>13}")
    for count in (int(n) for n in args.workers.split(",")):
        row = asyncio.run(measure(args.file, count, args.jobs))
        print(f"{row['workers']:>7} {row['load_s']:>7.1f} {row['audio_s']:>8.1f} "
              f"{row['wall_s']:>7.1f} {row['rtf']:>10.2f} {row['throughput']:>13.2f}")


if __name__ == "__main__":
    main()
