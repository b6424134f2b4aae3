"""Settings changed through one backend are in force on every backend: two
backends on PostgreSQL against one built-in PBX, virtual time.

The routing rules and pause limits an admin or supervisor stores through
b are reloaded by a on b's "config.changed" (relayed by NOTIFY), or, when
that is missed, by a's periodic check of the database; a supervisor's move
and penalty change through b are stored, so a knows them, and a, elected,
puts the agent back as the supervisor left them after Asterisk restarted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from agents.models import StaffingAlert
from agents.staffing import AgentOnQueues
from core.clock import run_simulated
from core.config_sync import ConfigSync
from core.live_events import CallRouted, ConfigChanged
from hotline.app import Backend
from pbxsim import CallerScript, PhoneBehaviour
from routing.models import RoutingRuleSet
from tests.conftest import make_database_url
from tests.e2e.test_call_path import START, on_duty_agent
from tests.e2e.test_callbacks import login
from tests.faults.stack import until
from tests.helpers import prepare_database
from tests.scale.pair import Pair, add_backend, start_pair

pytestmark = pytest.mark.postgres

MOBILE = "13800138000"
LANDLINE = "09171234567"  # Baoji
# Consultations go to the general queue in the daytime (10:00 local at START),
# and callbacks may dial the city's landlines only.
RULES = {"time_rules": [{"from": "08:00", "to": "20:00", "categories": ["consult"],
                         "queue": "hotline-general"}],
         "callback_numbers": ["_0917XXXXXXX"]}


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


def sync_of(backend: Backend) -> ConfigSync:
    assert backend.config is not None
    return backend.config


async def reloaded(backend: Backend, part: str, before: int, within: float) -> float:
    """Waits for ``backend`` to reload ``part``; the (virtual) seconds it took."""
    clock = backend.deps.clock  # type: ignore[union-attr]
    started = clock.monotonic()
    await asyncio.wait_for(sync_of(backend).wait_reloaded(part, before), within)
    return clock.monotonic() - started


async def logged_in_on_b(pair: Pair, agent_id: int, interface: str) -> AgentOnQueues:
    """The agent logs into the queues through b; a follows them."""
    a, b = pair.backends["a"], pair.backends["b"]
    pair.sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=60.0))
    member = await b.staffing.queue_login(agent_id)  # type: ignore[union-attr]
    await until(lambda: agent_id in a.staffing.logged_in, 30)  # type: ignore[union-attr]
    return member


def with_pair(pg_url: str, tmp_path: Path, body: Callable[..., Awaitable[dict[str, Any]]],
              **overrides: Any) -> dict[str, Any]:
    """``body(pair, agent_id, interface)`` on a and b, with an agent on duty."""
    prepare_database(pg_url, START)
    agent_id, interface, _member = on_duty_agent(pg_url)

    async def main() -> dict[str, Any]:
        pair = await start_pair(pg_url, tmp_path, START, **overrides)
        try:
            return await body(pair, agent_id, interface)
        finally:
            await pair.stop()

    return run_simulated(main())


async def session(backend: Backend) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}")


def test_rules_put_on_b_route_calls_and_refuse_callbacks_on_a(pg_url: str,
                                                              tmp_path: Path) -> None:
    async def main(pair: Pair, _agent_id: int, _interface: str) -> dict[str, Any]:
        a, b = pair.backends["a"], pair.backends["b"]
        before = a.deps.routing.rules.callback_allowed(MOBILE)  # type: ignore[union-attr]
        count = sync_of(a).reloads["routing_rules"]
        async with await session(b) as http:
            admin = await login(http, "admin")
            async with http.put("/api/routing/rules", headers=admin,
                                json={"rules": RULES}) as r:
                assert r.status == 200, await r.text()
        took = await reloaded(a, "routing_rules", count, 10)
        rules = a.deps.routing.rules  # type: ignore[union-attr]
        routed = a.deps.bus.subscribe(  # type: ignore[union-attr]
            lambda e: isinstance(e, CallRouted), "test", local_only=True)
        # The dialplan asks a first (its FASTAGI); the caller presses 4 (咨询).
        call = pair.sim.place_call(caller_number=MOBILE, dialed="12345",
                                   script=CallerScript(keys="4", patience=5))
        event = (await asyncio.wait_for(routed.get(), 120)).event
        await asyncio.wait_for(call.done, 600)
        # A version stored without a NOTIFY (an older release, a lost
        # message): a's periodic check finds it.
        count = sync_of(a).reloads["routing_rules"]
        now = a.deps.clock.now()  # type: ignore[union-attr]
        await a.deps.db.run(lambda s: s.add(RoutingRuleSet(  # type: ignore[union-attr]
            data=json.dumps({"callback_offer_seconds": 240}), created_at=now)))
        healed = await reloaded(a, "routing_rules", count, 90)
        return {"before": before, "took": took, "mobile": rules.callback_allowed(MOBILE),
                "landline": rules.callback_allowed(LANDLINE), "event": event,
                "healed": healed,
                "offer": a.deps.routing.rules.callback_offer_seconds}  # type: ignore[union-attr]

    seen = with_pair(pg_url, tmp_path, main)
    assert seen["before"] is True
    assert seen["took"] < 5  # the NOTIFY, not the periodic check
    assert (seen["mobile"], seen["landline"]) == (False, True)
    assert (seen["event"].category, seen["event"].queue) == ("consult", "hotline-general")
    assert seen["healed"] <= 31 and seen["offer"] == 240


def test_pause_limit_and_rota_policy_changed_on_b_are_what_the_elected_a_goes_by(
        pg_url: str, tmp_path: Path) -> None:
    async def main(pair: Pair, agent_id: int, interface: str) -> dict[str, Any]:
        a, b = pair.backends["a"], pair.backends["b"]
        assert a.election.elected  # type: ignore[union-attr]
        await logged_in_on_b(pair, agent_id, interface)
        await b.staffing.pause(agent_id, True, "break")  # type: ignore[union-attr]
        paused_at = b.deps.clock.now()  # type: ignore[union-attr]
        count = sync_of(a).reloads["pause_reasons"]
        async with await session(b) as http:
            sup = await login(http, "sup")
            async with http.put("/api/pause-reasons", headers=sup,
                                json={"code": "break", "max_minutes": 2}) as r:
                assert r.status == 200, await r.text()
            await reloaded(a, "pause_reasons", count, 10)
            # The rota's policy too (the elected a flags no-shows by it).
            count = sync_of(a).reloads["rota_settings"]
            async with http.put("/api/rota/config", headers=await login(http, "admin"),
                                json={"no_show_minutes": 7}) as r:
                assert r.status == 200, await r.text()
            await reloaded(a, "rota_settings", count, 10)
        no_show = a.staffing.policy.no_show_minutes  # type: ignore[union-attr]
        db = a.deps.db  # type: ignore[union-attr]

        def overruns() -> list[tuple[Any, str]]:
            return db.call(lambda s: [(x.raised_at, x.detail) for x in s.scalars(
                select(StaffingAlert).where(StaffingAlert.kind == "pause_overrun"))])

        await until(lambda: bool(overruns()), 300)
        return {"alerts": overruns(), "paused_at": paused_at, "no_show": no_show}

    seen = with_pair(pg_url, tmp_path, main)
    [(raised_at, detail)] = seen["alerts"]
    # Raised by the new limit (2 minutes), not the old one (15).
    assert timedelta(minutes=2) <= raised_at - seen["paused_at"] < timedelta(minutes=3)
    assert "2 minutes" in detail
    assert seen["no_show"] == 7


def at_pbx(pair: Pair, interface: str) -> dict[str, int]:
    """queue -> penalty of the agent's phone on the stand-in's queues."""
    return {name: m.penalty for name, q in pair.sim.queues.queues.items()
            if (m := q.member(interface)) is not None}


def test_move_and_penalty_on_b_are_known_to_a_and_survive_a_pbx_restart(
        pg_url: str, tmp_path: Path) -> None:
    async def main(pair: Pair, agent_id: int, interface: str) -> dict[str, Any]:
        a, b = pair.backends["a"], pair.backends["b"]
        assert a.election.elected  # type: ignore[union-attr]
        member = await logged_in_on_b(pair, agent_id, interface)
        queues = sorted(member.queues)
        moved, kept, dropped = queues[0], queues[1], queues[2]
        base = f"/api/floor/agents/{agent_id}"
        async with await session(b) as http:
            sup = await login(http, "sup")
            for path, body in ((f"{base}/queues", {"to": kept, "from": moved}),
                               (f"{base}/queues", {"to": moved, "penalty": 4}),
                               (f"{base}/penalty", {"queue": kept, "penalty": 7}),
                               (f"{base}/queues", {"to": kept, "from": dropped})):
                count = sync_of(a).reloads["agent_queues"]
                async with http.post(path, headers=sup, json=body) as r:
                    assert r.status == 200, await r.text()
                    answer = (await r.json())["queues"]
                await reloaded(a, "agent_queues", count, 10)
        on_a = dict(a.staffing.logged_in[agent_id].queues)  # type: ignore[union-attr]
        # A backend started now adopts the agent as the supervisor left them.
        c = await add_backend(pair, "c", pg_url, tmp_path)
        await until(lambda: agent_id in c.staffing.logged_in, 30)  # type: ignore[union-attr]
        on_c = dict(c.staffing.logged_in[agent_id].queues)  # type: ignore[union-attr]
        before = at_pbx(pair, interface)
        pair.commands.clear()
        pair.sim.drop_ami_connections()
        await pair.sim.restart()
        forgotten = at_pbx(pair, interface)
        for backend in (a, b, c):
            await backend.deps.ami.wait_ready(60)  # type: ignore[union-attr]
        await until(lambda: len(at_pbx(pair, interface)) == len(before), 60)
        await asyncio.sleep(5)  # anything more would be a wrong QueueAdd
        return {"answer": answer, "on_a": on_a, "on_c": on_c, "before": before,
                "forgotten": forgotten, "after": at_pbx(pair, interface), "moved": moved,
                "kept": kept, "dropped": dropped,
                "adds": [(x, q) for x, cmd, _i, q in pair.commands if cmd == "queue_add"]}

    seen = with_pair(pg_url, tmp_path, main)
    moved, kept, dropped = seen["moved"], seen["kept"], seen["dropped"]
    assert seen["on_a"] == seen["on_c"] == seen["answer"] == seen["before"]
    assert seen["on_a"][moved] == 4 and seen["on_a"][kept] == 7 and dropped not in seen["on_a"]
    assert seen["forgotten"] == {}
    # Put back by the elected a, as the supervisor left them (b's moves, b's penalty).
    assert seen["after"] == seen["before"]
    assert {x for x, _q in seen["adds"]} == {"a"}
    assert sorted(q for _x, q in seen["adds"]) == sorted(seen["before"])


def test_given_b_notifies_are_lost_then_a_reads_moves_and_penalties_from_the_database(
        pg_url: str, tmp_path: Path) -> None:
    """b's config.changed never reaches a (and a checks nothing periodically
    within the test): a learns a moved-to queue's penalty when Asterisk says
    the member was added, and, in charge, reads every stored penalty before
    putting the agent back after a PBX restart."""

    async def main(pair: Pair, agent_id: int, interface: str) -> dict[str, Any]:
        a, b = pair.backends["a"], pair.backends["b"]
        relay = b.relay
        assert relay is not None
        send = relay.send
        relay.send = lambda event: (  # type: ignore[method-assign]
            None if isinstance(event, ConfigChanged) else send(event))
        member = await logged_in_on_b(pair, agent_id, interface)
        on_a = a.staffing.logged_in[agent_id].queues  # type: ignore[union-attr]
        moved, kept = sorted(member.queues)[:2]
        base = f"/api/floor/agents/{agent_id}"
        async with await session(b) as http:
            sup = await login(http, "sup")
            for path, body in ((f"{base}/queues", {"to": kept, "from": moved}),
                               (f"{base}/queues", {"to": moved, "penalty": 4}),
                               (f"{base}/penalty", {"queue": kept, "penalty": 7})):
                async with http.post(path, headers=sup, json=body) as r:
                    assert r.status == 200, await r.text()
                    stored = (await r.json())["queues"]
        await until(lambda: on_a.get(moved) == 4, 30)
        known = dict(on_a)
        pair.sim.drop_ami_connections()
        await pair.sim.restart()
        await a.deps.ami.wait_ready(60)  # type: ignore[union-attr]
        await until(lambda: len(at_pbx(pair, interface)) == len(stored), 60)
        await asyncio.sleep(5)  # anything more would be a wrong QueueAdd
        return {"known": known, "stored": stored, "after": at_pbx(pair, interface),
                "kept": kept, "moved": moved}

    seen = with_pair(pg_url, tmp_path, main, config_check_seconds=86400.0)
    kept, moved = seen["kept"], seen["moved"]
    assert seen["stored"][moved] == 4 and seen["stored"][kept] == 7
    # From the member event: the moved-to queue at its stored penalty (not 2);
    # the penalty change had no event a heard.
    assert seen["known"] == {**seen["stored"], kept: seen["known"][kept]} != seen["stored"]
    assert seen["after"] == seen["stored"]
