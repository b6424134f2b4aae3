"""The caller's path around the menu: blocked and vulnerable callers, legacy
lines, open orders, the description, the wait estimate and callback offer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from calls import records
from calls.followups import ABANDONED, CallFollowUps
from calls.models import Call
from core.bus import EventBus
from core.clock import Clock, run_simulated
from core.db import Database
from core.settings import load_settings
from hotline.deps import Deps
from ivr import flows, prompts
from pbx.fastagi import FastAgiServer
from pbx.model import PbxModel
from pbx.state import MemberState, PbxState
from routing import lists
from routing.menu import RoutingTable
from tests.helpers import prepare_database, record_answer
from tests.ivr.scripted import Script, run_session
from worksheets import service
from worksheets.calendar_store import SharedCalendar
from worksheets.models import CallbackTask, Department, WorkOrder

NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)  # Monday 10:00 in Baoji


@dataclass
class LinkStub:
    """Stands in for the AMI link: connected, and never asked anything (the
    wait comes from the backend's own model of the queues)."""

    connected: bool = True

    async def send(self, action, headers=(), **_):
        raise AssertionError(f"the IVR sent {action}: it must read its own PBX model")


def busy_queues(callers: int, staffed: int = 2) -> SimpleNamespace:
    """The live PBX view: every member of hotline-help on a call, ``callers`` waiting."""
    state = PbxState()
    for n in range(staffed):
        state.members[("hotline-help", f"PJSIP/10{n:02d}")] = MemberState(
            "hotline-help", f"PJSIP/10{n:02d}", f"agent-10{n:02d}", status=2, in_call=True)
    state.queue("hotline-help").waiting.update({f"9.{n}": n + 1 for n in range(callers)})
    return SimpleNamespace(state=state)


def run(tmp_path: Path, script: Script, setup=None, live=None, number="13800138000", now=NOW,
        env=None):
    url = f"sqlite:///{tmp_path / 'ivr.db'}"
    prepare_database(url, now)
    db = Database(url)
    if setup:
        db.call(setup)

    async def main():
        settings = load_settings(env={"HOTLINE_VAR_DIR": str(tmp_path), **(env or {})})
        settings.recordings_dir.mkdir(parents=True, exist_ok=True)
        clock = Clock.for_running_loop(now)
        deps = Deps(settings=settings, db=db, clock=clock,
                    routing=await db.run(RoutingTable.load), bus=EventBus(),
                    calendar=SharedCalendar(),
                    ami=LinkStub() if live is not None else None)  # type: ignore[arg-type]
        if live is not None:
            deps.pbx = PbxModel(deps.ami, clock)
            deps.pbx.state = live.state
        server = FastAgiServer(flows.routes(deps, service.follow_calls(CallFollowUps())),
                               lambda a: flows.fallback(a, deps), host="127.0.0.1", port=0)
        await server.start()
        try:
            session = await run_session(server.port, "7.1", script, number=number)
            await asyncio.sleep(0.1)
            call = await db.run(lambda s: s.scalar(select(Call).where(Call.uniqueid == "7.1")))
            return session, call
        finally:
            await server.close()

    return run_simulated(main()), db


def test_blocked_caller_hears_polite_refusal_and_is_not_queued(tmp_path):
    def setup(s):
        lists.block_number(s, "+86 138-0013-8000", reason="辱骂话务员", user_id=None, now=NOW,
                           expires_at=NOW + timedelta(days=7))

    (session, call), db = run(tmp_path, Script(keys=["1"]), setup)
    assert session.set_vars.get("HOTLINE_ACTION") == "hangup"
    assert "HOTLINE_QUEUE" not in session.set_vars
    assert prompts.BLOCKED in session.played and prompts.MENU not in session.played
    assert call.outcome == "blocked"
    audit = db.call(lambda s: s.execute(select(lists.AuditEntry.action,
                                                lists.AuditEntry.target)).all())
    assert audit == [("block", "13800138000")]
    db.close()


def test_expired_block_no_longer_applies(tmp_path):
    def setup(s):
        lists.block_number(s, "13800138000", reason="x", user_id=None, now=NOW - timedelta(days=3),
                           expires_at=NOW - timedelta(days=1))

    (session, call), db = run(tmp_path, Script(keys=["2"]), setup)
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-complaint"
    db.close()


def test_registered_vulnerable_caller_gets_priority(tmp_path):
    def setup(s):
        lists.add_priority_caller(s, "13800138000", reason="elderly", note="独居老人",
                                  user_id=None, now=NOW)

    (session, call), db = run(tmp_path, Script(keys=["1"]), setup)
    assert session.set_vars["HOTLINE_PRIO"] == "5" and call.priority == 5
    db.close()


def test_legacy_line_skips_the_menu_and_preselects_the_department(tmp_path):
    # The seeded city has 12315 (market regulation) ringing into 12345.
    (session, call), db = run(tmp_path, Script(variables={"HOTLINE_DIALED": "12315"}))
    assert prompts.MENU not in session.played and prompts.LEGACY in session.played
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-complaint"
    dept = db.call(lambda s: s.scalar(select(Department).where(
        Department.legacy_number == "12315")))
    assert call.dialed_number == "12315" and call.department_id == dept.id
    assert call.ivr_choice == "legacy"
    db.close()


def _open_order(s):
    records.start_call(s, uniqueid="1700000000.1", now=NOW - timedelta(days=3),
                       caller_number="13800138000")
    records.record_ivr_choice(s, "1700000000.1", key="1", category="help", queue="hotline-help",
                              now=NOW - timedelta(days=3))
    return record_answer(s, "1700000000.1", member_name="agent-1001", agent_id=None,
                         hold_seconds=3, now=NOW - timedelta(days=3)).id


def test_caller_with_an_open_order_can_add_to_it(tmp_path):
    # No key in the greeting; 1 pressed as soon as the read-back starts stops it.
    (session, call), db = run(tmp_path, Script(keys=[None, "1"]), _open_order)
    assert session.played == [prompts.WELCOME, prompts.OPEN_ORDER]
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"
    assert call.follows_order_id is not None and call.ivr_choice == "followup"
    db.close()


def test_caller_with_an_open_order_can_start_a_new_one(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=[None, "2", "3"]), _open_order)
    assert session.played == [prompts.WELCOME, prompts.OPEN_ORDER, prompts.MENU]
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-report"
    assert call.follows_order_id is None
    db.close()


