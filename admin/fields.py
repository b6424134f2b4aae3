"""How one field of an administered record is read and checked.

A parser gets the session, the raw value (from JSON, a CSV cell or a
command-line ``name=value``) and the row being edited (None when
creating); it returns the value to store or raises :class:`Invalid` with
words for the person who typed it.  Problems name their field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from routing.rules import CATEGORIES, normalize_number

# Every problem has a code (the console's words for it: views/admin/words.js)
# and an English message made from the same parameters.
MESSAGES = {
    "required": "is required",
    "not_text": "must be text",
    "too_long": "at most {max} characters",
    "bad_digits": "{min}-{max} digits",
    "bad_code": "letters and digits",
    "bad_department_code": "letters, digits, '_' or '-'",
    "bad_username": "letters, digits, '-', '_' or '.'",
    "exists": "{what} {value} already exists",
    "choice": "one of {options}",
    "not_integer": "must be a whole number",
    "not_number": "must be a number",
    "not_object": "must be an object of fields",
    "range": "from {low} to {high}",
    "not_boolean": "true or false",
    "phone_chars": "digits only (spaces, -, + and brackets are ignored)",
    "phone_length": "3 to 20 digits",
    "no_such": "no {what} {value}",
    "deactivated": "{what} {value} is deactivated",
    "skill_category": "{value!r} is not a category (one of {options})",
    "skill_twice": "{value} is named twice",
    "skill_penalty": "{value}: the penalty is a whole number from 0 to 99",
    "not_pjsip": "a PJSIP endpoint, e.g. PJSIP/1001",
    "endpoint_name": "the endpoint name: 1-40 letters, digits, '_', '.', '+' or '-'",
    "unknown_field": "{what}s have no field {value!r}",
    "fixed": "cannot be changed",
    "rota_place_taken": "team {other} already has place {value} in the rotation",
    "team_has_agents": "{count} active agents are still in team {value}: "
                       "move them to another team first",
    "phone_taken": "{value} already rings for agent {other}",
    "leader_not_staff": "the leader must be one of this department's logins "
                        "(role department, linked to it)",
    "department_has_orders": "{count} open work orders are with {value}: redispatch them first",
    "department_has_lines": "the lines {lines} still ring for {value}: "
                            "move or deactivate them first",
    "line_needs_category": "a dual-track line needs its callers' category (one of {options})",
    "line_needs_department": "a dual-track line needs its department",
    "agent_link_role": "only a login of role agent is linked to an agent",
    "department_link_role": "only a login of role department is linked to a department",
    "agent_has_login": "the agent already logs in as {other}",
    "leads_department": "{value} leads {other}: name another leader first",
    "already_inactive": "{what} {value} is already deactivated",
    "no_deactivation": "a {what} is not deactivated here",
    "password": "{value}",
    "no_column": "no such column",
    "stray_cell": "a cell outside the named columns",
    "key_required": "is required (it names the record)",
    "duplicate_key": "{value} is also on line {line}",
}


class Invalid(ValueError):
    """One field's value is refused: a code of MESSAGES and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(MESSAGES[code].format(**params))
        self.code, self.params = code, params


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message,
                "params": {k: v if isinstance(v, (int, float)) else str(v)
                           for k, v in self.params.items()}}


