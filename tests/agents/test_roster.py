"""Swaps, leave and overtime against the rota's rules, on SQLite and PostgreSQL.

Dates: the default rota from 2026-01-01; the shifts looked at are on
D = 2026-12-10 and the days after, requested on 2026-12-01.  Minimum on
duty is six of each team's seven agents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from agents import export, rota
from agents.models import Agent, Team
from agents.requests import (
    RotaChangeError,
    cancel,
    decide,
    grant_overtime,
    request_leave,
    request_swap,
)
from agents.roster import ShiftPolicy, load_roster, load_settings, save_settings
from core import accounts

D = date(2026, 12, 10)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LOCAL_NOW = datetime(2026, 12, 1, 10, 0)
CONFIG = rota.RotaConfig(min_on_duty=6)


@pytest.fixture
def setup(db):
    db.call(lambda s: save_settings(s, CONFIG, ShiftPolicy(), NOW))
    sup = db.call(lambda s: s.scalar(select(accounts.User.id).where(
        accounts.User.username == "sup")))
    return db, sup


def team_agents(db, team_index: int) -> list[int]:
    return db.call(lambda s: list(s.scalars(
        select(Agent.id).join(Team, Agent.team_id == Team.id)
        .where(Team.rota_index == team_index).order_by(Agent.number))))


def team_on(day: date, shift: int) -> int:
    (team,) = rota.teams_for(CONFIG, day, shift)
    return team


def swap(db, agent, mine, other, theirs):
    return db.call(lambda s: request_swap(
        s, CONFIG, agent_id=agent, mine=mine, other_agent_id=other, theirs=theirs,
        reason="家里有事", now=NOW, local_now=LOCAL_NOW).id)


def leave(db, agent, first, last=None):
    row, check = db.call(lambda s: request_leave(
        s, CONFIG, agent_id=agent, first=first, last=last or first, reason="病假", now=NOW,
        local_now=LOCAL_NOW))
    return row.id, check


def approve(db, sup, request_id, yes=True):
    return db.call(lambda s: decide(s, CONFIG, request_id, approve=yes, user_id=sup, note="",
                                    now=NOW, local_now=LOCAL_NOW))


def roster_on(db, day, shift):
    return db.call(lambda s: load_roster(s, CONFIG, day, day).agents_on(day, shift))


def test_given_stored_settings_then_loaded_back(setup) -> None:
    db, _ = setup
    config, policy = db.call(load_settings)
    assert config == CONFIG and policy == ShiftPolicy()


def test_given_swap_within_the_rules_then_approved_and_roster_follows(setup) -> None:
    db, sup = setup
    mine, theirs = (D, 1), (D, 2)  # 06-12 and 12-18 of the same day
    a, b = team_agents(db, team_on(*mine))[0], team_agents(db, team_on(*theirs))[0]
    request_id = swap(db, a, mine, b, theirs)
    assert a in roster_on(db, *mine)  # pending: nothing changes yet
    assert approve(db, sup, request_id).short == []
    assert b in roster_on(db, *mine) and a not in roster_on(db, *mine)
    assert a in roster_on(db, *theirs) and b not in roster_on(db, *theirs)
    rows = db.call(lambda s: export.rota_rows(s, CONFIG, D, 1))
    assert b in [x["id"] for x in rows[1]["agents"]] and rows[1]["count"] == 7
    with pytest.raises(RotaChangeError) as exc:
        approve(db, sup, request_id)
    assert exc.value.code == "not_pending"


def test_given_swap_leaving_six_hours_rest_then_refused_with_rest_rule(setup) -> None:
    db, _ = setup
    mine = (D, 1)  # 06-12; this team also worked D-1 00-06
    theirs = (D - timedelta(days=1), 2)  # 12-18 of D-1: six hours after that shift
    a, c = team_agents(db, team_on(*mine))[0], team_agents(db, team_on(*theirs))[0]
    with pytest.raises(RotaChangeError, match="rest rule: .*rests 6 h") as exc:
        swap(db, a, mine, c, theirs)
    assert exc.value.code == "rest"


def test_given_partner_on_leave_then_swap_refused_naming_the_short_hours(setup) -> None:
    db, sup = setup
    mine = (D, 1)
    team_a = team_agents(db, team_on(*mine))
    # One colleague of A is already on leave: the shift is at the minimum (6 of 7).
    leave_id, check = leave(db, team_a[1], D)
    assert check.short == []
    approve(db, sup, leave_id)
    theirs = (D + timedelta(days=4), 1)  # A rests then; rest rules hold both ways
    b = team_agents(db, team_on(*theirs))[0]
    b_leave, _ = leave(db, b, D)  # B is off on D, so B would not come to A's shift
    approve(db, sup, b_leave)
    with pytest.raises(RotaChangeError) as exc:
        swap(db, team_a[0], mine, b, theirs)
    assert exc.value.code == "coverage_short"
    message = str(exc.value)
    assert f"agent {b} is on leave on {D}" in message
    assert f"{D} 06:00 (5 of 6 agents)" in message and f"{D} 11:00 (5 of 6 agents)" in message
    assert [s.hour.hour for s in exc.value.short] == [6, 7, 8, 9, 10, 11]


def test_given_leave_that_leaves_hours_short_then_approval_waits_for_overtime(setup) -> None:
    db, sup = setup
    shift = (D, 1)
    team = team_agents(db, team_on(*shift))
    first, _ = leave(db, team[1], D)
    approve(db, sup, first)
    second, check = leave(db, team[2], D)
    assert [s.describe() for s in check.short][0] == f"{D} 06:00 (5 of 6 agents)"
    with pytest.raises(RotaChangeError, match="leave hours short") as exc:
        approve(db, sup, second)
    assert exc.value.code == "coverage_short" and len(exc.value.short) == 6
    assert team[2] in roster_on(db, *shift)  # refused approval changed nothing
    resting = next(t for t in range(6)
                   if not any(t in rota.teams_for(CONFIG, D, i) for i in range(4)))
    helper = team_agents(db, resting)[0]
    db.call(lambda s: grant_overtime(s, CONFIG, agent_id=helper, key=shift, user_id=sup,
                                     note="顶岗", now=NOW))
    assert helper in roster_on(db, *shift)
    assert approve(db, sup, second).short == []
    assert len(roster_on(db, *shift)) == 6 and team[2] not in roster_on(db, *shift)


def test_given_nonsense_swaps_then_refused_with_their_codes(setup) -> None:
    db, _ = setup
    mine, theirs = (D, 1), (D, 2)
    a, b = team_agents(db, team_on(*mine))[:2]
    other = team_agents(db, team_on(*theirs))[0]
    cases = [
        ((a, mine, a, theirs), "invalid"),
        ((a, mine, b, mine), "already_rostered"),  # b works that shift already
        ((a, theirs, other, mine), "not_rostered"),  # a does not work 12-18
        ((a, (date(2026, 11, 30), 1), other, theirs), "past"),
        ((a, (D, 9), other, theirs), "invalid"),
    ]
    for args, code in cases:
        with pytest.raises(RotaChangeError) as exc:
            swap(db, *args)
        assert exc.value.code == code, (args, str(exc.value))


def test_given_pending_request_then_only_its_agent_may_cancel(setup) -> None:
    db, sup = setup
    a, b = team_agents(db, 0)[:2]
    request_id, _ = leave(db, a, D)
    with pytest.raises(RotaChangeError) as exc:
        db.call(lambda s: cancel(s, request_id, b, NOW))
    assert exc.value.code == "not_found"
    db.call(lambda s: cancel(s, request_id, a, NOW))
    with pytest.raises(RotaChangeError, match="already cancelled"):
        approve(db, sup, request_id)
    with pytest.raises(RotaChangeError, match="same or a later day"):
        leave(db, a, D, D - timedelta(days=1))
