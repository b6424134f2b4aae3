"""The demo's printed logins work: the printed agent belongs to the team on
duty (at any hour), and the department password printed is the one in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from agents import rota
from agents.models import Team
from core import accounts
from core.db import Database
from core.passwords import verify_password
from hotline.demo_users import demo_logins, printed_agent
from hotline.migrate import upgrade
from hotline.seed import seed_demo_city

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_the_printed_agent_is_on_the_team_on_duty_at_every_shift(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        upgrade(db.engine)
        db.call(lambda s: seed_demo_city(s, START))
        teams = set()
        for hours in range(0, 48, 6):
            now = START + timedelta(hours=hours)

            def work(s, now=now):
                agent = printed_agent(s, now, TZ)
                return s.get(Team, agent.team_id).rota_index

            team_index = db.call(work)
            assert team_index == rota.team_on_duty(rota.RotaConfig(), now, TZ)
            teams.add(team_index)
        assert len(teams) > 1  # not always the first agent's team
        logins, _, _ = db.call(lambda s: demo_logins(s, START, TZ))
        number = logins["agent"][0].removeprefix("a")
        assert db.call(lambda s: printed_agent(s, START, TZ).number) == number
    finally:
        db.close()


def test_the_printed_department_password_is_the_one_in_force(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        upgrade(db.engine)
        db.call(lambda s: seed_demo_city(s, START))
        logins, _, _desks = db.call(lambda s: demo_logins(s, START, TZ))
        username, printed = logins["department"]
        stored = db.call(lambda s: s.scalar(select(accounts.User.password_hash).where(
            accounts.User.username == username)))
        assert verify_password(printed, stored)
    finally:
        db.close()
