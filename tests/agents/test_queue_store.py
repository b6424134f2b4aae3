"""Agents' stored queues when two backends change them at once.

Each backend keeps its own copy of an agent's queues and hears of the
other's change only later (the config sync).  A supervisor's move through
one and a penalty change through the other, each from its stale copy, both
stay stored: the store is what puts agents back after Asterisk restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from agents.models import Agent
from agents.queue_store import stored_queues
from agents.staffing import AgentOnQueues, Staffing, StaffingError
from core.bus import EventBus
from core.clock import Clock
from core.db import Database
from floor import actions
from hotline.deps import Deps
from pbx.commands import AmiError
from routing.menu import RoutingTable
from tests.helpers import settings_for_test
from worksheets.calendar_store import SharedCalendar

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
LOGGED_IN = {"hotline-help": 0, "hotline-complaint": 1, "hotline-general": 1}


class FakePbx:
    """Accepts every command; ``during_add`` runs while a QueueAdd is in flight."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []
        self.during_add: Any = None

    async def queue_add(self, queue: str, _interface: str, _member: str, _penalty: int) -> None:
        self.commands.append(("add", queue))
        if self.during_add is not None:
            await self.during_add()

    async def queue_remove(self, queue: str, _interface: str) -> None:
        self.commands.append(("remove", queue))

    async def queue_penalty(self, _interface: str, _penalty: int, queue: str) -> None:
        self.commands.append(("penalty", queue))


def backend(db: Database, url: str, tmp_path: Path, member: AgentOnQueues) -> Staffing:
    """One backend's staffing, with its own copy of the agent on the queues."""
    deps = Deps(settings=settings_for_test(url, tmp_path), db=db,
                clock=Clock.for_running_loop(NOW), routing=RoutingTable(), bus=EventBus(),
                calendar=SharedCalendar())
    staffing = Staffing(deps)
    staffing.model = SimpleNamespace(connected=True, commands=FakePbx())  # type: ignore[assignment]
    staffing.logged_in[member.agent_id] = replace(member, queues=dict(member.queues))
    return staffing


def fake_pbx(staffing: Staffing) -> FakePbx:
    assert staffing.model is not None
    commands: Any = staffing.model.commands
    assert isinstance(commands, FakePbx)
    return commands


async def logged_in_agent(db: Database, url: str, tmp_path: Path, *, stored: bool = True
                          ) -> AgentOnQueues:
    agent = await db.run(lambda s: s.scalars(select(Agent).order_by(Agent.id)).first())
    assert agent is not None
    member = AgentOnQueues(agent.id, agent.number, agent.interface, agent.member_name,
                           team_index=0, queues=dict(LOGGED_IN))
    if stored:  # the login stores the whole set (through either backend)
        await backend(db, url, tmp_path, member).store_queues(member)
    return member


async def two_backends(db: Database, url: str, tmp_path: Path
                       ) -> tuple[int, Staffing, Staffing]:
    """An agent logged in, and two backends with a copy each of their queues."""
    member = await logged_in_agent(db, url, tmp_path)
    return (member.agent_id, backend(db, url, tmp_path, member),
            backend(db, url, tmp_path, member))


async def stored(db: Database, agent_id: int) -> dict[str, int]:
    return (await db.run(lambda s: stored_queues(s, [agent_id]))).get(agent_id, {})


async def test_a_move_on_one_backend_and_a_penalty_on_another_both_stay_stored(
        db: Database, seeded_url: str, tmp_path: Path) -> None:
    agent_id, a, b = await two_backends(db, seeded_url, tmp_path)

    # a moves the agent from help to consult; b has not heard of it when its
    # supervisor changes the complaint penalty.
    assert await actions.move(a, agent_id, "hotline-consult", "hotline-help", None) == {
        "hotline-consult": 0, "hotline-complaint": 1, "hotline-general": 1}
    assert "hotline-help" in b.logged_in[agent_id].queues  # stale
    await actions.set_penalty(b, agent_id, "hotline-complaint", 5)
    assert await stored(db, agent_id) == {
        "hotline-consult": 0, "hotline-complaint": 5, "hotline-general": 1}

    # The other way round: b changes a penalty, then a, not yet told of it,
    # moves the agent off general.
    await b.refresh_queues(agent_id)  # b hears of the move
    await actions.set_penalty(b, agent_id, "hotline-consult", 3)
    await actions.move(a, agent_id, "hotline-help", "hotline-general", 2)
    assert await stored(db, agent_id) == {
        "hotline-consult": 3, "hotline-complaint": 5, "hotline-help": 2}

    # A penalty for a queue the other backend moved the agent off meanwhile
    # (its QueuePenalty still went through) does not put the queue back.
    await actions.set_penalty(b, agent_id, "hotline-general", 4)
    assert "hotline-general" not in await stored(db, agent_id)


async def test_a_move_whose_source_queue_a_refresh_dropped_meanwhile_completes(
        db: Database, seeded_url: str, tmp_path: Path) -> None:
    """The move stores the removal first; a refresh from the store while its
    QueueAdd is in flight (any backend's announcement) replaces the agent's
    queues, without the source queue: the move still takes the agent off it."""
    member = await logged_in_agent(db, seeded_url, tmp_path)
    agent_id = member.agent_id
    a = backend(db, seeded_url, tmp_path, member)
    pbx = fake_pbx(a)

    async def refreshed() -> None:
        await a.refresh_queues(agent_id)
        assert "hotline-help" not in a.logged_in[agent_id].queues

    pbx.during_add = refreshed
    assert await actions.move(a, agent_id, "hotline-consult", "hotline-help", None) == {
        "hotline-consult": 0, "hotline-complaint": 1, "hotline-general": 1}
    assert pbx.commands == [("add", "hotline-consult"), ("remove", "hotline-help")]
    assert await stored(db, agent_id) == {
        "hotline-consult": 0, "hotline-complaint": 1, "hotline-general": 1}


async def test_a_move_the_pbx_refused_is_stored_back_for_its_queues_only(
        db: Database, seeded_url: str, tmp_path: Path) -> None:
    agent_id, a, b = await two_backends(db, seeded_url, tmp_path)
    await actions.set_penalty(b, agent_id, "hotline-general", 6)  # a has not heard of it

    async def refused() -> None:
        raise AmiError("QueueAdd", "Unable to add interface: Already there")

    fake_pbx(a).during_add = refused
    with pytest.raises(StaffingError, match="QueueAdd hotline-consult"):
        await actions.move(a, agent_id, "hotline-consult", "hotline-help", None)
    assert a.logged_in[agent_id].queues == LOGGED_IN
    assert await stored(db, agent_id) == {
        "hotline-help": 0, "hotline-complaint": 1, "hotline-general": 6}


async def test_the_first_change_for_an_agent_with_nothing_stored_stores_all_known(
        db: Database, seeded_url: str, tmp_path: Path) -> None:
    """On the queues since before their queues were stored: the change alone
    would leave the others to be forgotten by every backend that reads it."""
    member = await logged_in_agent(db, seeded_url, tmp_path, stored=False)
    a = backend(db, seeded_url, tmp_path, member)
    await actions.set_penalty(a, member.agent_id, "hotline-complaint", 5)
    assert await stored(db, member.agent_id) == {**LOGGED_IN, "hotline-complaint": 5}
