"""The knowledge base over HTTP, as each role uses it: the agent searches
during a call, gets suggestions from the description transcript and closes
a consultation answered from an article; supervisors edit with history;
owners see their expired articles.  Roles are enforced."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from sqlalchemy import select

from agents.models import Agent
from calls import records
from core.clock import Clock, run_simulated
from core.db import Database
from hotline.app import Backend
from tests.console.test_http import login
from tests.helpers import prepare_database, record_answer, settings_for_test

NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)  # Tuesday 1 December 2026, 10:00 in Baoji


def consult_drafts(url: str, count: int) -> list[int]:
    """Draft orders of consultation calls answered by the 'agent' login's agent."""
    db = Database(url)
    try:
        def work(s):
            agent_id = s.scalars(select(Agent.id).order_by(Agent.number)).first()
            ids = []
            for i in range(count):
                uid = f"kb.{i}"
                records.start_call(s, uniqueid=uid, now=NOW, caller_number="13800138000")
                records.record_ivr_choice(s, uid, key="4", category="consult",
                                          queue="hotline-consult", now=NOW)
                ids.append(record_answer(s, uid, member_name="m", agent_id=agent_id,
                                         hold_seconds=3, now=NOW).id)
            return ids
        return db.call(work)
    finally:
        db.close()


async def with_backend(settings, body):
    backend = Backend(settings, clock=Clock.for_running_loop(NOW))
    await backend.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
            return await body(http)
    finally:
        await backend.stop()


def test_agent_searches_gets_suggestions_and_closes_a_consultation_from_an_article(
        database_url, tmp_path):
    prepare_database(database_url, NOW)
    first, second = consult_drafts(database_url, 2)
    settings = settings_for_test(database_url, tmp_path)

    async def body(http):
        agent, sup, dept = [await login(http, n) for n in ("agent", "sup", "dept")]
        out = {}

        async def call(method, path, who, **kw):
            async with http.request(method, path, headers=who, **kw) as r:
                return r.status, await r.json()

        status, found = await call("GET", "/api/kb/articles", agent, params={"q": "路灯"})
        out["search"] = status, [a["title"] for a in found["articles"]], found["terms"]
        status, got = await call("POST", "/api/kb/suggest", agent, json={
            "text": "喂，你好，我们小区晚上路灯一直不亮，黑乎乎的，物业也不管"})
        out["suggest"] = status, [a["title"] for a in got["articles"]][:2]
        light = got["articles"][0]
        out["agent_writes"] = (await call("POST", "/api/kb/articles", agent, json={
            "category": "其他", "title": "x", "answer": "y"}))[0]

        status, old = await call("POST", "/api/kb/articles", sup, json={
            "category": "住房物业", "department": "ZJJ", "title": "2026年老旧小区改造报名",
            "answer": "报名已于11月30日截止。", "valid_until": "2026-11-30",
            "keywords": "老旧小区、改造"})
        out["created"] = status, old["version"], old["expired"]
        out["created_id"] = old["id"]
        _, hidden = await call("GET", "/api/kb/articles", agent, params={"q": "老旧小区改造"})
        out["agent_sees_expired"] = old["id"] in [a["id"] for a in hidden["articles"]]
        out["agent_reads_expired"] = (await call("GET", f"/api/kb/articles/{old['id']}",
                                                 agent))[0]
        _, shown = await call("GET", "/api/kb/articles", sup,
                              params={"q": "老旧小区改造", "include_hidden": "1"})
        out["sup_sees_expired"] = [a["id"] for a in shown["articles"]]
        for who, name in ((sup, "sup"), (dept, "dept")):
            status, listed = await call("GET", "/api/kb/expired", who)
            out[f"expired_{name}"] = status, [a["id"] for a in listed["articles"]]
        out["expired_agent"] = (await call("GET", "/api/kb/expired", agent))[0]

        edit = {"category": "住房物业", "department": "ZJJ", "title": "2027年老旧小区改造报名",
                "answer": "2027年报名时间另行通知。", "valid_until": "2027-06-30",
                "keywords": ["老旧小区", "改造"]}
        status, edited = await call("PUT", f"/api/kb/articles/{old['id']}", sup,
                                    json={**edit, "version": 1, "note": "新年度"})
        out["edit"] = status, edited["version"], edited["expired"]
        out["stale_edit"] = (await call("PUT", f"/api/kb/articles/{old['id']}", sup,
                                        json={**edit, "answer": "另一人的修改", "version": 1}))[0]
        _, full = await call("GET", f"/api/kb/articles/{old['id']}", sup)
        out["history"] = [(v["version"], v["title"], v["note"]) for v in full["history"]]
        _, seen = await call("GET", "/api/kb/articles", agent, params={"q": "老旧小区改造"})
        out["agent_sees_renewed"] = [a["id"] for a in seen["articles"]][:1] == [old["id"]]

        status, order = await call("POST", f"/api/work-orders/{first}/submit", agent, json={
            "title": "小区路灯不亮找谁", "category": "consult", "kb_article_id": light["id"],
            "district": "weibin"})
        out["submit"] = (status, order["status"], order["answered_on_call"],
                         order["kb_article_id"] == light["id"], order["kb_article_version"],
                         order["closed_at"] is not None, order["due_date"])
        _, detail = await call("GET", f"/api/work-orders/{first}", agent)
        out["history_says"] = any("answered from article" in e["detail"]
                                  for e in detail["history"])

        _, stale = await call("POST", "/api/kb/articles", sup, json={
            "category": "其他", "title": "过期的答复", "answer": "旧口径",
            "valid_until": "2026-01-01"})
        status, refused = await call("POST", f"/api/work-orders/{second}/submit", agent, json={
            "title": "咨询", "category": "consult", "kb_article_id": stale["id"]})
        out["expired_answer"] = status, "expired" in refused["error"]["message"]
        return out

    out = run_simulated(with_backend(settings, body))
    status, titles, terms = out["search"]
    assert status == 200 and terms == ["路灯"]
    assert titles and all("路灯" in t for t in titles)
    assert not any("道路坑洼" in t for t in titles)
    assert out["suggest"][0] == 200 and all("路灯" in t for t in out["suggest"][1])
    assert out["agent_writes"] == 403
    assert out["created"] == (200, 1, True)
    assert out["agent_sees_expired"] is False and out["agent_reads_expired"] == 404
    created_id = out["created_id"]
    assert out["sup_sees_expired"][0] == created_id
    assert out["expired_sup"] == (200, [created_id])  # the ones this supervisor edited
    assert out["expired_dept"][0] == 200 and created_id in out["expired_dept"][1]
    assert out["expired_agent"] == 403
    assert out["edit"] == (200, 2, False) and out["stale_edit"] == 409
    assert out["history"] == [(1, "2026年老旧小区改造报名", "created"),
                              (2, "2027年老旧小区改造报名", "新年度")]
    assert out["agent_sees_renewed"]
    assert out["submit"] == (200, "closed", True, True, 1, True, None)
    assert out["history_says"]
    assert out["expired_answer"] == (400, True)
