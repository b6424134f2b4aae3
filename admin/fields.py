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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from routing.rules import CATEGORIES, normalize_number


class Invalid(ValueError):
    """One field's value is refused (the message says why)."""


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class AdminError(ValueError):
    """A record was refused: every problem found, each naming its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, field: str, message: str) -> AdminError:
        return cls([Problem(field, message)])


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
        raise Invalid("must be text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 1001.0
    return str(value).strip()


def text(max_len: int, *, min_len: int = 1, pattern: str | None = None,
         hint: str = "") -> Parser:
    compiled = re.compile(pattern) if pattern else None

    def parse(_s: Session, value: Any, _row: Any) -> str:
        out = _as_text(value)
        if len(out) < min_len:
            raise Invalid("is required" if min_len == 1 else f"needs {min_len} characters")
        if len(out) > max_len:
            raise Invalid(f"at most {max_len} characters")
        if compiled is not None and out and not compiled.fullmatch(out):
            raise Invalid(hint or f"must match {pattern}")
        return out
    return parse


def unique(parser: Parser, attr: InstrumentedAttribute[Any], what: str) -> Parser:
    """``parser``, and no other row of the table has the value."""

    def parse(s: Session, value: Any, row: Any) -> Any:
        out = parser(s, value, row)
        other = s.scalar(select(attr.class_).where(attr == out))
        if other is not None and other is not row:
            raise Invalid(f"{what} {out} already exists")
        return out
    return parse


def choice(options: tuple[str, ...], *, blank: bool = False) -> Parser:
    def parse(_s: Session, value: Any, _row: Any) -> str:
        out = _as_text(value)
        if blank and out == "":
            return ""
        if out not in options:
            raise Invalid(f"one of {', '.join(options)}")
        return out
    return parse


def integer(low: int, high: int) -> Parser:
    def parse(_s: Session, value: Any, _row: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("must be a whole number")
        try:
            out = int(_as_text(value)) if not isinstance(value, int) else value
        except ValueError:
            raise Invalid("must be a whole number") from None
        if not low <= out <= high:
            raise Invalid(f"from {low} to {high}")
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
    raise Invalid("true or false")


def phone_number(*, blank: bool = True) -> Parser:
    """A phone number, stored as digits without +86 (as the lists keep them)."""

    def parse(_s: Session, value: Any, _row: Any) -> str:
        raw = _as_text(value)
        if raw == "" and blank:
            return ""
        if not re.fullmatch(r"[\d\s()+-]+", raw):
            raise Invalid("digits only (spaces, -, + and brackets are ignored)")
        out = normalize_number(raw)
        if not 3 <= len(out) <= 20:
            raise Invalid("3 to 20 digits")
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
            raise Invalid("is required")
        if isinstance(value, int) and not isinstance(value, bool):
            found = s.get(model, value)
        else:
            found = s.scalar(select(model).where(key == _as_text(value)))
        if found is None:
            raise Invalid(f"no {what} {value}")
        if active_only and not getattr(found, "active", True):
            raise Invalid(f"{what} {value} is deactivated")
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
            raise Invalid(f"{name!r} is not a category (one of {', '.join(CATEGORIES)})")
        if name in seen:
            raise Invalid(f"{name} is named twice")
        seen.add(name)
        penalty = penalty.strip() if colon else "0"
        if not penalty.isdigit() or int(penalty) > 99:
            raise Invalid(f"{name}: the penalty is a whole number from 0 to 99")
        out.append(f"{name}:{int(penalty)}")
    result = ",".join(out)
    if len(result) > 200:
        raise Invalid("at most 200 characters")
    return result


def phone_interface(_s: Session, value: Any, _row: Any) -> str:
    """The agent's phone as the queue rings it: a PJSIP endpoint ("PJSIP/1001",
    or just "1001").  Asterisk 22 has no chan_sip; PJSIP is the SIP channel."""
    raw = _as_text(value)
    tech, slash, name = raw.partition("/")
    if not slash:
        tech, name = "PJSIP", raw
    if tech.upper() != "PJSIP":
        raise Invalid("a PJSIP endpoint, e.g. PJSIP/1001")
    if not re.fullmatch(r"[A-Za-z0-9_.+-]{1,40}", name):
        raise Invalid("the endpoint name: 1-40 letters, digits, '_', '.', '+' or '-'")
    return f"PJSIP/{name}"
