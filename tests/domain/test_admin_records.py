"""The admin's records: created, edited and deactivated with every problem
named by its field, deactivation refused while others still depend on the
row, and every change audited (who, what, when)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from admin import service
from admin.fields import AdminError
from admin.kinds import KINDS
from routing.lists import legacy_line
from routing.models import AuditEntry
from tests.domain.conftest import SEEDED_AT

NOW = SEEDED_AT


def problems(exc: pytest.ExceptionInfo[AdminError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_given_a_bad_agent_when_created_then_every_field_is_named_and_nothing_added(db):
    def work(s):
        with pytest.raises(AdminError) as exc:
            service.create(s, KINDS["agents"], {
                "number": "10a", "name": "", "team": "Z", "phone": "SIP/1001",
                "skills": "help:0,cooking:1", "shoe_size": "42"}, user_id=1, now=NOW)
        return problems(exc), len(service.listing(s, KINDS["agents"], NOW))

    found, count = db.call(work)
    assert found == {
        "number": "2-16 digits", "name": "is required", "team": "no team Z",
        "phone": "a PJSIP endpoint, e.g. PJSIP/1001",
        "skills": "'cooking' is not a category (one of help, complaint, report, consult, "
                  "suggest, general)",
        "shoe_size": "agents have no field 'shoe_size'"}
    assert count == 42


def test_given_an_agent_created_edited_and_deactivated_then_each_step_is_audited(db):
    agents = KINDS["agents"]

    def work(s):
        agent = service.create(s, agents, {"number": "2001", "name": "新人", "team": "A",
                                           "phone": "2001", "skills": "help：0，consult:1"},
                               user_id=1, now=NOW)
        changed = service.edit(s, agents, agent, {"team": "B", "name": "新人"}, user_id=1,
                               now=NOW)
        service.deactivate(s, agents, agent, user_id=1, now=NOW)
        with pytest.raises(AdminError) as again:
            service.deactivate(s, agents, agent, user_id=1, now=NOW)
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return agents.dump(s, agent), changed, problems(again), [
            (e.user_id, e.action, e.target, json.loads(e.detail)) for e in entries]

    agent, changed, again, audit = db.call(work)
    assert agent | {"id": 0, "team_id": 0} == {
        "id": 0, "number": "2001", "name": "新人", "team_id": 0, "team": "B",
        "phone": "PJSIP/2001", "skills": "help:0,consult:1", "active": False}
    assert list(changed) == ["team"]  # the unchanged name is not a change
    assert again == {"active": "agent 2001 is already deactivated"}
    assert [(who, action, target) for who, action, target, _ in audit] == [
        (1, "agent_create", "agent 2001"), (1, "agent_edit", "agent 2001"),
        (1, "agent_deactivate", "agent 2001")]
    assert audit[0][3]["phone"] == "PJSIP/2001"
    assert audit[2][3] == {"active": [True, False]}


def test_given_a_phone_or_number_already_used_then_the_field_is_named(db):
    def work(s):
        out = {}
        for data in ({"number": "1001"}, {"phone": "PJSIP/1002"}):
            with pytest.raises(AdminError) as exc:
                service.create(s, KINDS["agents"], {"number": "2002", "name": "x", "team": "A",
                                                    "phone": "2002", **data}, user_id=1, now=NOW)
            out.update(problems(exc))
        return out

    assert db.call(work) == {"number": "agent 1001 already exists",
                             "phone": "PJSIP/1002 already rings for agent 1002"}


def test_given_a_team_with_agents_then_it_is_not_deactivated_until_they_move(db):
    teams, agents = KINDS["teams"], KINDS["agents"]

    def work(s):
        team = service.create(s, teams, {"code": "G", "name": "七班", "rota_index": 6},
                              user_id=1, now=NOW)
        agent = service.create(s, agents, {"number": "2003", "name": "x", "team": "G",
                                           "phone": "2003"}, user_id=1, now=NOW)
        with pytest.raises(AdminError) as busy:
            service.deactivate(s, teams, team, user_id=1, now=NOW)
        with pytest.raises(AdminError) as clash:
            service.edit(s, teams, team, {"rota_index": 0}, user_id=1, now=NOW)
        service.edit(s, agents, agent, {"team": "A"}, user_id=1, now=NOW)
        service.deactivate(s, teams, team, user_id=1, now=NOW)
        with pytest.raises(AdminError) as gone:
            service.edit(s, agents, agent, {"team": "G"}, user_id=1, now=NOW)
        return problems(busy), problems(clash), team.active, team.rota_index, problems(gone)

    busy, clash, active, index, gone = db.call(work)
    assert busy == {"active": "1 active agents are still in team G: move them to another "
                              "team first"}
    assert clash == {"rota_index": "team A already has place 0 in the rotation"}
    assert (active, index) == (False, 6)  # the refused edit left nothing behind
    assert gone == {"team": "team G is deactivated"}


def test_given_department_with_contacts_leader_and_staff_then_the_leader_is_one_of_them(db):
    departments, users = KINDS["departments"], KINDS["users"]

    def work(s):
        dept = service.find(s, departments, "ZJJ")
        with pytest.raises(AdminError) as not_theirs:
            service.edit(s, departments, dept, {"leader": "sup"}, user_id=1, now=NOW)
        service.create(s, users, {"username": "zjj-li", "display_name": "李科长",
                                  "role": "department", "department": "ZJJ"},
                       user_id=1, now=NOW, extra={"password_hash": "x", "created_at": NOW})
        service.edit(s, departments, dept, {"leader": "zjj-li", "contact_name": "王主任",
                                            "contact_phone": "+86 0917-3261234"},
                     user_id=1, now=NOW)
        leader = service.find(s, users, "zjj-li")
        with pytest.raises(AdminError) as demoted:
            service.edit(s, users, leader, {"role": "supervisor", "department": None},
                         user_id=1, now=NOW)
        with pytest.raises(AdminError) as moved:
            service.edit(s, users, leader, {"department": "SJJ"}, user_id=1, now=NOW)
        return (problems(not_theirs), departments.dump(s, dept),
                problems(demoted) | problems(moved))

    not_theirs, dept, demoted = db.call(work)
    assert not_theirs == {"leader": "the leader must be one of this department's logins "
                                    "(role department, linked to it)"}
    assert (dept["leader"], dept["contact_name"], dept["contact_phone"]) == (
        "zjj-li", "王主任", "09173261234")
    assert [(u["username"], u["leader"]) for u in dept["staff"]] == [
        ("dept", False), ("zjj-li", True)]  # the staffer and the leader
    assert demoted == {"role": "zjj-li leads ZJJ: name another leader first",
                       "department": "zjj-li leads ZJJ: name another leader first"}


def test_given_a_department_still_holding_lines_then_it_is_not_deactivated(db):
    departments, lines = KINDS["departments"], KINDS["lines"]

    def work(s):
        dept = service.find(s, departments, "YBJ")
        with pytest.raises(AdminError) as busy:
            service.deactivate(s, departments, dept, user_id=1, now=NOW)
        service.deactivate(s, lines, service.find(s, lines, "12393"), user_id=1, now=NOW)
        service.deactivate(s, departments, dept, user_id=1, now=NOW)
        return problems(busy), dept.active

    busy, active = db.call(work)
    assert busy == {"active": "the lines 12393 still ring for YBJ: move or deactivate them "
                              "first"}
    assert active is False


def test_given_the_three_kinds_of_old_line_then_only_dual_track_ones_route(db):
    lines = KINDS["lines"]

    def work(s):
        with pytest.raises(AdminError) as incomplete:
            service.create(s, lines, {"number": "12300", "label": "x", "kind": "dual"},
                           user_id=1, now=NOW)
        service.create(s, lines, {"number": "12399", "label": "纪检监察举报电话",
                                  "kind": "special", "note": "请直接拨打12399"},
                       user_id=1, now=NOW)
        service.create(s, lines, {"number": "0917-12310", "label": "原市长热线",
                                  "kind": "merged"}, user_id=1, now=NOW)
        dual = service.find(s, lines, "12315")
        service.edit(s, lines, dual, {"kind": "merged"}, user_id=1, now=NOW)
        return (problems(incomplete), [legacy_line(s, n) for n in ("12399", "091712310",
                                                                   "12315", "12319")])

    incomplete, routed = db.call(work)
    assert incomplete == {
        "category": "a dual-track line needs its callers' category (one of help, complaint, "
                    "report, consult, suggest)",
        "department": "a dual-track line needs its department"}
    assert [r.number if r else None for r in routed] == [None, None, None, "12319"]


def test_given_calls_to_a_dual_track_line_then_its_listing_counts_them(db):
    from datetime import timedelta

    from calls.models import Call

    def work(s):
        for n, days in enumerate((1, 2, 40)):
            s.add(Call(uniqueid=f"c{n}", dialed_number="12319",
                       entered_at=NOW - timedelta(days=days)))
        s.flush()
        return {r["number"]: r for r in service.listing(s, KINDS["lines"], NOW)}

    listed = db.call(work)
    assert (listed["12319"]["calls_total"], listed["12319"]["calls_30_days"]) == (3, 2)
    assert listed["12319"]["last_call_at"] == (NOW - timedelta(days=1)).isoformat()
    assert listed["12315"]["calls_total"] == 0
