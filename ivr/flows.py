"""The caller's path through the IVR, served over FastAGI.

``ivr``: greeting (it takes the menu's keys), menu (a wrong key repeats it,
three tries; no key goes to an operator), the description when it costs
the caller nothing, and the queue choice, which the dialplan then acts on
(``HOTLINE_QUEUE``; see asterisk-conf/extensions.conf).
``survey``: after the agent hangs up, the satisfaction question.
``unanswered``: the caller left the queue unanswered (timeout, full):
leave a callback task.
The dialplan does the queueing itself, so if this server is down the
caller still reaches the general queue.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from calls import ivr_records, records
from calls.followups import ABANDONED, CallFollowUps, Notice
from core.live_events import CallEntered, CallRouted
from core.logmask import mask_number
from hotline.deps import Deps
from ivr import prompts, steps
from pbx.fastagi import AgiChannel, AgiHangup
from routing.menu import Route
from worksheets import service

log = logging.getLogger(__name__)

MENU_TRIES = 3  # wrong keys; no key at all goes to an operator after the first menu
DIGIT_WAIT_MS = 4000
ALL_KEYS = "0123456789*#"
ENGLISH_KEY = "9"
SURVEY_ANSWERS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}


def _caller(env: dict[str, str]) -> tuple[str, str]:
    number = env.get("agi_callerid", "")
    name = env.get("agi_calleridname", "")
    return ("" if number == "unknown" else number), ("" if name == "unknown" else name)


async def _start_call(agi: AgiChannel, deps: Deps) -> tuple[str, str]:
    """Record the call; return the caller's number and the number dialled."""
    env = agi.env
    number, name = _caller(env)
    dialed = await agi.get_variable("HOTLINE_DIALED") or env.get("agi_extension", "12345")
    await deps.db.run(
        lambda s: records.start_call(
            s, uniqueid=agi.uniqueid, now=deps.clock.now(), channel=env.get("agi_channel"),
            caller_number=number, caller_name=name, dialed_number=dialed, source="agi",
        )
    )
    deps.bus.publish(CallEntered(uniqueid=agi.uniqueid, caller=mask_number(number)))
    log.info("call %s from %s entered the IVR", agi.uniqueid, mask_number(number))
    return number, dialed


async def choose_route(agi: AgiChannel, deps: Deps, key: str | None = None
                       ) -> tuple[Route, str]:
    """The menu; return the route and what was pressed.

    ``key``: pressed during the greeting, a choice made before the menu
    (which is then not played).  Every prompt takes keys.  9 switches the
    menu to English once.  A wrong key: "wrong input" and the menu again,
    MENU_TRIES in all.  No key after the whole menu: an operator (the
    general queue) at once, for whoever cannot use a menu is best served
    by a person, soon."""
    routing = deps.routing
    pressed = "none"
    menu = prompts.MENU
    attempt = 0
    while attempt < MENU_TRIES:
        if key is None:
            key = await agi.stream_file(menu, ALL_KEYS)
        if key is None:
            key = await agi.wait_for_digit(DIGIT_WAIT_MS)
        if key == ENGLISH_KEY and menu != prompts.MENU_EN:
            menu, key = prompts.MENU_EN, None  # the same menu in English; not a failed try
            # Asterisk's queue announcements follow the channel's language.
            await agi.set_variable("CHANNEL(language)", "en")
            continue
        attempt += 1
        route = routing.for_key(key)
        if route is not None:
            return route, key or ""
        if key is None:
            break
        pressed = "invalid"  # a wrong key on any try is what the record keeps
        # A key pressed during "wrong input" is the next try.
        key = await agi.stream_file(prompts.INVALID, ALL_KEYS) if attempt < MENU_TRIES else None
    await agi.stream_file(prompts.TO_OPERATOR)
    return routing.general, pressed


async def ivr_main(agi: AgiChannel, deps: Deps) -> None:
    """The whole path before the queue; leaves HOTLINE_QUEUE (or HOTLINE_ACTION=hangup).

    Nothing is said twice and nothing stands between a choice and the
    queue: "please hold" is the queue's own announcement (queues.conf)."""
    if not agi.uniqueid:
        log.warning("IVR request without agi_uniqueid; sending the caller to the general queue")
        await agi.set_variable("HOTLINE_QUEUE", deps.routing.general.queue)
        return
    number, dialed = await _start_call(agi, deps)
    facts = await deps.db.run(lambda s: steps.lookup_caller(s, number, dialed, deps))
    if facts.blocked:
        await _end_blocked(agi, deps, facts)
        return
    route, pressed, follows = None, "", None
    if facts.legacy_category is not None:
        await agi.stream_file(prompts.LEGACY)  # its own greeting; no menu follows
        route, pressed = deps.routing.for_category(facts.legacy_category), "legacy"
    else:
        key = await agi.stream_file(prompts.WELCOME, ALL_KEYS)  # a key here is a menu choice
        if key is None and facts.open_order_id is not None:
            key = await steps.offer_open_order(agi, facts)
            if key == "1":
                route = deps.routing.for_category(facts.open_order_category)
                # ivr_choice is 8 characters: "follow-up" failed on PostgreSQL.
                pressed, follows = "followup", facts.open_order_id
            key = None  # 2 (or nothing): a new matter, the menu
        if route is None:
            route, pressed = await choose_route(agi, deps, key)
    queue = deps.routing.rules.queue_for(route.category, route.queue,
                                         deps.clock.now().astimezone(deps.settings.tz))
    await deps.db.run(lambda s: _record_choice(s, agi, deps, route, pressed, queue, facts,
                                               follows))
    wait = steps.wait_for(deps, queue)
    if pressed not in ("none", "invalid") and steps.description_pays(deps, wait):
        await steps.record_description(agi, deps)
        wait = steps.wait_for(deps, queue)  # a minute may have passed: the offer needs now's
    await _set_queue_variables(agi, deps, route, queue, facts.priority)
    if await steps.offer_callback(agi, deps, number, queue, facts.priority, wait):
        await agi.set_variable("HOTLINE_ACTION", "hangup")


