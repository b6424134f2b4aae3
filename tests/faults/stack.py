"""The full backend against the built-in PBX, for fault tests (SQLite,
virtual time).  Faults are injected from the stand-in's side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import select

from calls.models import Call
from core.clock import run_simulated
from core.db import Database
from hotline.app import Backend
from pbxsim import CallerScript, PbxSim, PhoneBehaviour
from pbxsim.callers import SimCall
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.helpers import prepare_database
from worksheets.models import CallbackTask, WorkOrder


@dataclass
class Stack:
    sim: PbxSim
    backend: Backend
    agent_id: int
    interface: str
    member: str

    async def stop(self) -> None:
        await self.backend.stop()
        await self.sim.stop()

    def call(self, number: str = "13800138000", name: str = "张三", **script: object) -> SimCall:
        return self.sim.place_call(caller_number=number, caller_name=name, dialed="12345",
                                   script=CallerScript(**script))  # type: ignore[arg-type]


def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    return url


async def stack(url: str, tmp_path: Path, agent: tuple[int, str, str],
                phone: PhoneBehaviour | None = None, login: bool = True) -> Stack:
    agent_id, interface, member = agent
    sim, backend = await start_stack(url, tmp_path)
    sim.add_phone(interface, phone or PhoneBehaviour(answer_after=2.0, talk_seconds=30.0))
    if login:
        await backend.staffing.queue_login(agent_id)
    return Stack(sim, backend, agent_id, interface, member)


T = TypeVar("T")


class Ran(NamedTuple, Generic[T]):
    result: T
    url: str  # the database, for records()
    agent: tuple[int, str, str]  # (agent id, interface, member name)


def on_stack(tmp_path: Path, body: Callable[[Stack], Awaitable[T]],
             phone: PhoneBehaviour | None = None, login: bool = True) -> Ran[T]:
    """A fresh database with an agent on duty, the stack on it, ``body(stack)``
    run on virtual time, and the stack stopped whatever happened."""
    url = database(tmp_path)
    agent = on_duty_agent(url)

    async def main() -> T:
        st = await stack(url, tmp_path, agent, phone, login)
        try:
            return await body(st)
        finally:
            await st.stop()
    return Ran(run_simulated(main()), url, agent)


async def until(condition: Callable[[], bool], timeout: float = 300.0, step: float = 0.5) -> None:
    """Wait (virtual time) until ``condition()`` holds."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(step)
    await asyncio.wait_for(poll(), timeout)


def records(url: str, uniqueids: list[str]) -> list[dict[str, object]]:
    """Each call's record, work order and callback task, by uniqueid."""
    db = Database(url)
    try:
        def read(s):  # type: ignore[no-untyped-def]
            out = []
            for uid in uniqueids:
                call = s.scalar(select(Call).where(Call.uniqueid == uid))
                if call is None:
                    out.append({"uniqueid": uid, "missing": True})
                    continue
                order = s.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
                task = s.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id))
                out.append({"uniqueid": uid, "outcome": call.outcome, "queue": call.queue,
                            "member": call.member_name, "ended": call.ended_at is not None,
                            "caller_name": call.caller_name, "caller_number": call.caller_number,
                            "order": order.status if order else None, "callback": task is not None})
            return out
        return db.call(read)
    finally:
        db.close()


__all__ = ["START", "Ran", "Stack", "database", "on_duty_agent", "on_stack", "records", "stack",
           "until"]
