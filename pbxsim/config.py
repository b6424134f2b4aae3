"""Asterisk configuration files: generic parser, dialplan, queues, manager users.

Supports what the project's configs use: ``[section]``, templates
(``[name](!)`` defines one, ``[name](tpl1,tpl2)`` inherits), ``key = value``
and ``key => value``, ``;`` comments (``\\;`` is a literal semicolon),
``exten =>`` / ``same =>`` with ``n``, ``n(label)`` and numeric priorities,
``include =>`` and ``[globals]``.  ``#include`` lines are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pbx.conf_reader import exten_order


class ConfigError(ValueError):
    """A configuration line that cannot be understood."""


@dataclass
class Section:
    """One ``[name]`` block.  ``options`` keep file order and repeats."""

    name: str
    options: list[tuple[str, str]] = field(default_factory=list)
    is_template: bool = False
    templates: list[str] = field(default_factory=list)


def _strip_comment(line: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


_HEADER = re.compile(r"^\[(?P<name>[^\]]+)\]\s*(?:\((?P<opts>[^)]*)\))?\s*$")


def parse_conf(text: str) -> list[Section]:
    """Parse config text into sections, templates applied.

    A section that names templates gets their options first, then its own;
    template sections themselves are returned too (``is_template``) so
    callers can skip them.
    """
    sections: list[Section] = []
    by_name: dict[str, Section] = {}
    current: Section | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line or line.startswith("#"):
            continue
        m = _HEADER.match(line)
        if m:
            current = Section(m.group("name").strip())
            for opt in (m.group("opts") or "").split(","):
                opt = opt.strip()
                if opt == "!":
                    current.is_template = True
                elif opt:
                    current.templates.append(opt)
            for tpl in current.templates:
                base = by_name.get(tpl)
                if base is None:
                    raise ConfigError(f"line {lineno}: unknown template {tpl!r}")
                current.options.extend(base.options)
            sections.append(current)
            by_name[current.name] = current
            continue
        if current is None:
            raise ConfigError(f"line {lineno}: option outside a section: {line!r}")
        eq = line.find("=")
        if eq >= 0 and line.startswith("=>", eq):
            key, _, value = line.partition("=>")
        else:
            key, sep, value = line.partition("=")
            if not sep:
                raise ConfigError(f"line {lineno}: expected key = value: {line!r}")
        current.options.append((key.strip(), value.strip()))
    return sections


def read_conf(path: Path) -> list[Section]:
    """Sections of a file, or none when it does not exist."""
    if not path.exists():
        return []
    return parse_conf(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------
# Dialplan


@dataclass
class Step:
    """One priority: the application and its (unsubstituted) data."""

    priority: int
    app: str
    data: str
    label: str | None = None


@dataclass
class Extension:
    pattern: str
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)

    def matches(self, exten: str) -> bool:
        return pattern_matches(self.pattern, exten)


@dataclass
class Context:
    name: str
    extensions: list[Extension] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    body = pattern[1:]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch in "Xx":
            out.append("[0-9]")
        elif ch in "Zz":
            out.append("[1-9]")
        elif ch in "Nn":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch == "[":
            end = body.index("]", i)
            out.append("[" + re.escape(body[i + 1 : end]).replace("\\-", "-") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$")


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def pattern_matches(pattern: str, exten: str) -> bool:
    """Asterisk extension matching: literal, or ``_`` pattern (X Z N . ! [..])."""
    if not pattern.startswith("_"):
        return pattern == exten
    rx = _REGEX_CACHE.get(pattern)
    if rx is None:
        rx = _REGEX_CACHE[pattern] = _pattern_regex(pattern)
    return bool(rx.match(exten))


def split_app(text: str) -> tuple[str, str]:
    """``App(args)`` -> (App, args); ``App`` alone -> (App, "")."""
    text = text.strip()
    i = text.find("(")
    if i < 0:
        return text, ""
    data = text[i + 1 :]
    if data.endswith(")"):
        data = data[:-1]
    return text[:i].strip(), data


class Dialplan:
    """extensions.conf: contexts, extensions and ``[globals]``."""

    def __init__(self) -> None:
        self.contexts: dict[str, Context] = {}
        self.globals: dict[str, str] = {}

    @classmethod
    def from_text(cls, text: str) -> Dialplan:
        dp = cls()
        for section in parse_conf(text):
            if section.is_template:
                continue
            if section.name == "general":
                continue
            if section.name == "globals":
                for k, v in section.options:
                    dp.globals[k] = v
                continue
            ctx = dp.contexts.setdefault(section.name, Context(section.name))
            dp._add_context_lines(ctx, section.options)
        return dp

    def _add_context_lines(self, ctx: Context, options: list[tuple[str, str]]) -> None:
        last: Extension | None = None
        last_prio = 0
        for key, value in options:
            key = key.lower()
            if key == "include":
                ctx.includes.append(value.strip())
                continue
            if key not in ("exten", "same"):
                continue
            if key == "exten":
                pattern, _, rest = value.partition(",")
                pattern = pattern.strip()
                last = next((e for e in ctx.extensions if e.pattern == pattern), None)
                if last is None:
                    last = Extension(pattern)
                    ctx.extensions.append(last)
                    ctx.extensions.sort(key=lambda e: exten_order(e.pattern))
                last_prio = max(last.steps) if last.steps else 0
            else:
                if last is None:
                    raise ConfigError(f"'same =>' before any 'exten =>' in [{ctx.name}]")
                rest = value
            prio_text, _, app_text = rest.partition(",")
            prio_text = prio_text.strip()
            label = None
            m = re.match(r"^([^()]+)\(([^)]*)\)$", prio_text)
            if m:
                prio_text, label = m.group(1).strip(), m.group(2).strip()
            if prio_text == "n":
                prio = last_prio + 1
            elif prio_text == "s":
                prio = last_prio
            elif prio_text.lower() == "hint":
                continue
            else:
                prio = int(prio_text)
            app, data = split_app(app_text)
            last.steps[prio] = Step(prio, app, data, label)
            if label:
                last.labels[label] = prio
            last_prio = prio

    def find(
        self, context: str, exten: str, _seen: frozenset[str] = frozenset()
    ) -> Extension | None:
        """The extension that handles ``exten`` in ``context`` (includes followed)."""
        ctx = self.contexts.get(context)
        if ctx is None or context in _seen:
            return None
        for ext in ctx.extensions:
            if ext.matches(exten):
                return ext
        for inc in ctx.includes:
            found = self.find(inc, exten, _seen | {context})
            if found is not None:
                return found
        return None

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        ext = self.find(context, exten)
        return ext is not None and priority in ext.steps


# --------------------------------------------------------------------------
# queues.conf and manager.conf


@dataclass
class QueueConfig:
    """The options app_queue honours here (queues.conf names, parsed)."""

    name: str
    strategy: str = "ringall"
    timeout: int = 15
    retry: int = 5
    wrapuptime: int = 0
    maxlen: int = 0
    joinempty: str = "yes"
    leavewhenempty: str = "no"
    ringinuse: bool = True
    setinterfacevar: bool = False
    setqueueentryvar: bool = False
    setqueuevar: bool = False
    servicelevel: int = 0
    autopause: str = "no"
    autopausedelay: int = 0
    autofill: bool = False
    weight: int = 0
    penaltymemberslimit: int = 0
    members: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "true", "y", "t", "1", "on")


def load_queues(path: Path) -> tuple[dict[str, str], dict[str, QueueConfig]]:
    """([general] options, queues by name) from a queues.conf."""
    general: dict[str, str] = {}
    queues: dict[str, QueueConfig] = {}
    for section in read_conf(path):
        if section.is_template:
            continue
        if section.name == "general":
            general.update({k.lower(): v for k, v in section.options})
            continue
        q = QueueConfig(section.name, autofill=is_true(general.get("autofill")))
        for key, value in section.options:
            key = key.lower()
            q.raw[key] = value
            if key == "member":
                q.members.append(value)
            elif key in (
                "timeout",
                "retry",
                "wrapuptime",
                "maxlen",
                "servicelevel",
                "autopausedelay",
                "weight",
                "penaltymemberslimit",
            ):
                setattr(q, key, int(value or 0))
            elif key in (
                "ringinuse",
                "setinterfacevar",
                "setqueueentryvar",
                "setqueuevar",
                "autofill",
            ):
                setattr(q, key, is_true(value))
            elif key in ("strategy", "joinempty", "leavewhenempty", "autopause"):
                setattr(q, key, value.strip().lower())
        queues[q.name] = q
    return general, queues


@dataclass
class ManagerUser:
    name: str
    secret: str = ""
    read: set[str] = field(default_factory=set)
    write: set[str] = field(default_factory=set)
    acl: list[tuple[str, str]] = field(default_factory=list)  # ("permit"|"deny", "net/mask")


def _classes(value: str) -> set[str]:
    return {c.strip().lower() for c in value.split(",") if c.strip()}


def load_manager(path: Path) -> tuple[dict[str, str], dict[str, ManagerUser]]:
    """([general] options, users by name) from a manager.conf."""
    general: dict[str, str] = {}
    users: dict[str, ManagerUser] = {}
    for section in read_conf(path):
        if section.is_template:
            continue
        if section.name == "general":
            general.update({k.lower(): v for k, v in section.options})
            continue
        user = ManagerUser(section.name)
        for key, value in section.options:
            key = key.lower()
            if key == "secret":
                user.secret = value
            elif key == "read":
                user.read |= _classes(value)
            elif key == "write":
                user.write |= _classes(value)
            elif key in ("permit", "deny"):
                user.acl.append((key, value.strip()))
        users[user.name] = user
    return general, users
