"""Routing rules validation and the supervisors' lists over the REST API."""

from __future__ import annotations

import pytest

from routing.rules import DEFAULT_RULES, RoutingRules, RulesError, normalize_number
from tests.console.test_http import login, run_with_backend


def test_default_rules_are_valid_and_route_by_time():
    from datetime import datetime

    rules = RoutingRules.from_dict({})
    assert rules.overflow_seconds["help"] == 120
    assert rules.queue_for("report", "hotline-report", datetime(2026, 1, 1, 2, 30)) == \
        "hotline-general"
    assert rules.queue_for("report", "hotline-report", datetime(2026, 1, 1, 9, 0)) == \
        "hotline-report"
    assert rules.callback_allowed("13800138000") and rules.callback_allowed("09173212345")
    assert not rules.callback_allowed("85212345678")


def test_every_problem_is_reported_with_its_path():
    bad = {"overflow_seconds": {"help": -1, "weather": 5},
           "time_rules": [{"from": "25:00", "to": "07:00", "categories": ["x"], "queue": "nope"}],
           "callback_numbers": ["("], "vulnerable_priority": "high", "colour": "red"}
    with pytest.raises(RulesError) as err:
        RoutingRules.from_dict(bad, known_queues={"hotline-general"})
    problems = "\n".join(err.value.problems)
    for path in ("overflow_seconds.help", "overflow_seconds.weather", "time_rules[0].from",
                 "time_rules[0].categories", "time_rules[0].queue", "callback_numbers[0]",
                 "vulnerable_priority", "colour: unknown setting"):
        assert path in problems, path


@pytest.mark.parametrize("raw,expected", [("+86 138-0013-8000", "13800138000"),
                                          ("008613800138000", "13800138000"),
                                          ("0917 3212345", "09173212345"), ("12345", "12345")])
def test_numbers_are_normalised_for_the_lists(raw, expected):
    assert normalize_number(raw) == expected


def test_lists_and_rules_over_rest(database_url, tmp_path):
    async def body(http, backend):
        sup, agent, admin = (await login(http, "sup"), await login(http, "agent"),
                             await login(http, "admin"))
        out = {}
        block = {"number": "138 0013 8000", "reason": "辱骂话务员",
                 "expires_at": "2099-01-01T00:00:00+08:00"}
        async with http.post("/api/blocked-numbers", json=block, headers=agent) as r:
            out["agent_block"] = r.status
        async with http.post("/api/blocked-numbers", json={**block, "expires_at": "2099-01-01"},
                             headers=sup) as r:
            out["naive"] = (r.status, (await r.json())["error"]["message"])
        async with http.post("/api/blocked-numbers", json={**block, "reason": " "},
                             headers=sup) as r:
            out["no_reason"] = r.status
        async with http.post("/api/blocked-numbers",
                             json={**block, "expires_at": "2026-12-20T00:00:00+08:00"},
                             headers=sup) as r:
            out["block"] = (r.status, await r.json())
        async with http.delete(f"/api/blocked-numbers/{out['block'][1].get('id', 0)}",
                               headers=sup) as r:
            out["lift"] = r.status
        async with http.post("/api/priority-callers", headers=sup,
                             json={"number": "13900139000", "reason": "elderly"}) as r:
            out["priority"] = r.status
        async with http.put("/api/routing/rules", headers=sup, json={"rules": {}}) as r:
            out["sup_rules"] = r.status
        async with http.put("/api/routing/rules", headers=admin,
                            json={"rules": {"overflow_seconds": {"help": 9999}}}) as r:
            out["bad_rules"] = (r.status, (await r.json())["error"]["problems"])
        async with http.put("/api/routing/rules", headers=admin,
                            json={"rules": {"callback_offer_seconds": 60}}) as r:
            out["good_rules"] = r.status
        out["in_force"] = backend.deps.routing.rules.callback_offer_seconds
        async with http.get("/api/audit", headers=admin) as r:
            out["audit"] = [e["action"] for e in (await r.json())["entries"]]
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out["agent_block"] == 403
    assert out["naive"][0] == 400 and "time zone" in out["naive"][1]
    assert out["no_reason"] == 400
    assert out["block"][0] == 200 and out["block"][1]["number"] == "13800138000"
    assert out["lift"] == 200 and out["priority"] == 200
    assert out["sup_rules"] == 403
    assert out["bad_rules"][0] == 400 and "overflow_seconds.help" in out["bad_rules"][1][0]
    assert out["good_rules"] == 200 and out["in_force"] == 60
    assert out["audit"] == ["rules", "priority_add", "unblock", "block"]


def test_default_rules_cover_every_setting():
    assert set(RoutingRules.from_dict({}).source) == set(DEFAULT_RULES)
