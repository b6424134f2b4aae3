"""The IVR's steps before the queue, each small and separately tested:
who is calling (blocked, registered vulnerable, legacy line, open order),
the description recording (asked when it pays), and the callback offer
(estimates from pbx.estimates).
"""

from __future__ import annotations

import array
import logging
import wave
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from calls import ivr_records
from core.live_events import CallbackRequested
from hotline.deps import Deps
from ivr import prompts
from pbx import estimates
from pbx.fastagi import AgiChannel, AgiHangup
from routing import lists
from routing.rules import normalize_number
from worksheets import service

log = logging.getLogger(__name__)


@dataclass
class CallerFacts:
    blocked: bool = False
    block_reason: str = ""
    priority: int = 0
    legacy_category: str | None = None
    legacy_department_id: int | None = None
    legacy_label: str = ""
    open_order_id: int | None = None
    open_order_number: str = ""
    open_order_status: str = ""
    open_order_category: str = ""


def lookup_caller(session: Session, number: str, dialed: str, deps: Deps) -> CallerFacts:
    """Everything the IVR needs to know about the caller, in one transaction."""
    now = deps.clock.now()
    facts = CallerFacts()
    block = lists.active_block(session, number, now)
    if block is not None:
        return CallerFacts(blocked=True, block_reason=block.reason)
    if lists.priority_for(session, number, now) is not None:
        facts.priority = deps.routing.rules.vulnerable_priority
    line = lists.legacy_line(session, dialed)
    if line is not None:
        facts.legacy_category, facts.legacy_department_id = line.category, line.department_id
        facts.legacy_label = line.label
        return facts
    order = service.open_order_for(session, number, now=now)
    if order is not None:
        facts.open_order_id, facts.open_order_number = order.id, order.number
        facts.open_order_status, facts.open_order_category = order.status, order.category
    return facts


async def offer_open_order(agi: AgiChannel, facts: CallerFacts) -> str | None:
    """Tell the caller about their open order; return their key (1 adds to
    it, 2 is a new matter).  A caller who knows presses during the read-back."""
    parts = [prompts.OPEN_ORDER]
    parts += [prompts.DIGITS[int(d)] if d.isdigit() else prompts.DIGITS[0]
              for d in facts.open_order_number[-4:]]
    parts += [prompts.STATUS_DRAFT if facts.open_order_status == "draft"
              else prompts.STATUS_DISPATCHED, prompts.ADD_OR_NEW]
    for part in parts:
        key = await agi.stream_file(part, "12")
        if key is not None:
            return key
    return await agi.wait_for_digit(4000)


def has_speech(path: Path, threshold: int = 600) -> bool:
    """True if the WAV holds more than silence (peak above ``threshold``)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                return True  # not ours to judge; keep it
            samples = array.array("h", w.readframes(w.getnframes()))
    except (OSError, EOFError, wave.Error):
        return False
    return any(abs(s) > threshold for s in samples)


def description_pays(deps: Deps, wait: tuple[int, int]) -> bool:
    """Ask for the description?  Always (HOTLINE_DESCRIPTION_WHEN=always), or
    only when the caller would wait longer than it can take (its longest
    recording and the silence that ends it): then it costs them nothing."""
    if deps.settings.description_when == "always":
        return True
    rules = deps.routing.rules
    return wait[1] > rules.description_max_seconds + rules.description_silence_seconds


async def record_description(agi: AgiChannel, deps: Deps) -> Path | None:
    """Ask for the matter after a tone (# skips it); keep the recording if it holds speech."""
    if await agi.stream_file(prompts.DESCRIBE, "#") == "#":
        return None
    rules = deps.routing.rules
    base = deps.settings.recordings_dir / f"desc-{agi.uniqueid}"
    path = base.parent / f"{base.name}.wav"  # not with_suffix: Uniqueids contain a dot
    transcription = deps.transcription
    if transcription is not None:
        await transcription.description_recording(agi.uniqueid, path)
    try:
        result = await agi.record_file(str(base), "wav", "#",
                                       timeout_ms=rules.description_max_seconds * 1000,
                                       beep=True, silence_s=rules.description_silence_seconds)
    finally:
        if transcription is not None:
            await transcription.description_finished(agi.uniqueid)
    seconds = int((result.extra or {}).get("endpos", "0") or 0) / 8000
    kept = path.exists() and has_speech(path)
    if kept:
        await deps.db.run(lambda s: ivr_records.set_description(
            s, agi.uniqueid, path=str(path), now=deps.clock.now(), seconds=seconds))
    if result.result == -1 and result.data == "hangup":
        raise AgiHangup
    return path if kept else None


def wait_for(deps: Deps, queue: str) -> tuple[int, int]:
    """(callers ahead, estimated seconds) from the backend's model of the PBX;
    (0, 0) without a PBX link."""
    model = deps.pbx
    if model is None or not model.connected:
        return 0, 0
    return (estimates.callers_waiting(model.state, queue),
            estimates.estimated_wait(model.state, queue))


async def offer_callback(agi: AgiChannel, deps: Deps, number: str, queue: str,
                         priority: int, wait: tuple[int, int]) -> bool:
    """Offer a callback when the estimated ``wait`` (ahead, seconds) is long.
    True if taken.

    Position and hold time are announced by Asterisk while the caller
    waits in the queue (queues.conf, in the channel's language)."""
    ahead, seconds = wait
    if ahead == 0:
        return False
    rules = deps.routing.rules
    if seconds <= rules.callback_offer_seconds or not rules.callback_allowed(
            normalize_number(number)):
        return False
    key = await agi.stream_file(prompts.CALLBACK_OFFER, "12")
    if key is None:
        key = await agi.wait_for_digit(5000)
    if key != "1":
        return False
    await deps.db.run(lambda s: service.request_callback(
        s, agi.uniqueid, queue=queue, priority=priority, now=deps.clock.now()))
    deps.bus.publish(CallbackRequested(uniqueid=agi.uniqueid, queue=queue))
    await agi.stream_file(prompts.CALLBACK_CONFIRMED)
    return True
