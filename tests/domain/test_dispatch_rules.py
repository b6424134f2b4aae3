"""The district on every order and the department suggested by rules an
admin edits (versioned, audited, every problem named)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.models import AuditEntry
from tests.domain.test_lifecycle import CAL, NOW, TZ
from tests.helpers import record_answer
from worksheets import dept_rules, service
from worksheets.dept_rules import DepartmentRulesError
from worksheets.districts import CODES, NAMES, district_problem
from worksheets.models import Department, WorkOrder
from worksheets.service import WorkOrderError


def codes(db) -> dict[str, int]:
    return db.call(lambda s: {d.code: d.id for d in s.scalars(select(Department))})


def test_the_citys_twelve_districts_and_the_whole_city_are_the_choices():
    assert len(CODES) == 13 and NAMES["weibin"] == "渭滨区" and NAMES["taibai"] == "太白县"
    assert district_problem("weibin") is None
    assert "district" in district_problem("") and "not a district" in district_problem("渭滨区")


def test_every_problem_of_the_rules_is_named_with_its_path(db):
    bad = {"rules": [
        {"department": "NOPE", "keywords": ["路灯"]},
        {"department": "CGJ"},
        {"department": "CGJ", "categories": ["help", "gossip"], "districts": ["atlantis"],
         "keywords": ["", "超过二十个字的关键词超过二十个字的关键词超过"], "colour": "red"},
        "not an object",
    ]}
    with pytest.raises(DepartmentRulesError) as err:
        db.call(lambda s: dept_rules.store(s, bad, user_id=None, now=NOW))
    problems = err.value.problems
    assert "rules[0].department: no department with code 'NOPE'" in problems
    assert any(p.startswith("rules[1]: states no condition") for p in problems)
    assert any(p.startswith("rules[2].categories[1]: 'gossip'") for p in problems)
    assert any(p.startswith("rules[2].districts[0]: 'atlantis'") for p in problems)
    assert "rules[2].keywords[0]: must be a non-empty string" in problems
    assert "rules[2].keywords[1]: longer than 20 characters" in problems
    assert any(p.startswith("rules[2].colour: unknown setting") for p in problems)
    assert any(p.startswith("rules[3]: must be an object") for p in problems)
    # Nothing was saved: the demo rules are still in force.
    assert db.call(dept_rules.current)["version"] == 1


def test_a_new_version_is_audited_and_in_force_at_once(db):
    rules = {"rules": [{"department": "CGJ", "keywords": ["噪音"]},
                       {"department": "WBQ", "districts": ["weibin"], "keywords": ["噪音"]}]}
    stored = db.call(lambda s: dept_rules.store(s, rules, user_id=None, now=NOW))
    assert stored["version"] == 2 and stored["rules"] == rules["rules"]
    entry = db.call(lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))
                    .first())
    assert (entry.action, entry.target) == ("department_rules", "version 2")
    found = db.call(lambda s: dept_rules.suggest(s, category="complaint", district="weibin",
                                                 text="小区夜间噪音扰民"))
    # The rule stating more conditions first; each department once.
    assert [x.code for x in found] == ["WBQ", "CGJ"]
    assert found[0].because == ["district weibin", "keywords 噪音"]
    elsewhere = db.call(lambda s: dept_rules.suggest(s, category="complaint", district="taibai",
                                                     text="噪音"))
    assert [x.code for x in elsewhere] == ["CGJ"]


def test_the_demo_rules_suggest_by_keyword_and_district(db):
    found = db.call(lambda s: dept_rules.suggest(s, category="help", district="jintai",
                                                 text="小区路灯不亮，晚上停电"))
    assert [x.code for x in found][:2] == ["JTQ", "GDGS"]
    assert db.call(lambda s: dept_rules.suggest(s, category="help", district="jintai",
                                                text="咨询问题")) == []


def test_a_deactivated_department_drops_out_of_the_suggestions_only(db):
    db.call(lambda s: dept_rules.store(s, {"rules": [
        {"department": "CGJ", "keywords": ["占道"]},
        {"department": "ZJJ", "keywords": ["占道"]}]}, user_id=None, now=NOW))

    def deactivate(s):
        s.scalar(select(Department).where(Department.code == "CGJ")).active = False
    db.call(deactivate)
    found = db.call(lambda s: dept_rules.suggest(s, category="help", district=None,
                                                 text="占道经营"))
    assert [x.code for x in found] == ["ZJJ"] and found[0].rule == 1
    with pytest.raises(DepartmentRulesError, match="no longer takes orders"):
        db.call(lambda s: dept_rules.store(s, {"rules": [
            {"department": "CGJ", "keywords": ["占道"]}]}, user_id=None, now=NOW))


def _draft(s, uid: str):
    from calls import records
    records.start_call(s, uniqueid=uid, now=NOW, caller_number="13800138000")
    return record_answer(s, uid, member_name="m", agent_id=None, hold_seconds=1,
                         now=NOW)


def test_the_district_is_required_where_asked_and_stored_by_code(db):
    dept = codes(db)["CGJ"]

    def submit(district, uid):
        def work(s):
            order = _draft(s, uid)
            return service.submit_work_order(
                s, order.id, agent_id=None, title="占道经营", description="", category="help",
                complexity="ordinary", department_id=dept, answered_on_call=False, now=NOW,
                calendar=CAL, tz=TZ, district=district, district_required=True).id
        return db.call(work)

    for bad in (None, "", "渭滨区", "mars"):
        with pytest.raises(WorkOrderError) as err:
            submit(bad, f"d.{bad}")
        assert err.value.field == "district"
    oid = submit("chencang", "d.ok")
    assert db.call(lambda s: s.get(WorkOrder, oid).district) == "chencang"
