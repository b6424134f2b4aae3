"""Read Asterisk configuration files the way Asterisk 22 reads them.

Parsing is pyst2's ``asterisk.config`` (its ``Line``/``Category``/``Item``
classes split values and comments).  pyst2 knows only plain ``[name]``
headers and raises ``ParseError`` on Asterisk's template syntax
(``[name](!)``, ``[name](tpl1,tpl2)``, ``[name](+)``), which our
queues.conf and pjsip.conf use.  :class:`TemplateAwareConfig` subclasses
pyst2's ``Config`` and handles those header suffixes itself, then resolves
inheritance the way Asterisk's config.c does: a section that names bases
gets copies of their options (in order) before its own; a base must be
defined *earlier* in the file, or Asterisk refuses the whole file.

The dialplan model (:class:`Dialplan`) turns extensions.conf into contexts,
extensions and priorities so the checker can follow references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from asterisk.config import Category, Config, Item, Line, ParseError

# Placeholder for "\;" (a literal semicolon) while pyst2 splits off comments.
_SEMI = "\x00"
_HEADER = re.compile(r"^\[(?P<name>[^\]]*)\]\s*\((?P<suffix>[^)]*)\)\s*(?P<comment>;.*)?$")


@dataclass(frozen=True)
class Option:
    """One ``name = value`` (or ``name => value``) line."""

    name: str
    value: str
    line: int
    inherited: bool = False  # copied from a template/base section


@dataclass
class Section:
    """One ``[name]`` block with its options in file order (repeats kept)."""

    name: str
    line: int
    options: list[Option] = field(default_factory=list)
    template: bool = False
    bases: tuple[str, ...] = ()

    def all(self, name: str) -> list[Option]:
        """Every option called ``name`` (case-insensitive), in order."""
        key = name.lower()
        return [o for o in self.options if o.name.lower() == key]

    def option(self, name: str) -> Option | None:
        """The last option called ``name``: the one Asterisk keeps for single values."""
        found = self.all(name)
        return found[-1] if found else None

    def get(self, name: str, default: str | None = None) -> str | None:
        opt = self.option(name)
        return opt.value if opt else default


@dataclass
class ConfFile:
    """A parsed file: sections (templates included), and what went wrong."""

    path: Path
    sections: list[Section] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    directives: list[tuple[int, str]] = field(default_factory=list)  # #include, #exec

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def active(self) -> list[Section]:
        """The sections Asterisk acts on: templates (``(!)``) are hidden from modules."""
        return [s for s in self.sections if not s.template]

    def named(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name]

    def first(self, name: str) -> Section | None:
        found = self.named(name)
        return found[0] if found else None


class TemplateAwareConfig(Config):
    """pyst2's ``Config``, taught Asterisk's section header suffixes.

    pyst2's own ``Category`` requires the line to end in ``]``; we strip the
    ``(...)`` suffix before handing the header to it and keep the suffix in
    :attr:`suffixes`.  Errors are collected (with line numbers) instead of
    stopping at the first one, so a lint reports every bad line.
    """

    def __init__(self, filename: str | Path) -> None:
        self.errors: list[tuple[int, str]] = []
        self.directives: list[tuple[int, str]] = []
        self.suffixes: dict[int, str] = {}  # id(Category) -> text inside (...)
        super().__init__(str(filename))

    def load(self) -> None:
        # pyst2 opens with the locale's encoding; Asterisk files are UTF-8.
        with open(self.filename, encoding="utf-8", errors="replace") as fh:
            self.raw_lines = fh.readlines()

    def parse(self) -> None:
        cat: Category | None = None
        in_block = False
        for num, raw in enumerate(self.raw_lines, 1):
            text = raw.strip()
            if in_block:  # Asterisk's ;-- block comments --;
                in_block = "--;" not in text
                continue
            if text.startswith(";--") and "--;" not in text[3:]:
                in_block = True
                continue
            text = text.replace("\\;", _SEMI)
            try:
                if not text or text[0] == ";":
                    item: Line = Line(text, num)
                    self.lines.append(item)
                    if cat:
                        cat.comments.append(item)
                elif text[0] == "#":
                    self.directives.append((num, text.split(";")[0].strip()))
                elif text[0] == "[":
                    cat = self._category(text, num)
                    self.lines.append(cat)
                    self.categories.append(cat)
                else:
                    item = Item(text, num)
                    item.value = item.value.strip().replace(_SEMI, ";")
                    self.lines.append(item)
                    if cat is None:
                        self.errors.append((num, "option outside any [section]"))
                    else:
                        cat.append(item)
            except ParseError as exc:
                # pyst2 raises ParseError(line_number, message).
                line = exc.args[0] if exc.args and isinstance(exc.args[0], int) else num
                message = exc.args[1] if len(exc.args) > 1 else str(exc)
                self.errors.append((line, str(message)))

    def _category(self, text: str, num: int) -> Category:
        match = _HEADER.match(text)
        if match is None:
            return Category(text, num)
        header = f"[{match.group('name')}]" + (match.group("comment") or "")
        cat = Category(header, num)
        self.suffixes[id(cat)] = match.group("suffix")
        return cat


def read_conf(path: str | Path) -> ConfFile:
    """Parse one file and resolve templates; never raises on bad content."""
    path = Path(path)
    raw = TemplateAwareConfig(path)
    conf = ConfFile(path, errors=list(raw.errors), directives=list(raw.directives))
    for cat in raw.categories:
        name = cat.name.strip()
        suffix = raw.suffixes.get(id(cat), "")
        flags = [f.strip() for f in suffix.split(",") if f.strip()]
        own = [Option(i.name.strip(), i.value, i.number) for i in cat.items]
        if any(f.startswith("+") for f in flags):
            # [name](+): more options for an earlier section of that name.
            target = conf.first(name)
            if target is None:
                conf.errors.append((cat.number, f"[{name}](+) adds to a section that does not "
                                                "exist above it; Asterisk refuses the file"))
                continue
            target.options.extend(own)
            continue
        section = Section(name, cat.number, template="!" in flags,
                          bases=tuple(f for f in flags if f != "!"))
        for base_name in section.bases:
            base = conf.first(base_name)
            if base is None:
                conf.errors.append((cat.number, f"[{name}] inherits from '{base_name}', which is "
                                                "not defined above it; Asterisk refuses the file"))
                continue
            section.options.extend(Option(o.name, o.value, o.line, True) for o in base.options)
        section.options.extend(own)
        conf.sections.append(section)
    return conf


# --------------------------------------------------------------------------
# Dialplan

_OPEN = {"(": ")", "[": "]", "{": "}"}


def split_top(text: str, seps: str = ",", maxsplit: int = -1) -> list[str]:
    """Split at separators outside (), [], {} and quotes, as Asterisk splits app args.

    ``\\`` escapes the next character (kept as written).
    """
    parts: list[str] = []
    depth: list[str] = []
    quoted = False
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in _OPEN:
                depth.append(_OPEN[ch])
            elif depth and ch == depth[-1]:
                depth.pop()
            elif not depth and ch in seps and (maxsplit < 0 or len(parts) < maxsplit):
                parts.append("".join(current))
                current = []
                i += 1
                continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Step:
    """One priority of an extension: ``app(data)``."""

    context: str
    exten: str
    priority: str  # "1", "n", "hint", ...
    label: str | None
    app: str
    data: str
    line: int


@dataclass
class Context:
    name: str
    line: int
    extensions: dict[str, list[Step]] = field(default_factory=dict)
    includes: list[Option] = field(default_factory=list)

    def matching(self, exten: str) -> list[str]:
        """The extension names (exact or ``_pattern``) that would match ``exten``."""
        return [e for e in self.extensions if exten_matches(e, exten)]


_DIGITS = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


@dataclass(frozen=True)
class ExtenShape:
    """What dialled text an extension name matches, as Asterisk 22's
    ``_extension_match_core`` (main/pbx.c) decides it for a full match:
    one set of characters per position, then ``rest``: ``""`` (nothing
    more), ``"."`` (one or more of anything) or ``"!"`` (zero or more);
    ``by_caller``: a ``/callerid`` part limits it to some callers."""

    positions: tuple[frozenset[str], ...]
    rest: str = ""
    by_caller: bool = False

    def matches(self, text: str) -> bool:
        text = text.replace("-", "")  # eye-candy fluff, ignored in the dialled text too
        n = len(self.positions)
        if len(text) < n or (self.rest == "" and len(text) > n) or (
                self.rest == "." and len(text) == n):
            return False
        return all(ch in allowed for ch, allowed in zip(text, self.positions, strict=False))


def exten_shape(name: str) -> ExtenShape | None:
    """``name``'s :class:`ExtenShape`; None when it matches nothing (a ``[``
    without ``]``, or an empty ``[]`` where the dialled text would end)."""
    name, slash, _cid = name.partition("/")
    if not name.startswith("_"):
        return ExtenShape(tuple(frozenset(c) for c in name if c != "-"), "", bool(slash))
    positions: list[frozenset[str]] = []
    rest, dangling, i, body = "", False, 0, name[1:]
    while i < len(body):
        c = body[i]
        i += 1
        if c == "-":
            continue
        if c.upper() in _DIGITS:
            positions.append(frozenset(_DIGITS[c.upper()]))
        elif c in ".!":
            rest = c
            break
        elif c == "[":
            end = body.find("]", i)
            if end < 0:
                return None  # Asterisk: "Wrong usage of [] in the extension", no match
            if end == i:  # "[]" is skipped, but the text may not end on it
                i, dangling = end + 1, True
                continue
            chars: set[str] = set()
            j = i
            while j < end:
                if j + 2 < end and body[j + 1] == "-":  # a range; "z-a" is empty
                    chars.update(chr(o) for o in range(ord(body[j]), ord(body[j + 2]) + 1))
                    j += 3
                else:
                    chars.add(body[j])
                    j += 1
            i = end + 1
            positions.append(frozenset(chars))
        else:
            positions.append(frozenset(c))
        dangling = False
    if dangling:
        if rest == "":
            return None
        rest = "." if rest == "!" else rest
    return ExtenShape(tuple(positions), rest, bool(slash))


_WILD = {ord("."): 0x18000, ord("!"): 0x28000}  # "!" is less specific than "."
_BYTE_CLASSES = {ord(k): v.encode() for k, v in _DIGITS.items()} | {
    ord(k.lower()): v.encode() for k, v in _DIGITS.items()}


def exten_order(name: str) -> tuple[object, ...]:
    """A sort key that puts extension names in the order Asterisk 22 keeps a
    context's extensions and tries them for a dialled number (``ext_cmp``,
    main/pbx.c; the first that matches, and has the priority, answers):
    literal numbers before patterns; patterns compared position by position,
    the smaller character set first (a digit, then ``N`` (8), ``Z`` (9),
    ``X`` (10), ``[...]`` by its size), equal sizes by their lowest character
    and then by the set holding the lower characters, ``.`` after any set,
    ``!`` after ``.``, and a pattern that ends after one that goes on; the
    same name limited to some callers (``/callerid``) before the unlimited one."""
    exten, slash, cid = name.partition("/")
    if slash:
        return (*_exten_order(exten), 0, _exten_order(cid))
    return (*_exten_order(exten), 1, ())


def _exten_order(name: str) -> tuple[object, ...]:
    data = name.replace(" ", "").encode()  # Asterisk drops spaces when it stores names
    if not data.startswith(b"_"):
        return (0, data.replace(b"-", b""))
    return (1, _pattern_order(data[1:]))


def _pattern_order(body: bytes) -> tuple[tuple[int, int], ...]:
    """``ext_cmp_pattern_pos`` for each position: (set size << 8 | its lowest
    character, then minus the set as ``bitwise`` reads for ``memcmp``)."""
    out: list[tuple[int, int]] = []
    i = 0
    while True:
        while i < len(body) and body[i] == ord("-"):
            i += 1
        if i == len(body):
            out.append((0x30000, 0))  # the end comes after everything
            return tuple(out)
        c = body[i]
        i += 1
        if c in _WILD:
            out.append((_WILD[c], 0))
            continue
        if c != ord("["):
            chars = _BYTE_CLASSES.get(c, bytes([c]))
            low = min(chars)
        else:
            end = body.find(b"]", i)
            if end < 0:
                out.append((0x40000, 0))  # "Wrong usage of [] in the extension"
                continue
            found: set[int] = set()
            low, j = 0xFF, i
            while j < end:
                first = last = body[j]
                if j + 2 < end and body[j + 1] == ord("-"):  # a range
                    last = body[j + 2]
                    j += 2
                j += 1
                low = min(low, first)  # as in Asterisk, even when the range is empty
                found.update(range(first, last + 1))
            i = end + 1
            if not found:
                continue  # an empty set is skipped
            chars = bytes(sorted(found))
        bits = sum(1 << (255 - ch) for ch in chars)
        out.append(((len(chars) << 8) | low, -bits))


def exten_matches(pattern: str, exten: str) -> bool:
    """Whether dialplan extension ``pattern`` matches the literal ``exten``."""
    shape = exten_shape(pattern)
    return shape is not None and shape.matches(exten)


_PRIORITY = re.compile(r"^(?P<prio>[^(]*)(?:\((?P<label>[^)]*)\))?$")


@dataclass
class Dialplan:
    """extensions.conf as contexts; ``errors`` are lines Asterisk would reject."""

    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, Option] = field(default_factory=dict)
    general: Section | None = None
    unknown: list[Option] = field(default_factory=list)  # directives Asterisk ignores
    errors: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def from_conf(cls, conf: ConfFile) -> Dialplan:
        plan = cls()
        for section in conf.active:
            if section.name.lower() == "general":
                plan.general = section
                continue
            if section.name.lower() == "globals":
                plan.globals.update({o.name: o for o in section.options})
                continue
            ctx = plan.contexts.setdefault(section.name, Context(section.name, section.line))
            last_exten: str | None = None
            for opt in section.options:
                key = opt.name.lower()
                if key == "include":
                    ctx.includes.append(opt)
                elif key in ("exten", "same"):
                    if key == "exten":
                        exten, _, rest = opt.value.partition(",")
                        last_exten = exten.strip()
                    elif last_exten is None:
                        plan.errors.append((opt.line, "'same =>' with no 'exten =>' before it"))
                        continue
                    else:
                        rest = opt.value
                    step = _step(ctx.name, last_exten, rest, opt.line)
                    if step is None:
                        plan.errors.append((opt.line, f"cannot read priority in {opt.value!r}"))
                        continue
                    ctx.extensions.setdefault(last_exten, []).append(step)
                elif key not in ("ignorepat", "switch", "eswitch", "lswitch", "autohints"):
                    plan.unknown.append(opt)
        return plan

    def resolve(self, text: str) -> str:
        """Substitute ``${NAME}`` for [globals] values (what the dialplan sees at run time)."""
        for _ in range(5):  # globals may refer to globals
            new = re.sub(r"\$\{(\w+)\}", lambda m: self.globals[m.group(1)].value
                         if m.group(1) in self.globals else m.group(0), text)
            if new == text:
                break
            text = new
        return text

    def target_error(self, step: Step, target: str, gosub: bool = False) -> str | None:
        """Why a Goto/Gosub destination ``[[context,]exten,]priority`` from ``step``
        leads nowhere, or None when it exists (or depends on run-time values)."""
        parts = [self.resolve(p.strip()) for p in split_top(target.strip())]
        if gosub:
            parts[-1] = parts[-1].split("(")[0].strip()  # Gosub(ctx,exten,1(args))
        if len(parts) > 3:
            return f"{step.app}: '{target}' has more than 3 parts"
        context = parts[0] if len(parts) == 3 else step.context
        exten = parts[-2] if len(parts) >= 2 else step.exten
        prio = parts[-1]
        if is_dynamic(context) or is_dynamic(exten):
            return None
        ctx = self.contexts.get(context)
        if ctx is None:
            return f"{step.app} to context '{context}', which does not exist"
        extens = [exten] if len(parts) == 1 else ctx.matching(exten)
        if not extens or extens[0] not in ctx.extensions:
            return (f"{step.app} to extension '{exten}' of context '{context}', which has "
                    "none matching it")
        labels = {s.label for e in extens for s in ctx.extensions[e]}
        if prio and not prio.isdigit() and not is_dynamic(prio) and prio not in labels:
            return (f"{step.app} to label '{prio}', which extension '{extens[0]}' of context "
                    f"'{context}' does not have")
        return None


def is_dynamic(text: str) -> bool:
    """Whether text still depends on run-time variables or expressions."""
    return "${" in text or "$[" in text


def _step(context: str, exten: str, rest: str, line: int) -> Step | None:
    prio_text, _, app_text = rest.partition(",")
    match = _PRIORITY.match(prio_text.strip())
    if match is None:
        return None
    prio = match.group("prio").strip()
    if prio.lower() == "hint":
        return Step(context, exten, "hint", None, "", app_text.strip(), line)
    app_text = app_text.strip()
    app, paren, data = app_text.partition("(")
    if paren and data.endswith(")"):
        data = data[:-1]
    return Step(context, exten, prio, match.group("label"), app.strip(), data, line)

