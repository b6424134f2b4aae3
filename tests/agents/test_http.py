"""The agents' REST routes: roles, clear 4xx errors, the request workflow,
settings, exports, pause reasons and handover notes (no PBX needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from core.clock import Clock, run_simulated
from hotline.app import Backend
from tests.helpers import PASSWORD, settings_for_test

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Baoji
D = "2026-12-10"


def with_backend(url, tmp_path, body):
    async def main():
        backend = Backend(settings_for_test(url, tmp_path), clock=Clock.for_running_loop(NOW))
        await backend.start()
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                users = {}
                for name in ("admin", "sup", "dept", "agent"):
                    async with http.post("/api/login", json={"username": name,
                                                             "password": PASSWORD}) as r:
                        users[name] = {"Authorization": f"Bearer {(await r.json())['token']}"}
                return await body(http, users)
        finally:
            await backend.stop()

    return run_simulated(main())


async def call(http, method, path, who, **kwargs):
    async with http.request(method, path, headers=who, **kwargs) as r:
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, (r.headers.get("Content-Type"), await r.read())


def test_rota_views_settings_and_exports(seeded_url, tmp_path) -> None:
    async def body(http, u):
        out = {}
        out["rota"] = await call(http, "GET", f"/api/rota?start={D}&days=2", u["agent"])
        out["dept"] = await call(http, "GET", "/api/rota", u["dept"])
        out["bad_days"] = await call(http, "GET", "/api/rota?days=abc", u["agent"])
        out["bad_start"] = await call(http, "GET", "/api/rota?start=10/12", u["agent"])
        out["pdf"] = await call(http, "GET", "/api/rota/export?format=pdf", u["sup"])
        out["csv"] = await call(http, "GET", f"/api/rota/export?start={D}&days=1", u["agent"])
        out["xlsx"] = await call(http, "GET", "/api/rota/export?days=1&format=xlsx", u["sup"])
        out["sup_config"] = await call(http, "PUT", "/api/rota/config", u["sup"],
                                       json={"min_on_duty": 6})
        out["backward"] = await call(http, "PUT", "/api/rota/config", u["admin"],
                                     json={"pattern": "3,2,1,0,-,-"})
        out["bad_time"] = await call(http, "PUT", "/api/rota/config", u["admin"],
                                     json={"shift_starts": ["25:00"]})
        out["config"] = await call(http, "PUT", "/api/rota/config", u["admin"],
                                   json={"min_on_duty": 8, "no_show_minutes": 7})
        out["read_back"] = await call(http, "GET", "/api/rota/config", u["agent"])
        out["coverage"] = await call(http, "GET", f"/api/rota/coverage?start={D}&days=1",
                                     u["sup"])
        out["agent_coverage"] = await call(http, "GET", "/api/rota/coverage", u["agent"])
        out["staffing"] = await call(http, "GET", f"/api/rota/staffing?date={D}", u["sup"])
        out["page"] = await call(http, "GET", "/rota.html", {})
        return out

    out = with_backend(seeded_url, tmp_path, body)
    status, rota = out["rota"]
    assert status == 200 and len(rota["shifts"]) == 8 and rota["now"]["shift"] == 1
    assert all(s["count"] == 7 for s in rota["shifts"])
    assert out["dept"][0] == 403
    assert out["bad_days"][0] == 400 and out["bad_days"][1]["error"]["code"] == "invalid"
    assert out["bad_start"][0] == 400 and "date" in out["bad_start"][1]["error"]["message"]
    assert out["pdf"][0] == 400
    status, (kind, data) = out["csv"]
    assert status == 200 and kind.startswith("text/csv") and data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").count("\r\n") == 5  # heading + four shifts
    status, (kind, data) = out["xlsx"]
    assert status == 200 and "spreadsheetml" in kind and data[:2] == b"PK"
    assert out["sup_config"][0] == 403  # only admins change the rota's shape
    status, err = out["backward"]
    assert status == 400 and err["error"]["code"] == "rota_rules"
    assert "backward rotation" in err["error"]["message"]
    assert out["bad_time"][0] == 400
    assert out["config"][0] == 200
    assert out["read_back"][1]["min_on_duty"] == 8 and out["read_back"][1]["no_show_minutes"] == 7
    status, coverage = out["coverage"]
    assert status == 200 and coverage["ok"] is False and len(coverage["short_hours"]) == 24
    assert coverage["short_hours"][0] == {"hour": f"{D}T00:00:00", "agents": 7, "needed": 8}
    assert out["agent_coverage"][0] == 403
    status, staffing = out["staffing"]
    assert status == 200 and len(staffing["hours"]) == 24 and staffing["aht_seconds"] == 240
    assert out["page"][0] == 200


def test_swap_and_leave_requests_through_the_api(seeded_url, tmp_path) -> None:
    async def body(http, u):
        out = {}
        _, agents = await call(http, "GET", "/api/agents", u["sup"])
        by_team = {}
        for a in agents["agents"]:
            by_team.setdefault(a["team_index"], []).append(a["id"])
        me = by_team[0][0]  # the "agent" login: team 0 works 06-12 on D
        swap = {"kind": "swap", "day": D, "shift": 1, "other_agent_id": by_team[5][0],
                "other_day": D, "other_shift": 2, "reason": "孩子家长会"}
        out["created"] = await call(http, "POST", "/api/rota/requests", u["agent"], json=swap)
        out["sup_cannot_ask"] = await call(http, "POST", "/api/rota/requests", u["sup"],
                                           json=swap)
        rest = {**swap, "other_agent_id": by_team[4][0], "other_day": "2026-12-09"}
        out["rest"] = await call(http, "POST", "/api/rota/requests", u["agent"], json=rest)
        out["bad_kind"] = await call(http, "POST", "/api/rota/requests", u["agent"],
                                     json={"kind": "holiday", "day": D})
        request_id = out["created"][1]["id"]
        out["agent_decides"] = await call(http, "POST", "/api/rota/requests/decide",
                                          u["agent"], json={"id": request_id, "approve": True})
        out["bad_decision"] = await call(http, "POST", "/api/rota/requests/decide", u["sup"],
                                         json={"id": request_id, "approve": "yes"})
        out["pending"] = await call(http, "GET", "/api/rota/requests?status=pending", u["sup"])
        out["approved"] = await call(http, "POST", "/api/rota/requests/decide", u["sup"],
                                     json={"id": request_id, "approve": True, "note": "同意"})
        out["rota"] = await call(http, "GET", f"/api/rota?start={D}&days=1", u["agent"])
        out["leave"] = await call(http, "POST", "/api/rota/requests", u["agent"],
                                  json={"kind": "leave", "day": "2026-12-12",
                                        "end_day": "2026-12-13", "reason": "病假"})
        out["cancel"] = await call(http, "POST", "/api/rota/requests/cancel", u["agent"],
                                   json={"id": out["leave"][1]["id"]})
        out["mine"] = await call(http, "GET", "/api/rota/requests", u["agent"])
        out["overtime"] = await call(http, "POST", "/api/rota/overtime", u["sup"],
                                     json={"agent_id": by_team[5][1]})
        out["overtime_again"] = await call(http, "POST", "/api/rota/overtime", u["sup"],
                                           json={"agent_id": by_team[5][1]})
        return out, me, by_team

    out, me, by_team = with_backend(seeded_url, tmp_path, body)
    assert out["created"][0] == 201 and out["created"][1]["status"] == "pending"
    assert out["sup_cannot_ask"][0] == 403
    status, err = out["rest"]
    assert status == 409 and err["error"]["code"] == "rest" and "rests 6 h" in \
        err["error"]["message"]
    assert out["bad_kind"][0] == 400
    assert out["agent_decides"][0] == 403 and out["bad_decision"][0] == 400
    assert [r["id"] for r in out["pending"][1]["requests"]] == [out["created"][1]["id"]]
    assert out["approved"][0] == 200 and out["approved"][1]["status"] == "approved"
    morning = out["rota"][1]["shifts"][1]
    ids = [a["id"] for a in morning["agents"]]
    assert by_team[5][0] in ids and me not in ids
    assert out["leave"][0] == 201 and out["leave"][1]["coverage"]["ok"] is True
    assert out["cancel"][1]["status"] == "cancelled"
    assert [r["status"] for r in out["mine"][1]["requests"]] == ["cancelled", "approved"]
    assert out["overtime"][0] == 201 and out["overtime"][1]["shift"] == 1
    assert out["overtime_again"][0] == 409


def test_pause_reasons_handover_alerts_and_queue_refusals(seeded_url, tmp_path) -> None:
    async def body(http, u):
        out = {}
        out["reasons"] = await call(http, "GET", "/api/pause-reasons", u["agent"])
        out["agent_edit"] = await call(http, "PUT", "/api/pause-reasons", u["agent"],
                                       json={"code": "toilet", "label": "洗手间",
                                             "max_minutes": 10})
        out["bad_code"] = await call(http, "PUT", "/api/pause-reasons", u["sup"],
                                     json={"code": "坏 code", "label": "x", "max_minutes": 5})
        out["half_new"] = await call(http, "PUT", "/api/pause-reasons", u["sup"],
                                     json={"code": "toilet"})
        out["new"] = await call(http, "PUT", "/api/pause-reasons", u["sup"],
                                json={"code": "toilet", "label": "洗手间", "max_minutes": 10})
        out["changed"] = await call(http, "PUT", "/api/pause-reasons", u["sup"],
                                    json={"code": "break", "max_minutes": 20})
        out["no_reason"] = await call(http, "POST", "/api/agent/pause", u["agent"],
                                      json={"paused": True})
        out["not_on_queues"] = await call(http, "POST", "/api/agent/pause", u["agent"],
                                          json={"paused": True, "reason": "休息"})
        out["join"] = await call(http, "POST", "/api/agent/queues/login", u["agent"])
        out["note"] = await call(http, "POST", "/api/rota/handover", u["agent"],
                                 json={"text": "12号座席耳机有杂音，已报修"})
        out["empty_note"] = await call(http, "POST", "/api/rota/handover", u["agent"],
                                       json={"text": "  "})
        out["handover"] = await call(http, "GET", "/api/rota/handover", u["sup"])
        out["alerts"] = await call(http, "GET", "/api/agents/alerts?hours=0", u["sup"])
        out["states"] = await call(http, "GET", "/api/agents/states", u["sup"])
        out["report"] = await call(http, "GET", "/api/agents/report?start=2026-12-02&end="
                                   "2026-12-01", u["sup"])
        out["agent_states"] = await call(http, "GET", "/api/agents/states", u["agent"])
        return out

    out = with_backend(seeded_url, tmp_path, body)
    status, reasons = out["reasons"]
    assert status == 200 and {r["label"] for r in reasons["pause_reasons"]} >= {
        "休息", "用餐", "培训", "回访"}  # what the console offers
    assert out["agent_edit"][0] == 403 and out["bad_code"][0] == 400
    assert out["half_new"][0] == 400 and out["new"][0] == 201
    assert out["changed"][0] == 200 and out["changed"][1]["max_minutes"] == 20
    assert out["no_reason"][0] == 400
    assert out["not_on_queues"][0] == 409
    status, err = out["join"]
    # Team 0 rests on 1 December: outside their shifts agents cannot join.
    assert status == 409 and "not rostered" in err["error"]["message"]
    assert out["note"][0] == 201 and out["empty_note"][0] == 400
    notes = out["handover"][1]["this_shift"]
    assert [n["text"] for n in notes] == ["12号座席耳机有杂音，已报修"]
    assert out["alerts"][0] == 400  # hours must be 1 or more
    assert out["states"] == (200, {"agents": []})
    assert out["report"][0] == 400 and out["agent_states"][0] == 403
