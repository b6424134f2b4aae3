"""Issue 14: the FastAGI port as an attacker on the network sees it.  Only the
configured Asterisk addresses, only Uniqueids of Asterisk's form, a survey
answer is never overwritten, and survey/unanswered act only on known calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from calls import records
from calls.models import Call
from core.clock import run_simulated
from core.settings import load_settings
from hotline.app import Backend
from tests.helpers import prepare_database, record_answer, settings_for_test
from tests.ivr.scripted import Script, run_session
from worksheets.models import CallbackTask, WorkOrder


def _run(database_url, tmp_path, body, **overrides):
    prepare_database(database_url)
    settings = replace(settings_for_test(database_url, tmp_path), **overrides)

    async def main():
        backend = Backend(settings)
        await backend.start()
        try:
            return await body(backend)
        finally:
            await backend.stop()

    return run_simulated(main())


def _count(backend, model):
    return backend.deps.db.run(lambda s: s.scalar(select(func.count()).select_from(model)))


def test_only_the_configured_asterisk_addresses_may_use_fastagi(database_url, tmp_path):
    async def body(backend):
        session = await run_session(backend.fastagi.port, "1764950000.7", Script(keys=["1"]))
        return session, await _count(backend, Call), backend.fastagi.status()

    session, calls, status = _run(database_url, tmp_path, body, agi_allowed=("192.0.2.10",))
    assert session.commands == [] and calls == 0
    assert status["sessions_rejected"] == 1
    assert load_settings(env={}).agi_allowed == ("127.0.0.1", "::1")
    assert load_settings(env={"HOTLINE_AGI_ALLOW": "10.0.0.5, 10.0.0.6"}).agi_allowed == (
        "10.0.0.5", "10.0.0.6")


def test_a_uniqueid_not_of_asterisks_form_is_refused(database_url, tmp_path):
    async def body(backend):
        forged = await run_session(backend.fastagi.port, "x' OR 1=1", Script(keys=["1"]))
        named = await run_session(backend.fastagi.port, "pbx-a-1764950000.8",
                                  Script(keys=["1"], record="none"))
        uids = await backend.deps.db.run(lambda s: s.scalars(select(Call.uniqueid)).all())
        return forged, named, uids

    forged, named, uids = _run(database_url, tmp_path, body)
    assert forged.commands == []
    assert named.commands  # systemname-prefixed: Asterisk's own form
    assert uids == ["pbx-a-1764950000.8"]


def test_a_survey_answer_is_never_overwritten_and_unknown_calls_are_left_alone(database_url,
                                                                              tmp_path):
    async def body(backend):
        now = backend.deps.clock.now() - timedelta(minutes=5)

        def answered(s):
            records.start_call(s, uniqueid="1764950000.9", now=now, caller_number="13800138000")
            records.mark_queued(s, "1764950000.9", queue="hotline-help", now=now)
            return record_answer(s, "1764950000.9", member_name="agent-1001",
                                 agent_id=None, hold_seconds=2, now=now).id
        order_id = await backend.deps.db.run(answered)
        port = backend.fastagi.port
        await run_session(port, "1764950000.9", Script(keys=["1"]), agi_script="survey")
        await run_session(port, "1764950000.9", Script(keys=["3"]), agi_script="survey")
        await run_session(port, "1764950099.1", Script(keys=["3"]), agi_script="survey")
        await run_session(port, "1764950099.2", Script(variables={"QUEUEWAIT": "30"}),
                          agi_script="unanswered")
        satisfaction = await backend.deps.db.run(
            lambda s: s.get(WorkOrder, order_id).survey_answer)
        return satisfaction, await _count(backend, Call), await _count(backend, CallbackTask)

    satisfaction, calls, tasks = _run(database_url, tmp_path, body)
    assert satisfaction == "satisfied"  # the first answer stands
    assert calls == 1 and tasks == 0  # the forged unanswered call made no call, no callback
