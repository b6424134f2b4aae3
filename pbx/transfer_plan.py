"""The dialplan an agent's blind transfer may send a caller to, and its check.

An agent transfers their caller from the console (AMI BlindTransfer on the
agent's channel, pbx.commands).  The caller can land only in these three
contexts, each listing exactly what is allowed, never a free number:

* ``[transfer-queue]``: one extension per service queue (the queue's name);
  the caller is queued there like any 12345 caller (recorded, surveyed).
* ``[transfer-department]``: one extension per department contact number
  (the department data), dialled through the trunk.
* ``[transfer-emergency]``: 110, 119 and 120 only, through the trunk.

``hotline asterisk-conf render`` writes them from the database
(:func:`set_transfer_contexts`); ``asterisk-conf check`` fails when
``[transfer-emergency]`` allows anything but the three numbers, or another
transfer context has a pattern (a free number) or names a missing queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

QUEUE_CONTEXT = "transfer-queue"
DEPARTMENT_CONTEXT = "transfer-department"
EMERGENCY_CONTEXT = "transfer-emergency"
EMERGENCY_NUMBERS = ("110", "119", "120")
CONTEXTS = (QUEUE_CONTEXT, DEPARTMENT_CONTEXT, EMERGENCY_CONTEXT)
_DIGITS = re.compile(r"^[0-9]{3,20}$")
_QUEUE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def _dial(number_line: str, trunk: str, seconds: int) -> list[str]:
    return [number_line,
            f" same => n,Dial(PJSIP/${{EXTEN}}@{trunk},{seconds})",
            " same => n,Hangup()"]


def transfer_contexts(queues: Iterable[str], department_numbers: Iterable[str],
                      trunk: str = "trunk") -> dict[str, str]:
    """The three contexts' text, by name (each ends with a newline)."""
    queue_lines = [
        "; A caller an agent transferred to another service queue (BlindTransfer):",
        "; queued like any 12345 caller.  Written by `hotline asterisk-conf render`.",
        f"[{QUEUE_CONTEXT}]",
    ]
    for name in sorted(set(queues)):
        if not _QUEUE_NAME.match(name):
            raise ValueError(f"queue name {name!r} cannot be a dialplan extension")
        queue_lines += [f"exten => {name},1,Set(HOTLINE_QUEUE=${{EXTEN}})",
                        " same => n,Goto(from-pstn,12345,queue)"]
    dept_lines = [
        "; A caller an agent transferred to a department's own number (the",
        "; department data): exactly those numbers, through the trunk.",
        f"[{DEPARTMENT_CONTEXT}]",
    ]
    for number in sorted(set(department_numbers)):
        if not _DIGITS.match(number):
            raise ValueError(f"department contact number {number!r} is not digits")
        dept_lines += _dial(f"exten => {number},1,NoOp(Transferred to a department)",
                            trunk, 60)
    emergency_lines = [
        "; An emergency the agent hands over: police 110, fire 119, ambulance 120,",
        "; and nothing else (`hotline asterisk-conf check` holds it to these).",
        f"[{EMERGENCY_CONTEXT}]",
    ]
    for number in EMERGENCY_NUMBERS:
        emergency_lines += _dial(f"exten => {number},1,NoOp(Emergency transfer)", trunk, 120)
    return {QUEUE_CONTEXT: "\n".join(queue_lines) + "\n",
            DEPARTMENT_CONTEXT: "\n".join(dept_lines) + "\n",
            EMERGENCY_CONTEXT: "\n".join(emergency_lines) + "\n"}


def set_context(text: str, name: str, rendered: str) -> str:
    """Replace context ``[name]`` (and the comment above it) in extensions.conf
    with ``rendered``; add it at the end when absent."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"[{name}]")), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + rendered
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")),
               len(lines))
    while start > 0 and lines[start - 1].startswith(";"):
        start -= 1
    while end > start and lines[end - 1].startswith(";"):  # the next context's comment
        end -= 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    tail = "".join(lines[end:]).lstrip("\n")
    return "".join(lines[:start]) + rendered + ("\n" + tail if tail else "")


def set_transfer_contexts(text: str, queues: Iterable[str],
                          department_numbers: Iterable[str]) -> str:
    for name, rendered in transfer_contexts(queues, department_numbers).items():
        text = set_context(text, name, rendered)
    return text


def missing(contexts: Iterable[str]) -> list[str]:
    """The transfer contexts absent from a dialplan: the console's transfers
    to them fail (a warning: an Asterisk without the console still works)."""
    present = set(contexts)
    return [f"[{name}] is missing: the console's transfers fail"
            for name in CONTEXTS if name not in present]


def transfer_problems(contexts: dict[str, dict[str, list[tuple[str, int]]]],
                      queue_exists: Callable[[str], bool]) -> list[tuple[int | None, str]]:
    """(line, problem) for the transfer contexts.  ``contexts`` maps a context
    name to its extensions, each a list of (application, line) steps.  A
    context that is absent is not a problem here (see :func:`missing`)."""
    problems: list[tuple[int | None, str]] = []
    emergency = contexts.get(EMERGENCY_CONTEXT)
    if emergency is not None and sorted(emergency) != sorted(EMERGENCY_NUMBERS):
        extra = sorted(set(emergency) - set(EMERGENCY_NUMBERS))
        missing = sorted(set(EMERGENCY_NUMBERS) - set(emergency))
        line = min((steps[0][1] for steps in emergency.values() if steps), default=None)
        problems.append((line, f"[{EMERGENCY_CONTEXT}] must allow exactly 110, 119 and 120"
                               + (f"; also allows {', '.join(extra)}" if extra else "")
                               + (f"; lacks {', '.join(missing)}" if missing else "")))
    for name in (QUEUE_CONTEXT, DEPARTMENT_CONTEXT):
        for exten, steps in (contexts.get(name) or {}).items():
            line = steps[0][1] if steps else None
            if exten.startswith("_"):
                problems.append((line, f"[{name}] extension {exten} is a pattern: a transfer "
                                       "may go only to numbers listed one by one"))
            elif name == QUEUE_CONTEXT and not queue_exists(exten):
                problems.append((line, f"[{name}] extension {exten}: queues.conf has no "
                                       "such queue"))
    return problems
