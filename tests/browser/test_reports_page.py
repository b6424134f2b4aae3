"""The reports page in a real browser: a supervisor sees today's figures,
the report per category with its chart, regroups it per department and
month, and downloads the XLSX; a department's login sees its own
department only; both pages are in Chinese."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from calls import records
from tests.browser.language import assert_chinese
from tests.helpers import record_abandon, record_answer
from worksheets import service
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department

pytestmark = pytest.mark.browser

SLOW = 30_000
NAMES = {"sup", "dept"}  # the logins' display names in the header (tests.helpers)


def traffic(s: Any) -> tuple[str, str]:
    """Today: two answered calls with orders to two departments, one abandoned."""
    depts = list(s.scalars(select(Department).order_by(Department.id)))[:2]
    now = datetime.now(UTC) - timedelta(minutes=5)
    for i, (category, dept) in enumerate((("help", depts[0]), ("complaint", depts[1]),
                                          ("help", None))):
        uid = f"br.{i}"
        records.start_call(s, uniqueid=uid, now=now, caller_number="13800138000")
        records.record_ivr_choice(s, uid, key="1", category=category,
                                  queue=f"hotline-{category}", now=now)
        records.mark_queued(s, uid, queue=f"hotline-{category}", now=now)
        if dept is None:
            record_abandon(s, uid, hold_seconds=30, now=now)
            continue
        order = record_answer(s, uid, member_name="m", agent_id=None,
                              hold_seconds=5, now=now)
        records.mark_ended(s, uid, now=now + timedelta(minutes=2), talk_seconds=120)
        service.submit_work_order(
            s, order.id, agent_id=None, title="路灯不亮", description="", category=category,
            complexity="ordinary" if category == "help" else None, department_id=dept.id,
            answered_on_call=False, now=now + timedelta(minutes=3),
            calendar=WorkingCalendar.default(), tz=ZoneInfo("Asia/Shanghai"))
    return depts[0].name, depts[1].name


def test_supervisor_and_department_read_the_reports(stack, open_page, shot):
    first, second = stack.db(traffic)
    page = open_page("supervisor", "/#/reports")
    today = page.get_by_test_id("today")
    expect(today.locator("[data-metric=calls]")).to_have_text("3", timeout=SLOW)
    expect(today.locator("[data-metric=abandon_rate]")).to_have_text("33.3%")
    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("求助", timeout=SLOW)
    expect(totals).to_contain_text("投诉")
    expect(page.get_by_test_id("report").locator(".uplot")).to_have_count(1)
    assert_chinese(page, allow=NAMES)
    shot(page, "supervisor-category")

    page.get_by_test_id("dimension").select_option("department")
    page.get_by_test_id("period").select_option("month")
    expect(totals).to_contain_text(first, timeout=SLOW)
    expect(totals).to_contain_text(second)
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    names = [row[2] for row in book["报表"].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted([first, second])
    expect(page.get_by_test_id("accounts")).to_contain_text(first)
    assert_chinese(page, allow=NAMES)
    shot(page, "supervisor-department-month")

    dept = open_page("department", "/#/reports")
    expect(dept.get_by_test_id("totals")).to_contain_text(first, timeout=SLOW)
    expect(dept.get_by_test_id("totals")).not_to_contain_text(second)
    expect(dept.get_by_test_id("dimension")).to_have_count(0)
    expect(dept.get_by_test_id("today")).to_have_count(0)
    expect(dept.get_by_test_id("accounts").locator("tbody tr")).to_have_count(1)
    assert_chinese(dept, allow=NAMES)
