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


def test_the_state_is_right_after_a_reconnect(open_page, stack):
    """The live socket drops; meanwhile the agent is paused from elsewhere
    (another tab, the supervisor's tools): once the console has reconnected
    it shows the pause without a reload."""
    import aiohttp

    from tests.helpers import PASSWORD

    page = open_page(None, label="agent")
    # Keep a handle on the page's sockets (the console keeps its own private).
    page.add_init_script("""(() => { const Real = window.WebSocket; window.__sockets = [];
      window.WebSocket = function (...args) { const ws = new Real(...args);
        window.__sockets.push(ws); return ws; };
      window.WebSocket.prototype = Real.prototype; Object.assign(window.WebSocket, Real); })()""")
    from tests.browser.conftest import log_in
    log_in(page.context, stack.base_url, "oncall")
    page.goto("/")
    state = page.get_by_test_id("state")
    page.get_by_test_id("join").click()
    expect(state).to_have_attribute("data-state", "available")

    async def pause_elsewhere() -> int:
        async with aiohttp.ClientSession(stack.base_url) as http:
            async with http.post("/api/login", json={"username": "oncall",
                                                     "password": PASSWORD}) as r:
                token = (await r.json())["token"]
            async with http.post("/api/agent/pause", json={"paused": True, "reason": "training"},
                                 headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status
    page.evaluate("window.__sockets.forEach(s => s.close())")
    assert stack.run(pause_elsewhere) == 200
    expect(state).to_have_attribute("data-state", "paused")
    expect(state).to_contain_text("培训")
    assert page.evaluate("window.__sockets.length") >= 2  # it did reconnect
