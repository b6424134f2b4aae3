"""The knowledge-base view in a real browser: search finds 路灯 (segmented),
a supervisor writes an article and edits it (each save a version, with
its history), expired articles are listed for their owners; the zh-CN
pages show no English."""

from __future__ import annotations

import pytest

from tests.browser.language import assert_chinese
from tests.browser.test_orders_view import NAMES

pytestmark = pytest.mark.browser


def test_search_write_edit_and_the_expired_list(stack, open_page, shot):
    sup = open_page("supervisor", "/#knowledge")
    search = sup.locator("form[data-part=kb-search]")
    search.locator("input[name=q]").fill("小区路灯不亮")
    search.locator("button[type=submit]").click()
    sup.locator("[data-terms]").filter(has_text="路灯").wait_for()
    titles = sup.locator("[data-part=kb-results] details summary b").all_inner_texts()
    assert titles and all("路灯" in t for t in titles[:1])
    assert_chinese(sup, NAMES, where="search")

    sup.locator("button[data-new]").click()
    editor = sup.locator("form[data-part=kb-editor]")
    editor.locator("input[name=title]").fill("井盖缺失如何报修")
    editor.locator("textarea[name=answer]").fill("请告知具体位置，由城市管理部门处置。")
    editor.locator("input[name=keywords]").fill("井盖、报修")
    editor.locator("input[name=valid_until]").fill("2020-01-01")  # expired at once
    editor.locator("button[type=submit]").click()
    editor.get_by_text("已保存（第 1 版）").wait_for()
    editor.get_by_text("修改第 1 版").wait_for()  # the saved article, loaded to edit
    sup.locator("[data-part=kb-history] li").wait_for()
    editor.locator("textarea[name=answer]").fill("请告知具体位置，城市管理部门 24 小时内处置。")
    editor.locator("input[name=note]").fill("时限调整")
    editor.locator("button[type=submit]").click()
    editor.get_by_text("已保存（第 2 版）").wait_for()
    assert sup.locator("[data-part=kb-history] li").count() == 2
    expired = sup.locator("[data-part=kb-expired]")
    expired.get_by_text("井盖缺失如何报修").wait_for()
    assert_chinese(sup, NAMES, where="editor and expired list")
    shot(sup, "knowledge")

    agent = open_page("agent", "/#knowledge")
    agent.locator("form[data-part=kb-search] input[name=q]").fill("井盖")
    agent.locator("form[data-part=kb-search] button[type=submit]").click()
    agent.locator("[data-terms]").wait_for()
    # Expired: hidden from agents; and agents do not edit.
    assert "井盖缺失如何报修" not in agent.locator("[data-part=kb-results]").inner_text()
    assert agent.locator("button[data-new]").count() == 0
    assert_chinese(agent, NAMES | {"oncall"}, where="agent")
