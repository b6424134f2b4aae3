"""The lists supervisors keep for the IVR: blocked numbers, registered
vulnerable callers, and the legacy department lines.  Every change is
written to the audit log with who made it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.models import AuditEntry, BlockedNumber, LegacyLine, PriorityCaller
from routing.rules import normalize_number

MAX_BLOCK = timedelta(days=365)
PRIORITY_REASONS = ("elderly", "disabled", "other")


class ListError(ValueError):
    pass


def audit(session: Session, *, user_id: int | None, action: str, target: str, detail: str,
          now: datetime) -> None:
    session.add(AuditEntry(at=now, user_id=user_id, action=action, target=target, detail=detail))


def _number(number: str) -> str:
    normalized = normalize_number(number)
    if not 3 <= len(normalized) <= 20:
        raise ListError(f"{number!r} is not a phone number")
    return normalized


def active_block(session: Session, number: str, now: datetime) -> BlockedNumber | None:
    normalized = normalize_number(number)
    if not normalized:
        return None
    return session.scalars(
        select(BlockedNumber).where(BlockedNumber.number == normalized,
                                    BlockedNumber.lifted_at.is_(None),
                                    BlockedNumber.expires_at > now)
        .order_by(BlockedNumber.expires_at.desc())).first()


def block_number(session: Session, number: str, *, reason: str, expires_at: datetime,
                 user_id: int | None, now: datetime) -> BlockedNumber:
    """Block a number until ``expires_at`` (at most a year), with a reason."""
    normalized = _number(number)
    reason = reason.strip()
    if not reason:
        raise ListError("a block needs a reason")
    if expires_at <= now:
        raise ListError("the expiry must be in the future")
    if expires_at - now > MAX_BLOCK:
        raise ListError("a block may last a year at most")
    if active_block(session, normalized, now) is not None:
        raise ListError(f"{normalized} is already blocked")
    row = BlockedNumber(number=normalized, reason=reason, created_by=user_id, created_at=now,
                        expires_at=expires_at)
    session.add(row)
    session.flush()
    audit(session, user_id=user_id, action="block", target=normalized,
          detail=f"until {expires_at.isoformat()}: {reason}", now=now)
    return row


def lift_block(session: Session, block_id: int, *, user_id: int | None,
               now: datetime) -> BlockedNumber:
    row = session.get(BlockedNumber, block_id)
    if row is None or row.lifted_at is not None:
        raise ListError(f"no active block {block_id}")
    row.lifted_at, row.lifted_by = now, user_id
    audit(session, user_id=user_id, action="unblock", target=row.number, detail="", now=now)
    return row


def priority_for(session: Session, number: str, now: datetime) -> PriorityCaller | None:
    normalized = normalize_number(number)
    if not normalized:
        return None
    row = session.scalar(select(PriorityCaller).where(PriorityCaller.number == normalized))
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


def add_priority_caller(session: Session, number: str, *, reason: str, note: str,
                        user_id: int | None, now: datetime,
                        expires_at: datetime | None = None) -> PriorityCaller:
    normalized = _number(number)
    if reason not in PRIORITY_REASONS:
        raise ListError(f"reason must be one of {', '.join(PRIORITY_REASONS)}")
    if session.scalar(select(PriorityCaller).where(PriorityCaller.number == normalized)):
        raise ListError(f"{normalized} is already registered")
    row = PriorityCaller(number=normalized, reason=reason, note=note.strip()[:200],
                         created_by=user_id, created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit(session, user_id=user_id, action="priority_add", target=normalized, detail=reason,
          now=now)
    return row


def remove_priority_caller(session: Session, row_id: int, *, user_id: int | None,
                           now: datetime) -> None:
    row = session.get(PriorityCaller, row_id)
    if row is None:
        raise ListError(f"no registered caller {row_id}")
    audit(session, user_id=user_id, action="priority_remove", target=row.number, detail="",
          now=now)
    session.delete(row)


def legacy_line(session: Session, dialed: str) -> LegacyLine | None:
    if not dialed or dialed == "12345":
        return None
    return session.scalar(select(LegacyLine).where(LegacyLine.number == dialed,
                                                   LegacyLine.active,
                                                   LegacyLine.kind == "dual"))
