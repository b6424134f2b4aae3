"""Overtime allowed from the floor in a real browser: the stack's clock
starts shortly before a shift ends; an agent of that shift is on a call when
it ends, so they stay on the queues (paused ``shift-end``) off the rota
(非本班签入); the supervisor allows overtime from their card, and the rota
holds them for the shift now running (在岗), with the grant stored.  The
button is not offered for an agent who is rostered but not logged in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from agents import rota
from pbxsim import CallerScript, PhoneBehaviour
from tests.browser import conftest
from tests.browser.stack import LiveStack

pytestmark = pytest.mark.browser

SLOW = 60_000
TZ = ZoneInfo("Asia/Shanghai")
BEFORE_END = timedelta(seconds=90)  # the IVR and the answer, on the wall clock


def shift_end_after(now: datetime) -> datetime:
    local = now.astimezone(TZ).replace(tzinfo=None)
    return rota.shift_at(rota.RotaConfig(), local).end.replace(tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LiveStack]:
    """The harness's stack, its clock starting ``BEFORE_END`` before a shift ends."""
    conftest._require_browser()
    live = LiveStack(tmp_path, start=shift_end_after(datetime.now(UTC)) - BEFORE_END,
                     settings_overrides={"recordings_dir": tmp_path / "recordings"}).start()
    try:
        yield live
    finally:
        live.stop()


def test_overtime_allowed_on_the_floor_puts_an_agent_past_their_shift_on_the_rota(
        stack, open_page):
    agent = stack.agent

    async def on_a_call() -> Any:
        stack.sim.add_phone(agent["interface"], PhoneBehaviour(answer_after=1.0,
                                                               talk_seconds=900.0))
        await stack.backend.staffing.queue_login(agent["id"])
        return stack.sim.place_call(caller_number="13800138000", caller_name="张三",
                                    dialed="12345",
                                    script=CallerScript(keys="1", key_delay=0.5, patience=600))
    stack.run(on_a_call)
    page = open_page("supervisor", "/#/floor")
    row = page.locator(f'tr[data-agent="{agent["id"]}"]')
    expect(row).to_have_attribute("data-state", "on_call", timeout=SLOW)
    # Rostered, not logged in: no overtime to allow.
    other = page.locator("tr[data-agent][data-state=logged_out]").first
    other.locator("button[data-open]").click()
    other_id = other.get_attribute("data-agent")
    expect(page.locator(f'[data-actions="{other_id}"]')).to_be_visible()
    expect(page.locator(f'[data-actions="{other_id}"] button[data-act="overtime"]')) \
        .to_have_count(0)
    # The shift ends during the call: still on the queues, off the rota.
    expect(row).to_contain_text("非本班签入", timeout=int(BEFORE_END.total_seconds() * 1000)
                                + SLOW)
    assert stack.backend.deps.clock.now() >= stack.start_at + BEFORE_END
    row.locator("button[data-open]").click()
    actions = page.locator(f'[data-actions="{agent["id"]}"]')
    actions.locator('button[data-act="overtime"]').click()
    expect(row).to_contain_text("在岗", timeout=SLOW)
    expect(actions.locator('button[data-act="overtime"]')).to_have_count(0)

    def grants(s: Any) -> list[tuple[int, Any, int]]:
        from sqlalchemy import select

        from agents.models import OvertimeGrant
        return [(g.agent_id, g.day, g.shift_index) for g in s.scalars(select(OvertimeGrant))]
    now_local = stack.backend.deps.clock.now().astimezone(TZ).replace(tzinfo=None)
    running = rota.shift_at(rota.RotaConfig(), now_local)
    assert stack.db(grants) == [(agent["id"], running.day, running.index)]
