"""The numbers a call placed for an agent may dial, as Asterisk dial patterns.

One list (the routing rules' ``callback_numbers``) gives both the
backend's check before it Originates and the ``[callback-out]`` dialplan
that `hotline asterisk-conf render` writes, so the two cannot drift apart
and a number the backend lets through is one the trunk dials.

Patterns follow Asterisk 22's extension matching (main/pbx.c,
ext_cmp_pattern_pos): after the leading ``_``, ``X`` is 0-9, ``Z`` 1-9,
``N`` 2-9, ``[...]`` a set with ranges, ``-`` is ignored; a pattern
without ``_`` is one literal number.  Toll-fraud guards: only
fixed-length patterns of digits (no ``.`` or ``!``), nothing that can
match an international number (``00...`` or ``+...``).
"""

from __future__ import annotations

import re

# Mainland mobiles and the city's landlines (7 or 8 digits, with or without
# its area code 0917).
DEFAULT_CALLBACK_PATTERNS = [
    "_1[3-9]XXXXXXXXX",
    "_NXXXXXX",
    "_NXXXXXXX",
    "_0917NXXXXXX",
    "_0917NXXXXXXX",
]
CONTEXT = "callback-out"  # the dialplan context calls placed for agents go through
# Extensions in [callback-out] that hang up whatever the list says.
NEVER_DIALLED = ("_00.", "_+.")
MIN_DIGITS, MAX_DIGITS = 3, 20

_CLASSES = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


class DialPatternError(ValueError):
    pass


def positions(pattern: str) -> list[str]:
    """Each position of ``pattern`` as the set of characters it matches."""
    if not pattern.startswith("_"):
        if not pattern.isdigit():
            raise DialPatternError("a literal number must be digits only")
        return list(pattern)
    out: list[str] = []
    body = pattern[1:]
    i = 0
    while i < len(body):
        c = body[i].upper()
        i += 1
        if c == "-":
            continue  # Asterisk ignores it outside brackets
        if c in _CLASSES:
            out.append(_CLASSES[c])
        elif c.isdigit():
            out.append(c)
        elif c == "[":
            end = body.find("]", i)
            if end < 0:
                raise DialPatternError("'[' without ']'")
            out.append(_bracket(body[i:end]))
            i = end + 1
        elif c in ".!":
            raise DialPatternError(f"'{c}' matches numbers of any length; list fixed lengths")
        else:
            raise DialPatternError(f"{body[i - 1]!r} is not a digit, X, Z, N or [...]")
    return out


def _bracket(inside: str) -> str:
    chars: set[str] = set()
    i = 0
    while i < len(inside):
        c = inside[i]
        if i + 2 < len(inside) and inside[i + 1] == "-":
            low, high = c, inside[i + 2]
            if not (low.isdigit() and high.isdigit()) or low > high:
                raise DialPatternError(f"bad range {low}-{high}")
            chars.update(str(d) for d in range(int(low), int(high) + 1))
            i += 3
            continue
        if not c.isdigit():
            raise DialPatternError(f"{c!r} in [...] is not a digit")
        chars.add(c)
        i += 1
    if not chars:
        raise DialPatternError("empty [...]")
    return "".join(sorted(chars))


def problem(pattern: object) -> str | None:
    """Why ``pattern`` may not be on the list, or None."""
    if not isinstance(pattern, str) or not pattern:
        return "not an Asterisk dial pattern (a string such as _1[3-9]XXXXXXXXX)"
    try:
        spots = positions(pattern)
    except DialPatternError as exc:
        return f"{pattern!r}: {exc}"
    if not MIN_DIGITS <= len(spots) <= MAX_DIGITS:
        return f"{pattern!r}: numbers of {MIN_DIGITS} to {MAX_DIGITS} digits only"
    if "0" in spots[0] and "0" in spots[1]:
        return f"{pattern!r}: would allow international numbers (00...)"
    return None


def to_regex(pattern: str) -> re.Pattern[str]:
    """The backend's check for one (valid) pattern: a full match of its digits."""
    return re.compile("".join(re.escape(p) if len(p) == 1 else f"[{p}]"
                              for p in positions(pattern)))


def allowed(number: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    return any(p.fullmatch(number) for p in patterns)


def callback_out_context(patterns: list[str], trunk: str = "trunk") -> str:
    """The ``[callback-out]`` dialplan for the list: each pattern dials the
    trunk; international numbers hang up."""
    lines = [
        "; Outbound calls placed for an agent (callbacks, 回访): the agent's phone",
        "; rings first (Originate), then the citizen is dialled through the trunk.",
        "; Written from the routing rules' callback_numbers by `hotline asterisk-conf",
        "; render`: the same list the backend checks before it Originates.",
        f"[{CONTEXT}]",
    ]
    for pattern in patterns:
        lines += [f"exten => {pattern},1,NoOp(Call placed for an agent)",
                  f" same => n,Dial(PJSIP/${{EXTEN}}@{trunk},30)",
                  " same => n,Hangup()"]
    for pattern in NEVER_DIALLED:
        lines += [f"exten => {pattern},1,NoOp(International numbers are never dialled)",
                  " same => n,Hangup(21)"]
    return "\n".join(lines) + "\n"
