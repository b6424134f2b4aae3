"""On a call: the agent looks up the caller's earlier order by their
number, closes the call's order without dispatching it (a call for a
special line, with the reason in words), and transfers the caller to 119
(the confirmation dialog accepted); the order's status, the look-up's
audit row and the transfer are in the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pbxsim import CallerScript, PhoneBehaviour
from tests.browser.conftest import expect
from tests.browser.language import assert_chinese
from tests.browser.test_agent_call import CALLER, SLOW, past_order
from worksheets.models import WorkOrder

pytestmark = pytest.mark.browser


def test_look_up_close_without_an_order_and_transfer_to_119(stack, open_page, shot):
    stack.db(past_order)

    async def ring() -> Any:
        stack.sim.add_phone(stack.agent["interface"], PhoneBehaviour(answer_after=1.0,
                                                                     talk_seconds=600.0))
        return stack.sim.place_call(caller_number=CALLER, caller_name="张三", dialed="12345",
                                    script=CallerScript(keys="4", key_delay=1.0, patience=600))
    page = open_page("agent")
    page.get_by_test_id("join").click()
    state = page.get_by_test_id("state")
    expect(state).to_have_attribute("data-state", "available")
    call = stack.run(ring)
    expect(page.get_by_test_id("pop")).to_have_attribute("data-phase", "answered", timeout=SLOW)
    form = page.get_by_test_id("order-form")
    expect(form.locator("select[name=category]")).to_have_value("consult")

    # Look-up by the caller's number: the earlier order, read only.
    page.locator("[data-tab=lookup]").click()
    lookup = page.get_by_test_id("lookup")
    lookup.locator("input").fill(CALLER)
    lookup.locator("button[type=submit]").click()
    expect(lookup.locator("table")).to_contain_text("BJ20261001-0007")
    expect(lookup.locator("table")).to_contain_text("已派单")
    assert_chinese(page, where="(look-up)")

    # No order needed: the reason is required, then the order is closed apart.
    no_order = form.get_by_test_id("no-order")
    no_order.locator("summary").click()
    no_order.locator("button[type=submit]").click()
    expect(no_order.locator("[role=alert]")).to_contain_text("原因")
    no_order.locator("select").select_option("special_line")
    no_order.locator("input").fill("已告知森林防火专线号码")
    no_order.locator("button[type=submit]").click()
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_contain_text("不派单（应拨专线", timeout=SLOW)
    shot(page, "no-order")

    def order_of_call(s: Any) -> tuple[str, str | None]:
        order = s.scalars(select(WorkOrder).where(WorkOrder.caller_number == CALLER)
                          .order_by(WorkOrder.id.desc())).first()
        return order.status, getattr(order, "no_order_reason", None)
    assert stack.db(order_of_call) == ("no_order", "special_line")

    # Blind transfer to 119, confirmed in a dialog; the agent's leg ends.
    page.once("dialog", lambda dialog: dialog.accept())
    controls = page.get_by_test_id("call-controls")
    controls.locator("select").select_option("emergency:119")
    controls.get_by_test_id("transfer").click()
    expect(controls.locator("[role=status]")).to_contain_text("已转接：119")
    expect(state).not_to_have_attribute("data-state", "on_call", timeout=SLOW)
    expect(confirmation).to_be_visible()
    assert_chinese(page, where="(after the transfer)")
    shot(page, "transferred")
    assert not call.done.done()  # the caller is on the line to 119, not dropped
