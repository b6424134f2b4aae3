"""The harness itself: a page per role loads without an error, and an
error in the page fails the test."""

from __future__ import annotations

import pytest

from tests.browser.conftest import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ["agent", "supervisor", "department", "admin"])
def test_the_console_loads_for_every_role(open_page, shot, role):
    page = open_page(role)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang").startswith("zh")
    me = page.evaluate("fetch('/api/me').then(r => r.json())")
    assert me["role"] == role
    shot(page, f"loaded-{role}")


def test_a_javascript_error_is_caught(open_page):
    page = open_page("admin")
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('boom'); }, 0)")
    with page.expect_response("**/api/no-such-route"):
        page.evaluate("fetch('/api/no-such-route')")
    assert any("boom" in p for p in page.problems)
    assert any("HTTP 4" in p and "no-such-route" in p for p in page.problems), page.problems
    page.problems.clear()


def test_without_chromium_ci_fails_and_elsewhere_skips(monkeypatch):
    from tests.browser import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        conftest._require_browser()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        conftest._require_browser()


def test_logging_in_through_the_form_in_chinese(open_page, shot):
    from tests.browser.language import assert_chinese
    from tests.helpers import PASSWORD

    page = open_page(None, label="login")
    form = page.locator("form.login")
    expect(form).to_be_visible()
    assert_chinese(page, where="(login)")
    form.locator("input[name=username]").fill("sup")
    form.locator("input[name=password]").fill("wrong-password-1")
    page.expect_http(401, "/api/login")
    form.locator("button[type=submit]").click()
    expect(form.locator("[role=alert]")).to_have_text("用户名或密码错误")
    assert_chinese(page, where="(wrong password)")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("header.top .who")).to_contain_text("值班长")
    shot(page, "logged-in")
