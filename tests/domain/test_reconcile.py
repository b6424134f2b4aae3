"""Call records rebuilt from the real Asterisk 22 queue_log of the load run."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from calls import records
from calls.followups import CallFollowUps
from calls.models import Call
from calls.reconcile import reconcile
from core.db import Database
from hotline.migrate import upgrade
from worksheets.models import CallbackTask, WorkOrder
from worksheets.service import follow_calls


def test_load_run_queue_log_gives_one_record_per_call_and_reapplying_changes_nothing(
        database_url, fixtures_dir):
    lines = (fixtures_dir / "scenarios" / "load-120-calls.queue_log").read_text().splitlines()
    db = Database(database_url)
    try:
        upgrade(db.engine)
        # One call was seen live before the backend went down.
        from datetime import UTC, datetime
        db.call(lambda s: records.start_call(s, uniqueid="1795946579.1",
                                             now=datetime.fromtimestamp(1795946580, UTC),
                                             caller_number="13900000000"))
        report = db.call(lambda s: reconcile(s, lines, follow_calls(CallFollowUps())))
        again = db.call(lambda s: reconcile(s, lines, follow_calls(CallFollowUps())))

        def counts(s):
            outcomes = Counter(s.scalars(select(Call.outcome)))
            return (s.scalar(select(func.count()).select_from(Call)), outcomes,
                    s.scalar(select(func.count()).select_from(WorkOrder)),
                    s.scalar(select(func.count()).select_from(CallbackTask)))

        total, outcomes, orders, callbacks = db.call(counts)
        first = db.call(lambda s: s.scalar(select(Call).where(Call.uniqueid == "1795946579.1")))
    finally:
        db.close()
    assert len(report.calls) == 120 and report.conflicts == [] and again.conflicts == []
    assert total == 120
    assert outcomes == Counter({"abandoned": 90, "answered": 30})
    assert orders == 30 and callbacks == 90
    assert first.source == "agi" and first.member_name == "agent-2000"
    assert first.ended_at is not None and first.talk_seconds == 1
