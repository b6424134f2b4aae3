"""The demo's logins: one per role to print, one per simulated agent."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import rota
from agents.models import Agent, Team
from agents.roster import load_settings
from core import accounts
from core.accounts import User
from worksheets.models import Department
from worksheets.service import CITY_TZ


def _upsert(session: Session, *, username: str, role: str, now: datetime, display_name: str,
            agent_id: int | None = None, department_id: int | None = None) -> str:
    """Create the user or give it a fresh password; return the password."""
    password = accounts.generate_password()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        accounts.create_user(session, username=username, password=password, role=role, now=now,
                             display_name=display_name, agent_id=agent_id,
                             department_id=department_id)
    else:
        user.password_hash = accounts.hash_password(password)
        user.role, user.agent_id, user.department_id = role, agent_id, department_id
        user.active = True
    return password


def printed_agent(session: Session, now: datetime, tz: tzinfo) -> Agent | None:
    """The agent whose login the demo prints: the first of the team on duty
    now (by the stored rota), so the queues take them in."""
    config, _policy = load_settings(session)
    on_duty = rota.team_on_duty(config, now, tz)
    return session.scalars(select(Agent).join(Team, Agent.team_id == Team.id)
                           .where(Team.rota_index == on_duty, Agent.active)
                           .order_by(Agent.number)).first()


def ensure_demo_users(session: Session, now: datetime, tz: tzinfo = CITY_TZ
                      ) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Returns ({role: (username, password)}, {agent number: password}).
    The printed agent is on the team on duty at ``now`` (``tz``: local time)."""
    agents = session.scalars(select(Agent).order_by(Agent.number)).all()
    department = session.scalars(select(Department).order_by(Department.id)).first()
    agent_passwords = {
        a.number: _upsert(session, username=f"a{a.number}", role="agent", now=now,
                          display_name=a.name, agent_id=a.id)
        for a in agents
    }
    logins = {
        "admin": ("admin", _upsert(session, username="admin", role="admin", now=now,
                                   display_name="系统管理员")),
        "supervisor": ("banzhang", _upsert(session, username="banzhang", role="supervisor",
                                           now=now, display_name="值班长")),
    }
    if department is not None:
        logins["department"] = (f"dept-{department.code}", _upsert(
            session, username=f"dept-{department.code}", role="department", now=now,
            display_name=department.name, department_id=department.id))
    printed = printed_agent(session, now, tz) or (agents[0] if agents else None)
    if printed is not None:
        logins["agent"] = (f"a{printed.number}", agent_passwords[printed.number])
    return logins, agent_passwords


def ensure_department_users(session: Session, now: datetime) -> list[tuple[int, str, str]]:
    """One staffer login per active department: (department id, username, password)."""
    departments = session.scalars(select(Department).where(Department.active)
                                  .order_by(Department.id)).all()
    return [(d.id, f"dept-{d.code}", _upsert(session, username=f"dept-{d.code}",
                                            role="department", now=now, display_name=d.name,
                                            department_id=d.id))
            for d in departments]


def demo_logins(session: Session, now: datetime, tz: tzinfo = CITY_TZ
                ) -> tuple[dict[str, tuple[str, str]], dict[str, str],
                           list[tuple[int, str, str]]]:
    """Every demo login: ({role: (username, password)} to print, {agent number:
    password}, the department desks).  The department login printed is one of
    the desks, whose password is set last: the printed one is that one."""
    logins, agent_passwords = ensure_demo_users(session, now, tz)
    desks = ensure_department_users(session, now)
    desk_passwords = {username: password for _id, username, password in desks}
    if "department" in logins and logins["department"][0] in desk_passwords:
        username = logins["department"][0]
        logins["department"] = (username, desk_passwords[username])
    return logins, agent_passwords, desks
