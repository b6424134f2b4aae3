"""Issue 14's low findings, each as the attack over the backend's real sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select

from calls import records
from routing.models import AuditEntry
from tests.console.test_http import login, run_with_backend
from tests.helpers import record_answer
from worksheets.models import Department


def test_a_phone_with_a_trailing_newline_is_a_400_and_nothing_is_audited(database_url,
                                                                         tmp_path):
    async def body(http, backend):
        sup = await login(http, "sup")
        async with http.post("/api/agents/1/supervise", headers=sup,
                             json={"mode": "listen", "phone": "PJSIP/9001\n"}) as r:
            status = r.status
        audited = await backend.deps.db.run(lambda s: s.scalars(
            select(AuditEntry.action)).all())
        return status, audited

    status, audited = run_with_backend(database_url, tmp_path, body)
    assert status == 400
    assert not [a for a in audited if a.startswith("supervise")]


def test_websockets_are_capped_per_user_and_big_messages_refused(database_url, tmp_path):
    async def body(http, backend):
        agent = await login(http, "agent")
        sockets, refused = [], None
        for _ in range(9):
            try:
                ws = await http.ws_connect("/api/ws", headers=agent)
                await ws.receive_json()  # hello
                await ws.receive_json()  # the snapshot
                sockets.append(ws)
            except aiohttp.WSServerHandshakeError as exc:
                refused = exc.status
        await sockets[0].send_str("x" * 5000)
        msg = await sockets[0].receive()
        for ws in sockets:
            await ws.close()
        # Closed ones count no more: a new one is accepted.
        again = await http.ws_connect("/api/ws", headers=agent)
        hello = (await again.receive_json())["type"]
        await again.close()
        return len(sockets), refused, msg.type, sockets[0].close_code, hello

    opened, refused, kind, code, hello = run_with_backend(database_url, tmp_path, body)
    assert opened == 8 and refused == 429
    assert kind in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and code == 1009
    assert hello == "hello"


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(database_url, tmp_path):
    async def body(http, backend):
        def rename(s):
            dept = s.scalars(select(Department).order_by(Department.id)).first()
            dept.name = "=HYPERLINK(\"http://evil.example\",\"点我\")"
        await backend.deps.db.run(rename)
        async with http.get("/api/stats/departments?format=csv",
                            headers=await login(http, "sup")) as r:
            return (await r.read()).decode("utf-8-sig")

    text = run_with_backend(database_url, tmp_path, body)
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


SOON = (datetime.now(UTC) + timedelta(days=30)).isoformat()


def test_a_text_longer_than_its_column_is_a_clear_400_and_not_stored(database_url, tmp_path):
    async def body(http, backend):
        sup = await login(http, "sup")
        async with http.post("/api/blocked-numbers", headers=sup, json={
                "number": "13800138000", "reason": "x" * 900_000,
                "expires_at": SOON}) as r:
            long = r.status, (await r.json())["error"]
        async with http.get("/api/blocked-numbers", headers=sup) as r:
            stored = (await r.json())["blocked"]
        async with http.post("/api/blocked-numbers", headers=sup, json={
                "number": "13800138000", "reason": "骚扰电话",
                "expires_at": SOON}) as r:
            short = r.status
        return long, stored, short

    (status, error), stored, short = run_with_backend(database_url, tmp_path, body)
    assert status == 400 and error["code"] == "too_long", error
    assert "reason" in error["message"] and "200" in error["message"]
    assert stored == [] and short in (200, 201)


def test_an_agent_cannot_take_a_draft_without_an_agent_nor_learn_others_order_numbers(
        database_url, tmp_path):
    from agents.models import Agent

    async def body(http, backend):
        now = backend.deps.clock.now()

        def drafts(s):
            second = s.scalars(select(Agent).order_by(Agent.number)).all()[1]
            out = []
            for uid, agent_id in (("1764950000.21", None), ("1764950000.22", second.id)):
                records.start_call(s, uniqueid=uid, now=now, caller_number="13800138000")
                out.append(record_answer(s, uid, member_name="m", agent_id=agent_id,
                                         hold_seconds=1, now=now))
            return [(o.id, o.number) for o in out]
        orders = await backend.deps.db.run(drafts)
        agent = await login(http, "agent")
        answers = []
        for order_id, number in orders:
            async with http.post(f"/api/work-orders/{order_id}/submit", headers=agent, json={
                    "title": "路灯不亮", "category": "consult", "answered_on_call": True}) as r:
                answers.append((r.status, (await r.json())["error"]["message"], number))
        return answers

    for status, message, number in run_with_backend(database_url, tmp_path, body):
        assert status == 403 and number not in message
