"""A description transcribed while the phone still rings goes to the agent
whose phone rings (the pop), not to nobody: its event names that agent."""

from __future__ import annotations

from datetime import UTC, datetime

from calls import records
from speech.job_store import call_context

NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)


def test_a_ringing_call_s_transcript_names_the_agent_its_phone_rings(db_session):
    s = db_session
    records.start_call(s, uniqueid="7.1", now=NOW, caller_number="13800138000")
    assert call_context(s, "7.1").agent_id is None  # rings nobody yet
    records.record_offer(s, "7.1", 5, NOW)
    records.record_offer(s, "7.1", 6, NOW)  # rung again elsewhere (ring-no-answer)
    assert call_context(s, "7.1").agent_id == 6
