"""Create, edit and deactivate administered records, each change audited
(who, what, when: ``/api/audit``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.fields import AdminError, Invalid, Problem
from admin.kinds import Kind
from routing.lists import audit


def find(s: Session, kind: Kind, ident: int | str) -> Any:
    """The row with this id (an int) or key (text: a code, a number, a username)."""
    if isinstance(ident, int):
        row = s.get(kind.model, ident)
    else:
        column = getattr(kind.model, kind.field(kind.key).attr)  # type: ignore[union-attr]
        row = s.scalar(select(kind.model).where(column == ident))
    if row is None:
        raise LookupError(f"no {kind.singular} {ident}")
    return row


def listing(s: Session, kind: Kind, now: datetime) -> list[dict[str, Any]]:
    column = getattr(kind.model, kind.field(kind.key).attr)  # type: ignore[union-attr]
    rows: list[Any] = list(s.scalars(select(kind.model).order_by(column)))
    figures = kind.figures(s, rows, now) if kind.figures else {}
    return [{**kind.dump(s, row), **figures.get(row.id, {})} for row in rows]


def parse(s: Session, kind: Kind, data: dict[str, Any], row: Any) -> dict[str, Any]:
    """The stored values of ``data``'s fields ({column: value}); every
    problem found, each naming its field, raised together."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name in data:
        if kind.field(name) is None:
            problems.append(Problem(name, "unknown_field", {"what": kind.singular, "value": name}))
        elif row is not None and name in kind.fixed:
            problems.append(Problem(name, "fixed"))
    for field in kind.fields:
        if field.name in data:
            try:
                values[field.attr] = field.parse(s, data[field.name], row)
            except Invalid as exc:
                problems.append(Problem(field.name, exc.code, exc.params))
        elif row is None and field.required:
            problems.append(Problem(field.name, "required"))
    if problems:
        raise AdminError(problems)
    return values


def _names(kind: Kind) -> dict[str, str]:
    return {f.attr: f.name for f in kind.fields}


def _record(s: Session, kind: Kind, row: Any, verb: str, changes: dict[str, Any], *,
            user_id: int | None, now: datetime, via: str) -> None:
    detail = json.dumps(changes, ensure_ascii=False, default=str, sort_keys=True)
    audit(s, user_id=user_id, action=f"{kind.singular}_{verb}",
          target=f"{kind.singular} {kind.key_of(row)}"[:100],
          detail=(f"{via}: {detail}" if via else detail), now=now)


def _defaults(kind: Kind) -> dict[str, Any]:
    """The columns' scalar defaults, set before the checks see the new row
    (SQLAlchemy would fill them only at the flush)."""
    out = {}
    for column in kind.model.__table__.columns:  # type: ignore[attr-defined]
        default = column.default
        if default is not None and default.is_scalar:
            out[column.key] = default.arg
    return out


def create(s: Session, kind: Kind, data: dict[str, Any], *, user_id: int | None,
           now: datetime, via: str = "", extra: dict[str, Any] | None = None) -> Any:
    """A new row from ``data`` (plus ``extra`` columns the caller sets itself)."""
    values = parse(s, kind, data, None)
    row = kind.model(**{**_defaults(kind), **values, **(extra or {})})
    problems = kind.check(s, row)
    if problems:
        raise AdminError(problems)
    s.add(row)
    s.flush()
    names = _names(kind)
    _record(s, kind, row, "create", {names[c]: v for c, v in values.items()},
            user_id=user_id, now=now, via=via)
    return row


def edit(s: Session, kind: Kind, row: Any, data: dict[str, Any], *, user_id: int | None,
         now: datetime, via: str = "") -> dict[str, Any]:
    """Change the fields ``data`` names; returns {field: [old, new]} of what changed.
    Setting ``active`` false is a deactivation (its conditions apply)."""
    values = parse(s, kind, data, row)
    names = _names(kind)
    changes = {names[c]: [getattr(row, c), v] for c, v in values.items()
               if getattr(row, c) != v}
    if not changes:
        return {}
    leaving = getattr(row, "active", True) and values.get("active") is False
    with s.no_autoflush:
        for column, value in values.items():
            setattr(row, column, value)
        problems = (kind.before_deactivate(s, row) if leaving else []) + kind.check(s, row)
    if problems:
        s.expire(row)  # nothing of the refused change stays on the row
        raise AdminError(problems)
    verb = ("deactivate" if leaving else "reactivate" if values.get("active") is True
            and "active" in changes else "edit")
    s.flush()
    _record(s, kind, row, verb, changes, user_id=user_id, now=now, via=via)
    return changes


def deactivate(s: Session, kind: Kind, row: Any, *, user_id: int | None, now: datetime,
               via: str = "") -> dict[str, Any]:
    if kind.field("active") is None:
        raise AdminError.one("active", "no_deactivation", what=kind.singular)
    if not row.active:
        raise AdminError.one("active", "already_inactive", what=kind.singular,
                             value=kind.key_of(row))
    return edit(s, kind, row, {"active": False}, user_id=user_id, now=now, via=via)
