"""The administration pages in chromium: each kind of record created,
changed and deactivated through the page; the other admin pages used; and
every admin page read for words left in English (or raw keys) in zh-CN."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TABS = ("users", "teams", "agents", "departments", "lines", "rules", "pauses", "lists",
        "calendar", "audit")
# Latin words a Chinese page may show: names of formats and protocols, the
# demo's usernames and codes (data, not words).
ALLOWED = {"PJSIP", "JSON", "CSV", "XLSX", "UTF", "GBK", "admin", "sup", "dept", "oncall",
           "holidays_cn", "json", "year", "source", "holidays", "workdays"}


def untranslated(page) -> list[str]:
    """English words and i18n keys in the view's visible text.  Codes (all
    capitals: team and department codes), usernames and text in <code>
    (JSON paths, raw detail) are data, not words."""
    text = page.evaluate("""() => {
        const out = [];
        const walk = document.createTreeWalker(document.querySelector('main.view'),
                                                NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const node = walk.currentNode;
            if (!node.parentElement.closest('code, select, textarea')) out.push(node.data);
        }
        return out.join(' ');
    }""")
    users = {u["username"] for u in page.evaluate(
        "fetch('/api/users').then((r) => r.json())")["users"]}
    keys = re.findall(r"\b[a-z]+\.[a-z_]+(?:\.[a-z_]+)*\b", text)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text)
             if w not in ALLOWED and w not in users and not w.isupper()]
    return keys + words


def open_tab(page, tab):
    page.goto(f"/#/admin?tab={tab}")
    page.wait_for_selector(f'a[data-tab="{tab}"].info')
    page.wait_for_load_state("networkidle")


def save_form(page, kind):
    page.locator(f'[data-testid="form-{kind}"] button[type=submit]').click()


def row(page, kind, key):
    return page.locator(f'[data-testid="records-{kind}"] tr[data-key="{key}"]')


def test_every_admin_page_speaks_chinese(open_page, shot):
    page = open_page("admin", "/#/admin?tab=users")
    found = {}
    for tab in TABS:
        open_tab(page, tab)
        found[tab] = untranslated(page)
        shot(page, f"zh-{tab}")
    assert {tab: words for tab, words in found.items() if words} == {}


def test_teams_agents_departments_and_lines_are_created_edited_and_deactivated(open_page):
    page = open_page("admin", "/#/admin?tab=teams")
    page.on("dialog", lambda d: d.accept())
    for kind in ("teams", "agents", "departments", "lines"):  # each form is first refused
        page.expect_http(400, f"/api/admin/{kind}")
    # a team: created, renamed, deactivated
    page.get_by_role("button", name="新建").click()
    form = page.locator('[data-testid="form-teams"]')
    form.locator('input[name="code"]').fill("G")
    form.locator('input[name="name"]').fill("七班")
    form.locator('input[name="rota_index"]').fill("0")
    save_form(page, "teams")
    form.get_by_text("班组 A 已在轮转位置 0").wait_for()  # the field's problem, in words
    form.locator('input[name="rota_index"]').fill("6")
    save_form(page, "teams")
    row(page, "teams", "G").wait_for()
    row(page, "teams", "G").get_by_role("button", name="修改").click()
    form.locator('input[name="name"]').fill("七班（夜）")
    save_form(page, "teams")
    page.wait_for_selector('tr[data-key="G"] >> text=七班（夜）')
    row(page, "teams", "G").get_by_role("button", name="停用").click()
    row(page, "teams", "G").wait_for(state="detached")

    # an agent: created in team A, moved to B, deactivated
    open_tab(page, "agents")
    page.get_by_role("button", name="新建").click()
    form = page.locator('[data-testid="form-agents"]')
    form.locator('input[name="number"]').fill("2001")
    form.locator('input[name="name"]').fill("新坐席")
    form.locator('select[name="team"]').select_option("A")
    form.locator('input[name="phone"]').fill("1002")
    save_form(page, "agents")
    form.get_by_text("PJSIP/1002 已是坐席 1002 的话机").wait_for()
    form.locator('input[name="phone"]').fill("2001")
    form.locator('input[name="skills"]').fill("help:0,consult:1")
    save_form(page, "agents")
    row(page, "agents", "2001").wait_for()
    assert "求助:0" in row(page, "agents", "2001").inner_text()
    row(page, "agents", "2001").get_by_role("button", name="修改").click()
    form.locator('select[name="team"]').select_option("B")
    save_form(page, "agents")
    page.wait_for_selector(
        '[data-testid="records-agents"] tr[data-key="2001"] >> td:text-is("B 二班")')
    row(page, "agents", "2001").get_by_role("button", name="停用").click()
    row(page, "agents", "2001").wait_for(state="detached")

    # a department with contacts: created, changed, deactivated
    open_tab(page, "departments")
    page.get_by_role("button", name="新建").click()
    form = page.locator('[data-testid="form-departments"]')
    form.locator('input[name="code"]').fill("QXJ")
    form.locator('input[name="name"]').fill("宝鸡市气象局")
    form.locator('input[name="contact_phone"]').fill("0917-345678x")
    save_form(page, "departments")
    form.get_by_text("只能是数字").wait_for()
    form.locator('input[name="contact_phone"]').fill("0917-3456789")
    form.locator('input[name="contact_name"]').fill("赵工")
    save_form(page, "departments")
    row(page, "departments", "QXJ").wait_for()
    assert "09173456789" in row(page, "departments", "QXJ").inner_text()
    row(page, "departments", "QXJ").get_by_role("button", name="修改").click()
    form.locator('input[name="contact_name"]').fill("钱工")
    save_form(page, "departments")
    page.wait_for_selector('tr[data-key="QXJ"] >> text=钱工')
    row(page, "departments", "QXJ").get_by_role("button", name="停用").click()
    row(page, "departments", "QXJ").wait_for(state="detached")

    # an old hotline number: a special line, then a dual-track one
    open_tab(page, "lines")
    page.get_by_role("button", name="新建").click()
    form = page.locator('[data-testid="form-lines"]')
    form.locator('input[name="number"]').fill("12300")
    form.locator('input[name="label"]').fill("旅游服务热线")
    form.locator('select[name="kind"]').select_option("dual")
    save_form(page, "lines")
    form.get_by_text("双轨运行的号码需要承办单位").wait_for()
    form.locator('select[name="category"]').select_option("complaint")
    form.locator('select[name="department"]').select_option("SJJ")
    save_form(page, "lines")
    row(page, "lines", "12300").wait_for()
    assert "双轨运行" in row(page, "lines", "12300").inner_text()
    row(page, "lines", "12300").get_by_role("button", name="修改").click()
    form.locator('select[name="kind"]').select_option("merged")
    save_form(page, "lines")
    page.wait_for_selector('tr[data-key="12300"] >> text=已并入')
    row(page, "lines", "12300").get_by_role("button", name="停用").click()
    row(page, "lines", "12300").wait_for(state="detached")

    # the audit log has each step, searchable by what
    open_tab(page, "audit")
    page.locator('input[name="target"]').fill("agent 2001")
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector('[data-testid="audit"] tr >> text=坐席新建')
    text = page.locator('[data-testid="audit"] table').inner_text()
    assert [w for w in ("坐席停用", "坐席修改", "坐席新建") if w in text] == [
        "坐席停用", "坐席修改", "坐席新建"]


def test_users_pauses_lists_rules_and_calendar_pages_work(open_page):
    page = open_page("admin", "/#/admin?tab=users")
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name="新建").click()
    form = page.locator('[data-testid="form-users"]')
    form.locator('input[name="username"]').fill("zjj-li")
    form.locator('input[name="display_name"]').fill("李科长")
    form.locator('select[name="role"]').select_option("department")
    form.locator('select[name="department"]').select_option("ZJJ")
    save_form(page, "users")
    page.wait_for_selector("text=初始密码")
    row(page, "users", "zjj-li").get_by_role("button", name="修改").click()
    form.locator('input[name="display_name"]').fill("李处长")
    save_form(page, "users")
    page.wait_for_selector('tr[data-key="zjj-li"] >> text=李处长')
    row(page, "users", "zjj-li").get_by_role("button", name="停用").click()
    row(page, "users", "zjj-li").wait_for(state="detached")

    open_tab(page, "pauses")
    page.get_by_role("button", name="新建").click()
    page.locator('[data-testid="form-pauses"] input[name="code"]').fill("meeting")
    page.locator('[data-testid="form-pauses"] input[name="label"]').fill("开会")
    page.locator('[data-testid="form-pauses"] input[name="max_minutes"]').fill("45")
    page.locator('[data-testid="form-pauses"] button[type=submit]').click()
    page.wait_for_selector('tr[data-key="meeting"] >> text=开会')
    page.locator('tr[data-key="meeting"]').get_by_role("button", name="修改").click()
    page.locator('[data-testid="form-pauses"] input[name="max_minutes"]').fill("60")
    page.locator('[data-testid="form-pauses"] button[type=submit]').click()
    page.wait_for_selector('tr[data-key="meeting"] >> td:text-is("60")')
    page.locator('tr[data-key="meeting"]').get_by_role("button", name="停用").click()
    page.wait_for_selector('tr[data-key="meeting"] >> text=已停用')

    open_tab(page, "lists")
    blocked = page.locator('[data-testid="blocked"]')
    blocked.locator('input[name="number"]').fill("13800138000")
    blocked.locator('input[name="reason"]').fill("骚扰电话")
    blocked.get_by_role("button", name="加入").click()
    blocked.locator('tr[data-key="13800138000"]').wait_for()
    blocked.locator('tr[data-key="13800138000"]').get_by_role("button", name="解除").click()
    blocked.locator('tr[data-key="13800138000"]').wait_for(state="detached")
    priority = page.locator('[data-testid="priority"]')
    priority.locator('input[name="number"]').fill("13900139000")
    priority.locator('select[name="reason"]').select_option("elderly")
    priority.get_by_role("button", name="加入").click()
    priority.locator('tr[data-key="13900139000"] >> text=老年人').wait_for()
    priority.locator('tr[data-key="13900139000"]').get_by_role("button", name="移除").click()
    priority.locator('tr[data-key="13900139000"]').wait_for(state="detached")

    open_tab(page, "rules")
    editor = page.locator('textarea[name="rules"]')
    # Not wait_for_function: its polling evaluates a string, which the
    # page's CSP (no 'unsafe-eval') refuses once the first check fails.
    expect(editor).to_have_value(re.compile(r".{10,}", re.S))
    good = editor.input_value()
    editor.fill(good[:-3])
    page.wait_for_selector('[data-testid="rules-state"] >> text=JSON 格式错误')
    page.expect_http(400, "/api/routing/rules/check")
    editor.fill('{"overflow_seconds": {"cooking": 5}}')
    page.wait_for_selector('[data-testid="rules-state"] >> text=规则有 1 处问题')
    assert page.get_by_role("button", name="保存").is_disabled()
    editor.fill(good)
    page.wait_for_selector('[data-testid="rules-state"] >> text=检查通过')
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=已保存并立即生效")

    open_tab(page, "calendar")
    page.locator('textarea[name="calendar"]').fill("{not json")
    page.get_by_role("button", name="载入").click()
    page.wait_for_selector("text=不是合法的 JSON")
    assert "已载入年份" in page.locator('[data-testid="calendar"]').inner_text()


def test_an_uploaded_file_with_bad_rows_is_refused_whole_and_a_good_one_imported(open_page):
    page = open_page("admin", "/#/admin?tab=agents")
    page.expect_http(400, "/api/admin/import/agents")
    box = page.locator('[data-testid="import-agents"]')
    bad = "工号,姓名,班组,分机\n3001,甲,A,3001\n3002,乙,Z,3002\n3003,,A,3003\n"
    box.locator('input[type="file"]').set_input_files(
        {"name": "agents.csv", "mimeType": "text/csv", "buffer": bad.encode()})
    box.get_by_role("button", name="从文件导入").click()
    box.get_by_text("2 行有误，整个文件未导入").wait_for()
    assert "第 3 行：班组：没有班组 Z" in box.inner_text()
    assert "第 4 行：名称：必填" in box.inner_text()
    assert row(page, "agents", "3001").count() == 0
    good = "工号,姓名,班组,分机\n3001,甲,A,3001\n"
    box.locator('input[type="file"]').set_input_files(
        {"name": "agents.csv", "mimeType": "text/csv", "buffer": good.encode()})
    box.get_by_role("button", name="从文件导入").click()
    box.get_by_text("已导入：新建 1").wait_for()
    row(page, "agents", "3001").wait_for()


def test_every_admin_page_has_its_english_words(open_page):
    """In English, no key is shown in place of words (each has both languages)."""
    page = open_page("admin", "/#/admin?tab=users")
    open_tab(page, "users")  # loaded in full: a reload aborts no module still coming
    page.evaluate("localStorage.setItem('hotline.lang', 'en')")
    page.reload()
    found = {}
    for tab in TABS:
        open_tab(page, tab)
        text = page.locator("main.view").inner_text()
        found[tab] = re.findall(r"\b(?:admin|field|problem|rules|lists|cal|audit|pauses)"
                                r"\.[a-z_.]+\b", text)
    assert {tab: keys for tab, keys in found.items() if keys} == {}
    assert "Old hotline numbers" in page.locator("nav.subtabs").inner_text()
