"""Time from the end of a caller's description to its transcript stored, in real time.

Usage: python bench/bench_description_latency.py [--lengths 10,30,60] [--frame 0.1]

Korean speech made with espeak-ng (sentences with short pauses, cut to about
the length asked) is written into a WAV the way Asterisk records one (sizes
zero, ``--frame`` seconds appended at a time, in real time), followed by the
3 s of silence RECORD FILE's ``s=3`` waits for; the file is then closed and
the IVR's ``description_finished`` sent.  The TranscriptionService follows
the file with one live worker.  Latency = wall-clock time from writing the
last loud sample (the caller stops) to the ``transcript.ready`` event that
covers the last words.  For comparison, the same finished file is decoded
after the fact by a batch worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import tempfile
import time
from array import array
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.bus import EventBus
from core.clock import Clock
from core.db import Database
from core.live_events import TranscriptReady
from core.settings import load_settings
from hotline.deps import Deps
from hotline.migrate import upgrade
from pbxsim import media
from speech.jobs import TranscriptionService
from speech.options import TranscriptionOptions

SENTENCES = [
    "안녕하세요 우리 동네 도로에 큰 구멍이 생겨서 차가 지나갈 때 위험합니다",
    "어제 저녁부터 물이 나오지 않아서 생활이 너무 불편합니다",
    "버스 정류장을 하나 더 만들어 주시면 좋겠습니다",
    "공사장 소음 때문에 밤에 잠을 잘 수가 없습니다",
    "가로등이 꺼져 있어서 밤길이 어둡고 무섭습니다",
    "쓰레기 수거가 일주일째 되지 않고 있습니다",
]
RATE = 8000


def make_speech(folder: Path, seconds: float) -> tuple[bytes, float]:
    """8 kHz PCM of sentences and 0.4 s pauses, about ``seconds`` long; and where speech ends."""
    pieces: list[bytes] = []
    total = 0
    for i in range(1000):
        raw, wav = folder / "raw.wav", folder / f"s{i % len(SENTENCES)}.wav"
        if not wav.exists():
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), SENTENCES[i % len(SENTENCES)]],
                           check=True)
            subprocess.run(["sox", "-V1", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e",
                            "signed-integer", str(wav)], check=True)
        pcm = wav.read_bytes()[44:]
        if total and (total + len(pcm)) / 2 / RATE > seconds:
            break
        pieces += [pcm, bytes(int(0.4 * RATE) * 2)]
        total += len(pcm) + int(0.4 * RATE) * 2
    speech = b"".join(pieces)
    samples = array("h")
    samples.frombytes(speech)
    end, block = len(samples), RATE // 50  # 20 ms
    while end > 0:
        piece = samples[max(0, end - block):end]
        if max(piece) > 500 or min(piece) < -500:
            break
        end -= block
    return speech, end / RATE


async def one_description(service: TranscriptionService, deps: Deps, folder: Path, name: str,
                          speech: bytes, speech_end: float, frame: float) -> dict[str, float]:
    sub = deps.bus.subscribe(
        lambda e: isinstance(e, TranscriptReady) and e.uniqueid == name, name="bench")
    announced: list[tuple[float, dict[str, Any]]] = []

    async def watch() -> None:  # stamps each event as it is published
        while True:
            event = (await sub.get()).event
            announced.append((time.perf_counter(), event.fields()))

    watcher = asyncio.create_task(watch(), name="bench-watch")
    path = folder / f"desc-{name}.wav"
    await service.description_recording(name, path)
    audio = speech + bytes(3 * RATE * 2)  # then the caller is silent until s=3 ends it
    wav = media.GrowingWav(path)
    step = int(frame * RATE) * 2
    started = time.perf_counter()
    stopped = None
    for at in range(0, len(audio), step):
        wav.append(audio[at:at + step])
        if stopped is None and (at + step) / 2 / RATE >= speech_end:
            stopped = time.perf_counter()
        # Pace by the clock, not by sleep lengths, so the audio never falls behind.
        await asyncio.sleep(max(0.0, started + (at + step) / 2 / RATE - time.perf_counter()))
    assert stopped is not None
    wav.close(audio, int((speech_end + 1.0) * RATE))  # trailing silence trimmed to 1 s
    await service.description_finished(name)
    async with asyncio.timeout(120):
        while not any(event["final"] for _, event in announced):
            await asyncio.sleep(0.05)
    watcher.cancel()
    deps.bus.unsubscribe(sub)
    stored = next((at for at, _ in announced if at >= stopped), None)
    final = next(at for at, event in announced if event["final"])
    batch_started = time.perf_counter()
    await service.pool.transcribe(path)
    return {"audio_s": len(speech) / 2 / RATE, "latency_s": (stored or final) - stopped,
            "final_s": final - stopped, "batch_s": time.perf_counter() - batch_started}


async def run(lengths: list[float], frame: float) -> list[dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-desc-"))
    try:
        url = f"sqlite:///{folder / 'bench.db'}"
        db = Database(url)
        upgrade(db.engine)
        settings = replace(load_settings(env={"HOTLINE_DATABASE_URL": url,
                                              "HOTLINE_VAR_DIR": str(folder)}),
                           recordings_dir=folder)
        deps = Deps(settings=settings, db=db, clock=Clock.for_running_loop(),
                    routing=None, bus=EventBus(), calendar=None)  # type: ignore[arg-type]
        service = TranscriptionService(deps, TranscriptionOptions(workers=1, live_workers=1))
        await service.start()
        rows = []
        try:
            for i, seconds in enumerate(lengths):
                speech, speech_end = make_speech(folder, seconds)
                rows.append(await one_description(service, deps, folder, f"bench.{i}", speech,
                                                  speech_end, frame))
        finally:
            await service.close()
            db.close()
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="10,30,60")
    parser.add_argument("--frame", type=float, default=0.1,
                        help="seconds of audio appended to the file at a time")
    args = parser.parse_args()
    rows = asyncio.run(run([float(n) for n in args.lengths.split(",")], args.frame))
    load = os.getloadavg()[0]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {load:.2f}; frames of {args.frame} s; one live worker")
    print(f"{'speech s':>8} {'stored after stop s':>19} {'final after stop s':>18} "
          f"{'batch decode s':>14}")
    for row in rows:
        print(f"{row['audio_s']:>8.1f} {row['latency_s']:>19.2f} {row['final_s']:>18.2f} "
              f"{row['batch_s']:>14.1f}")


if __name__ == "__main__":
    main()
