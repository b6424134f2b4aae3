"""The live banner in a real browser: the backend cuts the console's socket
(the live stream restarts, as when the relay between instances was cut:
every console is closed with 1012 and a reason), the banner says the page
may be out of date, with the reason; what happens meanwhile is not shown;
when the console is back it resyncs from a fresh snapshot and the banner
goes.  To see the banner for more than the console's first retry (1 s),
its reconnections are held back in the browser until the test lets them
through (Playwright's WebSocket routing), then pass to the backend as is."""

from __future__ import annotations

import asyncio

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLOW = 60_000


def test_the_banner_shows_while_the_live_socket_is_cut_and_goes_after_the_resync(
        stack, open_page):
    agent = stack.agent
    page = open_page("supervisor", "/#/floor")
    row = page.locator(f'tr[data-agent="{agent["id"]}"]')
    expect(row).to_have_attribute("data-state", "logged_out", timeout=SLOW)
    banner = page.get_by_test_id("live-banner")
    expect(banner).to_have_count(0)

    hold = {"on": True, "refused": 0}

    def reconnect(ws) -> None:
        if hold["on"]:
            hold["refused"] += 1
            ws.close(code=1013, reason="held by the test")
        else:
            ws.connect_to_server()
    page.route_web_socket("**/api/ws**", reconnect)

    async def cut() -> None:
        stack.backend.deps.bus.restart_stream("the test cut the live relay")
    stack.run(cut)
    expect(banner).to_be_visible(timeout=SLOW)
    expect(banner).to_contain_text("实时连接已断开")

    # Meanwhile the agent joins the queues and the floor publishes it: the
    # cut page does not hear it, and is still cut after trying again.
    async def join() -> None:
        floor = stack.backend.floor
        await stack.backend.staffing.queue_login(agent["id"])
        async with asyncio.timeout(30):
            while floor.agents.get(agent["id"], {}).get("state") != "available":
                await asyncio.sleep(0.05)
    stack.run(join)
    tried = hold["refused"]
    for _ in range(300):  # the console's next try (its back-off: 1 s, 2 s, 4 s)
        if hold["refused"] > tried:
            break
        page.wait_for_timeout(100)  # lets Playwright run the route handler
    assert hold["refused"] > tried
    expect(row).to_have_attribute("data-state", "logged_out")
    expect(banner).to_be_visible()

    hold["on"] = False
    expect(banner).to_have_count(0, timeout=SLOW)
    expect(row).to_have_attribute("data-state", "available", timeout=SLOW)
