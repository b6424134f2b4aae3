"""The floor's alert thresholds: how long a caller may wait, the service
level a queue is held to (and from how many calls offered that says
something), how late a draft may be.  The settings give the defaults; a
supervisor (or an admin) changes them through the API, stored as one row
per change in ``floor_thresholds`` (the newest in force), audited, and
every instance applies a change through ``core.config_sync`` (the part
``floor_thresholds``: the change is announced to the other instances, and a
missed announcement is healed by the periodic check of :func:`stamp`).

Pause limits are each pause reason's (the admin's pause reasons) and the
no-show grace is the rota policy's (agents/): not here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from admin.fields import AdminError, Invalid, Problem, integer
from floor.models import FloorThresholdSet
from routing.lists import audit


@dataclass
class Thresholds:
    long_wait_seconds: int = 60
    service_level_target: float = 0.9
    service_level_min_offered: int = 10  # too few calls say nothing about a queue
    draft_minutes: int = 10
    sl_seconds: int = 15  # the service level's own 15 s (a setting: the roll-ups use it)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _fraction(low: float, high: float) -> Any:
    def parse(_s: Session, value: Any, _row: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("not_number")
        if not low <= value <= high:
            raise Invalid("range", low=low, high=high)
        return float(value)
    return parse


# What a supervisor sets, and within what bounds.
EDITABLE = {
    "long_wait_seconds": integer(5, 3600),
    "service_level_target": _fraction(0.5, 1.0),
    "service_level_min_offered": integer(1, 1000),
    "draft_minutes": integer(1, 240),
}


def newest(s: Session) -> FloorThresholdSet | None:
    return s.scalars(select(FloorThresholdSet).order_by(FloorThresholdSet.id.desc())
                     .limit(1)).first()


LOCK_KEY = 12_345_019  # pg_advisory_xact_lock: one change of the thresholds at a time


def lock(s: Session) -> None:
    """Serialise changes: a PUT names only some fields and stores a whole new
    set built on the newest, so two at once (on any instances) must not both
    build on the same one.  PostgreSQL: a transaction-scoped advisory lock;
    SQLite: one backend, whose queries run one at a time already."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def stamp(s: Session) -> int | None:
    """What changes whenever a new set is stored (config_sync's check)."""
    return s.scalar(select(func.max(FloorThresholdSet.id)))


def applied(row: FloorThresholdSet | None, defaults: Thresholds) -> Thresholds:
    """The thresholds in force: the newest row's over the settings' defaults."""
    if row is None:
        return dataclasses.replace(defaults)
    return dataclasses.replace(defaults, **{name: getattr(row, name) for name in EDITABLE})


def parse(data: Any, current: Thresholds) -> Thresholds:
    """``current`` with the fields ``data`` names; every bad field named."""
    if not isinstance(data, dict):
        raise AdminError.one("thresholds", "not_object")
    problems, values = [], {}
    for name, value in data.items():
        check = EDITABLE.get(name)
        if check is None:
            problems.append(Problem(name, "unknown_field", {"what": "threshold",
                                                            "value": name}))
            continue
        try:
            values[name] = check(None, value, None)  # type: ignore[arg-type]
        except Invalid as exc:
            problems.append(Problem(name, exc.code, exc.params))
    if problems:
        raise AdminError(problems)
    return dataclasses.replace(current, **values)


def store(s: Session, new: Thresholds, old: Thresholds, *, user_id: int | None,
          now: datetime) -> FloorThresholdSet | None:
    """A new row (and its audit) when something changed; None when nothing did."""
    changes = {n: (getattr(old, n), getattr(new, n)) for n in EDITABLE
               if getattr(old, n) != getattr(new, n)}
    if not changes:
        return None
    row = FloorThresholdSet(**{n: getattr(new, n) for n in EDITABLE}, set_at=now,
                            set_by=user_id)
    s.add(row)
    s.flush()
    audit(s, user_id=user_id, action="floor_thresholds", target=f"version {row.id}",
          detail="; ".join(f"{n}: {a} -> {b}" for n, (a, b) in changes.items()), now=now)
    return row
