"""The agent's own state on the desk, without a call: joining the queues,
F7 to pause (with the reason shown in words) and to be ready again, the
state and its reason kept across a reload; the idle desk in Chinese, and
in English after the switch."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import expect
from tests.browser.language import assert_chinese

pytestmark = pytest.mark.browser


def test_state_pause_and_ready_survive_a_reload(open_page, shot):
    page = open_page("agent")
    state = page.get_by_test_id("state")
    expect(state).to_have_attribute("data-state", "logged_out")
    expect(page.get_by_test_id("waiting")).to_be_visible()
    assert_chinese(page, where="(logged out)")
    page.get_by_test_id("join").click()
    expect(state).to_have_attribute("data-state", "available")
    expect(page.get_by_test_id("shift")).not_to_be_empty()
    # The time in the state runs (waiting for the screen to show it, not sleeping).
    expect(page.get_by_test_id("state-timer")).to_contain_text(re.compile(r"0:0[2-9]"),
                                                               timeout=15_000)

    page.get_by_label("小休原因").select_option("meal")
    page.keyboard.press("F7")
    expect(state).to_have_attribute("data-state", "paused")
    expect(state).to_contain_text("用餐")
    page.reload()
    expect(state).to_have_attribute("data-state", "paused")
    expect(state).to_contain_text("用餐")
    assert_chinese(page, where="(paused)")
    shot(page, "paused")

    page.keyboard.press("F7")
    expect(state).to_have_attribute("data-state", "available")

    page.get_by_role("button", name="English").click()
    expect(state).to_have_text("Ready")
    expect(page.get_by_test_id("agent-state")).to_contain_text("Shortcuts")
    shot(page, "english")
