"""Every route that reads a JSON body refuses what is not the object it expects.

``[]``, ``null``, ``"x"``, a number and broken JSON are a 400 ``bad_json``;
a field of the wrong type (or outside its enum) is a 400 ``invalid`` naming
the field, before the handler acts on it.  Each route is called as a login
the role table (test_role_table.TABLE) admits.
"""

from __future__ import annotations

from typing import Any

from console import auth
from console.routing_table import field_problem
from tests.console.test_role_table import log_in, run_backend, table_rows

# (An empty body is "no fields" to the order steps that need none, like accept.)
NOT_OBJECTS = [b"[]", b"null", b'"x"', b"5", b"true", b"{", b"{}{}", b"\xff\xfe"]

# Routes that read a JSON body without declaring its fields.
UNDECLARED_BODIES = {("POST", "/api/work-orders/{order_id}/accept")}

# A value of the wrong type for each declared type (bool is not an integer).
WRONG = {"string": [5, [], None], "integer": ["1", True, 1.5], "boolean": ["yes", 1],
         "object": [[], "x"], "array": [{}, "x"]}


def wrong_values(rule: dict[str, Any]) -> list[object]:
    """Values the rule must refuse (those another of its types would accept left out)."""
    if "enum" in rule:
        return ["not-a-choice", 5]
    types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
    candidates = [v for t in types for v in WRONG.get(t, [])]
    return [v for v in candidates if field_problem({"properties": {"f": rule}}, {"f": v})]


def test_every_json_route_refuses_non_objects_and_wrong_fields_with_a_400(tmp_path):
    rows = {(m, t): (url, expected) for m, t, url, expected in table_rows()}

    async def body(http, backend):
        specs = backend._runner.app[auth.SPECS_KEY]
        logins = {}
        answers: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
        for (method, path), spec in specs.items():
            if spec.body is None and (method, path) not in UNDECLARED_BODIES:
                continue
            url, expected = rows[(method, path)]
            who = next(w for w in ("admin", "sup", "agent", "dept")
                       if expected[w] not in (401, 403))
            if who not in logins:
                logins[who] = await log_in(http, who)
            headers = {**logins[who], "Content-Type": "application/json"}
            for raw in NOT_OBJECTS:
                async with http.request(method, url, headers=headers, data=raw) as r:
                    answers[(method, path, repr(raw))] = (r.status, await r.json())
            for name, rule in (spec.body or {}).get("properties", {}).items():
                for value in wrong_values(rule):
                    async with http.request(method, url, headers=logins[who],
                                            json={name: value}) as r:
                        answers[(method, path, f"{name}={value!r}")] = (r.status, await r.json())
        return answers

    answers = run_backend(tmp_path, body)
    checked_routes = {(m, p) for m, p, _ in answers}
    assert len(checked_routes) >= 20  # every declared body, and the list grows
    wrong = []
    for (method, path, sent), (status, data) in answers.items():
        error = data.get("error", {})
        if sent.startswith("b"):
            ok = status == 400 and error.get("code") == "bad_json"
        else:
            field = sent.split("=", 1)[0]
            ok = (status == 400 and error.get("code") == "invalid"
                  and error.get("field") == field and field in error.get("message", ""))
        if not ok:
            wrong.append(f"{method} {path} with {sent}: {status} {data}")
    assert wrong == [], "\n".join(wrong)


def test_field_problem_names_the_field_and_accepts_what_the_schema_allows():
    schema = {"properties": {"days": {"type": "integer"}, "dept": {"type": ["integer", "null"]},
                             "kind": {"enum": ["swap", "leave"]}, "x": {"enum": ["a", None]},
                             "flag": {"type": "boolean"}, "rules": {"type": "object"},
                             "ratio": {"type": "number"}, "free": {}}}
    fine = {"days": 3, "dept": None, "kind": "leave", "x": None, "flag": False, "rules": {},
            "ratio": 0.5, "free": [1], "undeclared": object()}
    assert field_problem(schema, fine) is None
    assert field_problem(schema, {"ratio": 2}) is None
    assert field_problem(schema, {"days": True}) == ("days", "days must be integer")
    assert field_problem(schema, {"days": 2.0}) == ("days", "days must be integer")
    assert field_problem(schema, {"dept": "4"}) == ("dept", "dept must be integer or null")
    assert field_problem(schema, {"kind": "Swap"}) == ("kind",
                                                       'kind must be one of "swap", "leave"')
    assert field_problem(schema, {"x": 0}) == ("x", 'x must be one of "a", null')
    assert field_problem(schema, {"flag": 0}) == ("flag", "flag must be boolean")
    assert field_problem(schema, {"ratio": False}) == ("ratio", "ratio must be number")
    assert field_problem(schema, {"rules": []}) == ("rules", "rules must be object")
    assert field_problem({}, {"a": 1}) is None
