"""The supervisors' live floor in a real browser, during stand-in traffic:
the numbers change with no request from the page after it loaded (every
request is recorded); each action from the page (pause, resume, listen,
move, penalty, recording, log-off) and the alert with its acknowledgement;
the wall-board follows the same feed; the pages are in Chinese."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pbxsim import CallerScript, PhoneBehaviour
from routing.models import AuditEntry

pytestmark = pytest.mark.browser

SLOW = 60_000  # ms: a real IVR on the wall clock on a loaded machine
SUPERVISOR_PHONE = "PJSIP/9001"
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@-]*[A-Za-z0-9]|[A-Za-z]")
ALLOWED = ({"English"}, re.compile(r"^(PJSIP|SIP)/[\w.@-]+$|^[A-Z]{2}\d{8}-\d{4}$"))


def latin_words(page: Any, selector: str) -> set[str]:
    """Latin words shown in ``selector`` (English words and raw codes alike)."""
    text = page.locator(selector).inner_text()
    options = " ".join(page.locator(f"{selector} option").all_inner_texts())
    words = set(LATIN.findall(text + " " + options))
    return {w for w in words if w not in ALLOWED[0] and not ALLOWED[1].match(w)}


def recorder(page: Any) -> list[str]:
    """The page's own requests (fetch/XHR; the browser's favicon is not the page's)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url}")
            if r.resource_type in ("fetch", "xhr", "document") else None)
    return seen


def place(stack: Any, patience: float = 600) -> Any:
    async def ring() -> Any:
        return stack.sim.place_call(caller_number="13800138000", caller_name="张三",
                                    dialed="12345",
                                    script=CallerScript(keys="1", key_delay=1.0,
                                                        patience=patience))
    return stack.run(ring)


