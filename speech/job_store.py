"""The transcription job queue and transcripts in the database.

Plain synchronous functions over a ``Session`` (run through
``Database.run``).  Exactly one transcript per recording rests on three
things: one job row per recording key (unique), a run only counts if it
still holds the job's ``claim`` token (a run superseded by a restart or a
retry is ignored), and one transcript row per job (unique).  Claims are a
``SELECT ... FOR UPDATE SKIP LOCKED`` with the claiming backend's lease
(``owner``, ``lease_until``, renewed by ``core.leases.LeaseKeeper``), so
two backends sharing a PostgreSQL database never both run the same job, and
the jobs of a backend that died are taken over once its lease runs out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calls.models import Call, CallEvent
from calls.records import OFFERED
from speech.tables import DONE, FAILED, QUEUED, RUNNING, TranscriptionJob, TranscriptRecord
from speech.transcript import Transcript
from worksheets.models import WorkOrder


class JobError(Exception):
    """A request about a job that cannot be met (unknown, or not in that state)."""


@dataclass(frozen=True)
class ClaimedJob:
    """A job this process is running, with the token that proves it."""

    id: int
    path: str
    kind: str
    call_uniqueid: str
    language: str | None
    attempts: int
    claim: str


def recording_key(path: str | Path, recordings_dir: Path) -> str:
    """The job key of a recording: its path under ``recordings_dir``, else its full path."""
    full = Path(path).resolve()
    try:
        return full.relative_to(Path(recordings_dir).resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def _claimed(job: TranscriptionJob) -> ClaimedJob:
    assert job.claim is not None
    return ClaimedJob(job.id, job.path, job.kind, job.call_uniqueid, job.language,
                      job.attempts, job.claim)


def enqueue(s: Session, *, key: str, path: str, kind: str, uniqueid: str,
            language: str | None, now: datetime) -> tuple[int, bool]:
    """Queue a recording unless it already has a job; return (job id, whether new)."""
    existing = s.scalar(select(TranscriptionJob.id).where(TranscriptionJob.recording_key == key))
    if existing is not None:
        return existing, False
    job = TranscriptionJob(recording_key=key, path=path, kind=kind, call_uniqueid=uniqueid,
                           language=language, status=QUEUED, live=False, attempts=0,
                           created_at=now)
    try:
        with s.begin_nested():
            s.add(job)
    except IntegrityError:  # another backend queued it a moment ago
        other = s.scalar(select(TranscriptionJob.id).where(TranscriptionJob.recording_key == key))
        assert other is not None
        return other, False
    return job.id, True


def start_live(s: Session, *, key: str, path: str, uniqueid: str, language: str | None,
               now: datetime, owner: str | None = None,
               lease_until: datetime | None = None) -> ClaimedJob:
    """Claim the job of a description about to be recorded (a re-recording starts over)."""
    job = s.scalar(select(TranscriptionJob).where(TranscriptionJob.recording_key == key))
    if job is None:
        job = TranscriptionJob(recording_key=key, path=path, kind="description",
                               call_uniqueid=uniqueid, language=language, attempts=0,
                               created_at=now)
        s.add(job)
    job.status, job.live, job.reason, job.content_sha256 = RUNNING, True, None, None
    job.attempts += 1
    job.claim, job.started_at, job.finished_at = uuid.uuid4().hex, now, None
    job.owner, job.lease_until = owner, lease_until
    s.flush()
    return _claimed(job)


def _stale(now: datetime, owner: str | None) -> Any:
    """A running job whose backend's lease ran out (or never had one: an older release)."""
    lease_gone = (TranscriptionJob.lease_until.is_(None)) | (TranscriptionJob.lease_until < now)
    others = (TranscriptionJob.owner.is_(None)) | (TranscriptionJob.owner != (owner or ""))
    return (TranscriptionJob.status == RUNNING) & lease_gone & others


def claim_next(s: Session, now: datetime, limit: int, owner: str | None = None,
               lease_until: datetime | None = None) -> list[ClaimedJob]:
    """Claim up to ``limit`` jobs, oldest first: queued ones, and running ones whose
    backend's lease ran out (taken over).  ``FOR UPDATE SKIP LOCKED``: two backends
    never claim the same job (SQLite, with one backend, ignores it)."""
    free = (TranscriptionJob.status == QUEUED) | _stale(now, owner)
    ids = list(s.scalars(select(TranscriptionJob.id).where(free).order_by(TranscriptionJob.id)
                         .limit(limit).with_for_update(skip_locked=True)))
    claimed = []
    for job_id in ids:
        # Compare-and-set too: SQLite has no row locks.
        done = s.execute(
            update(TranscriptionJob).where(TranscriptionJob.id == job_id, free)
            .values(status=RUNNING, claim=uuid.uuid4().hex, live=False, started_at=now,
                    attempts=TranscriptionJob.attempts + 1, owner=owner,
                    lease_until=lease_until))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            job = s.get(TranscriptionJob, job_id, populate_existing=True)
            assert job is not None
            claimed.append(_claimed(job))
    return claimed


def _held(s: Session, job_id: int, claim: str) -> TranscriptionJob | None:
    job = s.get(TranscriptionJob, job_id, populate_existing=True, with_for_update=True)
    if job is None or job.claim != claim or job.status != RUNNING:
        return None
    return job


