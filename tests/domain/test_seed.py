"""The Baoji demo seed, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.models import Agent, Team
from hotline.seed import seed_demo_city
from routing.models import LegacyLine, ServiceQueue
from worksheets.deadlines import CATEGORIES
from worksheets.models import Department

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_given_empty_database_then_queues_teams_agents_departments(db_session: Session) -> None:
    seed = seed_demo_city(db_session, NOW)
    db_session.commit()
    queues = {q.menu_key: (q.name, q.category, q.label)
              for q in db_session.scalars(select(ServiceQueue))}
    assert queues == {
        "1": ("hotline-help", "help", "求助"),
        "2": ("hotline-complaint", "complaint", "投诉"),
        "3": ("hotline-report", "report", "举报"),
        "4": ("hotline-consult", "consult", "咨询"),
        "5": ("hotline-suggest", "suggest", "建议"),
        "0": ("hotline-general", "general", "人工服务"),
    }
    teams = db_session.scalars(select(Team).order_by(Team.rota_index)).all()
    assert [(t.code, t.name, t.rota_index) for t in teams] == [
        ("A", "一班", 0), ("B", "二班", 1), ("C", "三班", 2),
        ("D", "四班", 3), ("E", "五班", 4), ("F", "六班", 5),
    ]
    agents = db_session.scalars(select(Agent).order_by(Agent.number)).all()
    assert [a.number for a in agents] == [str(n) for n in range(1001, 1043)]
    assert all(a.interface == f"PJSIP/{a.number}" and a.active for a in agents)
    assert len({a.name for a in agents}) == 42
    per_team = {t.id: sum(a.team_id == t.id for a in agents) for t in teams}
    assert set(per_team.values()) == {7}
    assert agents[0].team_id == teams[0].id and agents[-1].team_id == teams[-1].id
    legacy = sum(1 for d in seed.departments if d.legacy_number)
    assert legacy == 6
    # + the old lines: 19 dual-track (6 of them the departments' own), 7 special, 21 merged
    assert seed.created == 6 + 6 + 42 + len(seed.departments) + 19 + 7 + 21
    lines = db_session.scalars(select(LegacyLine)).all()
    kinds = {k: sum(1 for line in lines if line.kind == k) for k in ("dual", "special", "merged")}
    assert kinds == {"dual": 19, "special": 7, "merged": 21}  # as DOMAIN.md counts them
    assert all(line.department_id and line.category for line in lines if line.kind == "dual")
    assert not any(line.department_id or line.category for line in lines if line.kind != "dual")


def test_given_seed_then_skills_name_queue_categories_with_penalties(db_session: Session) -> None:
    seed = seed_demo_city(db_session, NOW)
    known = set(CATEGORIES) | {"general"}
    for agent in seed.agents:
        skills = dict(item.split(":") for item in agent.skills.split(","))
        assert set(skills) == known
        assert all(p.isdigit() for p in skills.values())
        assert "0" in skills.values()


def test_given_seed_then_baoji_departments_with_legacy_numbers(db_session: Session) -> None:
    seed_demo_city(db_session, NOW)
    departments = db_session.scalars(select(Department)).all()
    assert 8 <= len(departments) <= 12
    assert all(d.name and d.code and d.active for d in departments)
    legacy = {d.legacy_number: d.name for d in departments if d.legacy_number}
    assert legacy["12315"] == "宝鸡市市场监督管理局"
    assert legacy["12333"] == "宝鸡市人力资源和社会保障局"
    assert legacy["12369"] == "宝鸡市生态环境局"
    names = {d.name for d in departments}
    assert {"宝鸡市住房和城乡建设局", "宝鸡市渭滨区人民政府"} <= names
    assert any("供水" in n for n in names) and any("供电" in n for n in names)


def test_given_seed_run_twice_then_nothing_changes(db_session: Session) -> None:
    seed_demo_city(db_session, NOW)
    db_session.commit()
    edited = db_session.scalars(select(Department).where(Department.code == "CGJ")).one()
    edited.name = "宝鸡市城市管理综合执法局"
    db_session.commit()
    before = {m: count(db_session, m) for m in (ServiceQueue, Team, Agent, Department)}
    again = seed_demo_city(db_session, NOW)
    db_session.commit()
    assert again.created == 0
    assert {m: count(db_session, m) for m in before} == before
    kept = db_session.get(Department, edited.id)
    assert kept is not None and kept.name == "宝鸡市城市管理综合执法局"
    assert len(again.agents) == 42 and len(again.queues) == 6
