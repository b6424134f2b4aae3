"""Rebuild call records from Asterisk's queue_log.

For the hours the backend could not follow (it was down, or the AMI link
was), Asterisk's queue_log still says which callers entered which queue,
who answered them and who gave up.  Reading it through the same idempotent
service steps leaves exactly one record per call: calls already known are
completed, nothing is doubled.

Format: ``time|callid|queue|agent|event|data1|data2|data3`` (see
tests/fixtures/asterisk-22).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from calls import records
from calls.followups import ABANDONED, ANSWERED, ENDED, CallFollowUps
from calls.records import agent_id_for_member


@dataclass
class ReconcileReport:
    lines: int = 0
    skipped: int = 0
    events: Counter[str] = field(default_factory=Counter)
    calls: set[str] = field(default_factory=set)
    conflicts: list[str] = field(default_factory=list)


def _data(parts: list[str], i: int) -> str:
    return parts[5 + i] if len(parts) > 5 + i else ""


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def reconcile(session: Session, lines: Iterable[str],
              follow_ups: CallFollowUps) -> ReconcileReport:
    """Apply queue_log lines to the call records (and their follow-ups: draft
    orders, callback tasks, which the caller must pass); return what was seen."""
    report = ReconcileReport()
    for raw in lines:
        report.lines += 1
        parts = raw.rstrip("\n").split("|")
        if len(parts) < 5 or not parts[0].isdigit():
            report.skipped += 1
            continue
        at = datetime.fromtimestamp(int(parts[0]), UTC)
        callid, queue, agent, event = parts[1], parts[2], parts[3], parts[4]
        if callid in ("NONE", "MANAGER", ""):
            continue  # member and queue events: no call
        report.events[event] += 1
        report.calls.add(callid)
        try:
            _apply(session, follow_ups, at, callid, queue, agent, event, parts)
        except records.CallError as exc:
            report.conflicts.append(f"{callid} {event}: {exc}")
    return report


def _apply(session: Session, follow_ups: CallFollowUps, at: datetime, callid: str, queue: str,
           agent: str, event: str, parts: list[str]) -> None:
    if event == "ENTERQUEUE":
        records.mark_queued(session, callid, queue=queue, now=at,
                            caller_number=_data(parts, 1) or None)
    elif event == "CONNECT":
        records.mark_queued(session, callid, queue=queue, now=at)
        call = records.answer_call(session, callid, member_name=agent,
                                   agent_id=agent_id_for_member(session, agent),
                                   hold_seconds=_int(_data(parts, 0)), now=at)
        follow_ups.run(ANSWERED, session, call, at)
    elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
        _end(session, follow_ups, callid, at, _int(_data(parts, 1)))
    elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"):
        wait = _data(parts, 2) if event == "ABANDON" else _data(parts, 2) or _data(parts, 1)
        records.mark_queued(session, callid, queue=queue, now=at)
        call = records.abandon_call(session, callid, hold_seconds=_int(wait), now=at)
        follow_ups.run(ABANDONED, session, call, at)
        _end(session, follow_ups, callid, at, None)


def _end(session: Session, follow_ups: CallFollowUps, callid: str, at: datetime,
         talk_seconds: int | None) -> None:
    call = records.mark_ended(session, callid, now=at, talk_seconds=talk_seconds)
    if call is not None:
        follow_ups.run(ENDED, session, call, at)