def _record_choice(s, agi, deps, route, pressed, queue, facts, follows):  # type: ignore[no-untyped-def]
    now = deps.clock.now()
    records.record_ivr_choice(s, agi.uniqueid, key=pressed, category=route.category,
                              queue=queue, now=now)
    notes = [f"priority {facts.priority}" if facts.priority else "",
             f"legacy line {facts.legacy_label}" if facts.legacy_label else "",
             f"adds to {facts.open_order_number}" if follows else ""]
    ivr_records.set_ivr_context(s, agi.uniqueid, now=now,
                                department_id=facts.legacy_department_id,
                                follows_order_id=follows, priority=facts.priority,
                                detail=", ".join(n for n in notes if n))


async def _set_queue_variables(agi: AgiChannel, deps: Deps, route: Route, queue: str,
                               priority: int) -> None:
    overflow = 0 if queue == deps.routing.general.queue else \
        deps.routing.rules.overflow_seconds.get(route.category, 0)
    await agi.set_variable("HOTLINE_CATEGORY", route.category)
    if priority:
        await agi.set_variable("HOTLINE_PRIO", priority)
    if overflow:
        await agi.set_variable("HOTLINE_OVERFLOW", overflow)
    await agi.set_variable("HOTLINE_QUEUE", queue)
    deps.bus.publish(CallRouted(uniqueid=agi.uniqueid, queue=queue, category=route.category))


async def _end_blocked(agi: AgiChannel, deps: Deps, facts: steps.CallerFacts) -> None:
    await deps.db.run(lambda s: ivr_records.end_in_ivr(
        s, agi.uniqueid, outcome="blocked", now=deps.clock.now(), detail=facts.block_reason))
    await agi.set_variable("HOTLINE_ACTION", "hangup")
    log.info("blocked caller on %s refused", agi.uniqueid)
    await agi.stream_file(prompts.BLOCKED)


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
        except records.CallError as exc:  # e.g. no order: the AMI link was down
            log.warning("survey answer for %s not stored: %s", agi.uniqueid, exc)
    try:
        await agi.stream_file(prompts.THANKS)
    except AgiHangup:
        pass


async def unanswered(agi: AgiChannel, deps: Deps, follow_ups: CallFollowUps) -> None:
    """Asterisk's word that the caller left the queue unanswered: the abandon and
    its follow-ups (a callback task), as the call tracker records them.  Only
    for a call we know: anyone who reaches the port could forge the report."""
    wait = await agi.get_variable("QUEUEWAIT")
    hold, now = int(wait) if (wait or "").isdigit() else 0, deps.clock.now()

    def work(s: Session) -> list[Notice]:
        if records.find_call(s, agi.uniqueid) is None:
            raise records.CallError(f"unknown call {agi.uniqueid}")
        call = records.abandon_call(s, agi.uniqueid, hold_seconds=hold, now=now)
        return follow_ups.run(ABANDONED, s, call, now)
    try:
        notices = await deps.db.run(work)
    except records.CallError as exc:
        log.warning("unanswered call %s not recorded as such: %s", agi.uniqueid, exc)
    else:
        for notice in notices:  # as the tracker: every instance publishes its own
            deps.bus.publish(notice, relay=False)
    await agi.stream_file(prompts.CALLBACK_PROMISE)


async def fallback(agi: AgiChannel, deps: Deps) -> None:
    """An unknown script: record the call and let it reach the general queue."""
    if agi.uniqueid:
        await _start_call(agi, deps)
    await agi.set_variable("HOTLINE_QUEUE", deps.routing.general.queue)


def routes(deps: Deps, follow_ups: CallFollowUps) -> dict[str, object]:
    """The FastAGI scripts; ``follow_ups``: what a call's record starts elsewhere
    (the same the call tracker runs)."""
    async def _ivr(agi: AgiChannel) -> None:
        await ivr_main(agi, deps)

    async def _survey(agi: AgiChannel) -> None:
        await survey(agi, deps)

    async def _unanswered(agi: AgiChannel) -> None:
        await unanswered(agi, deps, follow_ups)

    return {"ivr": _ivr, "survey": _survey, "unanswered": _unanswered}