def test_floor_moves_with_traffic_without_asking_and_every_action_works(
        stack, open_page, shot):
    agent = stack.agent

    async def setup() -> None:
        stack.sim.add_phone(agent["interface"], PhoneBehaviour(answer_after=2.0,
                                                               talk_seconds=600.0))
        stack.sim.add_phone(SUPERVISOR_PHONE, PhoneBehaviour(answer_after=1.0,
                                                             talk_seconds=600.0))
        # Seconds, not a minute, on the wall clock.
        stack.backend.floor.thresholds.long_wait_seconds = 3
    stack.run(setup)
    # The admin gives the supervisor their phone, on the users page.
    admin = open_page("admin", "/#/admin?tab=users")
    admin.on("dialog", lambda d: d.accept(SUPERVISOR_PHONE))
    admin.locator('tr[data-key="sup"]').get_by_role("button", name="登记话机").click()
    expect(admin.get_by_text(f"话机：{SUPERVISOR_PHONE}")).to_be_visible(timeout=SLOW)

    page = open_page("supervisor")
    row = page.locator(f'tr[data-agent="{agent["id"]}"]')
    expect(row).to_have_attribute("data-state", "logged_out", timeout=SLOW)
    expect(page.locator('tr[data-queue="hotline-help"]')).to_be_visible()
    page.wait_for_load_state("networkidle")
    requests = recorder(page)
    wall = open_page("supervisor", "/#wallboard", label="wallboard")
    expect(wall.locator('[data-wall="wall.waiting"] .wall-value')).to_have_text("0")

    # The agent joins (their own console's request, not the floor page's).
    oncall = open_page("agent")
    oncall.evaluate("fetch('/api/agent/queues/login', {method: 'POST', headers: "
                    "{'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)")
    expect(row).to_have_attribute("data-state", "available", timeout=SLOW)
    help_row = page.locator('tr[data-queue="hotline-help"]')
    # Paused from the floor: the caller waits, past the alert's threshold.
    row.locator("button[data-open]").click()
    actions = page.locator(f'[data-actions="{agent["id"]}"]')
    actions.locator("select").first.select_option("break")
    actions.locator('button[data-act="pause"]').click()
    expect(row).to_have_attribute("data-state", "paused", timeout=SLOW)
    n_before_traffic = len(requests)
    place(stack)
    expect(help_row.locator('[data-field="waiting"]')).to_have_text("1", timeout=SLOW)
    expect(wall.locator('[data-wall="wall.waiting"] .wall-value')).to_have_text("1",
                                                                               timeout=SLOW)
    alert = page.locator("li.alert").first
    expect(alert).to_be_visible(timeout=SLOW)
    expect(page.locator(".floor-alerts")).not_to_have_attribute("data-beeps", "0")
    shot(page, "1-waiting-alert")
    traffic_requests = requests[n_before_traffic:]
    assert traffic_requests == [], traffic_requests  # the numbers moved by themselves

    alert.locator("button").click()
    expect(page.locator("li.alert")).to_have_count(0, timeout=SLOW)
    actions.locator('button[data-act="resume"]').click()
    expect(help_row.locator('[data-field="answered"]')).to_have_text("1", timeout=SLOW)
    expect(row).to_have_attribute("data-state", "on_call", timeout=SLOW)
    expect(row.locator('[data-field="calls_today"]')).to_have_text("1", timeout=SLOW)
    expect(page.locator('[data-feed="call.answered"]').first).to_be_visible()
    shot(page, "2-answered")

    # Listen: the supervisor's own phone rings (the one the admin set).
    actions.locator('button[data-act="listen"]').click()
    expect(actions).to_contain_text("正在呼叫您的话机", timeout=SLOW)
    # Move off the help queue and back onto it, then change its penalty.
    actions.locator('select[data-field="from"]').select_option("hotline-help")
    actions.locator('select[data-field="to"]').select_option("hotline-general")
    actions.locator('button[data-act="move"]').click()
    expect(actions.locator(".msg.good")).to_be_visible(timeout=SLOW)
    actions.locator('select[data-field="from"]').select_option("")
    actions.locator('select[data-field="to"]').select_option("hotline-help")
    actions.locator('button[data-act="move"]').click()
    actions.locator('select[data-field="penalty-queue"]').select_option("hotline-help")
    actions.locator('input[data-field="penalty"]').fill("3")
    actions.locator('button[data-act="penalty"]').click()
    expect(actions.locator(".msg.good")).to_be_visible(timeout=SLOW)

    # The answered call's recording plays in the page (a file put where the
    # backend looks for MixMonitor's).
    call_row = page.locator("tr[data-call]").filter(has=page.locator("button[data-play]")).first
    expect(call_row).to_be_visible(timeout=SLOW)
    uniqueid = call_row.get_attribute("data-call")
    folder = stack.backend.settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).astimezone(stack.backend.settings.tz).strftime("%Y%m%d")
    (folder / f"{day}-{uniqueid}.wav").write_bytes(b"RIFF" + b"\x00" * 40)
    with page.expect_response(re.compile(r"/recording$")) as played:
        call_row.locator("button[data-play]").click()
    assert played.value.status in (200, 206)  # the player may ask for a range

    assert latin_words(page, ".floor") == set()
    assert latin_words(wall, ".wall") == set()
    shot(wall, "3-wallboard")

    actions.locator('button[data-act="logoff"]').click()
    expect(row).to_have_attribute("data-state", "logged_out", timeout=SLOW)

    def audit(s: Any) -> list[str]:
        return [a.action for a in s.scalars(select(AuditEntry))]
    done = stack.db(audit)
    for action in ("user_phone", "force_pause", "force_resume", "alert_ack", "supervise_listen",
                   "move_queue", "set_penalty", "recording_play", "force_logoff"):
        assert action in done, action


