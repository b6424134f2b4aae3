"""Demo data for Baoji: service queues, six teams of seven agents, departments.

Idempotent: every row is looked up by its unique key (queue name, team
code, agent number, department code) and created only when missing;
existing rows are left as they are, so an admin's edits survive a second
run.  Users are not created here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from agents.models import Agent, Team
from routing.menu import DEFAULT_ROUTES
from routing.models import LegacyLine, ServiceQueue
from worksheets.dept_rules import seed_demo_rules
from worksheets.knowledge_import import seed_starter_articles
from worksheets.models import Department

M = TypeVar("M")

TEAMS = (("A", "一班"), ("B", "二班"), ("C", "三班"), ("D", "四班"), ("E", "五班"), ("F", "六班"))
AGENTS_PER_TEAM = 7
FIRST_AGENT_NUMBER = 1001

AGENT_NAMES = (
    "王丽娟", "李静", "张伟", "刘芳", "陈晓燕", "杨磊", "赵敏",
    "黄秀英", "周婷", "吴强", "徐丹", "孙悦", "马超", "朱玲",
    "胡晓东", "郭佳", "何雪", "高峰", "林娜", "罗霞", "郑丽",
    "梁艳", "谢军", "宋佳怡", "唐瑶", "许文静", "韩冰", "冯磊",
    "邓娟", "曹颖", "彭勇", "曾倩", "肖红", "田甜", "董洁",
    "袁媛", "潘虹", "于晨", "蒋雯", "蔡琳", "余欢", "杜鹃",
)

# Queue penalties per seat in a team ("category:penalty", lower rings
# first): every agent can take every queue, each seat has a speciality, so
# a team of seven covers all six queues with a preferred agent.
SEAT_SKILLS = (
    "complaint:0,report:0,help:1,consult:1,suggest:1,general:1",
    "complaint:0,report:1,help:1,consult:2,suggest:1,general:1",
    "help:0,complaint:1,consult:1,report:2,suggest:2,general:1",
    "help:0,consult:1,complaint:2,report:2,suggest:2,general:1",
    "consult:0,general:0,help:1,suggest:1,complaint:2,report:2",
    "suggest:0,consult:0,help:1,complaint:2,report:2,general:1",
    "general:0,help:0,consult:1,complaint:1,report:1,suggest:1",
)

# (code, name, legacy number that still rings into 12345 (双轨运行) or None)
DEPARTMENTS: tuple[tuple[str, str, str | None], ...] = (
    ("ZJJ", "宝鸡市住房和城乡建设局", "12319"),
    ("SJJ", "宝鸡市市场监督管理局", "12315"),
    ("RSJ", "宝鸡市人力资源和社会保障局", "12333"),
    ("JTJ", "宝鸡市交通运输局", "12328"),
    ("HBJ", "宝鸡市生态环境局", "12369"),
    ("YBJ", "宝鸡市医疗保障局", "12393"),
    ("CGJ", "宝鸡市城市管理执法局", None),
    ("SWJT", "宝鸡市水务集团有限公司（供水）", None),
    ("GDGS", "国网宝鸡供电公司", None),
    ("WBQ", "宝鸡市渭滨区人民政府", None),
    ("JTQ", "宝鸡市金台区人民政府", None),
    ("CCQ", "宝鸡市陈仓区人民政府", None),
)

# Each department's own office number (0917 + 7 digits), where agents
# transfer a caller who must speak to the department itself.
CONTACT_NUMBERS: dict[str, str] = {
    "ZJJ": "09173211001", "SJJ": "09173211002", "RSJ": "09173211003", "JTJ": "09173211004",
    "HBJ": "09173211005", "YBJ": "09173211006", "CGJ": "09173211007", "SWJT": "09173211008",
    "GDGS": "09173211009", "WBQ": "09173211010", "JTQ": "09173211011", "CCQ": "09173211012",
}

# The category each legacy line's callers mostly have, and what it was called.
LEGACY_LINES: dict[str, tuple[str, str]] = {
    "12319": ("help", "城建服务热线"),
    "12315": ("complaint", "消费者投诉举报热线"),
    "12333": ("consult", "人社服务热线"),
    "12328": ("complaint", "交通运输服务监督热线"),
    "12369": ("report", "环保举报热线"),
    "12393": ("consult", "医保服务热线"),
}


# More of the old lines still ringing into 12345 (双轨运行), each with the
# department that answered it before (a department may have had several);
# with the departments' own numbers above, the city's 19.
DUAL_LINES: tuple[tuple[str, str, str, str], ...] = (
    ("12331", "食品药品投诉举报热线", "report", "SJJ"),
    ("95598", "供电服务热线", "help", "GDGS"),
    ("09173219000", "供水服务热线", "help", "SWJT"),
    ("09173216000", "城市管理服务热线", "help", "CGJ"),
    ("09173217000", "公交服务热线", "complaint", "JTJ"),
    ("09173215100", "出租车服务监督热线", "complaint", "JTJ"),
    ("09173218000", "供暖服务热线", "help", "ZJJ"),
    ("09173218800", "燃气服务热线", "help", "ZJJ"),
    ("09173211515", "劳动保障监察举报电话", "report", "RSJ"),
    ("09173212370", "机动车排放检验咨询电话", "consult", "HBJ"),
    ("09173213300", "渭滨区便民服务热线", "help", "WBQ"),
    ("09173213400", "金台区便民服务热线", "help", "JTQ"),
    ("09173213500", "陈仓区便民服务热线", "help", "CCQ"),
)


# Special lines that stay separate (kept for referral; never routed), and
# the 21 old numbers merged into 12345 outright (kept as retired).
SPECIAL_LINES: tuple[tuple[str, str, str], ...] = (
    ("12388", "纪检监察举报电话", "反映党员干部违纪违法问题，请拨打12388"),
    ("12355", "青少年服务台", "青少年心理咨询、法律援助，请拨打12355"),
    ("12119", "森林草原防火报警电话", "发现山火请立即拨打12119或119"),
    ("12367", "移民管理服务热线", "出入境证件、口岸通关等公安业务，请拨打12367"),
    ("12380", "党员服务热线", "党员组织关系等事项，请拨打12380"),
    ("12338", "妇女维权公益服务热线", "妇女儿童权益保护，请拨打12338"),
    ("12351", "职工服务热线", "职工维权、困难帮扶，请拨打12351"),
)
MERGED_LINES: tuple[tuple[str, str], ...] = (
    ("12312", "商务举报投诉热线"), ("12316", "三农服务热线"), ("12317", "扶贫监督举报电话"),
    ("12350", "安全生产举报投诉电话"), ("12358", "价格举报电话"), ("12365", "质量技术监督热线"),
    ("12329", "住房公积金热线"), ("12336", "国土资源违法举报电话"),
    ("12313", "烟草专卖举报电话"), ("12318", "文化市场举报热线"), ("12320", "卫生健康热线"),
    ("12348", "公共法律服务热线"), ("12349", "民政服务热线"), ("12366", "纳税服务热线"),
    ("12385", "残疾人服务热线"), ("12314", "水利监督举报电话"), ("12396", "科技监督举报电话"),
    ("09173212345", "市长热线"), ("09173213111", "政风行风热线"),
    ("09173215110", "机关效能投诉电话"), ("09173223000", "文明城市创建热线"),
)


@dataclass
class DemoSeed:
    """The demo rows (existing or new) and how many rows this run created."""

    queues: list[ServiceQueue] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    created: int = 0
    articles_created: int = 0  # knowledge-base articles (counted apart from ``created``)


def _get_or_add(
    session: Session, seed: DemoSeed, model: type[M], key: InstrumentedAttribute[Any],
    value: Any, **fields: Any,
) -> M:
    row = session.scalar(select(model).where(key == value))
    if row is None:
        row = model(**{key.key: value}, **fields)
        session.add(row)
        seed.created += 1
    return row


def seed_demo_city(session: Session, now: datetime) -> DemoSeed:
    """Create whatever demo rows are missing; flushes, does not commit.

    ``now`` stamps the starter knowledge-base articles (the only seeded rows
    that record a time).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    seed = DemoSeed()
    for route in DEFAULT_ROUTES:
        seed.queues.append(_get_or_add(
            session, seed, ServiceQueue, ServiceQueue.name, route.queue,
            category=route.category, menu_key=route.key, label=route.label,
        ))
    for index, (code, name) in enumerate(TEAMS):
        seed.teams.append(_get_or_add(
            session, seed, Team, Team.code, code, name=name, rota_index=index,
        ))
    session.flush()  # team ids for the agents
    for team_index, team in enumerate(seed.teams):
        for seat in range(AGENTS_PER_TEAM):
            position = team_index * AGENTS_PER_TEAM + seat
            number = str(FIRST_AGENT_NUMBER + position)
            seed.agents.append(_get_or_add(
                session, seed, Agent, Agent.number, number, name=AGENT_NAMES[position],
                team_id=team.id, interface=f"PJSIP/{number}", skills=SEAT_SKILLS[seat],
            ))
    for code, name, legacy in DEPARTMENTS:
        seed.departments.append(_get_or_add(
            session, seed, Department, Department.code, code, name=name, legacy_number=legacy,
            contact_phone=CONTACT_NUMBERS.get(code, ""),
        ))
    session.flush()
    for department in seed.departments:
        if department.legacy_number:
            category, label = LEGACY_LINES[department.legacy_number]
            _get_or_add(session, seed, LegacyLine, LegacyLine.number, department.legacy_number,
                        label=label, category=category, department_id=department.id)
    by_code = {d.code: d for d in seed.departments}
    for number, label, category, code in DUAL_LINES:
        _get_or_add(session, seed, LegacyLine, LegacyLine.number, number, label=label,
                    category=category, department_id=by_code[code].id)
    for number, label, note in SPECIAL_LINES:
        _get_or_add(session, seed, LegacyLine, LegacyLine.number, number, label=label,
                    kind="special", category="", note=note)
    for number, label in MERGED_LINES:
        _get_or_add(session, seed, LegacyLine, LegacyLine.number, number, label=label,
                    kind="merged", category="", note="已并入12345")
    session.flush()
    seed.articles_created = seed_starter_articles(session, now)
    seed_demo_rules(session, now)  # the department-suggestion rules, once
    return seed
