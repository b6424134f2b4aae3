"""Supervisors read the working-day calendar where they work (the floor),
without editing it: a year's days off and make-up working days, a year not
loaded (Monday-Friday), and the warning that next year is missing, which
goes once an admin loads it from the administration page."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.language import assert_chinese

pytestmark = pytest.mark.browser

SLOW = 30_000
# The browser's day: from 1 November next year's arrangement is expected.
NOVEMBER = datetime.fromisoformat("2026-11-16T10:00:00+08:00")
FIXTURE_2027 = Path(__file__).resolve().parents[1] / "fixtures" / "calendar" / "2027-test.json"
ARRANGEMENT_2027 = {"years": [{**json.loads(FIXTURE_2027.read_text(encoding="utf-8"))["years"][0],
                               "source": "2027年放假安排（测试用）"}]}


def supervisor_floor(open_page):
    page = open_page("supervisor")
    page.clock.set_fixed_time(NOVEMBER)
    page.reload()
    card = page.locator(".floor-calendar")
    expect(card.locator("[data-loaded]")).to_be_visible(timeout=SLOW)
    return page, card


def test_supervisors_see_the_calendar_year_read_only_and_the_missing_year_warning(
        stack, open_page, shot):
    page, card = supervisor_floor(open_page)
    warning = card.locator("[data-warning]")
    expect(warning).to_contain_text("2027 年的放假安排未载入")
    loaded = card.locator("[data-loaded]")
    expect(loaded).to_have_attribute("data-loaded", "true")
    expect(loaded).to_contain_text("2026 年已载入放假安排")
    # 2026's shipped arrangement: 元旦 1-3 January, a make-up Sunday on 4 January.
    # Each run by the notice's name for it.
    first_run = card.locator('[data-list="holidays"] li').first
    expect(first_run).to_have_text("元旦 1月1日 – 1月3日 3 天")
    expect(card.locator('[data-list="workdays"] li').first).to_contain_text("1月4日")
    expect(card.locator('[data-list="workdays"] li').first).to_contain_text("元旦")
    # Read only: nothing to load or type into.
    expect(card.locator("textarea, input, button")).to_have_count(0)
    assert_chinese(page)
    shot(page, "1-calendar-2026")

    card.locator('select[name="calendar-year"]').select_option("2027")
    expect(loaded).to_have_attribute("data-loaded", "false", timeout=SLOW)
    expect(loaded).to_contain_text("2027 年未载入放假安排")
    # The administration stays the admin's: the supervisor may not load a year.
    page.expect_http(403, "/api/calendar/years")
    status = page.evaluate("""(body) => fetch('/api/calendar/years', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body}).then(r => r.status)""",
                           json.dumps(ARRANGEMENT_2027))
    assert status == 403

    # The admin loads 2027 on the administration page ...
    admin = open_page("admin", "/#/admin?tab=calendar")
    admin.locator('textarea[name="calendar"]').fill(json.dumps(ARRANGEMENT_2027,
                                                                ensure_ascii=False))
    admin.get_by_role("button", name="载入").click()
    expect(admin.locator(".msg.good")).to_contain_text("已载入 2027", timeout=SLOW)
    # ... and the supervisor's floor has no warning left, and 2027's days.
    page.reload()
    expect(card.locator("[data-loaded]")).to_be_visible(timeout=SLOW)
    expect(card.locator("[data-warning]")).to_have_count(0)
    card.locator('select[name="calendar-year"]').select_option("2027")
    expect(loaded).to_contain_text("2027 年已载入放假安排", timeout=SLOW)
    expect(card.locator('[data-list="holidays"] li').first).to_contain_text("1月1日 – 1月3日 3 天")
    expect(card.locator('[data-list="holidays"] li')).to_have_count(7)  # the fixture's blocks
    expect(card.locator('[data-list="workdays"] li')).to_have_count(5)
    shot(page, "2-calendar-2027")


def test_the_calendar_card_in_english(stack, open_page):
    page = open_page("supervisor")
    page.evaluate("localStorage.setItem('hotline.lang', 'en')")
    page.clock.set_fixed_time(NOVEMBER)
    page.reload()
    card = page.locator(".floor-calendar")
    expect(card.locator("h2")).to_have_text("Working calendar", timeout=SLOW)
    expect(card.locator("[data-warning]")).to_contain_text("The 2027 arrangement is not loaded")
    expect(card.locator("[data-loaded]")).to_contain_text("2026: the arrangement is loaded")
