"""A swap approved on the floor in a real browser moves both agents in the
rota (refusals and redispatch are in test_floor.py; overtime allowed from an
agent's card in test_floor_overtime.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLOW = 60_000  # ms: a real IVR on the wall clock on a loaded machine
TZ = ZoneInfo("Asia/Shanghai")


def future_slots(config: Any, local_now: datetime, n: int) -> list[tuple[Any, int]]:
    """The next ``n`` shifts after the one running, as (day, index)."""
    from agents import rota

    out: list[tuple[Any, int]] = []
    at = rota.shift_at(config, local_now).end
    while len(out) < n:
        s = rota.shift_at(config, at)
        out.append((s.day, s.index))
        at = s.end
    return out


def seed_swap(config: Any) -> Any:
    """A pending swap between two agents of two shifts to come (the first pair
    the rota's rules allow)."""
    def work(s: Any) -> dict[str, Any]:
        from agents import requests
        from agents.roster import load_roster

        local_now = datetime.now(TZ).replace(tzinfo=None)
        slots = future_slots(config, local_now, 8)
        roster = load_roster(s, config, slots[0][0], slots[-1][0])
        for mine in slots:
            for theirs in slots:
                a_side, b_side = roster.agents_on(*mine), roster.agents_on(*theirs)
                for a in sorted(a_side - b_side):
                    for b in sorted(b_side - a_side):
                        try:
                            with s.begin_nested():
                                row = requests.request_swap(
                                    s, config, agent_id=a, mine=mine, other_agent_id=b,
                                    theirs=theirs, reason="孩子开家长会",
                                    now=datetime.now(UTC), local_now=local_now)
                        except requests.RotaChangeError:
                            continue
                        return {"id": row.id, "a": a, "b": b, "mine": mine, "theirs": theirs}
        raise AssertionError("no swap the rota allows")
    return work


def test_a_swap_approved_on_the_floor_moves_both_agents_in_the_rota(stack, open_page):
    config = stack.backend.staffing.config
    swap = stack.db(seed_swap(config))
    page = open_page("supervisor", "/#/floor")
    request = page.locator(f'tr[data-request="{swap["id"]}"]')
    expect(request).to_contain_text("孩子开家长会", timeout=SLOW)
    expect(request).to_contain_text("调班")
    request.get_by_role("button", name="批准").click()
    expect(request).to_have_count(0, timeout=SLOW)

    def rota_now(s: Any) -> tuple[str, set[int], set[int]]:
        from agents.models import RotaRequest
        from agents.roster import load_roster

        days = sorted([swap["mine"][0], swap["theirs"][0]])
        roster = load_roster(s, config, days[0], days[-1])
        return (s.get(RotaRequest, swap["id"]).status, roster.agents_on(*swap["mine"]),
                roster.agents_on(*swap["theirs"]))

    status, on_mine, on_theirs = stack.db(rota_now)
    assert status == "approved"
    assert swap["b"] in on_mine and swap["a"] not in on_mine
    assert swap["a"] in on_theirs and swap["b"] not in on_theirs