def store_transcript(s: Session, job_id: int, claim: str, transcript: Transcript, *,
                     now: datetime, complete: bool, sha256: str | None = None,
                     extra_attempts: int = 0) -> TranscriptRecord | None:
    """Save (or update) the job's transcript; if ``complete``, the job is done.

    Returns None, and changes nothing, when the claim no longer holds.
    """
    job = _held(s, job_id, claim)
    if job is None:
        return None
    record = s.scalar(select(TranscriptRecord).where(TranscriptRecord.job_id == job_id))
    if record is None:
        record = TranscriptRecord(job_id=job_id, call_uniqueid=job.call_uniqueid, kind=job.kind,
                                  created_at=now)
        s.add(record)
    record.text, record.words = transcript.text, [w.to_dict() for w in transcript.words]
    record.model, record.language = transcript.model_name, transcript.language
    record.seconds_audio, record.seconds_spent = transcript.seconds_audio, transcript.seconds_spent
    record.complete, record.updated_at = complete, now
    if complete:
        job.status, job.finished_at, job.reason = DONE, now, None
        job.live, job.content_sha256 = False, sha256
        job.owner, job.lease_until = None, None
        job.attempts += extra_attempts
    s.flush()
    return record


def fail(s: Session, job_id: int, claim: str, reason: str, *, now: datetime,
         extra_attempts: int = 0) -> bool:
    """Mark a job failed with ``reason``; False if the claim no longer holds."""
    job = _held(s, job_id, claim)
    if job is None:
        return False
    job.status, job.reason, job.finished_at, job.live = FAILED, reason[:2000], now, False
    job.owner, job.lease_until = None, None
    job.attempts += extra_attempts
    return True


def release(s: Session, job_id: int, claim: str, *, refund: bool) -> bool:
    """Put a running job back in the queue for the batch workers.

    ``refund``: the run was stopped, not failed (shutdown), so it does not
    count against the job's attempts.
    """
    job = _held(s, job_id, claim)
    if job is None:
        return False
    job.status, job.claim, job.live = QUEUED, None, False
    job.owner, job.lease_until = None, None
    if refund:
        job.attempts = max(0, job.attempts - 1)
    return True


def forget(s: Session, job_id: int, claim: str) -> None:
    """Delete a job whose recording never came to exist (the caller left first)."""
    job = _held(s, job_id, claim)
    if job is not None:
        for record in s.scalars(select(TranscriptRecord).where(TranscriptRecord.job_id == job_id)):
            s.delete(record)
        s.delete(job)


def requeue_unfinished(s: Session, now: datetime, owner: str | None = None) -> int:
    """Jobs left running by a backend that is gone (lease run out, or none) go back
    to the queue; the live ones of a backend still running are left alone."""
    result = s.execute(update(TranscriptionJob).where(_stale(now, owner))
                       .values(status=QUEUED, claim=None, live=False, owner=None,
                               lease_until=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry(s: Session, job_id: int) -> TranscriptionJob:
    """Queue a failed job again, with its attempts reset; JobError if it is not failed."""
    job = s.get(TranscriptionJob, job_id)
    if job is None:
        raise JobError(f"no transcription job {job_id}")
    if job.status != FAILED:
        raise JobError(f"job {job_id} is {job.status}, not failed")
    job.status, job.reason, job.attempts, job.claim, job.finished_at = QUEUED, None, 0, None, None
    s.flush()
    return job


def counts(s: Session) -> dict[str, int]:
    rows = s.execute(select(TranscriptionJob.status, func.count())
                     .group_by(TranscriptionJob.status)).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in (QUEUED, RUNNING, DONE, FAILED)}


def job_to_dict(job: TranscriptionJob) -> dict[str, Any]:
    return {
        "id": job.id, "recording": job.recording_key, "kind": job.kind,
        "uniqueid": job.call_uniqueid, "status": job.status, "attempts": job.attempts,
        "reason": job.reason, "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def failed_jobs(s: Session, limit: int = 100) -> list[dict[str, Any]]:
    jobs = s.scalars(select(TranscriptionJob).where(TranscriptionJob.status == FAILED)
                     .order_by(TranscriptionJob.finished_at.desc(), TranscriptionJob.id.desc())
                     .limit(limit))
    return [job_to_dict(job) for job in jobs]


def transcript_to_dict(record: TranscriptRecord) -> dict[str, Any]:
    return {
        "id": record.id, "job_id": record.job_id, "uniqueid": record.call_uniqueid,
        "kind": record.kind, "text": record.text, "words": record.words,
        "model": record.model, "language": record.language,
        "seconds_audio": record.seconds_audio, "seconds_spent": record.seconds_spent,
        "complete": record.complete, "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def transcripts_for_uniqueid(s: Session, uniqueid: str) -> list[dict[str, Any]]:
    records = s.scalars(select(TranscriptRecord).where(TranscriptRecord.call_uniqueid == uniqueid)
                        .order_by(TranscriptRecord.id))
    return [transcript_to_dict(r) for r in records]


@dataclass(frozen=True)
class CallContext:
    """Who should see a transcript: the call, its work order and its agent (if any yet)."""

    call_id: int | None = None
    order_id: int | None = None
    agent_id: int | None = None


def call_context(s: Session, uniqueid: str) -> CallContext:
    call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None:
        return CallContext()
    order = s.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    agent_id = call.agent_id if call.agent_id is not None else (
        order.agent_id if order else None)
    if agent_id is None:
        # Not answered yet: the agent whose phone rings for it (the pop) hears it.
        offered = s.scalar(select(CallEvent.detail).where(
            CallEvent.call_id == call.id, CallEvent.kind == OFFERED)
            .order_by(CallEvent.id.desc()).limit(1))
        agent_id = int(offered) if offered and offered.isdigit() else None
    return CallContext(call.id, order.id if order else None, agent_id)
