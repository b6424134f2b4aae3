"""Dialplan variable substitution (``${...}``) and expressions (``$[...]``).

``substitute(text, source)`` expands nested ``${VAR}``, ``${VAR:offset:len}``,
``${FUNC(args)}`` and ``$[expr]`` the way pbx_substitute_variables does.
Channel-bound names (CALLERID, CHANNEL, UNIQUEID, QUEUE_MEMBER, ...) are
answered by the ``source``; generic functions (IF, LEN, STRFTIME, ISNULL,
EXISTS, TOUPPER, TOLOWER, CUT) live here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class VarSource(Protocol):
    def get_var(self, name: str) -> str | None:
        """A variable's value (channel, then globals), None when unset."""

    def call_function(self, name: str, args: str) -> str | None:
        """A channel-bound dialplan function, None when it is not one."""

    def epoch(self) -> float:
        """The current time (seconds since the epoch)."""


def _find_close(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index of the bracket closing the one opened just before ``start``."""
    depth = 1
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def substitute(text: str, source: VarSource) -> str:
    """Expand every ``${...}`` and ``$[...]`` in ``text``."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            end = _find_close(text, i + 2, "{", "}")
            if end < 0:
                out.append(text[i:])
                break
            inner = substitute(text[i + 2 : end], source)
            out.append(_resolve(inner, source))
            i = end + 1
        elif text.startswith("$[", i):
            end = _find_close(text, i + 2, "[", "]")
            if end < 0:
                out.append(text[i:])
                break
            inner = substitute(text[i + 2 : end], source)
            out.append(evaluate(inner))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


_FUNC = re.compile(r"^(?P<name>[A-Za-z0-9_]+)\((?P<args>.*)\)(?P<sub>:.*)?$", re.S)


def _resolve(inner: str, source: VarSource) -> str:
    m = _FUNC.match(inner)
    sub = None
    if m:
        value = _call(m.group("name").upper(), m.group("args"), source)
        sub = m.group("sub")
    else:
        name, sep, sub_rest = inner.partition(":")
        value = source.get_var(name) or ""
        sub = sep + sub_rest if sep else None
    if sub:
        value = _substring(value, sub[1:])
    return value


def _substring(value: str, spec: str) -> str:
    parts = spec.split(":")
    try:
        offset = int(parts[0] or 0)
        length = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        return value
    start = offset if offset >= 0 else max(0, len(value) + offset)
    if length is None:
        return value[start:]
    if length < 0:
        return value[start : len(value) + length]
    return value[start : start + length]


def split_args(args: str, sep: str = ",") -> list[str]:
    """Split application/function arguments on ``sep`` outside quotes/brackets."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(args):
        ch = args[i]
        if ch == "\\" and i + 1 < len(args):
            cur.append(args[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth += 1
        elif not quoted and ch in ")]}":
            depth -= 1
        if ch == sep and depth <= 0 and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def parse_options(text: str) -> dict[str, str]:
    """An application's option letters, as ast_app_parse_options() reads
    them: ``qEx(5)`` -> {"q": "", "E": "", "x": "5"}."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        letter, i = text[i], i + 1
        arg = ""
        if i < len(text) and text[i] == "(":
            end = text.find(")", i)
            end = len(text) if end < 0 else end
            arg, i = text[i + 1 : end], end + 1
        out[letter] = arg
    return out


def is_true(value: str) -> bool:
    """Dialplan truth: non-empty and not numerically zero."""
    value = value.strip()
    if not value:
        return False
    try:
        return float(value) != 0
    except ValueError:
        return True


def _call(name: str, args: str, source: VarSource) -> str:
    if name == "IF":
        cond, _, branches = args.partition("?")
        yes, _, no = branches.partition(":")
        return yes.strip() if is_true(cond) else no.strip()
    if name == "LEN":
        return str(len(args))
    if name == "ISNULL":
        return "1" if args == "" else "0"
    if name == "EXISTS":
        return "0" if args == "" else "1"
    if name == "TOUPPER":
        return args.upper()
    if name == "TOLOWER":
        return args.lower()
    if name == "CUT":
        parts = split_args(args)
        if len(parts) < 3:
            return ""
        value = source.get_var(parts[0]) or ""
        fields = value.split(parts[1] or "-")
        try:
            idx = int(parts[2]) - 1
            return fields[idx] if 0 <= idx < len(fields) else ""
        except ValueError:
            return ""
    if name == "STRFTIME":
        parts = split_args(args)
        while len(parts) < 3:
            parts.append("")
        epoch_text, tz, fmt = parts[0], parts[1], ",".join(parts[2:])
        try:
            epoch = float(epoch_text) if epoch_text.strip() else source.epoch()
        except ValueError:
            epoch = source.epoch()
        zone = ZoneInfo(tz) if tz.strip() else UTC
        return datetime.fromtimestamp(epoch, zone).strftime(fmt or "%c")
    result = source.call_function(name, args)
    return result if result is not None else ""


# --------------------------------------------------------------------------
# $[ ... ]  (ast_expr2 semantics, the common operators)

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>::|!=|<=|>=|==|=~|[|&=<>+\-*/%!():?])|(?P<word>[^\s|&=<>+\-*/%!():?"]+))'
)


class _Str(str):
    """A token that came from a quoted string (never an operator)."""


def _tokens(expr: str) -> list[str]:
    toks: list[str] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            if expr[pos:].strip() == "":
                break
            toks.append(_Str(expr[pos:].strip()))
            break
        pos = m.end()
        if m.group("str") is not None:
            toks.append(_Str(m.group("str")[1:-1].replace('\\"', '"')))
        elif m.group("op") is not None:
            toks.append(m.group("op"))
        elif m.group("word") is not None:
            toks.append(_Str(m.group("word")))
    return toks


def _num(v: str) -> float | None:
    try:
        return float(v)
    except ValueError:
        return None


def _compare(a: float | str, b: float | str) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


class _Parser:
    def __init__(self, toks: list[str]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> str | None:
        if self.i < len(self.toks) and not isinstance(self.toks[self.i], _Str):
            return self.toks[self.i]
        return None

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def ternary(self) -> str:
        cond = self.or_()
        if self.peek() == "?":
            self.take()
            yes = self.or_()
            if self.peek() == "::":
                self.take()
            no = self.or_()
            return yes if is_true(cond) else no
        return cond

    def or_(self) -> str:
        left = self.and_()
        while self.peek() == "|":
            self.take()
            right = self.and_()
            left = left if is_true(left) else (right if is_true(right) else "0")
        return left

    def and_(self) -> str:
        left = self.cmp()
        while self.peek() == "&":
            self.take()
            right = self.cmp()
            left = left if (is_true(left) and is_true(right)) else "0"
        return left

    def cmp(self) -> str:
        left = self.add()
        while self.peek() in ("=", "==", "!=", "<", ">", "<=", ">=", "=~"):
            op = self.take()
            right = self.add()
            if op == "=~":
                m = re.match(right, left)
                left = str(len(m.group(0))) if m else "0"
                continue
            a, b = _num(left), _num(right)
            # Numbers compare numerically, anything else as strings.
            cmp = _compare(a, b) if a is not None and b is not None else _compare(left, right)
            result = {
                "=": cmp == 0,
                "==": cmp == 0,
                "!=": cmp != 0,
                "<": cmp < 0,
                ">": cmp > 0,
                "<=": cmp <= 0,
                ">=": cmp >= 0,
            }[op]
            left = "1" if result else "0"
        return left

    def add(self) -> str:
        left = self.mul()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.mul()
            a, b = _num(left) or 0.0, _num(right) or 0.0
            left = _fmt(a + b if op == "+" else a - b)
        return left

    def mul(self) -> str:
        left = self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.take()
            right = self.unary()
            a, b = _num(left) or 0.0, _num(right) or 0.0
            if op == "*":
                left = _fmt(a * b)
            elif b == 0:
                left = "0"
            elif op == "/":
                left = _fmt(int(a / b) if a == int(a) and b == int(b) else a / b)
            else:
                left = _fmt(a % b)
        return left

    def unary(self) -> str:
        op = self.peek()
        if op == "!":
            self.take()
            return "0" if is_true(self.unary()) else "1"
        if op == "-":
            self.take()
            return _fmt(-(_num(self.unary()) or 0.0))
        return self.atom()

    def atom(self) -> str:
        if self.i >= len(self.toks):
            return ""
        if self.peek() == "(":
            self.take()
            value = self.ternary()
            if self.peek() == ")":
                self.take()
            return value
        return str(self.take())


def evaluate(expr: str) -> str:
    """Evaluate a ``$[...]`` body; errors give "" like a failed Asterisk expr."""
    toks = _tokens(expr)
    if not toks:
        return ""
    try:
        parser = _Parser(toks)
        value = parser.ternary()
        # Leftover tokens: Asterisk concatenates nothing; treat as syntax error.
        return value if parser.i >= len(toks) else value
    except (IndexError, re.error):
        return ""