def test_an_agents_page_gets_no_floor_and_403_on_its_routes(stack, open_page):
    page = open_page("agent")
    page.wait_for_load_state("networkidle")
    for method, path in (("GET", "/api/floor"), ("POST", "/api/floor/alerts/acknowledge"),
                         ("POST", f"/api/floor/agents/{stack.agent['id']}/pause"),
                         ("GET", "/api/calls/1/recording")):
        page.expect_http(403, path)
        status = page.evaluate(f"""fetch('{path}', {{method: '{method}',
            headers: {{'Content-Type': 'application/json'}},
            body: {'undefined' if method == 'GET' else "'{}'"}}}).then(r => r.status)""")
        assert status == 403, path


def seed_approvals(s: Any) -> dict[str, Any]:
    """A returned order (with the department's reason), an extension asked
    for, a pending leave request."""
    from datetime import date, timedelta

    from agents.models import Agent, RotaRequest
    from worksheets.models import Department, OrderEvent, WorkOrder

    now = datetime.now(UTC)
    first, second = s.scalars(select(Department).order_by(Department.id).limit(2)).all()
    returned = WorkOrder(number="BJ20261205-0901", category="help", complexity="ordinary",
                         status="returned",
                         title="路灯不亮", created_at=now, submitted_at=now, returns=1)
    asked = WorkOrder(number="BJ20261205-0902", category="help", complexity="complex",
                      status="accepted", title="道路塌陷", created_at=now, submitted_at=now,
                      department_id=first.id, deadline_days=5, deadline_from=now,
                      due_date=date.today() + timedelta(days=7),
                      due_at=now + timedelta(days=7), accepted_at=now, extension_days=3,
                      extension_reason="需要等待检测报告")
    s.add_all([returned, asked])
    s.flush()
    s.add(OrderEvent(order_id=returned.id, at=now, kind="returned", department_id=first.id,
                     detail="不属于本单位职责"))
    agent = s.scalars(select(Agent).order_by(Agent.number)).first()
    leave = RotaRequest(kind="leave", status="pending", agent_id=agent.id,
                        day=date.today() + timedelta(days=10), reason="家中有事",
                        requested_at=now)
    s.add(leave)
    s.flush()
    return {"returned": returned.id, "asked": asked.id, "leave": leave.id,
            "second": second.id, "second_name": second.name}


def test_approvals_and_redispatch_on_the_floor_with_reasons_in_view(stack, open_page, shot):
    ids = stack.db(seed_approvals)
    page = open_page("supervisor")
    returned = page.locator(f'tr[data-returned="{ids["returned"]}"]')
    expect(returned).to_contain_text("不属于本单位职责", timeout=SLOW)
    extension = page.locator(f'tr[data-extension="{ids["asked"]}"]')
    expect(extension).to_contain_text("需要等待检测报告")
    request = page.locator(f'tr[data-request="{ids["leave"]}"]')
    expect(request).to_contain_text("家中有事")
    shot(page, "approvals")
    returned.locator("select").select_option(str(ids["second"]))
    returned.locator('button[data-act="redispatch"]').click()
    expect(returned).to_have_count(0, timeout=SLOW)
    extension.locator('button[data-act="refuse"]').click()
    expect(extension).to_have_count(0, timeout=SLOW)
    request.locator("button.ghost").click()
    expect(request).to_have_count(0, timeout=SLOW)

    def state(s: Any) -> tuple[Any, ...]:
        from agents.models import RotaRequest
        from worksheets.models import WorkOrder

        order, asked = s.get(WorkOrder, ids["returned"]), s.get(WorkOrder, ids["asked"])
        return (order.status, order.department_id, asked.extension_days,
                s.get(RotaRequest, ids["leave"]).status)
    assert stack.db(state) == ("dispatched", ids["second"], None, "refused")