def test_caller_with_an_open_order_who_presses_in_the_greeting_chose_from_the_menu(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["3"]), _open_order)
    assert session.played == [prompts.WELCOME]
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-report"
    assert call.follows_order_id is None
    db.close()


ALWAYS = {"HOTLINE_DESCRIPTION_WHEN": "always"}


def test_description_with_speech_is_kept_and_silence_is_not(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["1"], record="speech"), env=ALWAYS)
    record = next(c for c in session.commands if c.startswith("RECORD FILE"))
    assert record.endswith(" 60000 0 BEEP s=3")  # 60 s at most, stops after 3 s of silence
    assert call.description_recording and Path(call.description_recording).exists()
    db.close()
    (session, call), db = run(tmp_path / "b", Script(keys=["1"], record="silence"), env=ALWAYS)
    assert call.description_recording is None
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"  # still queued
    db.close()


def test_hangup_during_description_keeps_what_was_said_and_does_not_queue(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["1"], record="hangup"), env=ALWAYS)
    assert "HOTLINE_QUEUE" not in session.set_vars
    assert call.description_recording is not None
    db.close()


def test_the_description_prompt_names_its_skip_key_and_takes_it(tmp_path):
    assert "跳过" in prompts.TEXTS[prompts.DESCRIBE][1] and "井号" in prompts.TEXTS[
        prompts.DESCRIBE][1]
    (session, call), db = run(tmp_path, Script(keys=["1", "#"], record="speech"), env=ALWAYS)
    assert session.played == [prompts.WELCOME, prompts.DESCRIBE]
    assert not any(c.startswith("RECORD FILE") for c in session.commands)
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"
    db.close()


def test_description_asked_only_when_the_wait_is_longer_than_it_can_take(tmp_path):
    # A free agent (no PBX view says otherwise): straight to the queue.
    (session, call), db = run(tmp_path, Script(keys=["1"], record="speech"))
    assert session.played == [prompts.WELCOME]
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"
    db.close()
    # Everyone busy, nobody waiting: 180 s / 2 agents = 90 s > 60 s + 3 s: asked.
    (session, call), db = run(tmp_path / "b", Script(keys=["1"], record="speech"),
                              live=busy_queues(0))
    assert prompts.DESCRIBE in session.played and call.description_recording
    db.close()
    # Four agents busy: 45 s < 63 s, the description would cost the caller: not asked.
    (session, call), db = run(tmp_path / "c", Script(keys=["1"], record="speech"),
                              live=busy_queues(0, staffed=4))
    assert prompts.DESCRIBE not in session.played
    db.close()


def test_long_wait_offers_a_callback_and_it_is_taken(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["1", "#", "1"]), live=busy_queues(6))
    assert session.played[-2:] == [prompts.CALLBACK_OFFER, prompts.CALLBACK_CONFIRMED]
    assert session.set_vars.get("HOTLINE_ACTION") == "hangup"
    assert call.outcome == "callback"
    task = db.call(lambda s: s.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id)))
    assert task is not None and task.queue == "hotline-help"
    db.close()


