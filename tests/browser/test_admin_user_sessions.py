"""The users page's "log out everywhere" (强制下线) and "new password"
(重置密码) in a real browser: the user's open console goes to the login at
once (its live socket closes with 4401), the old session is refused, and
after a new password the old one no longer logs in while the new one does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

SLOW = 30_000


def users_row(page, username):
    return page.locator(f'[data-testid="records-users"] tr[data-key="{username}"]')


def signed_in(page) -> None:
    """The console is up and its live socket connected."""
    expect(page.locator("main.view")).to_be_visible(timeout=SLOW)
    expect(page.locator("form.login")).to_have_count(0)


def test_ending_a_users_sessions_and_resetting_the_password_from_the_users_page(
        stack, open_page):
    dept = open_page("department", label="dept-1")
    signed_in(dept)
    assert dept.request.get("/api/me").status == 200
    admin = open_page("admin", "/#/admin?tab=users")
    admin.on("dialog", lambda d: d.accept())

    # Whatever the page still asks once its session is ended is refused (401),
    # until it shows the login: expected, not a problem of the page.
    dept.expect_http(401, "/api/")
    users_row(admin, "dept").get_by_role("button", name="强制下线").click()
    expect(admin.get_by_text(re.compile(r"已结束 [1-9]\d* 个会话"))).to_be_visible(timeout=SLOW)
    expect(dept.locator("form.login")).to_be_visible(timeout=SLOW)  # no reload
    assert dept.request.get("/api/me").status == 401

    again = open_page("department", label="dept-2")
    signed_in(again)
    again.expect_http(401, "/api/")
    users_row(admin, "dept").get_by_role("button", name="重置密码").click()
    notice = admin.get_by_text(re.compile("新密码："))
    expect(notice).to_be_visible(timeout=SLOW)
    new_password = re.search(r"新密码：(\S+?)（", notice.inner_text()).group(1)
    expect(again.locator("form.login")).to_be_visible(timeout=SLOW)
    assert again.request.get("/api/me").status == 401

    def login(password: str) -> int:
        # As the login page posts it (the session cookie still goes with it).
        return again.request.post("/api/login", headers={"Origin": stack.base_url},
                                  data={"username": "dept", "password": password}).status
    assert new_password != PASSWORD
    assert login(PASSWORD) == 401
    assert login(new_password) == 200
    assert again.request.get("/api/me").status == 200

    audit = admin.request.get("/api/audit?target=dept").json()["entries"]
    assert {"user_logout_all", "user_password_reset"} <= {e["action"] for e in audit}
