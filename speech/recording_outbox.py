"""The whole call's recording, transcribed through the outbox.

An answered call that ended gets a :data:`CALL_RECORDING` outbox item in
the same transaction as the call's end, on whichever backend records it
(a repeated report adds nothing: the item's key); ``speech.jobs`` handles
the kind.  The outbox itself (``core.outbox``) knows no kind of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from calls.followups import ENDED, CallFollowUps, Notice
from calls.models import Call
from core import outbox

CALL_RECORDING = "call.recording"  # an answered call ended: transcribe it (speech.jobs)


def follow_calls(follow_ups: CallFollowUps) -> CallFollowUps:
    """Register the follow-up of call records that writes :data:`CALL_RECORDING` items."""

    def recording(session: Session, call: Call, now: datetime) -> list[Notice]:
        if call.outcome == "answered" and call.ended_at is not None:
            outbox.add(session, CALL_RECORDING, f"{CALL_RECORDING}:{call.uniqueid}",
                       {"uniqueid": call.uniqueid, "ended_at": call.ended_at.isoformat()}, now)
        return []

    follow_ups.on(ENDED, recording)
    return follow_ups