def test_short_wait_goes_to_the_queue_without_offer(tmp_path):
    # Position and hold time are Asterisk's to announce, in the queue
    # (tests/pbxsim/test_announcements.py); the IVR only offers callbacks.
    (session, call), db = run(tmp_path, Script(keys=["1"]), live=busy_queues(1, staffed=4))
    assert prompts.CALLBACK_OFFER not in session.played
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"
    db.close()


def test_no_callback_offer_for_numbers_callbacks_may_not_dial(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["1", "#"]), live=busy_queues(6),
                              number="0085212345678")
    assert prompts.CALLBACK_OFFER not in session.played
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-help"
    db.close()


def test_overflow_and_time_of_day_rules_set_the_queue(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["2"]))
    assert session.set_vars["HOTLINE_OVERFLOW"] == "120"
    db.close()
    night = NOW.replace(hour=18)  # 02:00 in Baoji: reports go to the general queue
    (session, call), db = run(tmp_path / "n", Script(keys=["3"]), now=night)
    assert session.set_vars["HOTLINE_QUEUE"] == "hotline-general"
    assert "HOTLINE_OVERFLOW" not in session.set_vars
    db.close()


def test_a_recording_cut_at_the_limit_is_kept(tmp_path):
    (session, call), db = run(tmp_path, Script(keys=["1"], record="speech", record_seconds=60),
                              env=ALWAYS)
    record = next(c for c in session.commands if c.startswith("RECORD FILE"))
    assert " 60000 " in record  # the PBX stops it at 60 s
    assert call.description_recording is not None
    db.close()


def test_survey_answer_is_stored_and_a_hangup_during_it_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    prepare_database(url, NOW)
    db = Database(url)
    order_id = db.call(_open_order)

    async def main():
        settings = load_settings(env={"HOTLINE_VAR_DIR": str(tmp_path)})
        deps = Deps(settings=settings, db=db, clock=Clock.for_running_loop(NOW),
                    routing=await db.run(RoutingTable.load), bus=EventBus(),
                    calendar=SharedCalendar())
        server = FastAgiServer(flows.routes(deps, service.follow_calls(CallFollowUps())),
                               lambda a: flows.fallback(a, deps), host="127.0.0.1", port=0)
        await server.start()
        try:
            answered = await run_session(server.port, "1700000000.1", Script(keys=["2"]),
                                         agi_script="survey")
            cut = await run_session(server.port, "1700000000.1", Script(hang_up_at=1),
                                    agi_script="survey")
            await asyncio.sleep(0.1)
            return answered, cut
        finally:
            await server.close()

    answered, cut = run_simulated(main())
    order = db.call(lambda s: s.get(WorkOrder, order_id))
    db.close()
    assert prompts.SURVEY in answered.played and prompts.THANKS in answered.played
    assert order.survey_answer == "basically_satisfied" and order.satisfaction is None
    assert cut.commands and not cut.set_vars


def test_an_unanswered_caller_is_abandoned_through_the_follow_ups_and_a_forged_one_is_not(
        tmp_path):
    """Asterisk's `unanswered` report runs what the call tracker runs for an
    abandon (calls.followups ABANDONED: the callback task), once per known call."""
    url = f"sqlite:///{tmp_path / 'u.db'}"
    prepare_database(url, NOW)
    db = Database(url)

    def queued(s):
        records.start_call(s, uniqueid="1700000000.2", now=NOW, caller_number="13800138000")
        records.mark_queued(s, "1700000000.2", queue="hotline-help", now=NOW)
    db.call(queued)
    ran: list[str] = []
    follow_ups = service.follow_calls(CallFollowUps())
    follow_ups.on(ABANDONED, lambda s, call, now: ran.append(call.uniqueid) or [])

    async def main():
        settings = load_settings(env={"HOTLINE_VAR_DIR": str(tmp_path)})
        deps = Deps(settings=settings, db=db, clock=Clock.for_running_loop(NOW),
                    routing=await db.run(RoutingTable.load), bus=EventBus(),
                    calendar=SharedCalendar())
        server = FastAgiServer(flows.routes(deps, follow_ups),
                               lambda a: flows.fallback(a, deps), host="127.0.0.1", port=0)
        await server.start()
        try:
            return [await run_session(server.port, uid, Script(variables={"QUEUEWAIT": "30"}),
                                      agi_script="unanswered")
                    for uid in ("1700000000.2", "1700000099.1")]
        finally:
            await server.close()

    sessions = run_simulated(main())
    call, tasks = db.call(lambda s: (
        s.scalar(select(Call).where(Call.uniqueid == "1700000000.2")),
        s.execute(select(CallbackTask.call_id, CallbackTask.queue)).all()))
    db.close()
    assert all(prompts.CALLBACK_PROMISE in session.played for session in sessions)
    assert ran == ["1700000000.2"]  # the forged Uniqueid reached no follow-up
    assert (call.outcome, call.hold_seconds) == ("abandoned", 30)
    assert tasks == [(call.id, "hotline-help")]
