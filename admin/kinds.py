"""The records an admin keeps: which fields each has, how each is checked,
what the API shows of it, and what must hold before it is deactivated.

Nothing is deleted: calls, orders, rota history and audit entries name
these rows, so a record leaves service by ``active = false``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.fields import (
    Field,
    Problem,
    boolean,
    choice,
    integer,
    phone_interface,
    phone_number,
    reference,
    skills,
    text,
    unique,
)
from agents.models import Agent, Team
from calls.models import Call
from core.accounts import Role, User
from routing.models import LegacyLine
from routing.rules import CATEGORIES
from worksheets.models import Department, WorkOrder

LINE_KINDS = ("dual", "merged", "special")
ORDER_OPEN = ("dispatched", "accepted")
USERNAME = r"[A-Za-z0-9._-]{1,64}"


def _none(_s: Session, _row: Any) -> list[Problem]:
    return []


@dataclass(frozen=True)
class Kind:
    name: str  # "agents": in the API's paths, the CLI and `hotline import`
    singular: str  # "agent": in the audit log
    model: type
    key: str  # the field that names a row to people (a team's code, an agent's number)
    fields: tuple[Field, ...]
    dump: Callable[[Session, Any], dict[str, Any]]
    check: Callable[[Session, Any], list[Problem]] = _none  # the whole record, after the fields
    before_deactivate: Callable[[Session, Any], list[Problem]] = _none
    # Extra figures for a listing, in one query for all rows: {row id: {...}}.
    figures: Callable[[Session, list[Any], datetime], dict[int, dict[str, Any]]] | None = None
    fixed: tuple[str, ...] = ()  # fields set at creation only

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def key_of(self, row: Any) -> str:
        return str(getattr(row, self.field(self.key).attr))  # type: ignore[union-attr]



ACTIVE = Field("active", boolean, aliases=("启用", "在用"), json_types=("boolean",))
REF = ("integer", "string", "null")  # an id, or a code / number / username

# -- teams ------------------------------------------------------------------


def _team_dump(s: Session, t: Team) -> dict[str, Any]:
    agents = s.scalar(select(func.count(Agent.id)).where(Agent.team_id == t.id, Agent.active))
    return {"id": t.id, "code": t.code, "name": t.name, "rota_index": t.rota_index,
            "active": t.active, "agents": agents or 0}


def _team_check(s: Session, t: Team) -> list[Problem]:
    if not t.active:
        return []
    clash = s.scalar(select(Team).where(Team.rota_index == t.rota_index, Team.active,
                                        Team.id != (t.id or -1)))
    if clash is not None:
        return [Problem("rota_index", "rota_place_taken",
                        {"other": clash.code, "value": t.rota_index})]
    return []


def _team_leaving(s: Session, t: Team) -> list[Problem]:
    count = s.scalar(select(func.count(Agent.id)).where(Agent.team_id == t.id, Agent.active))
    if count:
        return [Problem("active", "team_has_agents", {"count": count, "value": t.code})]
    return []


TEAMS = Kind(
    "teams", "team", Team, "code",
    (Field("code", unique(text(8, pattern=r"[A-Za-z0-9]+", hint="bad_code"),
                          Team.code, "team"), required=True, aliases=("班组代码", "代码")),
     Field("name", text(50), required=True, aliases=("班组", "名称")),
     Field("rota_index", integer(0, 11), required=True, aliases=("轮转位置",),
           json_types=("integer",)),
     ACTIVE),
    _team_dump, check=_team_check, before_deactivate=_team_leaving)

# -- agents -----------------------------------------------------------------


def _agent_dump(s: Session, a: Agent) -> dict[str, Any]:
    team = s.get(Team, a.team_id)
    return {"id": a.id, "number": a.number, "name": a.name, "team_id": a.team_id,
            "team": team.code if team else None, "phone": a.interface, "skills": a.skills,
            "active": a.active}


def _agent_check(s: Session, a: Agent) -> list[Problem]:
    if not a.active:
        return []
    clash = s.scalar(select(Agent).where(Agent.interface == a.interface, Agent.active,
                                         Agent.id != (a.id or -1)))
    if clash is not None:
        return [Problem("phone", "phone_taken", {"value": a.interface, "other": clash.number})]
    return []


AGENTS = Kind(
    "agents", "agent", Agent, "number",
    (Field("number", unique(text(16, pattern=r"\d{2,16}", hint="bad_digits", min=2, max=16),
                            Agent.number, "agent"), required=True, aliases=("工号",)),
     Field("name", text(50), required=True, aliases=("姓名",)),
     Field("team", reference(Team, Team.code, "team"), column="team_id", required=True,
           aliases=("班组", "班组代码"), json_types=REF),
     Field("phone", phone_interface, column="interface", required=True,
           aliases=("话机", "分机")),
     Field("skills", skills, aliases=("技能",)),
     ACTIVE),
    _agent_dump, check=_agent_check)

# -- departments --------------------------------------------------------------


def _department_dump(s: Session, d: Department) -> dict[str, Any]:
    users = s.scalars(select(User).where(User.department_id == d.id).order_by(User.username))
    leader = s.get(User, d.leader_user_id) if d.leader_user_id else None
    return {"id": d.id, "code": d.code, "name": d.name, "contact_name": d.contact_name,
            "contact_phone": d.contact_phone, "leader_user_id": d.leader_user_id,
            "leader": leader.username if leader else None, "active": d.active,
            "staff": [{"id": u.id, "username": u.username, "display_name": u.display_name,
                       "active": u.active, "leader": u.id == d.leader_user_id}
                      for u in users]}


def _department_check(s: Session, d: Department) -> list[Problem]:
    if d.leader_user_id is None:
        return []
    leader = s.get(User, d.leader_user_id)
    if leader is None or leader.role != Role.DEPARTMENT or leader.department_id != d.id:
        return [Problem("leader", "leader_not_staff")]
    return []


def _department_leaving(s: Session, d: Department) -> list[Problem]:
    problems = []
    orders = s.scalar(select(func.count(WorkOrder.id)).where(
        WorkOrder.department_id == d.id, WorkOrder.status.in_(ORDER_OPEN)))
    if orders:
        problems.append(Problem("active", "department_has_orders",
                                {"count": orders, "value": d.code}))
    lines = s.scalars(select(LegacyLine.number).where(
        LegacyLine.department_id == d.id, LegacyLine.active, LegacyLine.kind == "dual")).all()
    if lines:
        problems.append(Problem("active", "department_has_lines",
                                {"lines": ", ".join(lines), "value": d.code}))
    return problems


DEPARTMENTS = Kind(
    "departments", "department", Department, "code",
    (Field("code", unique(text(32, pattern=r"[A-Za-z0-9_-]+", hint="bad_department_code"),
                          Department.code, "department"), required=True,
           aliases=("单位代码", "代码")),
     Field("name", text(100), required=True, aliases=("单位名称", "名称")),
     Field("contact_name", text(50, min_len=0), aliases=("联系人",)),
     Field("contact_phone", phone_number(), aliases=("联系电话",)),
     Field("leader", reference(User, User.username, "user", optional=True),
           column="leader_user_id", aliases=("负责人",), json_types=REF),
     ACTIVE),
    _department_dump, check=_department_check, before_deactivate=_department_leaving)

# -- the old hotlines' lines --------------------------------------------------


def _line_dump(s: Session, line: LegacyLine) -> dict[str, Any]:
    department = s.get(Department, line.department_id) if line.department_id else None
    return {"id": line.id, "number": line.number, "label": line.label, "kind": line.kind,
            "category": line.category or None, "department_id": line.department_id,
            "department": department.code if department else None, "note": line.note,
            "active": line.active}


def _line_check(_s: Session, line: LegacyLine) -> list[Problem]:
    """A dual-track line rings into 12345 with its category and department
    chosen: it needs both; the others never route."""
    problems = []
    if line.kind == "dual" and line.category in ("", "general"):
        problems.append(Problem("category", "line_needs_category",
                                {"options": ", ".join(CATEGORIES[:-1])}))
    if line.kind == "dual" and line.department_id is None:
        problems.append(Problem("department", "line_needs_department"))
    return problems


def _line_figures(s: Session, rows: list[LegacyLine],
                  now: datetime) -> dict[int, dict[str, Any]]:
    """The calls each line still gets (the last 30 days and in all): the
    city decides from these when to switch a dual-track number off."""
    numbers = [line.number for line in rows]
    since = now - timedelta(days=30)
    counts = {n: (total, recent, last) for n, total, recent, last in s.execute(
        select(Call.dialed_number, func.count(Call.id),
               func.count(Call.id).filter(Call.entered_at >= since), func.max(Call.entered_at))
        .where(Call.dialed_number.in_(numbers)).group_by(Call.dialed_number))}
    out = {}
    for line in rows:
        total, recent, last = counts.get(line.number, (0, 0, None))
        out[line.id] = {"calls_total": total, "calls_30_days": recent,
                        "last_call_at": last.isoformat() if last else None}
    return out


LINES = Kind(
    "lines", "line", LegacyLine, "number",
    (Field("number", unique(phone_number(blank=False), LegacyLine.number, "line"),
           required=True, aliases=("号码", "原热线号码")),
     Field("label", text(100), required=True, aliases=("名称", "热线名称")),
     Field("kind", choice(LINE_KINDS), required=True, aliases=("类型",)),
     Field("category", choice(CATEGORIES[:-1], blank=True), aliases=("类别",)),
     Field("department", reference(Department, Department.code, "department", optional=True),
           column="department_id", aliases=("单位代码", "承办单位"), json_types=REF),
     Field("note", text(200, min_len=0), aliases=("备注", "转介")),
     ACTIVE),
    _line_dump, check=_line_check, figures=_line_figures)

# -- users (logins) -----------------------------------------------------------


def user_dump(s: Session, u: User) -> dict[str, Any]:
    agent = s.get(Agent, u.agent_id) if u.agent_id else None
    department = s.get(Department, u.department_id) if u.department_id else None
    return {"id": u.id, "username": u.username, "display_name": u.display_name,
            "role": u.role, "active": u.active, "agent_id": u.agent_id,
            "agent": agent.number if agent else None, "department_id": u.department_id,
            "department": department.code if department else None}


def _user_check(s: Session, u: User) -> list[Problem]:
    problems = []
    if u.agent_id is not None and u.role != Role.AGENT:
        problems.append(Problem("agent", "agent_link_role"))
    if u.department_id is not None and u.role != Role.DEPARTMENT:
        problems.append(Problem("department", "department_link_role"))
    if u.agent_id is not None and u.active:
        other = s.scalar(select(User).where(User.agent_id == u.agent_id, User.active,
                                            User.id != (u.id or -1)))
        if other is not None:
            problems.append(Problem("agent", "agent_has_login", {"other": other.username}))
    if u.id is not None:
        led = s.scalar(select(Department).where(Department.leader_user_id == u.id))
        if led is not None and (u.role != Role.DEPARTMENT or u.department_id != led.id):
            problems.append(Problem("role" if u.role != Role.DEPARTMENT else "department",
                                    "leads_department",
                                    {"value": u.username, "other": led.code}))
    return problems


USERS = Kind(
    "users", "user", User, "username",
    (Field("username", unique(text(64, pattern=USERNAME, hint="bad_username"),
                              User.username, "user"), required=True, aliases=("用户名",)),
     Field("display_name", text(100), aliases=("姓名",)),
     Field("role", choice(tuple(r.value for r in Role)), required=True, aliases=("角色",)),
     Field("agent", reference(Agent, Agent.number, "agent", optional=True),
           column="agent_id", aliases=("工号",), json_types=REF),
     Field("department", reference(Department, Department.code, "department", optional=True),
           column="department_id", aliases=("单位代码",), json_types=REF)),
    user_dump, check=_user_check, fixed=("username",))

KINDS: dict[str, Kind] = {k.name: k for k in (TEAMS, AGENTS, DEPARTMENTS, LINES, USERS)}
