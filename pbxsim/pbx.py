"""The dialplan interpreter: runs a channel priority by priority.

Each step emits ``Newexten`` (Application/AppData after substitution), then
runs the application.  Applications return 0 to continue, -1 to stop (the
channel is then hung up) or :data:`JUMPED` after moving the channel
(Goto, GotoIf, Gosub, Return).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pbxsim.expressions import is_true, split_args

if TYPE_CHECKING:
    from pbxsim.channels import Channel

log = logging.getLogger(__name__)
JUMPED = 1


def _resolve_priority(chan: Channel, context: str, exten: str, prio: str) -> int | None:
    prio = prio.strip()
    if prio.lstrip("-").isdigit():
        return int(prio)
    ext = chan.sim.dialplan.find(context, exten)
    if ext is None:
        return None
    return ext.labels.get(prio)


def goto(chan: Channel, target: str) -> bool:
    """Move to ``[[context,]exten,]priority`` (priority may be a label)."""
    parts = [p.strip() for p in split_args(target)]
    context, exten = chan.context, chan.exten
    if len(parts) == 1:
        prio_text = parts[0]
    elif len(parts) == 2:
        exten, prio_text = parts
    else:
        context, exten, prio_text = parts[0], parts[1], parts[2]
    prio = _resolve_priority(chan, context, exten, prio_text)
    if prio is None:
        log.warning("%s: Goto target %r not found", chan.name, target)
        return False
    chan.context, chan.exten, chan.priority = context, exten, prio
    return True


def app_goto(chan: Channel, data: str) -> int:
    return JUMPED if goto(chan, data) else -1


def branch(data: str) -> str:
    """``cond?iftrue:iffalse`` (GotoIf, GosubIf): the chosen target, "" for none."""
    cond, sep, branches = data.partition("?")
    if not sep:
        return ""
    yes, _, no = branches.partition(":")
    return (yes if is_true(cond) else no).strip()


def app_gotoif(chan: Channel, data: str) -> int:
    target = branch(data)
    if not target:
        return 0
    return JUMPED if goto(chan, target) else -1


def _parse_sub(data: str) -> tuple[str, list[str]]:
    data = data.strip()
    args: list[str] = []
    if data.endswith(")") and "(" in data:
        i = data.index("(")
        args = split_args(data[i + 1 : -1])
        data = data[:i]
    return data, args


def enter_gosub(chan: Channel, data: str, *, resume: tuple[str, str, int]) -> bool:
    """Push a Gosub frame returning to ``resume`` and jump to the target."""
    target, args = _parse_sub(data)
    saved = (chan.context, chan.exten, chan.priority)
    if not goto(chan, target):
        return False
    new = (chan.context, chan.exten, chan.priority)
    chan.context, chan.exten, chan.priority = saved
    old_locals = {k: v for k, v in chan.vars.items() if k.startswith("LOCAL(")}
    chan.gosub_stack.append((resume[0], resume[1], resume[2], old_locals))
    for k in old_locals:
        del chan.vars[k]
    # The frame's argument variables are set (and shown) before the jump.
    chan.vars["LOCAL(ARGC)"] = str(len(args))
    chan.emit("VarSet", "dialplan", [("Variable", "LOCAL(ARGC)"), ("Value", str(len(args)))])
    for i, arg in enumerate(args, 1):
        chan.vars[f"LOCAL(ARG{i})"] = arg
        chan.emit("VarSet", "dialplan", [("Variable", f"LOCAL(ARG{i})"), ("Value", arg)])
    chan.context, chan.exten, chan.priority = new
    return True


def app_gosub(chan: Channel, data: str) -> int:
    ok = enter_gosub(chan, data, resume=(chan.context, chan.exten, chan.priority + 1))
    return JUMPED if ok else -1


def app_return(chan: Channel, data: str) -> int:
    if not chan.gosub_stack:
        log.warning("%s: Return without Gosub", chan.name)
        return -1
    context, exten, prio, saved_locals = chan.gosub_stack.pop()
    argc = int(chan.vars.get("LOCAL(ARGC)", "0") or 0)
    for k in list(chan.vars):
        if k.startswith("LOCAL("):
            del chan.vars[k]
    chan.vars.update(saved_locals)
    # Unsetting the frame's locals shows as VarSet of the bare names.
    chan.emit("VarSet", "dialplan", [("Variable", "ARGC"), ("Value", "")])
    for i in range(1, argc + 1):
        chan.emit("VarSet", "dialplan", [("Variable", f"ARG{i}"), ("Value", "")])
    chan.set_var("GOSUB_RETVAL", data)
    chan.context, chan.exten, chan.priority = context, exten, prio
    return JUMPED


async def run_steps(chan: Channel, *, until_depth: int | None = None) -> int:
    """Execute priorities until the dialplan ends, the channel hangs up, or
    (with ``until_depth``) a Return pops the Gosub stack below that depth.
    Returns the last application result (-1 = hang up)."""
    from pbxsim.apps import execute  # apps imports pbx for Goto helpers

    res = 0
    while True:
        if chan.hungup and until_depth is None:
            if chan.take_goto():  # redirected (AMI Redirect), not hung up
                continue
            return -1
        ext = chan.sim.dialplan.find(chan.context, chan.exten)
        step = ext.steps.get(chan.priority) if ext else None
        if step is None:
            return -1 if until_depth is None else res
        data = chan.substitute(step.data)
        chan.newexten(step.app, data)
        res = await execute(chan, step.app, data)
        if res == JUMPED:
            if until_depth is not None and len(chan.gosub_stack) < until_depth:
                return 0
            continue
        if res < 0:
            if until_depth is None and chan.take_goto():
                continue
            return res
        chan.priority += 1


async def run_subroutine(chan: Channel, target: str) -> int:
    """Run a Gosub on a channel that is not executing the dialplan itself
    (the queue member gosub), then put the channel back where it was."""
    here = (chan.context, chan.exten, chan.priority)
    if not enter_gosub(chan, target, resume=here):
        return -1
    res = await run_steps(chan, until_depth=len(chan.gosub_stack))
    chan.context, chan.exten, chan.priority = here
    return res


async def run_pbx(chan: Channel) -> None:
    """Run ``chan`` from its current location to the end, then hang it up."""
    chan.in_pbx = True
    try:
        await run_steps(chan)
    finally:
        chan.in_pbx = False
        chan.pbx_ended()
        await run_h_extension(chan)
        chan.finish()


async def run_h_extension(chan: Channel) -> None:
    """Run the context's ``h`` extension (if any) on the dead channel."""
    ext = chan.sim.dialplan.find(chan.context, "h") if chan.context else None
    if ext is None or chan.gone:
        return
    from pbxsim.apps import execute

    chan.exten, chan.priority = "h", 1
    while not chan.gone:
        step = ext.steps.get(chan.priority)
        if step is None:
            break
        data = chan.substitute(step.data)
        chan.newexten(step.app, data)
        if await execute(chan, step.app, data) < 0:
            break
        chan.priority += 1
