"""The caller's path through the IVR, served over FastAGI.

``ivr``: greeting, menu (three tries: no input or a wrong key repeats the
menu twice, then the general queue), and the queue choice, which the
dialplan then acts on (``HOTLINE_QUEUE``; see asterisk-conf/extensions.conf).
``survey``: after the agent hangs up, the satisfaction question.
``unanswered``: the caller left the queue unanswered (timeout, full):
leave a callback task.
The dialplan does the queueing itself, so if this server is down the
caller still reaches the general queue.
"""

from __future__ import annotations

import logging

from hotline.deps import Deps
from hotline.logmask import mask_number
from ivr import prompts
from pbx.fastagi import AgiChannel, AgiHangup
from routing.menu import Route
from worksheets import service

log = logging.getLogger(__name__)

MENU_TRIES = 3
DIGIT_WAIT_MS = 5000
ALL_KEYS = "0123456789*#"
ENGLISH_KEY = "9"
SURVEY_ANSWERS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}


def _caller(env: dict[str, str]) -> tuple[str, str]:
    number = env.get("agi_callerid", "")
    name = env.get("agi_calleridname", "")
    return ("" if number == "unknown" else number), ("" if name == "unknown" else name)


async def _start_call(agi: AgiChannel, deps: Deps) -> None:
    env = agi.env
    number, name = _caller(env)
    dialed = await agi.get_variable("HOTLINE_DIALED") or env.get("agi_extension", "12345")
    await deps.db.run(
        lambda s: service.start_call(
            s, uniqueid=agi.uniqueid, now=deps.clock.now(), channel=env.get("agi_channel"),
            caller_number=number, caller_name=name, dialed_number=dialed, source="agi",
        )
    )
    deps.bus.publish("call.entered", uniqueid=agi.uniqueid, caller=mask_number(number))
    log.info("call %s from %s entered the IVR", agi.uniqueid, mask_number(number))


async def choose_route(agi: AgiChannel, deps: Deps) -> tuple[Route, str]:
    """Play the menu until a valid key; return the route and what was pressed.

    9 switches the menu to English once.  No input or a wrong key repeats
    the menu, twice at most; then the general queue."""
    routing = deps.routing
    await agi.stream_file(prompts.WELCOME)
    pressed = "none"
    menu = prompts.MENU
    attempt = 0
    while attempt < MENU_TRIES:
        key = await agi.stream_file(menu, ALL_KEYS)
        if key is None:
            key = await agi.wait_for_digit(DIGIT_WAIT_MS)
        if key == ENGLISH_KEY and menu != prompts.MENU_EN:
            menu = prompts.MENU_EN  # the same menu in English; not a failed try
            continue
        attempt += 1
        route = routing.for_key(key)
        if route is not None:
            return route, key or ""
        if key is not None:
            pressed = "invalid"  # a wrong key on any try is what the record keeps
        if attempt < MENU_TRIES:
            await agi.stream_file(prompts.NO_INPUT if key is None else prompts.INVALID)
    await agi.stream_file(prompts.TO_OPERATOR)
    return routing.general, pressed


async def ivr_main(agi: AgiChannel, deps: Deps) -> None:
    if not agi.uniqueid:
        log.warning("IVR request without agi_uniqueid; sending the caller to the general queue")
        await agi.set_variable("HOTLINE_QUEUE", deps.routing.general.queue)
        return
    await _start_call(agi, deps)
    route, pressed = await choose_route(agi, deps)
    await deps.db.run(
        lambda s: service.record_ivr_choice(
            s, agi.uniqueid, key=pressed, category=route.category, queue=route.queue,
            now=deps.clock.now(),
        )
    )
    await agi.set_variable("HOTLINE_CATEGORY", route.category)
    await agi.set_variable("HOTLINE_QUEUE", route.queue)
    deps.bus.publish("call.routed", uniqueid=agi.uniqueid, queue=route.queue,
                     category=route.category)
    if pressed not in ("none", "invalid"):  # the failed menu already said "to an operator"
        await agi.stream_file(prompts.PLEASE_HOLD)


async def survey(agi: AgiChannel, deps: Deps) -> None:
    key = await agi.stream_file(prompts.SURVEY, "123")
    if key is None:
        key = await agi.wait_for_digit(DIGIT_WAIT_MS)
    answer = SURVEY_ANSWERS.get(key or "")
    if answer is not None:
        try:
            await deps.db.run(
                lambda s: service.set_satisfaction(s, agi.uniqueid, answer=answer,
                                                   now=deps.clock.now())
            )
        except service.CallError as exc:  # e.g. no order: the AMI link was down
            log.warning("survey answer for %s not stored: %s", agi.uniqueid, exc)
    try:
        await agi.stream_file(prompts.THANKS)
    except AgiHangup:
        pass


async def unanswered(agi: AgiChannel, deps: Deps) -> None:
    wait = await agi.get_variable("QUEUEWAIT")
    try:
        await deps.db.run(
            lambda s: service.mark_abandoned(
                s, agi.uniqueid, hold_seconds=int(wait) if (wait or "").isdigit() else 0,
                now=deps.clock.now(),
            )
        )
    except service.CallError as exc:
        log.warning("unanswered call %s not recorded as such: %s", agi.uniqueid, exc)
    await agi.stream_file(prompts.CALLBACK_PROMISE)


async def fallback(agi: AgiChannel, deps: Deps) -> None:
    """An unknown script: record the call and let it reach the general queue."""
    if agi.uniqueid:
        await _start_call(agi, deps)
    await agi.set_variable("HOTLINE_QUEUE", deps.routing.general.queue)


def routes(deps: Deps) -> dict[str, object]:
    async def _ivr(agi: AgiChannel) -> None:
        await ivr_main(agi, deps)

    async def _survey(agi: AgiChannel) -> None:
        await survey(agi, deps)

    async def _unanswered(agi: AgiChannel) -> None:
        await unanswered(agi, deps)

    return {"ivr": _ivr, "survey": _survey, "unanswered": _unanswered}