def test_a_caller_who_gave_up_is_on_the_floors_callback_list_and_closed_with_a_reason(
        stack, open_page):
    """The classic page's callbacks panel, on the floor: an abandoned call's
    task appears without a reload (the call.abandoned event), and a
    supervisor closes it with a reason, which is stored and audited."""
    from worksheets.models import CallbackTask

    page = open_page("supervisor", "/#/floor")
    card = page.locator('[data-testid="floor-callbacks"]')
    expect(card.get_by_text("没有任务")).to_be_visible(timeout=SLOW)
    place(stack, patience=3)  # nobody is on the queues: the caller gives up
    row = card.locator("tr[data-task]")
    expect(row).to_have_count(1, timeout=SLOW)
    expect(row).to_contain_text("排队放弃")
    expect(row).to_contain_text("138****8000")
    row.get_by_role("button", name="关闭").click()
    form = card.locator('[data-testid="cb-close-form"]')
    form.locator("input[name=note]").fill("空号，无法回拨")
    form.get_by_role("button", name="确认关闭").click()
    expect(card.get_by_text("已关闭")).to_be_visible()
    expect(card.locator("tr[data-task]")).to_have_count(0)
    card.locator("select[name=cb-filter]").select_option("failed")
    expect(card.locator("tr[data-task]")).to_contain_text("未接通")

    def stored(s: Any) -> tuple[Any, ...]:
        task = s.scalars(select(CallbackTask)).one()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "callback_failed")).one()
        return task.status, task.note, audit.detail
    assert stack.db(stored) == ("failed", "空号，无法回拨", "空号，无法回拨")
    assert not latin_words(page, '[data-testid="floor-callbacks"]')


def test_a_supervisor_sets_the_long_wait_threshold_and_a_caller_past_it_raises_the_alert(
        stack, open_page, shot):
    """Set in the page (a bad value first: named under its field), stored and
    applied at once: a caller waiting past the new 5 s, far short of the
    60 s default, raises the long-wait alert."""
    from tests.browser.language import assert_chinese

    agent = stack.agent
    page = open_page("supervisor")
    card = page.locator(".floor-thresholds")
    expect(card.locator('[data-field="summary"]')).to_contain_text("60 秒", timeout=SLOW)
    card.locator('button[data-act="thresholds"]').click()
    field = card.locator('input[name="long_wait_seconds"]')
    page.expect_http(400, "/api/floor/thresholds")
    field.fill("2")
    card.locator('button[data-act="save-thresholds"]').click()
    expect(card.locator("label.invalid")).to_contain_text("应在 5 到 3600 之间", timeout=SLOW)
    assert_chinese(page)
    shot(page, "1-threshold-refused")
    field.fill("5")
    card.locator('button[data-act="save-thresholds"]').click()
    expect(card.locator(".msg.good")).to_be_visible(timeout=SLOW)
    expect(card.locator('[data-field="summary"]')).to_contain_text("5 秒")
    assert stack.backend.floor.thresholds.long_wait_seconds == 5

    # The one agent on the queues is paused: the caller waits.
    oncall = open_page("agent")
    oncall.evaluate("fetch('/api/agent/queues/login', {method: 'POST', headers: "
                    "{'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)")
    row = page.locator(f'tr[data-agent="{agent["id"]}"]')
    expect(row).to_have_attribute("data-state", "available", timeout=SLOW)
    status = page.evaluate(f"""fetch('/api/floor/agents/{agent["id"]}/pause', {{method: 'POST',
        headers: {{'Content-Type': 'application/json'}},
        body: JSON.stringify({{paused: true, reason: 'break'}})}}).then(r => r.status)""")
    assert status == 200
    expect(row).to_have_attribute("data-state", "paused", timeout=SLOW)
    place(stack)
    expect(page.locator('tr[data-queue="hotline-help"] [data-field="waiting"]')).to_have_text(
        "1", timeout=SLOW)
    # Well within the default 60 s: only the new threshold raises it this soon.
    alert = page.locator("li.alert").filter(has_text="等待超时")
    expect(alert).to_be_visible(timeout=40_000)
    expect(alert.locator("span[title]")).to_have_attribute("title", re.compile(r"over 5 s"))
    shot(page, "2-long-wait-alert")

    def audit(s: Any) -> list[str]:
        return [a.detail for a in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "floor_thresholds"))]
    assert stack.db(audit) == ["long_wait_seconds: 60 -> 5"]
