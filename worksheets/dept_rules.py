"""Which department an order should go to: rules an admin edits, by
category, district and keywords in the title and description.

The rules are JSON, versioned in ``department_rules`` (the newest in force,
none: no suggestion), validated with every problem named by its path, and
audited like the routing rules::

    {"rules": [
        {"department": "CGJ", "keywords": ["占道", "违建"]},
        {"department": "WBQ", "districts": ["weibin"], "categories": ["help"],
         "keywords": ["路灯"]}
    ]}

A rule matches when every condition it states holds (categories: the
order's category is listed; districts: its district is listed; keywords:
any of them is in the title or description).  Suggestions are the matching
rules' departments, the most specific first (the rule stating more
conditions; then the more keywords found; then the earlier rule), each
department once, with why it was suggested.  The agent still chooses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.lists import audit
from routing.rules import RulesError
from worksheets.deadlines import CATEGORIES
from worksheets.districts import CODES
from worksheets.models import Department
from worksheets.order_models import DepartmentRuleSet

RULE_KEYS = ("department", "categories", "districts", "keywords", "note")
MAX_RULES = 500
MAX_KEYWORD = 20


# The routing rules' error: the rules are not valid, ``problems`` lists each.
DepartmentRulesError = RulesError


@dataclass(frozen=True)
class Rule:
    department_id: int
    categories: frozenset[str]
    districts: frozenset[str]
    keywords: tuple[str, ...]

    @property
    def conditions(self) -> int:
        return sum(bool(x) for x in (self.categories, self.districts, self.keywords))


@dataclass(frozen=True)
class Suggestion:
    department_id: int
    code: str
    name: str
    rule: int  # index in the rules
    because: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"department_id": self.department_id, "code": self.code, "name": self.name,
                "rule": self.rule, "because": self.because}


def _strings(value: Any, path: str, allowed: tuple[str, ...] | None,
             problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: a non-empty list, or leave it out")
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{path}[{i}]: must be a non-empty string")
        elif allowed is not None and item not in allowed:
            problems.append(f"{path}[{i}]: {item!r} is not one of {', '.join(allowed)}")
        elif allowed is None and len(item.strip()) > MAX_KEYWORD:
            problems.append(f"{path}[{i}]: longer than {MAX_KEYWORD} characters")
        else:
            out.append(item.strip())
    return out


def parse_rules(data: Any, departments: dict[str, Department]) -> list[Rule]:
    """Validate ``data`` against the departments (by code); raise
    :class:`DepartmentRulesError` naming every problem."""
    if not isinstance(data, dict) or set(data) != {"rules"} or not isinstance(data["rules"],
                                                                             list):
        raise DepartmentRulesError(['the rules must be {"rules": [...]}'])
    problems: list[str] = []
    if len(data["rules"]) > MAX_RULES:
        problems.append(f"rules: at most {MAX_RULES}")
    rules = []
    for i, item in enumerate(data["rules"][:MAX_RULES]):
        path = f"rules[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: must be an object with department and conditions")
            continue
        problems += [f"{path}.{key}: unknown setting (one of {', '.join(RULE_KEYS)})"
                     for key in sorted(set(item) - set(RULE_KEYS))]
        code = item.get("department")
        department = departments.get(code) if isinstance(code, str) else None
        if department is None:
            problems.append(f"{path}.department: no department with code {code!r}")
        elif not department.active:
            problems.append(f"{path}.department: {department.name} no longer takes orders")
        if "note" in item and not isinstance(item["note"], str):
            problems.append(f"{path}.note: must be a string")
        categories = _strings(item.get("categories"), f"{path}.categories", CATEGORIES,
                              problems)
        districts = _strings(item.get("districts"), f"{path}.districts", CODES, problems)
        keywords = _strings(item.get("keywords"), f"{path}.keywords", None, problems)
        if not (categories or districts or keywords):
            problems.append(f"{path}: states no condition (categories, districts or keywords)")
        if department is not None:
            rules.append(Rule(department.id, frozenset(categories), frozenset(districts),
                              tuple(keywords)))
    if problems:
        raise DepartmentRulesError(problems)
    return rules


def _departments(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.scalars(select(Department))}


def current(session: Session) -> dict[str, Any]:
    """The rules in force as stored (``{"rules": []}`` before any), with version."""
    row = session.scalars(select(DepartmentRuleSet).order_by(DepartmentRuleSet.id.desc())
                          ).first()
    if row is None:
        return {"rules": [], "version": 0, "created_at": None, "created_by": None}
    return {**json.loads(row.data), "version": row.id, "created_at": row.created_at.isoformat(),
            "created_by": row.created_by}


def store(session: Session, data: Any, *, user_id: int | None, now: datetime) -> dict[str, Any]:
    """Validate and save a new version (audited); nothing is saved when invalid."""
    parse_rules(data, _departments(session))
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    row = DepartmentRuleSet(data=text, created_by=user_id, created_at=now)
    session.add(row)
    session.flush()
    audit(session, user_id=user_id, action="department_rules", target=f"version {row.id}",
          detail=text, now=now)
    return current(session)


def suggest(session: Session, *, category: str | None, district: str | None,
            text: str, limit: int = 3) -> list[Suggestion]:
    """The departments the rules in force suggest, best first."""
    departments = _departments(session)
    rules: list[Rule | None] = []
    for item in current(session)["rules"]:
        try:  # one by one: a department deactivated since drops its rule only
            rules += parse_rules({"rules": [item]}, departments)
        except DepartmentRulesError:
            rules.append(None)
    by_id = {d.id: d for d in departments.values()}
    scored: list[tuple[tuple[int, int, int], Suggestion]] = []
    for index, rule in enumerate(rules):
        if rule is None or rule.department_id not in by_id:
            continue
        because = []
        if rule.categories:
            if category not in rule.categories:
                continue
            because.append(f"category {category}")
        if rule.districts:
            if district not in rule.districts:
                continue
            because.append(f"district {district}")
        found = [k for k in rule.keywords if k in text]
        if rule.keywords:
            if not found:
                continue
            because.append("keywords " + "、".join(found))
        d = by_id[rule.department_id]
        scored.append(((-rule.conditions, -len(found), index),
                       Suggestion(d.id, d.code, d.name, index, because)))
    out: list[Suggestion] = []
    for _, suggestion in sorted(scored, key=lambda pair: pair[0]):
        if all(s.department_id != suggestion.department_id for s in out):
            out.append(suggestion)
    return out[:limit]


# The demo city's starter rules (hotline seed stores them once).
DEMO_RULES: dict[str, Any] = {"rules": [
    {"department": "GDGS", "keywords": ["停电", "电压", "供电", "电费"]},
    {"department": "SWJT", "keywords": ["停水", "水压", "水质", "供水", "水管"]},
    {"department": "RSJ", "keywords": ["社保", "养老保险", "工资", "劳动合同", "失业"]},
    {"department": "YBJ", "keywords": ["医保", "报销", "医疗保险"]},
    {"department": "SJJ", "keywords": ["消费", "退货", "假冒", "价格", "食品安全"]},
    {"department": "JTJ", "keywords": ["公交", "出租车", "客运", "道路"]},
    {"department": "HBJ", "keywords": ["排污", "异味", "污染", "扬尘"]},
    {"department": "ZJJ", "keywords": ["物业", "房屋", "燃气", "施工"]},
    {"department": "CGJ", "keywords": ["占道", "违建", "垃圾", "噪音", "广告牌"]},
    {"department": "WBQ", "districts": ["weibin"], "keywords": ["路灯", "小区", "井盖"]},
    {"department": "JTQ", "districts": ["jintai"], "keywords": ["路灯", "小区", "井盖"]},
    {"department": "CCQ", "districts": ["chencang"], "keywords": ["路灯", "小区", "井盖"]},
]}


def seed_demo_rules(session: Session, now: datetime) -> bool:
    """Store the demo rules if no version exists yet; True when stored."""
    if session.scalar(select(DepartmentRuleSet.id).limit(1)) is not None:
        return False
    session.add(DepartmentRuleSet(data=json.dumps(DEMO_RULES, ensure_ascii=False,
                                                  sort_keys=True), created_at=now))
    return True
