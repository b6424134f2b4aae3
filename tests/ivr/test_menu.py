"""Every path through the menu, with a scripted PBX on the AGI socket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from calls.followups import CallFollowUps
from calls.models import Call
from core.bus import EventBus
from core.clock import Clock, run_simulated
from core.db import Database
from core.settings import load_settings
from hotline.deps import Deps
from ivr import flows, prompts
from pbx.fastagi import FastAgiServer
from routing.menu import RoutingTable
from tests.helpers import prepare_database
from tests.ivr.scripted import Script, run_session
from worksheets.calendar_store import SharedCalendar
from worksheets.service import follow_calls

_commands: list[list[str]] = []


def run_ivr(url, uid, keys, **kwargs):
    prepare_database(url)

    async def main():
        db = Database(url)
        deps = Deps(settings=load_settings(env={}), db=db,
                    clock=Clock.for_running_loop(datetime(2026, 11, 30, 2, tzinfo=UTC)),
                    routing=await db.run(RoutingTable.load), bus=EventBus(),
                    calendar=SharedCalendar())
        server = FastAgiServer(flows.routes(deps, follow_calls(CallFollowUps())),
                               lambda a: flows.fallback(a, deps), host="127.0.0.1", port=0)
        await server.start()
        try:
            session = await run_session(server.port, uid, Script(
                keys=list(keys), record="none", hang_up_at=kwargs.get("hang_up_at")),
                **{k: v for k, v in kwargs.items() if k in ("number", "name")})
            played, variables = session.played, session.set_vars
            _commands.append(session.commands)
            await asyncio.sleep(0.1)
            call = await db.run(lambda s: s.scalar(select(Call).where(Call.uniqueid == uid)))
            return played, variables, call
        finally:
            await server.close()
            db.close()

    return run_simulated(main())


@pytest.mark.parametrize("keys,queue,choice,menus", [
    # A key during the greeting chooses: the menu is not played.
    (["1"], "hotline-help", "1", 0),
    (["2"], "hotline-complaint", "2", 0),
    (["0"], "hotline-general", "0", 0),
    # ... or during the menu.
    ([None, "3"], "hotline-report", "3", 1),
    ([None, "4"], "hotline-consult", "4", 1),
    ([None, "5"], "hotline-suggest", "5", 1),
    # No key after the whole menu: an operator at once.
    ([None, None, None, None, None, None], "hotline-general", "none", 1),
    # Wrong keys: "wrong input", the menu again, three tries in all.
    (["7", None, "8", None, "*"], "hotline-general", "invalid", 2),
    (["7", None, "2"], "hotline-complaint", "2", 1),
    (["7", "2"], "hotline-complaint", "2", 0),  # pressed during "wrong input"
    ([None, "#", None, None, None], "hotline-general", "invalid", 2),
])
def test_menu_paths(tmp_path, keys, queue, choice, menus):
    played, variables, call = run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.1", keys)
    assert variables["HOTLINE_QUEUE"] == queue
    assert call.queue == queue and call.ivr_choice == choice and call.outcome == "in_ivr"
    assert played[0] == prompts.WELCOME
    assert played.count(prompts.MENU) == menus
    assert prompts.PLEASE_HOLD not in played and prompts.NO_INPUT not in played
    if choice in ("none", "invalid"):
        assert played[-1] == prompts.TO_OPERATOR and prompts.DESCRIBE not in played
    else:
        assert prompts.TO_OPERATOR not in played


def test_every_prompt_before_the_queue_takes_keys(tmp_path):
    run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.5", ["7", None, "2"])
    commands = _commands[-1]
    streams = [c for c in commands if c.startswith("STREAM FILE")]
    assert streams and all(not c.endswith(' ""') for c in streams), streams


def test_nine_switches_to_english_without_using_a_try(tmp_path):
    played, variables, call = run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.2", ["9", "4"])
    assert variables["HOTLINE_QUEUE"] == "hotline-consult"
    assert played[:2] == [prompts.WELCOME, prompts.MENU_EN]
    # Asterisk's queue announcements follow the channel's language
    assert variables["CHANNEL(language)"] == "en"


def test_mandarin_callers_keep_the_dialplans_language(tmp_path):
    played, variables, call = run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.4", ["4"])
    assert "CHANNEL(language)" not in variables


@pytest.mark.parametrize("hang_up_at", [1, 2, 3, 4])
def test_hangup_at_each_step_leaves_the_call_record(tmp_path, hang_up_at):
    played, variables, call = run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.3", [None] * 6,
                                      hang_up_at=hang_up_at)
    assert "HOTLINE_QUEUE" not in variables
    if hang_up_at > 1:  # the first command (GET VARIABLE) comes before the record
        assert call is not None and call.queue is None


@pytest.mark.parametrize("number,name", [
    ("13800138000", "张\\三 \"quoted\""),
    ("unknown", "unknown"),
    ("+86 138-0013-8000", "x" * 200),
])
def test_odd_caller_ids_are_stored_as_given(tmp_path, number, name):
    played, variables, call = run_ivr(f"sqlite:///{tmp_path / 'ivr.db'}", "1.4", ["1"],
                                      number=number, name=name)
    assert call.caller_number == ("" if number == "unknown" else number)
    assert call.caller_name == ("" if name == "unknown" else name)
