"""A whole call in a real browser: the stand-in rings the agent, the pop
shows the caller's past order and the transcript of their description, a
reload in the middle keeps the state, the agent fills and submits the order
(it is in the database), the confirmation stays on screen after hanging up
with F9; and the desk is in Chinese."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pbxsim import CallerScript, PhoneBehaviour
from speech.options import TranscriptionOptions
from tests.browser.conftest import expect
from tests.browser.language import assert_chinese
from tests.speech.conftest import sox, speech_dir  # noqa: F401  (shared fixtures)
from tests.transcripts.test_e2e import wav_seconds
from worksheets.models import Department, WorkOrder

pytestmark = pytest.mark.browser

CALLER = "13800138000"
SLOW = 60_000  # ms: a real IVR on the wall clock, speech recognition, a loaded machine


def past_order(s: Any) -> str:
    """An order this caller made two months ago, still open."""
    dept = s.scalars(select(Department).order_by(Department.id)).first()
    now = datetime.now(UTC)
    s.add(WorkOrder(number="BJ20261001-0007", caller_number=CALLER, caller_name="张三",
                    category="complaint", status="dispatched", title="小区夜间施工噪音",
                    department_id=dept.id, created_at=now - timedelta(days=60),
                    submitted_at=now - timedelta(days=60), deadline_days=10,
                    due_date=date.today() - timedelta(days=45)))
    return dept.name


@pytest.mark.stack(settings={"description_when": "always"},
                   transcription=TranscriptionOptions(workers=1, live_workers=1))
def test_a_whole_call_from_ring_to_confirmation(stack, open_page, shot, speech_dir):  # noqa: F811
    stack.db(past_order)
    agent = stack.agent

    async def phone() -> None:
        stack.sim.add_phone(agent["interface"], PhoneBehaviour(answer_after=3.0,
                                                               talk_seconds=600.0))
    stack.run(phone)
    page = open_page("agent")
    state = page.get_by_test_id("state")
    expect(state).to_have_attribute("data-state", "logged_out")
    expect(page.get_by_test_id("phone")).to_contain_text("话机已注册")
    page.get_by_test_id("join").click()
    expect(state).to_have_attribute("data-state", "available")
    shot(page, "1-ready")

    async def ring() -> Any:
        return stack.sim.place_call(
            caller_number=CALLER, caller_name="张三", dialed="12345",
            script=CallerScript(keys="1", key_delay=1.0, patience=600,
                                speech=speech_dir / "pothole.wav",
                                speech_seconds=wav_seconds(speech_dir / "pothole.wav"),
                                talk=speech_dir / "bus.wav"))
    call = stack.run(ring)

    pop = page.get_by_test_id("pop")
    expect(pop).to_be_visible(timeout=SLOW)
    expect(pop.get_by_test_id("caller-number")).to_have_text(CALLER)
    expect(pop.get_by_test_id("history")).to_contain_text("BJ20261001-0007")
    expect(pop.get_by_test_id("history")).to_contain_text("小区夜间施工噪音")
    expect(pop).to_have_attribute("data-phase", "answered", timeout=SLOW)
    expect(state).to_have_attribute("data-state", "on_call")
    # The description's transcript (Korean speech, the test model) arrives.
    expect(pop.get_by_test_id("transcript").locator("p:not(.muted)")).to_have_text(
        re.compile(r"\S"), timeout=SLOW)
    form = page.get_by_test_id("order-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("countdown")).to_contain_text("距10分钟时限")
    # The pop was drawn when the phone rang, and again on the answer.
    phases = page.evaluate("(window.__popTimings || []).map(t => t.phase)")
    assert phases == ["ringing", "answered"], phases
    shot(page, "2-pop")

    # A reload in the middle of the call keeps the state, the pop and the form.
    page.reload()
    expect(state).to_have_attribute("data-state", "on_call")
    expect(page.get_by_test_id("pop").get_by_test_id("caller-number")).to_have_text(CALLER)
    expect(form).to_be_visible()
    assert_chinese(page, where="(on a call)")

    # Submitting with fields missing names them.
    form.get_by_test_id("submit").click()
    expect(form.locator("[role=alert]")).to_contain_text("标题")
    expect(form.locator("[role=alert]")).to_contain_text("所属区县")
    expect(form.locator("label.field.invalid[data-field=title]")).to_be_visible()

    form.locator("input[name=title]").fill("路面坑洼，车辆难行")
    form.locator("select[name=district]").select_option("weibin")
    form.locator("input[name=address]").fill("渭滨区经二路12号")
    dept = form.locator("select[name=department_id]")
    if not dept.input_value():
        dept.select_option(index=1)
    page.keyboard.press("Control+Enter")
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_contain_text("已派单", timeout=SLOW)
    number = re.search(r"[A-Z]{2}\d{8}-\d{4}", confirmation.inner_text()).group(0)
    shot(page, "3-confirmation")

    def stored(s: Any) -> WorkOrder:
        order = s.scalars(select(WorkOrder).where(WorkOrder.number == number)).one()
        s.expunge(order)
        return order
    order = stack.db(stored)
    assert (order.status, order.caller_number, order.title, order.district, order.address) == (
        "dispatched", CALLER, "路面坑洼，车辆难行", "weibin", "渭滨区经二路12号")
    assert order.due_date is not None and order.due_date.isoformat() in confirmation.inner_text()

    # F9 hangs up; the confirmation stays; wrap-up (or ready) follows.
    page.keyboard.press("F9")
    expect(state).not_to_have_attribute("data-state", "on_call", timeout=SLOW)
    expect(confirmation).to_contain_text(number)
    stack.run(lambda: _wait(call.done))
    assert_chinese(page, where="(after the call)")
    shot(page, "4-after")


async def _wait(future: Any) -> None:
    import asyncio

    await asyncio.wait_for(asyncio.shield(future), 60)
