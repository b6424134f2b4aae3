"""The code that runs inside a transcription worker process, and the waits on it.

Kept apart from :mod:`speech.workers` so the child's entry point is small
and obviously free of asyncio.
"""

from __future__ import annotations

import os
import signal
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from speech.audio import AudioError, decode_bytes, decode_file
from speech.models import ModelChoice


def _parent_decides() -> None:
    """Ctrl-C and systemd's SIGTERM reach the whole process group; the parent decides
    when we stop (a "stop" message, or EOF on the pipe when it is gone), so a worker
    is never left dead and unreaped while the parent still counts on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _load_models(choices: list[ModelChoice], conn: Connection) -> dict[str, Any] | None:
    """The worker's start: leave stopping to the parent, load every model,
    and say ``ready`` (pid, seconds taken) or ``failed`` (why; then None)."""
    _parent_decides()
    from speech.recognizer import load_model

    try:
        started = time.perf_counter()
        models = {choice.language: load_model(choice) for choice in choices}
        conn.send(("ready", os.getpid(), time.perf_counter() - started))
    except Exception as exc:  # noqa: BLE001 - any failure must reach the parent as a reason
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return None
    return models


def worker_main(choices: list[ModelChoice], max_seconds: float, conn: Connection) -> None:
    """Entry point of a worker process: load models, then serve jobs until told to stop."""
    from speech.recognizer import transcribe_pcm

    models = _load_models(choices, conn)
    if models is None:
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if message[0] == "stop":
            return
        _, source, fmt, language = message
        model = models[language]
        try:
            if isinstance(source, bytes):
                audio = decode_bytes(source, fmt, model.sample_rate, max_seconds)
            else:
                audio = decode_file(source, model.sample_rate, max_seconds)
            # Tell the parent the recognizer has the audio: the pool shows it
            # (``worker_pids(decoding_only=True)``), tests kill a worker mid-job
            # on it instead of sleeping and hoping.
            conn.send(("decoding",))
            transcript = transcribe_pcm(model, audio.pcm16, audio.sample_rate)
            conn.send(("done", transcript.to_dict()))
        except AudioError as exc:
            conn.send(("error", exc.reason))
        except Exception as exc:  # noqa: BLE001
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def live_main(choices: list[ModelChoice], conn: Connection) -> None:
    """Entry point of a live worker: recordings transcribed while they are written.

    Serves several recordings at once, one request at a time: ``open``,
    ``feed`` (answered with the transcript so far when it gained words),
    ``finish`` (the whole transcript) and ``drop``.  Every request gets
    exactly one answer, so the parent can pair them without ids.
    """
    from speech.recognizer import LiveTranscriber

    models = _load_models(choices, conn)
    if models is None:
        return
    streams: dict[int, LiveTranscriber] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        op = message[0]
        if op == "stop":
            return
        sid = message[1]
        try:
            if op == "open":
                streams[sid] = LiveTranscriber(models[message[2]], message[3])
                reply: tuple[Any, ...] = ("ok",)
            elif op == "feed":
                snapshot = streams[sid].feed(message[2])
                reply = ("fed", snapshot.to_dict() if snapshot is not None else None)
            elif op == "finish":
                reply = ("done", streams.pop(sid).finish().to_dict())
            else:  # "drop"
                streams.pop(sid, None)
                reply = ("ok",)
        except Exception as exc:  # noqa: BLE001
            streams.pop(sid, None)
            reply = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(reply)


def receive(conn: Connection, process: Any, timeout: float | None) -> Any:
    """Block until the worker answers (its message) or dies/times out (None)."""
    ready = wait([conn, process.sentinel], timeout)
    if conn in ready:
        try:
            return conn.recv()
        except (EOFError, OSError):
            pass
    return None


def describe_death(process: Any) -> str:
    process.join(1.0)
    code = process.exitcode
    if code is None:
        return "did not answer in time"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"
