"""The database stalls for 10 s (a TCP proxy in the test stops forwarding; the
shared server is never touched): the backend keeps reading AMI, and once the
database answers again every call's record is complete."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from calls.models import Call
from core.clock import Clock
from core.db import Database
from core.settings import PROJECT_ROOT, AmiTarget, Listen
from hotline.app import Backend
from hotline.demo import free_port
from pbxsim import PbxSim, PhoneBehaviour
from tests.conftest import make_database_url
from tests.faults.db_proxy import StallingProxy
from tests.helpers import prepare_database, settings_for_test
from tests.scale.processes import wait_until
from tests.scale.test_two_backends import agents_on_duty, call
from worksheets.models import WorkOrder


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


async def test_given_the_database_stalled_for_10_s_then_ami_is_read_and_records_complete_after(
        pg_url: str, tmp_path: Path) -> None:
    prepare_database(pg_url)
    [(agent_id, _user, interface)] = agents_on_duty(pg_url, 1)
    proxy, proxied = StallingProxy.for_url(pg_url)
    clock = Clock.for_running_loop()
    agi_port = free_port("127.0.0.1")
    sim = PbxSim(PROJECT_ROOT / "asterisk-conf", clock=clock,
                 globals_override={"FASTAGI": f"agi://127.0.0.1:{agi_port}"},
                 ami_secret_override={"hotline": "stall"}, recordings_dir=tmp_path / "rec",
                 queue_log_path=tmp_path / "queue_log")
    await sim.start()
    sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=3.0))
    backend = Backend(replace(settings_for_test(proxied, tmp_path),
                              ami=AmiTarget("127.0.0.1", sim.ami_port, "hotline", "stall"),
                              agi_listen=Listen("127.0.0.1", agi_port)), clock=clock)
    try:
        await backend.start()
        assert backend.deps is not None and backend.deps.ami is not None
        ami = backend.deps.ami
        await ami.wait_ready(10)
        assert backend.staffing is not None
        await backend.staffing.queue_login(agent_id)
        calls = [call(sim, n) for n in range(2)]

        async def queued() -> bool:  # both callers are through the IVR
            return all(c.happened("queue") or c.queue for c in calls)

        await wait_until(queued, 120)
        proxy.flowing.clear()  # the database stops answering
        received = ami.status()["events_received"]
        await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), 120)
        await asyncio.sleep(10.0)  # the stall lasts 10 s whatever the calls do
        during = ami.status()
        assert during["connected"] and during["events_received"] > received
        proxy.flowing.set()

        db = Database(pg_url)
        try:
            async def complete() -> bool:
                rows = await asyncio.to_thread(db.call, lambda s: [
                    (c.outcome, c.ended_at is not None) for c in s.scalars(
                        select(Call).where(Call.uniqueid.in_([c.uniqueid for c in calls])))])
                return sorted(rows) == [("answered", True), ("answered", True)]

            await wait_until(complete, 60)
            orders = db.call(lambda s: s.scalars(select(WorkOrder)).all())
        finally:
            db.close()
        assert len(orders) == 2
        assert ami.status()["events_dropped"] == 0
    finally:
        proxy.flowing.set()
        await backend.stop()
        await sim.stop()
        proxy.close()