class AdminError(ValueError):
    """A record was refused: every problem found, each naming its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, field: str, code: str, **params: Any) -> AdminError:
        return cls([Problem(field, code, params)])


Parser = Callable[[Session, Any, Any], Any]


@dataclass(frozen=True)
class Field:
    """``name`` in the API, the import's header and the CLI; ``column`` on the model."""

    name: str
    parse: Parser
    column: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers an import may use (Chinese)
    json_types: tuple[str, ...] = ("string",)  # what the API's body schema admits

    def schema(self) -> dict[str, Any]:
        types = list(self.json_types)
        return {"type": types[0] if len(types) == 1 else types}

    @property
    def attr(self) -> str:
        return self.column or self.name


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid("not_text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 1001.0
    return str(value).strip()


def text(max_len: int, *, min_len: int = 1, pattern: str | None = None,
         hint: str = "", **hint_params: Any) -> Parser:
    """Text of up to ``max_len`` characters; ``pattern`` refused with the
    MESSAGES code ``hint``."""
    compiled = re.compile(pattern) if pattern else None

    def parse(_s: Session, value: Any, _row: Any) -> str:
        out = _as_text(value)
        if len(out) < min_len:
            raise Invalid("required")
        if len(out) > max_len:
            raise Invalid("too_long", max=max_len)
        if compiled is not None and out and not compiled.fullmatch(out):
            raise Invalid(hint, **hint_params)
        return out
    return parse


def unique(parser: Parser, attr: InstrumentedAttribute[Any], what: str) -> Parser:
    """``parser``, and no other row of the table has the value."""

    def parse(s: Session, value: Any, row: Any) -> Any:
        out = parser(s, value, row)
        other = s.scalar(select(attr.class_).where(attr == out))
        if other is not None and other is not row:
            raise Invalid("exists", what=what, value=out)
        return out
    return parse


def choice(options: tuple[str, ...], *, blank: bool = False) -> Parser:
    def parse(_s: Session, value: Any, _row: Any) -> str:
        out = _as_text(value)
        if blank and out == "":
            return ""
        if out not in options:
            raise Invalid("choice", options=", ".join(options))
        return out
    return parse


def integer(low: int, high: int) -> Parser:
    def parse(_s: Session, value: Any, _row: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("not_integer")
        try:
            out = int(_as_text(value)) if not isinstance(value, int) else value
        except ValueError:
            raise Invalid("not_integer") from None
        if not low <= out <= high:
            raise Invalid("range", low=low, high=high)
        return out
    return parse


def boolean(_s: Session, value: Any, _row: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _as_text(value).lower()
    if word in ("1", "true", "yes", "y", "是"):
        return True
    if word in ("0", "false", "no", "n", "否"):
        return False
    raise Invalid("not_boolean")


def phone_number(*, blank: bool = True) -> Parser:
    """A phone number, stored as digits without +86 (as the lists keep them)."""

    def parse(_s: Session, value: Any, _row: Any) -> str:
        raw = _as_text(value)
        if raw == "" and blank:
            return ""
        if not re.fullmatch(r"[\d\s()+-]+", raw):
            raise Invalid("phone_chars")
        out = normalize_number(raw)
        if not 3 <= len(out) <= 20:
            raise Invalid("phone_length")
        return out
    return parse


def reference(model: type, key: InstrumentedAttribute[Any], what: str, *,
              optional: bool = False, active_only: bool = True) -> Parser:
    """Another record, named by its id (a number in JSON) or its key (text:
    a team's code, an agent's number, a department's code); stores the id."""

    def parse(s: Session, value: Any, _row: Any) -> int | None:
        if value is None or value == "":
            if optional:
                return None
            raise Invalid("required")
        if isinstance(value, int) and not isinstance(value, bool):
            found = s.get(model, value)
        else:
            found = s.scalar(select(model).where(key == _as_text(value)))
        if found is None:
            raise Invalid("no_such", what=what, value=value)
        if active_only and not getattr(found, "active", True):
            raise Invalid("deactivated", what=what, value=value)
        return int(found.id)
    return parse


def skills(_s: Session, value: Any, _row: Any) -> str:
    """Queue penalties per category, "complaint:0,help:1" (lower rings first)."""
    raw = _as_text(value).replace("，", ",").replace("：", ":")
    out = []
    seen = set()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, colon, penalty = part.partition(":")
        name = name.strip()
        if name not in CATEGORIES:
            raise Invalid("skill_category", value=name, options=", ".join(CATEGORIES))
        if name in seen:
            raise Invalid("skill_twice", value=name)
        seen.add(name)
        penalty = penalty.strip() if colon else "0"
        if not penalty.isdigit() or int(penalty) > 99:
            raise Invalid("skill_penalty", value=name)
        out.append(f"{name}:{int(penalty)}")
    result = ",".join(out)
    if len(result) > 200:
        raise Invalid("too_long", max=200)
    return result


def phone_interface(_s: Session, value: Any, _row: Any) -> str:
    """The agent's phone as the queue rings it: a PJSIP endpoint ("PJSIP/1001",
    or just "1001").  Asterisk 22 has no chan_sip; PJSIP is the SIP channel."""
    raw = _as_text(value)
    tech, slash, name = raw.partition("/")
    if not slash:
        tech, name = "PJSIP", raw
    if tech.upper() != "PJSIP":
        raise Invalid("not_pjsip")
    if not re.fullmatch(r"[A-Za-z0-9_.+-]{1,40}", name):
        raise Invalid("endpoint_name")
    return f"PJSIP/{name}"
