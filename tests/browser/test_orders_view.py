"""The work-order view in a real browser: the department signs for and
answers its orders (its co-handling part too), sees 催办 notices and the
80 % warning, attaches a photo; the supervisor reviews the answer (统一答复)
and merges a duplicate (并案).  The zh-CN pages show no English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from calls import records
from tests.browser.language import assert_chinese
from tests.helpers import record_answer
from worksheets import dept_rules, parts, service, supervision
from worksheets.calendar import WorkingCalendar
from worksheets.models import Department, WorkOrder

pytestmark = pytest.mark.browser
# The logins' names in the shell's header (until the harness gives them Chinese names).
NAMES = {"dept", "sup"}
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 300


def seed(stack) -> dict[str, int]:
    now = datetime.now(UTC)

    def work(s):
        depts = list(s.scalars(select(Department).order_by(Department.id)))
        mine, other = depts[0], depts[1]
        ids = {}
        for key, lead, title in (("plain", mine, "小区路灯不亮"), ("co", other, "道路井盖缺失"),
                                 ("dup", mine, "小区路灯不亮（重复来电）")):
            uid = f"b.{key}"
            records.start_call(s, uniqueid=uid, now=now, caller_number="13800138000")
            order = record_answer(s, uid, member_name="m", agent_id=None,
                                  hold_seconds=1, now=now)
            service.submit_work_order(
                s, order.id, agent_id=None, title=title, description="市民反映", category="help",
                complexity="ordinary", department_id=lead.id, answered_on_call=False, now=now,
                calendar=WorkingCalendar.official(), tz=ZoneInfo("Asia/Shanghai"),
                district="weibin")
            ids[key] = order.id
        parts.add(s, s.get(WorkOrder, ids["co"]), [mine.id], now=now, user_id=None)
        supervision.urge(s, ids["plain"], note="请今天内处理", user_id=None, now=now)
        s.get(WorkOrder, ids["plain"]).warned_at = now + timedelta(seconds=1)
        return ids

    return stack.db(work)


def test_the_department_works_its_list_and_the_supervisor_reviews_and_merges(
        stack, open_page, shot):
    ids = seed(stack)
    page = open_page("department", "/#orders")
    page.locator(f"tr[data-order-id='{ids['plain']}']").wait_for()
    row = page.locator(f"tr[data-order-id='{ids['plain']}']")
    assert row.locator("[data-note=urged]").inner_text().endswith("请今天内处理")
    assert row.locator("[data-note=warned]").count() == 1
    co = page.locator(f"tr[data-order-id='{ids['co']}']")
    assert co.locator("[data-note=co]").count() == 1  # its co-handling part
    assert_chinese(page, NAMES, where="department list")
    shot(page, "department-list")

    row.locator("button[data-act=accept]").click()
    row.locator("button[data-act=accept]").wait_for(state="detached")
    row.locator("button[data-act=reply]").click()
    row.locator("form[data-ask=reply] textarea").fill("已更换灯具，恢复照明")
    row.locator("form[data-ask=reply] button[type=submit]").click()
    # Answered: it leaves the department's list (the hotline reviews it).
    row.wait_for(state="detached")
    co.locator("button[data-act=accept]").click()
    co.locator("button[data-act=accept]").wait_for(state="detached")
    co.locator("button[data-act=reply]").click()
    co.locator("form[data-ask=reply] textarea").fill("已配合补齐井盖")
    co.locator("form[data-ask=reply] button[type=submit]").click()
    co.wait_for(state="detached")  # its part is answered: nothing left to do
    assert stack.db(lambda s: parts.to_dicts(s, ids["co"]))[0]["reply"] == "已配合补齐井盖"

    dup = page.locator(f"tr[data-order-id='{ids['dup']}']")
    dup.locator("button[data-act=open]").click()
    page.locator("input[data-upload]").set_input_files(
        files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    page.get_by_role("link", name="现场.jpg").wait_for()
    assert_chinese(page, NAMES | {"jpg"}, where="department detail")  # the file's own name

    sup = open_page("supervisor", "/#orders")
    review_row = sup.locator(f"tr[data-order-id='{ids['plain']}']")
    review_row.wait_for()
    assert_chinese(sup, NAMES, where="review list")
    review_row.locator("button[data-act=review_accept]").click()
    review_row.wait_for(state="detached")
    assert stack.db(lambda s: s.get(WorkOrder, ids["plain"]).status) == "closed"

    for kind in ("overdue", "returned", "extensions", "dissatisfied"):
        sup.locator(f"button[data-kind={kind}]").click()
        sup.locator(f"button[data-kind={kind}][aria-selected=true]").wait_for()
        assert_chinese(sup, NAMES, where=f"supervisor list {kind}")
    shot(sup, "supervisor")


def test_the_supervisor_merges_a_duplicate_from_the_overdue_list(stack, open_page):
    ids = seed(stack)

    def overdue(s):
        for key in ("plain", "dup"):
            s.get(WorkOrder, ids[key]).due_at = datetime.now(UTC) - timedelta(hours=1)
    stack.db(overdue)
    sup = open_page("supervisor", "/#orders")
    sup.locator("button[data-kind=overdue]").click()
    main = sup.locator(f"tr[data-order-id='{ids['plain']}']")
    main.wait_for()
    sup.locator(f"tr[data-order-id='{ids['dup']}'] input[data-select]").check()
    main.locator("button[data-act=open]").click()
    sup.locator("button[data-merge]").click()
    sup.locator(f"tr[data-order-id='{ids['dup']}']").wait_for(state="detached")
    assert stack.db(lambda s: s.get(WorkOrder, ids["dup"]).merged_into_id) == ids["plain"]
    assert_chinese(sup, NAMES, where="after the merge")


def test_an_admin_edits_the_suggestion_rules_and_a_supervisor_reads_them(stack, open_page):
    admin = open_page("admin", "/#orders")
    admin.locator("button[data-kind=rules]").click()
    admin.locator("tr[data-rule='0']").wait_for()  # the demo rules, version 1
    count = admin.locator("tr[data-rule]").count()
    admin.locator("button[data-add]").click()
    new = admin.locator(f"tr[data-rule='{count}']")
    new.locator("input").fill("井盖、窨井")
    new.locator("input").press("Tab")
    admin.locator("button[data-save]").click()
    admin.get_by_text("已保存为第 2 版").wait_for()
    assert_chinese(admin, NAMES | {"admin"}, where="rules")
    stored = stack.db(dept_rules.current)
    assert stored["version"] == 2 and stored["rules"][-1]["keywords"] == ["井盖", "窨井"]
    sup = open_page("supervisor", "/#orders")
    sup.locator("button[data-kind=rules]").click()
    sup.locator(f"tr[data-rule='{count}']").wait_for()
    assert sup.locator("button[data-save]").count() == 0
