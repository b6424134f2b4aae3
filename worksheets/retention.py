"""Retention: recordings and transcripts older than the configured period,
and the attachments of orders closed before it, are purged with their
rows, together (``hotline purge``, and a job once a
day at ``PURGE_HOUR`` local time).

What goes: the recording files of a call (the caller's description and the
whole call, as the transcription jobs and the call record name them), the
transcription job rows and the transcripts.  What stays: the call record
and the work order themselves (the city's statistics and history), and
everything of a call whose order is still open, or that follows an open
order, or whose callback task is still open, whatever its age.

Rows and files go in one step: the rows are deleted in the transaction,
the files removed, and only then is the transaction committed; a file that
cannot be removed (other than one already gone) rolls the rows back, so a
row never outlives its purge and the next run tries again.  Only files
inside the recordings directory are ever removed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from calls.models import Call
from core.live_events import RetentionPurged
from speech.tables import DONE, FAILED, TranscriptionJob, TranscriptRecord
from worksheets.attachments import full_path
from worksheets.models import CallbackTask, WorkOrder
from worksheets.order_models import OrderAttachment

if TYPE_CHECKING:
    from core.db import Database
    from hotline.deps import Deps

log = logging.getLogger(__name__)

PURGE_HOUR = 3  # local time: the quietest hour of a 12345 line
BATCH = 500  # calls per transaction


@dataclass
class PurgeReport:
    cutoff: str
    dry_run: bool
    calls: int = 0  # calls whose recordings and transcripts went
    files: int = 0
    bytes: int = 0
    missing_files: int = 0  # named by a row, already gone from the disk
    transcripts: int = 0
    jobs: int = 0
    kept_open: int = 0  # old calls kept because an open order needs them
    attachments: int = 0  # attachments of orders closed before the cutoff
    attachment_bytes: int = 0
    # Paths not under the recordings directory: never removed, and their
    # call's rows are kept with them (an admin must look).
    outside: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (f"{verb} {self.files} recording file(s) ({self.bytes} bytes), "
                f"{self.transcripts} transcript(s) and {self.jobs} transcription job(s) of "
                f"{self.calls} call(s) before {self.cutoff}; {self.attachments} attachment(s) "
                f"({self.attachment_bytes} bytes) of orders closed before it; kept "
                f"{self.kept_open} old "
                f"call(s) of open orders; {self.missing_files} file(s) already gone")


def _protected() -> Any:
    """Calls an open order (its own, or the one it follows) or an open callback needs."""
    own_open = exists().where(WorkOrder.call_id == Call.id,
                              or_(WorkOrder.status != "closed", WorkOrder.closed_at.is_(None)))
    follows_open = and_(Call.follows_order_id.is_not(None), exists().where(
        WorkOrder.id == Call.follows_order_id, WorkOrder.status != "closed"))
    callback_open = exists().where(CallbackTask.call_id == Call.id,
                                   CallbackTask.status.in_(("open", "calling")))
    return or_(own_open, follows_open, callback_open)


def _recently_closed(cutoff: datetime) -> Any:
    return exists().where(WorkOrder.call_id == Call.id, WorkOrder.closed_at >= cutoff)


def _has_material() -> Any:
    """Something to purge, and no transcription still to run on it (a job
    queued or running keeps its recording until it is done or failed)."""
    finished = TranscriptionJob.status.in_((DONE, FAILED))
    return and_(
        or_(Call.description_recording.is_not(None),
            exists().where(TranscriptionJob.call_uniqueid == Call.uniqueid, finished)),
        ~exists().where(TranscriptionJob.call_uniqueid == Call.uniqueid, ~finished))


def _take(full: Path, files: list[Path], report: PurgeReport) -> int:
    """Queue a file for removal and give its size, or count it as already gone (0)."""
    if full.exists():
        files.append(full)
        return full.stat().st_size
    report.missing_files += 1
    return 0


def purge_batch(session: Session, *, cutoff: datetime, recordings_dir: Path,
                report: PurgeReport, after_id: int = 0) -> int | None:
    """Purge up to ``BATCH`` old calls after ``after_id``; the last call id
    seen (for the next batch), None when done.  The caller commits."""
    old = (Call.entered_at < cutoff, Call.id > after_id, _has_material())
    calls = list(session.execute(
        select(Call.id, Call.uniqueid, Call.description_recording)
        .where(*old, ~_protected(), ~_recently_closed(cutoff))
        .order_by(Call.id).limit(BATCH)))
    if not calls:
        return None
    jobs = list(session.execute(select(
        TranscriptionJob.id, TranscriptionJob.path, TranscriptionJob.call_uniqueid).where(
        TranscriptionJob.call_uniqueid.in_([c.uniqueid for c in calls]),
        TranscriptionJob.status.in_((DONE, FAILED)))))
    purged_calls: list[int] = []
    job_ids: list[int] = []
    files: list[Path] = []
    for call in calls:
        own_jobs = [j for j in jobs if j.call_uniqueid == call.uniqueid]
        paths = sorted({p for p in (call.description_recording, *(j.path for j in own_jobs))
                        if p})
        resolved = [(path, full_path(recordings_dir, path)) for path in paths]
        refused = [path for path, full in resolved if full is None]
        if refused:  # rows and files go together or not at all
            report.outside.extend(refused)
            continue
        purged_calls.append(call.id)
        job_ids.extend(j.id for j in own_jobs)
        for _, full in resolved:
            assert full is not None
            report.bytes += _take(full, files, report)
    report.calls += len(purged_calls)
    report.files += len(files)
    report.jobs += len(job_ids)
    if job_ids:
        report.transcripts += len(session.scalars(select(TranscriptRecord.id).where(
            TranscriptRecord.job_id.in_(job_ids))).all())
    if not report.dry_run and purged_calls:
        if job_ids:
            session.execute(delete(TranscriptRecord).where(TranscriptRecord.job_id.in_(job_ids)))
            session.execute(delete(TranscriptionJob).where(TranscriptionJob.id.in_(job_ids)))
        session.execute(update(Call).where(Call.id.in_(purged_calls))
                        .values(description_recording=None))
        session.flush()
        for full in files:  # after the rows, before the commit: see the module's doc
            full.unlink(missing_ok=True)
    return calls[-1].id


def purge_attachments_batch(session: Session, *, cutoff: datetime, recordings_dir: Path,
                            report: PurgeReport, after_id: int = 0) -> int | None:
    """Attachments of orders the hotline closed before ``cutoff`` (an open
    order's, whatever their age, stay), rows and files together as above;
    the last attachment id seen, None when done.  The caller commits."""
    rows = list(session.execute(
        select(OrderAttachment.id, OrderAttachment.path, OrderAttachment.size)
        .join(WorkOrder, WorkOrder.id == OrderAttachment.order_id)
        .where(OrderAttachment.id > after_id, WorkOrder.status == "closed",
               WorkOrder.closed_at < cutoff)
        .order_by(OrderAttachment.id).limit(BATCH)))
    if not rows:
        return None
    gone, files = [], []
    for row in rows:
        full = full_path(recordings_dir, row.path)
        if full is None:
            report.outside.append(row.path)
            continue
        gone.append(row.id)
        report.attachment_bytes += _take(full, files, report)
    report.attachments += len(gone)
    if not report.dry_run and gone:
        session.execute(delete(OrderAttachment).where(OrderAttachment.id.in_(gone)))
        session.flush()
        for full in files:
            full.unlink(missing_ok=True)
    return rows[-1].id


def _kept_open(session: Session, cutoff: datetime) -> int:
    return len(session.scalars(select(Call.id).where(
        Call.entered_at < cutoff, _has_material(),
        or_(_protected(), _recently_closed(cutoff)))).all())


def purge(db: Database, *, now: datetime, retention_days: int, recordings_dir: Path,
          dry_run: bool = False) -> PurgeReport:
    """Purge everything older than ``retention_days``, batch by batch, each
    batch its own transaction (a dry run changes nothing, removes nothing).
    For the CLI and tests, outside an event loop: :func:`purge_async` run here."""
    return asyncio.run(purge_async(db, now=now, retention_days=retention_days,
                                   recordings_dir=recordings_dir, dry_run=dry_run))


async def purge_async(db: Database, *, now: datetime, retention_days: int,
                      recordings_dir: Path, dry_run: bool = False) -> PurgeReport:
    """The purge, one batch at a time on the database thread (the loop goes on)."""
    cutoff = now - timedelta(days=retention_days)
    report = PurgeReport(cutoff=cutoff.isoformat(), dry_run=dry_run)
    after: int | None = 0
    while after is not None:
        after = await db.run(lambda s, a=after: purge_batch(
            s, cutoff=cutoff, recordings_dir=recordings_dir, report=report, after_id=a))
    after = 0
    while after is not None:
        after = await db.run(lambda s, a=after: purge_attachments_batch(
            s, cutoff=cutoff, recordings_dir=recordings_dir, report=report, after_id=a))
    report.kept_open = await db.run(lambda s: _kept_open(s, cutoff))
    return report


async def retention_job(deps: Deps) -> None:
    """Runs for the process's life: one purge a day at PURGE_HOUR local time."""
    settings = deps.settings
    if settings.retention_days <= 0:
        log.info("retention: HOTLINE_RETENTION_DAYS is 0, nothing is ever purged")
        return
    while True:
        local = deps.clock.now().astimezone(settings.tz)
        run_at = local.replace(hour=PURGE_HOUR, minute=0, second=0, microsecond=0)
        if run_at <= local:
            run_at += timedelta(days=1)
        await asyncio.sleep(max((run_at - local).total_seconds(), 0.001))
        try:
            report = await purge_async(deps.db, now=deps.clock.now(),
                                       retention_days=settings.retention_days,
                                       recordings_dir=settings.recordings_dir)
        except Exception:  # the job must live on to the next day
            log.exception("retention: purge failed; the rows and files stay for tomorrow")
            continue
        log.info("retention: %s", report.summary())
        deps.bus.publish(RetentionPurged(**report.to_dict()))
