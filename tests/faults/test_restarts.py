"""Restarts on either side, over real sockets on virtual time.

Who is logged into the queues is Asterisk's to say: a backend restarted
while its agents are on calls adopts them from the PBX model's resync (it
knows them, they can pause and log out, and they leave the queues at the
end of their shift); a PBX restarted (it forgets dynamic members) gets
every logged-in agent back, whether or not the backend restarted since
they logged in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from agents import rota
from hotline.app import Backend
from pbxsim import PbxSim, PhoneBehaviour
from tests.e2e.test_call_path import START
from tests.faults.stack import Stack, on_stack, until

SHIFT_END = START + timedelta(hours=2)  # 12:00 in Baoji: the 06-12 shift ends


def at_pbx(sim: PbxSim, member: str) -> dict[str, tuple[bool, str]]:
    """queue -> (paused, reason) of ``member`` on the stand-in's queues."""
    return {name: (m.paused, m.reason) for name, q in sim.queues.queues.items()
            for m in q.members if m.membername == member}


async def restart_backend(st: Stack) -> Backend:
    clock = st.backend.deps.clock
    settings = st.backend.settings
    await st.backend.stop()
    backend = Backend(settings, clock=clock)
    await backend.start()
    assert backend.deps is not None and backend.deps.ami is not None
    await backend.deps.ami.wait_ready(60)
    st.backend = backend
    return backend


@dataclass
class Seen:
    before: dict[str, tuple[bool, str]]
    state: str | None
    paused: dict[str, tuple[bool, str]]
    after_logout: dict[str, tuple[bool, str]]
    record: str


def test_given_backend_restarted_mid_call_then_it_adopts_the_agent(tmp_path: Path) -> None:
    async def body(st: Stack) -> Seen:
        call = st.call(keys="2", key_delay=1.0, patience=300)
        await until(lambda: call.happened("left queue"))
        await asyncio.sleep(5)
        before = at_pbx(st.sim, st.member)
        backend = await restart_backend(st)
        staffing = backend.staffing
        assert staffing is not None
        await until(lambda: st.agent_id in staffing.logged_in, 30)
        state = staffing.states.state_of(st.agent_id)
        await staffing.pause(st.agent_id, True, "break")
        await asyncio.sleep(1)
        paused = at_pbx(st.sim, st.member)
        await asyncio.wait_for(call.done, 300)
        await staffing.queue_logout(st.agent_id)
        await asyncio.sleep(1)
        return Seen(before, state["state"] if state else None, paused,
                    at_pbx(st.sim, st.member), call.outcome)

    seen = on_stack(tmp_path, body, PhoneBehaviour(answer_after=1.0, talk_seconds=120.0)).result
    assert seen.before and all(not p for p, _ in seen.before.values())
    assert seen.state == "on_call"  # known mid-call, from QueueStatus's InCall
    assert set(seen.paused) == set(seen.before)
    assert all(p == (True, "break") for p in seen.paused.values())
    assert seen.after_logout == {}
    assert seen.record == "connected"


Queues = dict[str, tuple[bool, str]]


def test_given_backend_restarted_then_agents_leave_at_the_end_of_their_shift(
        tmp_path: Path) -> None:
    async def body(st: Stack) -> tuple[Queues, Queues]:
        await asyncio.sleep(2)
        before = at_pbx(st.sim, st.member)
        backend = await restart_backend(st)
        clock = backend.deps.clock  # type: ignore[union-attr]
        await asyncio.sleep((SHIFT_END - clock.now()).total_seconds() + 5)
        return before, at_pbx(st.sim, st.member)

    before, after = on_stack(tmp_path, body).result
    assert before and after == {}


def test_given_pbx_restarted_after_backend_restart_then_agents_are_put_back(
        tmp_path: Path) -> None:
    async def body(st: Stack) -> tuple[Queues, Queues, Queues]:
        await asyncio.sleep(2)
        before = at_pbx(st.sim, st.member)
        backend = await restart_backend(st)
        await until(lambda: st.agent_id in backend.staffing.logged_in, 30)  # type: ignore[union-attr]
        st.sim.drop_ami_connections()
        await st.sim.restart()
        forgotten = at_pbx(st.sim, st.member)
        await backend.deps.ami.wait_ready(60)  # type: ignore[union-attr]
        await until(lambda: bool(at_pbx(st.sim, st.member)), 30)
        await asyncio.sleep(2)
        return before, forgotten, at_pbx(st.sim, st.member)

    before, forgotten, after = on_stack(tmp_path, body).result
    assert before and forgotten == {}
    assert after == before  # every queue again, not paused


def test_given_an_early_check_in_when_the_backend_restarts_then_they_join_at_the_change(
        tmp_path: Path) -> None:
    """The check-in is stored, not kept in the process: it survives a restart."""
    async def body(st: Stack) -> tuple[Queues, Queues]:
        staffing = st.backend.staffing
        assert staffing is not None
        clock = st.backend.deps.clock  # type: ignore[union-attr]
        await asyncio.sleep((SHIFT_END - timedelta(minutes=10) - clock.now()).total_seconds())
        current = rota.shift_at(staffing.config, staffing.local_now())
        upcoming = rota.shift_at(staffing.config, current.end)
        incoming = min(await staffing.rostered((upcoming.day, upcoming.index)))
        member = await staffing.member(incoming)
        st.sim.add_phone(member.interface, PhoneBehaviour())
        assert (await staffing.queue_login(incoming)).starts_at == SHIFT_END
        await restart_backend(st)
        before = at_pbx(st.sim, member.member_name)
        await asyncio.sleep((SHIFT_END - clock.now()).total_seconds() + 2)
        return before, at_pbx(st.sim, member.member_name)

    before, after = on_stack(tmp_path, body, login=False).result
    assert before == {}
    assert len(after) == 6 and not any(paused for paused, _r in after.values())
