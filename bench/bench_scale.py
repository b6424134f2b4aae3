"""Sustained load on the built-in PBX with the backend on PostgreSQL.

Usage: python bench/bench_scale.py [--rate 10] [--minutes 10] [--agents 500]
       [--instances 1] [--talk 30] [--admin-url postgresql+psycopg://root@127.0.0.1:5432/postgres]

Checks that nothing is lost: every call placed has a record (ended), every
answered call a work order (draft or submitted), and the outbox is drained
(with transcription off, the whole-call recordings' outbox items are taken by
a stand-in handler here that only checks the item names its call, so the
outbox's claiming, leases and finishing run as in production).  Reports the
process's memory (RSS sampled every 10 simulated seconds) and the event
loop's lag: every half simulated second a callback is queued with
``call_soon`` and the real time until it runs is measured (how long ready
work waits behind other work on the one loop the backends and the stand-in
share).

Creates a fresh PostgreSQL database, seeds the demo city plus enough agents
of the team on duty to make ``--agents``, logs them all into the queues, and
places ``--rate`` calls a second for ``--minutes`` simulated minutes through
the real dialplan (asterisk-conf) and our FastAGI IVR (menu key 1, silent
description, talk ``--talk`` s).  Transcription is OFF (its cost is measured
by bench_speech.py).  Everything runs in this process on the virtual-time
loop: the wall-clock and CPU time are the backend's and the stand-in's own
work (the stand-in alone: bench_pbxsim.py).  With ``--instances 2`` two
backends share the database and the PBX (both ingest every AMI event; the
dialplan's FastAGI list sends the IVR to the first).  Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents import rota  # noqa: E402
from agents.models import Agent, Team  # noqa: E402
from calls.models import Call  # noqa: E402
from core.clock import Clock, run_simulated  # noqa: E402
from core.db import Database  # noqa: E402
from core.outbox import DONE, OutboxItem
from core.settings import PROJECT_ROOT, AmiTarget, Listen, load_settings  # noqa: E402
from hotline.app import Backend  # noqa: E402
from hotline.demo import free_port  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.seed import seed_demo_city  # noqa: E402
from pbxsim import CallerScript, PbxSim, PhoneBehaviour  # noqa: E402
from speech.recording_outbox import CALL_RECORDING  # noqa: E402
from worksheets.models import WorkOrder  # noqa: E402

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Baoji


def prepare(url: str, agents: int) -> list[int]:
    db = Database(url)
    try:
        upgrade(db.engine)
        db.call(lambda s: seed_demo_city(s, START))

        def more(s: object) -> list[int]:
            team_index = rota.team_on_duty(rota.RotaConfig(), START, ZoneInfo("Asia/Shanghai"))
            team = s.scalar(select(Team).where(Team.rota_index == team_index))  # type: ignore[attr-defined]
            have = list(s.scalars(select(Agent).where(Agent.team_id == team.id)))  # type: ignore[attr-defined]
            for n in range(len(have), agents):
                number = str(5000 + n)
                agent = Agent(number=number, name=f"坐席{number}", team_id=team.id,
                              interface=f"PJSIP/{number}", skills="help:0")
                s.add(agent)  # type: ignore[attr-defined]
                have.append(agent)
            s.flush()  # type: ignore[attr-defined]
            return [a.id for a in have]

        return db.call(more)
    finally:
        db.close()


async def run(url: str, args: argparse.Namespace, var: Path, agent_ids: list[int]) -> dict:
    clock = Clock.for_running_loop(START)
    ports = [free_port("127.0.0.1") for _ in range(args.instances)]
    servers = [f"agi://127.0.0.1:{p}" for p in ports]
    sim = PbxSim(PROJECT_ROOT / "asterisk-conf", clock=clock,
                 globals_override={"FASTAGI": servers[0],
                                   "FASTAGI_FAILOVER": "|".join(servers[1:])},
                 ami_secret_override={"hotline": "bench"}, recordings_dir=var / "recordings",
                 queue_log_path=var / "queue_log")
    await sim.start()
    base = load_settings(env={"HOTLINE_DATABASE_URL": url, "HOTLINE_VAR_DIR": str(var),
                              "HOTLINE_LOG_LEVEL": "WARNING"})
    backends = [Backend(replace(base, ami=AmiTarget("127.0.0.1", sim.ami_port, "hotline", "bench"),
                                agi_listen=Listen("127.0.0.1", port),
                                http_listen=Listen("127.0.0.1", 0), instance_name=f"b{i + 1}"),
                        clock=clock) for i, port in enumerate(ports)]
    collected: list[str] = []

    async def recording_collected(payload: dict) -> None:  # transcription is off
        assert payload["uniqueid"]
        collected.append(payload["uniqueid"])

    for b in backends:
        await b.start()
        assert b.deps is not None and b.deps.ami is not None and b.deps.outbox is not None
        b.deps.outbox.handle(CALL_RECORDING, recording_collected)
        await b.deps.ami.wait_ready(30)
    db = backends[0].deps.db  # type: ignore[union-attr]
    agents = await db.run(lambda s: [(a.id, a.interface) for a in s.scalars(
        select(Agent).where(Agent.id.in_(agent_ids)))])
    for n, (agent_id, interface) in enumerate(agents):
        sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=args.talk))
        await backends[n % len(backends)].staffing.queue_login(agent_id)  # type: ignore[union-attr]
    monitor = Monitor()
    monitor.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0, virtual0 = time.perf_counter(), clock.monotonic()
    calls = []
    total = int(args.rate * args.minutes * 60)
    for n in range(total):
        calls.append(sim.place_call(caller_number=f"139{n:08d}", caller_name="",
                                    script=CallerScript(keys="1", key_delay=0.5, patience=1800,
                                                        survey_key=None)))
        await asyncio.sleep(1.0 / args.rate)
    await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), 7200)
    uniqueids = [c.uniqueid for c in calls]
    for _ in range(600):  # records complete (the database may lag the PBX)
        ended = await db.run(lambda s: s.scalar(select(func.count()).select_from(Call).where(
            Call.uniqueid.in_(uniqueids), Call.ended_at.is_not(None))))
        if ended == total:
            break
        await asyncio.sleep(1.0)
    traffic_wall = time.perf_counter() - wall0
    for _ in range(600):  # the outbox drained
        pending = await db.run(lambda s: s.scalar(select(func.count()).select_from(
            OutboxItem).where(OutboxItem.status != DONE)))
        if not pending:
            break
        await asyncio.sleep(1.0)
    wall, virtual = time.perf_counter() - wall0, clock.monotonic() - virtual0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    await monitor.stop()
    answered = [u for (u,) in await db.run(lambda s: list(s.execute(
        select(Call.uniqueid).where(Call.uniqueid.in_(uniqueids),
                                    Call.outcome == "answered"))))]
    without_order = await db.run(lambda s: s.scalar(
        select(func.count()).select_from(Call).outerjoin(WorkOrder, WorkOrder.call_id == Call.id)
        .where(Call.uniqueid.in_(answered), WorkOrder.id.is_(None))))
    items = await db.run(lambda s: s.scalar(select(func.count()).select_from(OutboxItem)))
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    outcomes = dict(await db.run(lambda s: list(s.execute(
        select(Call.outcome, func.count()).where(Call.uniqueid.in_(uniqueids))
        .group_by(Call.outcome)))))
    recorded = sum(outcomes.values())
    ami = [b.deps.ami.status() for b in backends]  # type: ignore[union-attr]
    for b in reversed(backends):
        await b.stop()
    await sim.stop()
    return {"instances": args.instances, "agents": len(agents), "calls": total,
            "recorded": recorded, "ended": ended, "lost": total - recorded, "outcomes": outcomes,
            "virtual_s": round(virtual, 1), "wall_s": round(wall, 1),
            "calls_per_wall_s": round(total / wall, 1), "cpu_s": round(cpu, 1),
            "cpu_ms_per_call": round(1000 * cpu / total, 2),
            "answered": len(answered), "answered_without_order": without_order,
            "outbox_items": items, "outbox_pending": pending,
            "recordings_collected": len(collected),
            "recordings_collected_twice": len(collected) - len(set(collected)),
            "traffic_wall_s": round(traffic_wall, 1), **monitor.figures(),
            "ami_events": [a["events_received"] for a in ami],
            "ami_dropped": [a["events_dropped"] for a in ami],
            "python": platform.python_version()}


class Monitor:
    """Event-loop lag (real time from call_soon to the callback) every half
    simulated second; RSS every 10 simulated seconds."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.rss: list[int] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.rss.append(_rss())
        self._tasks = [asyncio.create_task(self._lag()), asyncio.create_task(self._memory())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.rss.append(_rss())

    async def _lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            ran = loop.create_future()
            queued = time.perf_counter()
            loop.call_soon(_stamp, ran)
            self.lags.append(await ran - queued)

    async def _memory(self) -> None:
        while True:
            await asyncio.sleep(10)
            self.rss.append(_rss())

    def figures(self) -> dict:
        lags = sorted(self.lags) or [0.0]

        def pct(p: float) -> float:
            return round(1000 * lags[min(len(lags) - 1, int(p * len(lags)))], 1)

        mb = [r / 2**20 for r in self.rss] or [0.0]
        return {"loop_lag_ms": {"samples": len(self.lags), "p50": pct(0.5), "p99": pct(0.99),
                                "max": round(1000 * lags[-1], 1)},
                "rss_mb": {"start": round(mb[0], 1), "peak": round(max(mb), 1),
                           "end": round(mb[-1], 1),
                           "at_each_minute": [round(m, 1) for m in mb[::6]]},
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _stamp(future: asyncio.Future[float]) -> None:
    if not future.done():
        future.set_result(time.perf_counter())


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--talk", type=float, default=30.0)
    parser.add_argument("--admin-url", default="postgresql+psycopg://root@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        agent_ids = prepare(url, args.agents)
        with TemporaryDirectory() as tmp:
            result = run_simulated(run(url, args, Path(tmp), agent_ids))
        print(json.dumps(result, ensure_ascii=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
