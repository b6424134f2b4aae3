"""A co-handling department (加派) asks for more time for its own part in
its order list, a supervisor approves on the floor's approvals list, and
the department sees its part's new deadline (live): the part's deadline
moved, the lead's not.  The zh-CN pages show no English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from calls import records
from tests.browser.language import assert_chinese
from tests.helpers import record_answer
from worksheets import parts, service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department, WorkOrder
from worksheets.order_models import OrderPart

pytestmark = pytest.mark.browser
NAMES = {"dept", "sup"}
SLOW = 30_000  # ms


def seed(s) -> dict[str, int]:
    """A complex help order led by another department, with a part for the
    'dept' login's department (urged by the hotline)."""
    now = datetime.now(UTC)
    mine, lead = list(s.scalars(select(Department).order_by(Department.id)))[:2]
    records.start_call(s, uniqueid="pe.1", now=now, caller_number="13800138000")
    order = record_answer(s, "pe.1", member_name="m", agent_id=None, hold_seconds=1, now=now)
    service.submit_work_order(
        s, order.id, agent_id=None, title="燃气管道改线", description="市民反映",
        category="help", complexity="complex", department_id=lead.id, answered_on_call=False,
        now=now, calendar=WorkingCalendar.official(), tz=ZoneInfo("Asia/Shanghai"),
        district="weibin")
    [part] = parts.add(s, s.get(WorkOrder, order.id), [mine.id], now=now, user_id=None)
    return {"order": order.id, "part": part.id}


def test_a_department_asks_for_its_part_and_a_supervisor_approves_on_the_floor(
        stack, open_page, shot):
    ids = stack.db(seed)
    before = stack.db(lambda s: s.get(WorkOrder, ids["order"]).due_date)
    page = open_page("department", "/#orders")
    row = page.locator(f"tr[data-order-id='{ids['order']}']")
    expect(row.locator("[data-note=co]")).to_have_count(1, timeout=SLOW)
    expect(row.locator("td[data-due]")).to_have_text(before.isoformat())
    row.locator("button[data-act=extension]").click()
    row.locator("form[data-ask=extension] input[name=days]").fill("3")
    row.locator("form[data-ask=extension] textarea[name=reason]").fill("需协调燃气公司停气施工")
    row.locator("form[data-ask=extension] button[type=submit]").click()
    expect(row.locator("[data-note=extension]")).to_have_count(1, timeout=SLOW)
    expect(row.locator("button[data-act=extension]")).to_have_count(0)
    assert_chinese(page, NAMES, where="department asked for its part")
    assert stack.db(lambda s: s.get(OrderPart, ids["part"]).extension_days) == 3

    floor = open_page("supervisor")
    asked = floor.locator(f"tr[data-extension='{ids['order']}'][data-part-id='{ids['part']}']")
    expect(asked).to_contain_text("需协调燃气公司停气施工", timeout=SLOW)
    expect(asked).to_contain_text("协办部分")
    shot(floor, "part-extension-on-the-floor")
    asked.locator("button[data-act=approve]").click()
    expect(asked).to_have_count(0, timeout=SLOW)

    part = stack.db(lambda s: s.get(OrderPart, ids["part"]))
    order = stack.db(lambda s: s.get(WorkOrder, ids["order"]))
    assert (part.deadline_days, part.extension_days) == (8, None)
    assert part.due_date > before and (order.due_date, order.deadline_days) == (before, 5)
    # The department's list follows the decision live: its part's new deadline.
    expect(row.locator("[data-note=extended]")).to_have_count(1, timeout=SLOW)
    expect(row.locator("td[data-due]")).to_have_text(part.due_date.isoformat())
    expect(row.locator("[data-note=extension]")).to_have_count(0)
    assert_chinese(page, NAMES, where="department after the approval")
    shot(page, "part-extended")


def test_a_supervisor_urges_a_part_from_the_order_and_its_department_sees_it(
        stack, open_page):
    ids = stack.db(seed)

    def overdue(s):
        s.get(WorkOrder, ids["order"]).due_at = datetime.now(UTC) - timedelta(hours=1)
    stack.db(overdue)
    page = open_page("department", "/#orders")
    row = page.locator(f"tr[data-order-id='{ids['order']}']")
    expect(row.locator("[data-note=co]")).to_have_count(1, timeout=SLOW)
    expect(row.locator("[data-note=urged]")).to_have_count(0)

    sup = open_page("supervisor", "/#orders")
    sup.locator("button[data-kind=overdue]").click()
    listed = sup.locator(f"tr[data-order-id='{ids['order']}']")
    listed.locator("button[data-act=open]").click()
    part = sup.locator(f"li[data-part-id='{ids['part']}']")
    part.locator("button[data-act=urge_part]").click()
    part.locator("form[data-ask=urge_part] textarea").fill("请协办单位今日反馈")
    part.locator("form[data-ask=urge_part] button[type=submit]").click()
    expect(part.locator("[data-note=urged]")).to_contain_text("请协办单位今日反馈", timeout=SLOW)
    assert_chinese(sup, NAMES, where="the order's parts after the 催办")

    # Told live to the part's department; the lead's order is not urged.
    expect(row.locator("[data-note=urged]")).to_contain_text("请协办单位今日反馈", timeout=SLOW)
    assert stack.db(lambda s: s.get(WorkOrder, ids["order"]).urge_note) == ""
