"""Issue #10's durations and scale-out figures, measured on real processes.

Usage: python bench/soak.py takeover [--reps 5]
       python bench/soak.py sigterm [--reps 3]
       python bench/soak.py stall [--reps 3] [--stall 10]
       python bench/soak.py scale [--backends 1] [--rates 4,8,12] [--seconds 40]

Every backend is a `hotline serve` (or `hotline demo`) process in its own
process group, started and stopped as tests/scale does (tests/scale/processes.py);
the stand-in PBX and its simulated callers run in this process, in real time,
so the backends' CPU is theirs alone.  PostgreSQL at --admin-url (a fresh
database per run, dropped after); `sigterm` uses the demo on SQLite, as
tests/scale/test_sigterm.py does.

- takeover: two backends, a call a second; each repetition kills the elected
  backend's process group with SIGKILL and times the kill to the survivor's
  /healthz saying ``elected`` (then a call placed after it must be answered),
  then starts the killed one again.  Goal: 15 s.
- sigterm: `hotline demo` stopped with SIGTERM to its process group at
  start-up, under traffic, while a speech worker transcribes a description
  (a job ``running``), and after a speech worker was killed; times SIGTERM to
  the exit and to the last process of the group gone.  Goal: 10 s.
- stall: one backend whose database connections go through a TCP proxy in
  this process (tests/faults/db_proxy.py's) that holds every byte for
  --stall seconds under traffic; times the release to every call placed so
  far recorded with its end.  Goal: no call lost.
- scale: 1 or 2 backends (transcription off); FastAGI sessions spread round
  robin over them by a TCP balancer in this process (the dialplan's list
  alone would send every IVR to the first); each offered rate for --seconds,
  then until every call placed is recorded and ended (at most --drain s).
  A rate is sustained when every call is recorded within the drain.  CPU
  seconds of each backend process (/proc/<pid>/stat) and of this process
  (the stand-in) per call.

Each figure is printed with the load average at the time: this machine is
shared, so say so next to any figure.  Prints a table per scenario and one
JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from agents import rota  # noqa: E402
from agents.models import Agent, Team  # noqa: E402
from agents.staffing import penalties  # noqa: E402
from calls.models import Call  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.db import Database  # noqa: E402
from core.settings import PROJECT_ROOT  # noqa: E402
from hotline.demo import free_port  # noqa: E402
from pbxsim import CallerScript, PbxSim, PhoneBehaviour  # noqa: E402
from pbxsim.callers import SimCall  # noqa: E402
from tests.faults.db_proxy import StallingProxy  # noqa: E402
from tests.helpers import prepare_database  # noqa: E402
from tests.scale.processes import Proc, base_env, healthz, wait_until  # noqa: E402
from tests.scale.test_sigterm import speech_workers, wait_for_running_job  # noqa: E402

SECRET = "soak-secret"
QUEUES = ["hotline-help", "hotline-complaint", "hotline-report", "hotline-consult",
          "hotline-suggest", "hotline-general"]
TICKS = os.sysconf("SC_CLK_TCK")


# --- database and agents ----------------------------------------------------

@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"hotline_soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def prepare(url: str, agents: int) -> list[tuple[str, str, str]]:
    """Migrate, seed, users (tests.helpers), and ``agents`` agents of the team on
    duty now: (interface, member name, skills) of each."""
    now = datetime.now(UTC)
    prepare_database(url, now)
    db = Database(url)
    try:
        def work(s: Any) -> list[tuple[str, str, str]]:
            index = rota.team_on_duty(rota.RotaConfig(), now, ZoneInfo("Asia/Shanghai"))
            team = s.scalar(select(Team).where(Team.rota_index == index))
            have = list(s.scalars(select(Agent).where(Agent.team_id == team.id)
                                  .order_by(Agent.number)))[:agents]
            for n in range(len(have), agents):
                number = str(7000 + n)
                agent = Agent(number=number, name=f"坐席{number}", team_id=team.id,
                              interface=f"PJSIP/{number}", skills="help:0")
                s.add(agent)
                have.append(agent)
            s.flush()
            return [(a.interface, a.member_name, a.skills) for a in have]
        return db.call(work)
    finally:
        db.close()


def staff(sim: PbxSim, agents: list[tuple[str, str, str]], talk: float) -> None:
    """Agents' phones, and the agents already on the queues (as after a restart):
    every backend adopts them from the PBX when it starts."""
    for interface, member, skills in agents:
        sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=talk))
        for queue, penalty in penalties(skills, QUEUES).items():
            sim.queues.add_member(queue, interface, membername=member, penalty=penalty)


def place(sim: PbxSim, n: int) -> SimCall:
    return sim.place_call(caller_number=f"1391{n:07d}", caller_name="",
                          script=CallerScript(keys="1", key_delay=0.5, patience=600,
                                              survey_key=None))


async def recorded(url: str, uniqueids: list[str]) -> int:
    """How many of these calls have a record with its end."""
    def count() -> int:
        db = Database(url)
        try:
            return int(db.call(lambda s: s.scalar(select(func.count()).select_from(Call).where(
                Call.uniqueid.in_(uniqueids), Call.ended_at.is_not(None)))))
        finally:
            db.close()
    return await asyncio.to_thread(count)


class Traffic:
    """Calls at ``rate`` a second from :meth:`start` until :meth:`stop`."""

    def __init__(self, sim: PbxSim, rate: float, first: int = 0) -> None:
        self.sim, self.rate, self.first = sim, rate, first
        self.calls: list[SimCall] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Traffic:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        started = time.monotonic()
        for n in itertools.count():
            self.calls.append(place(self.sim, self.first + n))
            await asyncio.sleep(max(0.0, started + (n + 1) / self.rate - time.monotonic()))


def serve_env(url: str, var: Path, name: str, sim: PbxSim, agi: int,
              http: int) -> dict[str, str]:
    return base_env(url, var, HOTLINE_INSTANCE=name,
                    HOTLINE_AMI_URL=f"ami://hotline:{SECRET}@127.0.0.1:{sim.ami_port}",
                    HOTLINE_AGI_LISTEN=f"127.0.0.1:{agi}",
                    HOTLINE_HTTP_LISTEN=f"127.0.0.1:{http}")


def new_sim(var: Path, servers: list[str]) -> PbxSim:
    return PbxSim(PROJECT_ROOT / "asterisk-conf", clock=Clock.for_running_loop(),
                  globals_override={"FASTAGI": servers[0],
                                    "FASTAGI_FAILOVER": "|".join(servers[1:])},
                  ami_secret_override={"hotline": SECRET},
                  recordings_dir=var / "recordings", queue_log_path=var / "queue_log")


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(statistics.median(values), 2),
            "max": round(max(values), 2)} if values else {"n": 0}


# --- takeover ---------------------------------------------------------------

async def takeover(args: argparse.Namespace, url: str, var: Path) -> dict[str, Any]:
    agents = prepare(url, 30)  # 1 call/s of 15 s (talk, ring, wrap-up 10 s) each: 15 busy
    agi = {n: free_port("127.0.0.1") for n in ("a", "b")}
    http = {n: free_port("127.0.0.1") for n in ("a", "b")}
    urls = {n: f"http://127.0.0.1:{p}" for n, p in http.items()}
    sim = new_sim(var, [f"agi://127.0.0.1:{agi['a']}", f"agi://127.0.0.1:{agi['b']}"])
    await sim.start()
    staff(sim, agents, talk=4.0)
    procs: dict[str, Proc] = {}
    runs: list[dict[str, Any]] = []
    feed = Traffic(sim, 1.0)
    calls = feed.calls

    async def start(name: str, generation: int) -> None:
        procs[name] = Proc(["serve", "--no-transcription"],
                           serve_env(url, var, name, sim, agi[name], http[name]),
                           var / "logs", f"{name}{generation}")
        await asyncio.to_thread(procs[name].wait_for, "12345 backend serving", 180)

    try:
        for name in ("a", "b"):
            await start(name, 0)
        feed.start()
        for rep in range(args.reps):
            await asyncio.sleep(args.between)  # traffic through both
            states = {n: (await healthz(u))["instance"] for n, u in urls.items()}
            leader = next(n for n, s in states.items() if s["elected"])
            survivor = "b" if leader == "a" else "a"
            loadavg = load()
            killed_at = time.monotonic()
            procs[leader].signal_group(signal.SIGKILL)
            await asyncio.to_thread(procs[leader].ended, 30)

            async def elected(survivor: str = survivor) -> bool:
                return bool((await healthz(urls[survivor]))["instance"]["elected"])

            await wait_until(elected, 120, step=0.1)
            took = time.monotonic() - killed_at
            after = place(sim, 900_000 + rep)  # served by the survivor alone
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(after.done), 120)
            calls.append(after)
            answered = [at for at, what in after.events if what.startswith("left queue")]
            runs.append({"rep": rep + 1, "killed": leader, "takeover_s": round(took, 2),
                         "call_after": after.outcome, "load": loadavg,
                         # placed once elected: kill to its agent answering
                         "call_after_answered_s": round(answered[0] - killed_at, 2)
                         if answered and after.outcome == "connected" else None})
            if after.outcome != "connected":
                print(f"the call after takeover {rep + 1} ({after.uniqueid}) was not "
                      f"answered within 120 s: {after.events}", flush=True)
            print(f"takeover {rep + 1}: killed {leader}, {survivor} elected after "
                  f"{took:.2f} s (load {loadavg})", flush=True)
            await start(leader, rep + 1)
        await feed.stop()
        await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), 300)
        uniqueids = [c.uniqueid for c in calls]

        async def complete() -> bool:
            return await recorded(url, uniqueids) == len(uniqueids)

        with contextlib.suppress(TimeoutError):
            await wait_until(complete, 120, step=1.0)
        done = await recorded(url, uniqueids)
    finally:
        await feed.stop()
        for proc in procs.values():
            proc.kill()
        await sim.stop()
    times = [r["takeover_s"] for r in runs]
    return {"scenario": "takeover", "goal_s": 15.0, "runs": runs, **summary(times),
            "pass": bool(times) and max(times) <= 15.0, "calls": len(calls),
            "recorded_with_end": done, "lost": len(calls) - done}


# --- SIGTERM ----------------------------------------------------------------

def stop_timed(proc: Proc) -> dict[str, Any]:
    loadavg = load()
    sent = time.monotonic()
    proc.signal_group(signal.SIGTERM)
    code = proc.popen.wait(120)
    exited = time.monotonic() - sent
    while not proc.group_gone() and time.monotonic() - sent < 120:
        time.sleep(0.05)
    gone = time.monotonic() - sent
    return {"exit_s": round(exited, 2), "group_gone_s": round(gone, 2), "code": code,
            "cut_by_watchdog": "took longer than" in proc.output(), "load": loadavg}


def sigterm(args: argparse.Namespace, var: Path) -> dict[str, Any]:
    url = f"sqlite:///{var / 'hotline.db'}"
    env = base_env(url, var, HOTLINE_HTTP_LISTEN="127.0.0.1:0", HOTLINE_AGI_LISTEN="127.0.0.1:0")
    logs = var / "logs"
    moments: dict[str, list[dict[str, Any]]] = {}
    for rep in range(args.reps):
        for moment in ("start-up", "traffic", "worker busy", "worker dead"):
            proc = Proc(["demo", "--rate", "30"], env, logs, f"{moment.replace(' ', '-')}{rep}")
            try:
                if moment == "start-up":
                    proc.wait_for("speech model [", 300)
                elif moment == "traffic":
                    proc.wait_for("call 3:", 300)
                elif moment == "worker busy":
                    proc.wait_for("call 1:", 300)
                    wait_for_running_job(var / "hotline.db", proc, 300)
                else:
                    proc.wait_for("call 2:", 300)
                    workers = speech_workers(proc.popen.pid)
                    assert workers, "the demo runs speech workers"
                    os.kill(workers[0], signal.SIGKILL)
                    time.sleep(0.5)  # as the test: the worker is dead before the SIGTERM
                run = stop_timed(proc)
            finally:
                proc.kill()
            moments.setdefault(moment, []).append(run)
            print(f"sigterm {moment} {rep + 1}: exit {run['exit_s']} s, group gone "
                  f"{run['group_gone_s']} s, code {run['code']} (load {run['load']})", flush=True)
    out = {}
    for moment, runs in moments.items():
        exits = [r["group_gone_s"] for r in runs]
        out[moment] = {"runs": runs, "exit": summary([r["exit_s"] for r in runs]),
                       "group_gone": summary(exits),
                       "pass": max(exits) <= 10.0 and not any(r["cut_by_watchdog"]
                                                              for r in runs)}
    return {"scenario": "sigterm", "goal_s": 10.0, "moments": out}


# --- database stall ---------------------------------------------------------

async def stall(args: argparse.Namespace, url: str, var: Path) -> dict[str, Any]:
    agents = prepare(url, 30)  # 1 call/s of 15 s (talk, ring, wrap-up 10 s) each: 15 busy
    proxy, proxied = StallingProxy.for_url(url)
    agi, http = free_port("127.0.0.1"), free_port("127.0.0.1")
    sim = new_sim(var, [f"agi://127.0.0.1:{agi}"])
    await sim.start()
    staff(sim, agents, talk=4.0)
    runs: list[dict[str, Any]] = []
    proc = Proc(["serve", "--no-transcription"], serve_env(proxied, var, "s", sim, agi, http),
                var / "logs", "stalled")
    feed = Traffic(sim, 1.0)
    calls = feed.calls
    try:
        await asyncio.to_thread(proc.wait_for, "12345 backend serving", 180)
        feed.start()
        for rep in range(args.reps):
            await asyncio.sleep(args.between)
            loadavg = load()
            proxy.flowing.clear()
            stalled_at = time.monotonic()
            await asyncio.sleep(args.stall)
            proxy.flowing.set()
            released = time.monotonic()
            # Every call that has ended at the PBX by now must get its record.
            ended = [c for c in calls if c.done.done()]
            uniqueids = [c.uniqueid for c in ended]

            async def caught_up(uniqueids: list[str] = uniqueids) -> bool:
                return await recorded(url, uniqueids) == len(uniqueids)

            late = False
            try:
                await wait_until(caught_up, 120, step=0.2)
            except TimeoutError:
                late = True
            took = time.monotonic() - released
            # The calls in flight at the release (some held in the IVR by the
            # stall): until each has ended at the PBX and has its record.
            placed = list(calls)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(asyncio.shield(c.done)
                                                        for c in placed)), 120)

            async def all_in(uniqueids: tuple[str, ...] = tuple(c.uniqueid for c in placed)
                             ) -> bool:
                return await recorded(url, list(uniqueids)) == len(uniqueids)

            with contextlib.suppress(TimeoutError):
                await wait_until(all_in, 120, step=0.2)
            in_flight = time.monotonic() - released
            runs.append({"rep": rep + 1, "stall_s": round(released - stalled_at, 1),
                         "catch_up_s": round(took, 2), "calls_ended_by_release": len(ended),
                         "placed_by_release": len(placed),
                         "in_flight_done_s": round(in_flight, 2),
                         "missing_after_120_s": late, "alive": proc.popen.poll() is None,
                         "load": loadavg})
            print(f"stall {rep + 1}: {len(ended)} ended calls all recorded {took:.2f} s after "
                  f"the release; all {len(placed)} placed by then ended and recorded after "
                  f"{in_flight:.2f} s (load {loadavg})", flush=True)
        await feed.stop()
        await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), 300)
        uniqueids = [c.uniqueid for c in calls]

        async def complete() -> bool:
            return await recorded(url, uniqueids) == len(uniqueids)

        with contextlib.suppress(TimeoutError):
            await wait_until(complete, 120, step=1.0)
        done = await recorded(url, uniqueids)
    finally:
        await feed.stop()
        proxy.flowing.set()
        proc.kill()
        await sim.stop()
        proxy.close()
    times = [r["catch_up_s"] for r in runs]
    return {"scenario": "stall", "stall_s": args.stall, "runs": runs, "catch_up": summary(times),
            "in_flight_done": summary([r["in_flight_done_s"] for r in runs]),
            "calls": len(calls), "recorded_with_end": done, "lost": len(calls) - done,
            "pass": done == len(calls) and not any(r["missing_after_120_s"] for r in runs)}


# --- scale-out --------------------------------------------------------------

class Balancer:
    """FastAGI connections handed to the backends in turn (a TCP splice)."""

    def __init__(self, targets: list[int]) -> None:
        self.targets = itertools.cycle(targets)
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._splice, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _splice(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", next(self.targets))
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its waited-for children (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def scale(args: argparse.Namespace, url: str, var: Path) -> dict[str, Any]:
    agents = prepare(url, args.agents)
    names = [f"b{i + 1}" for i in range(args.backends)]
    agi = {n: free_port("127.0.0.1") for n in names}
    http = {n: free_port("127.0.0.1") for n in names}
    balancer = Balancer(list(agi.values()))
    await balancer.start()
    sim = new_sim(var, [f"agi://127.0.0.1:{balancer.port}"])
    await sim.start()
    staff(sim, agents, talk=args.talk)
    procs: dict[str, Proc] = {}
    steps: list[dict[str, Any]] = []
    n_placed = 0
    try:
        for name in names:
            procs[name] = Proc(["serve", "--no-transcription"],
                               serve_env(url, var, name, sim, agi[name], http[name]),
                               var / "logs", name)
            await asyncio.to_thread(procs[name].wait_for, "12345 backend serving", 180)
        await asyncio.sleep(5)  # adoption of the agents settles
        # Without calls: what the backends spend on their own (periodic jobs,
        # the floor, the AMI link) per wall second, part of every step's CPU.
        idle0 = {n: cpu_seconds(p.popen.pid) for n, p in procs.items()}
        await asyncio.sleep(args.idle)
        idle = {n: round((cpu_seconds(p.popen.pid) - idle0[n]) / args.idle, 3)
                for n, p in procs.items()}
        print(json.dumps({"idle_cpu_s_per_s": idle}), flush=True)
        for rate in args.rates:
            loadavg0 = os.getloadavg()[0]
            cpu0 = {n: cpu_seconds(p.popen.pid) for n, p in procs.items()}
            own0, wall0 = own_cpu(), time.monotonic()
            feed = Traffic(sim, rate, first=n_placed).start()
            await asyncio.sleep(args.seconds)
            await feed.stop()
            calls = feed.calls
            offered_wall = time.monotonic() - wall0
            n_placed += len(calls)
            uniqueids = [c.uniqueid for c in calls]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(c.done for c in calls)), args.drain)

            async def complete(uniqueids: list[str] = uniqueids) -> bool:
                return await recorded(url, uniqueids) == len(uniqueids)

            drained = True
            try:
                await wait_until(complete, max(1.0, args.drain - (time.monotonic() - wall0
                                                                  - offered_wall)), step=0.5)
            except TimeoutError:
                drained = False
            wall = time.monotonic() - wall0
            done = await recorded(url, uniqueids)
            cpu = {n: round(cpu_seconds(p.popen.pid) - cpu0[n], 2) for n, p in procs.items()}
            own = own_cpu() - own0
            step = {"backends": args.backends, "offered_per_s": rate,
                    "placed": len(calls), "offered_s": round(offered_wall, 1),
                    "recorded_with_end": done, "all_recorded": drained and done == len(calls),
                    "wall_s": round(wall, 1),
                    "recorded_per_wall_s": round(done / wall, 2),
                    "cpu_s": cpu, "cpu_ms_per_call": {n: round(1000 * c / max(1, done), 1)
                                                      for n, c in cpu.items()},
                    "standin_cpu_ms_per_call": round(1000 * own / max(1, done), 1),
                    "load_1min": [round(loadavg0, 1), round(os.getloadavg()[0], 1)]}
            steps.append(step)
            print(json.dumps(step), flush=True)
            if not step["all_recorded"]:
                break
            await asyncio.sleep(5)
    finally:
        for proc in procs.values():
            proc.kill()
        await sim.stop()
        await balancer.stop()
    sustained = [s["offered_per_s"] for s in steps if s["all_recorded"]]
    return {"scenario": "scale", "backends": args.backends, "agents": len(agents),
            "idle_cpu_s_per_s": idle,
            "talk_s": args.talk, "transcription": "off", "steps": steps,
            "sustained_per_s": max(sustained) if sustained else 0}


# --- main -------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["takeover", "sigterm", "stall", "scale"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--between", type=float, default=8.0,
                        help="seconds of traffic before each repetition")
    parser.add_argument("--stall", type=float, default=10.0)
    parser.add_argument("--backends", type=int, default=1)
    parser.add_argument("--rates", default="4,8,12,16")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--drain", type=float, default=30.0,
                        help="seconds after the last call placed for every record")
    parser.add_argument("--idle", type=float, default=15.0,
                        help="seconds without calls, for the backends' own CPU")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--talk", type=float, default=5.0)
    parser.add_argument("--keep", help="a directory for the processes' logs (kept)")
    parser.add_argument("--admin-url", default=os.environ.get(
        "HOTLINE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(args.keep or tmp) / "var"
        var.mkdir(parents=True)
        if args.scenario == "sigterm":
            result = sigterm(args, var)
        else:
            with fresh_database(args.admin_url) as url:
                run = {"takeover": takeover, "stall": stall, "scale": scale}[args.scenario]
                result = asyncio.run(run(args, url, var))
    result.update(started=started, ended=datetime.now(UTC).strftime("%H:%M UTC"),
                  cpus=os.cpu_count(), python=sys.version.split()[0])
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
