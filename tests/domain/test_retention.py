"""Retention: old recordings and transcripts go with their rows, together;
an open order's (and what follows it) are kept, whatever their age
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from calls import records
from calls.models import Call
from core.live_events import RetentionPurged
from speech.tables import TranscriptionJob, TranscriptRecord
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_answer, reply_and_accept
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department
from worksheets.retention import purge

NOW = local(2026, 12, 5, 10)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)


def make_call(s, recordings: Path, uid: str, at, *, close_at=None, follows=None) -> int:
    """A dispatched order with a description and a call recording, each transcribed."""
    dept = s.scalar(select(Department.id).order_by(Department.id))
    call = records.start_call(s, uniqueid=uid, now=at, caller_number="13800138000")
    call.follows_order_id = follows
    order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                          hold_seconds=2, now=at)
    service.submit_work_order(s, order.id, agent_id=None, title="路灯不亮", description="",
                              category="help", complexity="ordinary", department_id=dept,
                              answered_on_call=False, now=at,
                              calendar=WorkingCalendar.official(), tz=SHANGHAI)
    if close_at is not None:
        reply_and_accept(s, order.id, department_id=dept, text="已修复", user_id=None,
                        now=close_at)
    for kind, name in (("description", f"desc-{uid}.wav"), ("call", f"20251101-{uid}.wav")):
        path = recordings / name
        path.write_bytes(b"RIFF" + b"\0" * 96)
        if kind == "description":
            call.description_recording = str(path)
        job = TranscriptionJob(recording_key=name, path=str(path), kind=kind,
                               call_uniqueid=uid, status="done", created_at=at)
        s.add(job)
        s.flush()
        s.add(TranscriptRecord(job_id=job.id, call_uniqueid=uid, kind=kind, text="路灯不亮",
                               words=[], created_at=at, updated_at=at))
    s.flush()
    return order.id


def material(db, uid: str) -> tuple[int, int, str | None]:
    def count(s):
        jobs = s.scalars(select(TranscriptionJob.id).where(
            TranscriptionJob.call_uniqueid == uid)).all()
        transcripts = s.scalars(select(TranscriptRecord.id).where(
            TranscriptRecord.call_uniqueid == uid)).all()
        desc = s.scalar(select(Call.description_recording).where(Call.uniqueid == uid))
        return len(jobs), len(transcripts), desc
    return db.call(count)


def test_old_closed_material_goes_with_its_rows_and_open_orders_keep_theirs(
    db, tmp_path: Path,
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()

    def build(s):
        make_call(s, recordings, "old.closed", OLD, close_at=OLD + timedelta(days=3))
        open_order = make_call(s, recordings, "old.open", OLD)
        make_call(s, recordings, "old.follows", OLD + timedelta(days=1), follows=open_order,
                  close_at=OLD + timedelta(days=2))
        make_call(s, recordings, "old.late", OLD, close_at=RECENT)  # closed 10 days ago
        make_call(s, recordings, "recent", RECENT, close_at=RECENT + timedelta(days=1))

    db.call(build)
    files_before = sorted(p.name for p in recordings.iterdir())
    dry = purge(db, now=NOW, retention_days=365, recordings_dir=recordings, dry_run=True)
    assert (dry.calls, dry.files, dry.jobs, dry.transcripts) == (1, 2, 2, 2)
    assert sorted(p.name for p in recordings.iterdir()) == files_before
    assert material(db, "old.closed")[:2] == (2, 2)

    report = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert (report.calls, report.files, report.jobs, report.transcripts) == (1, 2, 2, 2)
    assert report.bytes == 200 and report.kept_open == 3 and report.outside == []
    assert "removed 2 recording file(s)" in report.summary()
    assert material(db, "old.closed") == (0, 0, None)
    assert not (recordings / "desc-old.closed.wav").exists()
    assert not (recordings / "20251101-old.closed.wav").exists()
    assert db.call(lambda s: s.scalar(select(Call.id).where(Call.uniqueid == "old.closed")))
    for kept in ("old.open", "old.follows", "old.late", "recent"):
        jobs, transcripts, desc = material(db, kept)
        assert (jobs, transcripts) == (2, 2) and desc is not None, kept
        assert (recordings / f"desc-{kept}.wav").exists(), kept
    again = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert (again.calls, again.files) == (0, 0)


def test_a_file_that_cannot_be_removed_keeps_its_rows(db, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    db.call(lambda s: make_call(s, recordings, "stuck", OLD, close_at=OLD))
    # The call recording's path is now a directory with a file in it: unlink fails.
    call_rec = recordings / "20251101-stuck.wav"
    call_rec.unlink()
    call_rec.mkdir()
    (call_rec / "x").write_bytes(b"x")
    with pytest.raises(OSError):
        purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert material(db, "stuck")[:2] == (2, 2)  # rolled back with the failure


def test_paths_outside_the_recordings_directory_are_never_removed(db, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    db.call(lambda s: make_call(s, elsewhere, "outside", OLD, close_at=OLD))
    report = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert len(report.outside) == 2 and (report.files, report.calls) == (0, 0)
    assert (elsewhere / "desc-outside.wav").exists()
    assert material(db, "outside")[:2] == (2, 2)  # its rows stay with its files


def test_the_backend_purges_once_a_day_at_three_and_reports_it(database_url, tmp_path) -> None:
    import asyncio
    from dataclasses import replace

    from core.clock import Clock, run_simulated
    from core.db import Database
    from hotline.app import Backend
    from tests.helpers import prepare_database, settings_for_test

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    prepare_database(database_url, OLD)
    db = Database(database_url)
    try:
        db.call(lambda s: make_call(s, recordings, "nightly", OLD, close_at=OLD))
    finally:
        db.close()
    settings = replace(settings_for_test(database_url, tmp_path), retention_days=365,
                       recordings_dir=recordings)
    start = local(2026, 12, 5, 2, 30)  # half an hour before the purge

    async def main():
        backend = Backend(settings, clock=Clock.for_running_loop(start))
        await backend.start()
        try:
            assert backend.deps is not None
            sub = backend.deps.bus.subscribe(lambda e: isinstance(e, RetentionPurged))
            delivery = await asyncio.wait_for(sub.get(), timeout=2 * 3600)
            return delivery.event.fields(), backend.deps.clock.now()
        finally:
            await backend.stop()

    event, at = run_simulated(main())
    assert at >= local(2026, 12, 5, 3) and at < local(2026, 12, 5, 3, 5)
    assert (event["calls"], event["files"], event["transcripts"]) == (1, 2, 2)
    assert not any(recordings.iterdir())


def test_a_recording_still_to_be_transcribed_is_kept_and_not_counted(db, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()

    def build(s):
        make_call(s, recordings, "old.pending", OLD, close_at=OLD + timedelta(days=1))
        for job in s.scalars(select(TranscriptionJob).where(
                TranscriptionJob.call_uniqueid == "old.pending",
                TranscriptionJob.kind == "call")):
            job.status = "queued"  # its worker has not run yet (a long outage, say)

    db.call(build)
    report = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert (report.calls, report.files, report.jobs) == (0, 0, 0)
    assert material(db, "old.pending")[0] == 2
    assert (recordings / "desc-old.pending.wav").exists()
    assert (recordings / "20251101-old.pending.wav").exists()


def test_attachments_of_old_closed_orders_go_with_their_rows_and_open_orders_keep_theirs(
    db, tmp_path: Path,
) -> None:
    from worksheets import attachments
    from worksheets.models import WorkOrder
    from worksheets.order_models import OrderAttachment

    recordings = tmp_path / "recordings"
    recordings.mkdir()

    def build(s):
        ids = {"closed": make_call(s, recordings, "a.closed", OLD,
                                   close_at=OLD + timedelta(days=3)),
               "open": make_call(s, recordings, "a.open", OLD),
               "late": make_call(s, recordings, "a.late", OLD, close_at=RECENT)}
        for name, oid in ids.items():
            order = s.get(WorkOrder, oid)
            relative = attachments.new_path(order, ".jpg")
            (recordings / relative).parent.mkdir(parents=True, exist_ok=True)
            (recordings / relative).write_bytes(b"\xff\xd8\xff" + b"\0" * 47)
            attachments.add(s, order, filename=f"{name}.jpg", content_type="image/jpeg",
                            size=50, path=relative, user_id=None, now=OLD)
        return ids

    ids = db.call(build)
    paths = db.call(lambda s: {a.order_id: a.path for a in s.scalars(select(OrderAttachment))})
    dry = purge(db, now=NOW, retention_days=365, recordings_dir=recordings, dry_run=True)
    assert (dry.attachments, dry.attachment_bytes) == (1, 50)
    assert all((recordings / p).exists() for p in paths.values())
    report = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert (report.attachments, report.attachment_bytes) == (1, 50)
    assert "1 attachment(s) (50 bytes)" in report.summary()
    left = db.call(lambda s: sorted(a.order_id for a in s.scalars(select(OrderAttachment))))
    assert left == sorted([ids["open"], ids["late"]])
    assert not (recordings / paths[ids["closed"]]).exists()
    assert (recordings / paths[ids["open"]]).exists() and (recordings / paths[ids["late"]]).exists()


def test_a_dot_dot_or_a_symbolic_link_out_of_the_directory_is_outside(db, tmp_path: Path) -> None:
    """One check serves retention's purges and attachments' downloads."""
    from worksheets import attachments
    from worksheets.models import WorkOrder

    recordings, elsewhere = tmp_path / "recordings", tmp_path / "elsewhere"
    recordings.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.wav").write_bytes(b"x")
    (recordings / "escape.wav").symlink_to(elsewhere / "secret.wav")
    (recordings / "own.wav").write_bytes(b"x")
    (recordings / "alias.wav").symlink_to(recordings / "own.wav")
    full = attachments.full_path
    assert full(recordings, "own.wav") == (recordings / "own.wav").resolve()
    assert full(recordings, str(recordings / "own.wav")) == (recordings / "own.wav").resolve()
    assert full(recordings, "alias.wav") == (recordings / "own.wav").resolve()
    assert full(recordings, "../elsewhere/secret.wav") is None
    assert full(recordings, str(recordings / ".." / "elsewhere" / "secret.wav")) is None
    assert full(recordings, "escape.wav") is None
    assert full(recordings, str(elsewhere / "secret.wav")) is None

    def build(s):
        oid = make_call(s, recordings, "dots", OLD, close_at=OLD)
        call = s.scalar(select(Call).where(Call.uniqueid == "dots"))
        call.description_recording = str(recordings / ".." / "elsewhere" / "secret.wav")
        attachments.add(s, s.get(WorkOrder, oid), filename="a.jpg", content_type="image/jpeg",
                        size=1, path="escape.wav", user_id=None, now=OLD)
    db.call(build)
    report = purge(db, now=NOW, retention_days=365, recordings_dir=recordings)
    assert sorted(report.outside) == sorted(
        ["escape.wav", str(recordings / ".." / "elsewhere" / "secret.wav")])
    assert (report.calls, report.attachments) == (0, 0)
    assert (elsewhere / "secret.wav").exists() and (recordings / "escape.wav").is_symlink()
    assert material(db, "dots")[:2] == (2, 2)
