"""Swaps, leave and overtime: agents ask, supervisors decide, the rota's
rules are checked every time.

Every change is checked against the roster as it stands (approved changes
applied): both agents of a swap must work the shift they give up and not
the one they take; nobody works on a day of their leave; the rest rule
holds for everyone involved; and no hour of an affected shift may drop
below the minimum on duty.  A refusal is a :class:`RotaChangeError` whose
``code`` says which rule and whose message names the hours left short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, OvertimeGrant, RotaRequest
from agents.roster import Roster, Shortfall, SlotKey, load_roster, swap_moves

MAX_LEAVE_DAYS = 31


class RotaChangeError(Exception):
    """A change the rota's rules refuse; ``code`` names the rule."""

    def __init__(self, code: str, message: str, short: list[Shortfall] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.short = short or []


@dataclass
class ChangeCheck:
    """What a change does to coverage: the hours it leaves short (empty: fine)."""

    short: list[Shortfall] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": not self.short, "short_hours": [s.to_dict() for s in self.short]}


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise RotaChangeError("not_found", f"no active agent {agent_id}")
    return agent


def _not_started(config: rota.RotaConfig, key: SlotKey, local_now: datetime) -> None:
    start = rota.slot(config, *key).start
    if start <= local_now:
        raise RotaChangeError("past", f"the shift of {start:%Y-%m-%d %H:%M} has already begun")


def _refuse_if_short(before: Roster, after: Roster, slots: list[SlotKey], what: str,
                     because: list[str] = ()) -> None:  # type: ignore[assignment]
    """Refuse when an affected shift ends below the minimum and lost agents to this change."""
    short = [s for s in after.shortfalls(slots)
             if s.agents < len(before.agents_on(*_key_of(after, s.hour)))]
    if short:
        listing = "; ".join(s.describe() for s in short)
        why = f" ({'; '.join(because)})" if because else ""
        raise RotaChangeError("coverage_short",
                              f"{what} would leave hours short{why}: {listing}", short)


def _key_of(roster: Roster, hour: datetime) -> SlotKey:
    s = rota.shift_at(roster.config, hour)
    return s.day, s.index


def check_swap(roster: Roster, agent_id: int, mine: SlotKey, other_id: int,
               theirs: SlotKey) -> Roster:
    """Check a swap against ``roster``; return the roster with it applied."""
    if agent_id == other_id:
        raise RotaChangeError("invalid", "a swap needs two different agents")
    for who, give, take in ((agent_id, mine, theirs), (other_id, theirs, mine)):
        if who not in roster.agents_on(*give):
            raise RotaChangeError("not_rostered", f"agent {who} does not work the shift of "
                                  f"{roster.slot(*give).start:%Y-%m-%d %H:%M}")
        if who in roster.agents_on(*take):
            raise RotaChangeError("already_rostered", f"agent {who} already works the shift "
                                  f"of {roster.slot(*take).start:%Y-%m-%d %H:%M}")
    after = roster.with_changes(moves=[(agent_id, mine, theirs), (other_id, theirs, mine)])
    problems = [p for who in (agent_id, other_id)
                for p in after.rest_problems(who, [mine[0], theirs[0]])]
    if problems:
        raise RotaChangeError("rest", "the swap breaks the rest rule: " + "; ".join(problems))
    # A partner on leave that day would not come: the shift loses one agent.
    absent = [f"agent {who} is on leave on {take[0]}"
              for who, take in ((agent_id, theirs), (other_id, mine))
              if roster.on_leave(who, take[0])]
    _refuse_if_short(roster, after, [mine, theirs], "the swap", absent)
    if absent:
        raise RotaChangeError("on_leave", "; ".join(absent))
    return after


def leave_check(roster: Roster, agent_id: int, first: date, last: date) -> ChangeCheck:
    """The hours a leave would leave short (it is not refused for that when asked for)."""
    slots = [(s.day, s.index) for s in roster.shifts_of(agent_id, first, last)]
    after = roster.with_changes(leave=[(agent_id, first, last)])
    return ChangeCheck(after.shortfalls(slots))


def request_swap(session: Session, config: rota.RotaConfig, *, agent_id: int, mine: SlotKey,
                 other_agent_id: int, theirs: SlotKey, reason: str, now: datetime,
                 local_now: datetime) -> RotaRequest:
    """Record a swap asked for by ``agent_id``; refused at once if it breaks a rule."""
    _agent(session, agent_id)
    _agent(session, other_agent_id)
    for key in (mine, theirs):
        _valid_slot(config, key)
        _not_started(config, key, local_now)
    roster = load_roster(session, config, min(mine[0], theirs[0]), max(mine[0], theirs[0]))
    check_swap(roster, agent_id, mine, other_agent_id, theirs)
    row = RotaRequest(kind="swap", status="pending", agent_id=agent_id, day=mine[0],
                      shift_index=mine[1], other_agent_id=other_agent_id, other_day=theirs[0],
                      other_shift_index=theirs[1], reason=reason, requested_at=now,
                      decision_note="")
    session.add(row)
    session.flush()
    return row


def request_leave(session: Session, config: rota.RotaConfig, *, agent_id: int, first: date,
                  last: date, reason: str, now: datetime,
                  local_now: datetime) -> tuple[RotaRequest, ChangeCheck]:
    """Record a leave request and what it would do to coverage."""
    _agent(session, agent_id)
    if last < first or (last - first).days >= MAX_LEAVE_DAYS:
        raise RotaChangeError("invalid", f"leave runs from a day to the same or a later day, "
                              f"at most {MAX_LEAVE_DAYS} days")
    if first < local_now.date():
        raise RotaChangeError("past", "leave cannot start in the past")
    roster = load_roster(session, config, first, last)
    check = leave_check(roster, agent_id, first, last)
    row = RotaRequest(kind="leave", status="pending", agent_id=agent_id, day=first,
                      end_day=last, reason=reason, requested_at=now, decision_note="")
    session.add(row)
    session.flush()
    return row, check


def decide(session: Session, config: rota.RotaConfig, request_id: int, *, approve: bool,
           user_id: int, note: str, now: datetime, local_now: datetime) -> ChangeCheck:
    """Approve or refuse a pending request; approval re-runs every check."""
    row = session.get(RotaRequest, request_id, with_for_update=True)
    if row is None:
        raise RotaChangeError("not_found", f"no request {request_id}")
    if row.status != "pending":
        raise RotaChangeError("not_pending", f"request {request_id} is already {row.status}")
    check = ChangeCheck()
    if approve:
        check = _check_pending(session, config, row, local_now)
    row.status = "approved" if approve else "refused"
    row.decided_at, row.decided_by, row.decision_note = now, user_id, note
    return check


def _check_pending(session: Session, config: rota.RotaConfig, row: RotaRequest,
                   local_now: datetime) -> ChangeCheck:
    if row.kind == "swap":
        (_, mine, theirs), _ = swap_moves(row)
        for key in (mine, theirs):
            _not_started(config, key, local_now)
        roster = load_roster(session, config, min(mine[0], theirs[0]),
                             max(mine[0], theirs[0]))
        check_swap(roster, row.agent_id, mine, row.other_agent_id or 0, theirs)
        return ChangeCheck()
    last = row.end_day or row.day
    roster = load_roster(session, config, row.day, last)
    check = leave_check(roster, row.agent_id, row.day, last)
    if check.short:
        listing = "; ".join(s.describe() for s in check.short)
        raise RotaChangeError("coverage_short", f"the leave would leave hours short: {listing}; "
                              "arrange a swap or overtime first", check.short)
    return check


def cancel(session: Session, request_id: int, agent_id: int, now: datetime) -> None:
    """The requesting agent withdraws a request that is still pending."""
    row = session.get(RotaRequest, request_id)
    if row is None or row.agent_id != agent_id:
        raise RotaChangeError("not_found", f"no request {request_id} of yours")
    if row.status != "pending":
        raise RotaChangeError("not_pending", f"request {request_id} is already {row.status}")
    row.status, row.decided_at = "cancelled", now


def grant_overtime(session: Session, config: rota.RotaConfig, *, agent_id: int, key: SlotKey,
                   user_id: int, note: str, now: datetime) -> OvertimeGrant:
    """Let an agent work one more shift (it counts towards that shift's staffing)."""
    _agent(session, agent_id)
    _valid_slot(config, key)
    roster = load_roster(session, config, key[0], key[0])
    if agent_id in roster.agents_on(*key):
        raise RotaChangeError("already_rostered", "the agent already works that shift")
    grant = OvertimeGrant(agent_id=agent_id, day=key[0], shift_index=key[1], granted_by=user_id,
                          granted_at=now, note=note)
    session.add(grant)
    session.flush()
    return grant


def _valid_slot(config: rota.RotaConfig, key: SlotKey) -> None:
    if not 0 <= key[1] < config.shifts_per_day:
        raise RotaChangeError("invalid", f"shift numbers run from 0 to {config.shifts_per_day - 1}")


def list_requests(session: Session, agent_id: int | None = None,
                  status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Requests, newest first; an agent sees the ones they made or are part of."""
    query = select(RotaRequest).order_by(RotaRequest.requested_at.desc(), RotaRequest.id.desc())
    if agent_id is not None:
        query = query.where((RotaRequest.agent_id == agent_id) |
                            (RotaRequest.other_agent_id == agent_id))
    if status:
        query = query.where(RotaRequest.status == status)
    return [request_dict(r) for r in session.scalars(query.limit(limit))]


def request_dict(r: RotaRequest) -> dict[str, Any]:
    return {
        "id": r.id, "kind": r.kind, "status": r.status, "agent_id": r.agent_id,
        "day": r.day.isoformat(), "shift": r.shift_index,
        "end_day": r.end_day.isoformat() if r.end_day else None,
        "other_agent_id": r.other_agent_id,
        "other_day": r.other_day.isoformat() if r.other_day else None,
        "other_shift": r.other_shift_index, "reason": r.reason,
        "requested_at": r.requested_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decision_note": r.decision_note,
    }


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=d) for d in range((last - first).days + 1)]
