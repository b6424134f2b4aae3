"""What a call starts elsewhere, registered by the packages that do it.

calls/ records calls; it does not know work orders or callback tasks.
worksheets registers its follow-ups here (a draft order when a call is
answered, a callback task when one is abandoned), speech.recording_outbox its own
(the transcription of an answered call's recording once it ended), and
the call record's writers (the tracker, queue_log reconciliation) run
them in the same transaction as the record, so that neither exists
without the other.  A follow-up returns the notices to publish once that
transaction is committed (live events for the event bus).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from calls.models import Call
from core.events import LiveEvent

Notice = LiveEvent  # what a follow-up tells the consoles
FollowUp = Callable[[Session, Call, datetime], list[Notice]]
ANSWERED = "answered"
ABANDONED = "abandoned"
ENDED = "ended"  # the caller hung up (run again for a repeated report: be idempotent)
KINDS = (ANSWERED, ABANDONED, ENDED)


@dataclass
class CallFollowUps:
    _by_kind: dict[str, list[FollowUp]] = field(default_factory=dict)

    def on(self, kind: str, follow_up: FollowUp) -> None:
        """``follow_up(session, call, now)`` after each call that is ``kind``
        (:data:`ANSWERED`, :data:`ABANDONED` or :data:`ENDED`); it must be idempotent."""
        if kind not in KINDS:
            raise ValueError(f"no call follow-up {kind!r}")
        self._by_kind.setdefault(kind, []).append(follow_up)

    def run(self, kind: str, session: Session, call: Call, now: datetime) -> list[Notice]:
        notices: list[Notice] = []
        for follow_up in self._by_kind.get(kind, ()):
            notices += follow_up(session, call, now)
        return notices
