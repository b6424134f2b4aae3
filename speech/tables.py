"""Tables owned by speech: transcription jobs and the transcripts they produce.

One job row per recording, keyed by where the recording is (its path under
the recordings directory): the same recording queued twice, by a duplicate
event or a retry, finds the same row, and ``transcripts.job_id`` is unique,
so a recording can never end up with two transcripts.  The path, not the
content, is the key because two calls can leave byte-identical files (two
silent descriptions of the same length); the content hash is kept on the
job to tell a re-recorded file from a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KINDS = ("description", "call")


class TranscriptionJob(Base):
    """A recording to transcribe and where that stands.

    status: queued -> running -> done | failed; a running job goes back to
    queued when its backend stops or restarts.  ``live`` marks a description
    being transcribed while it is recorded (not for the batch workers).
    ``claim`` is a fresh token per run, so a result from a run that was
    superseded (restart, retry) is recognised and dropped.
    """

    __tablename__ = "transcription_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_key: Mapped[str] = mapped_column(String(500), unique=True)
    path: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16))
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    content_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The backend running it and until when (core.leases); an expired lease is taken over.
    owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TranscriptRecord(Base):
    """The timed transcript of one recording (see :class:`speech.transcript.Transcript`).

    ``words`` is a JSON list of ``{"word", "start", "end", "conf"}`` with
    times in seconds from the start of the recording.  A description's
    transcript is stored while the caller is still speaking and updated in
    place until ``complete``.
    """

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("transcription_jobs.id"), unique=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    seconds_audio: Mapped[float] = mapped_column(Float, default=0.0)
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
