"""The agent's screen pop, end to end: AMI event read -> pop drawn in a real browser.

Usage: python bench/console_pop.py [--calls 30] [--consoles 49] [--answer-after 1.5]

Each call takes about 17 s of wall clock (the IVR's prompts play in real time);
a line per call goes to stderr, the figures to stdout at the end.

The backend and the stand-in run on this machine's wall clock (one process,
SQLite).  One agent of the team on duty works in a real chromium (Playwright,
headless, 1366x768); ``--consoles`` more consoles are plain WebSocket clients
in a separate process, logged in as the other agents and as supervisors
(who see every call event), reading everything they are sent.  The stand-in
places ``--calls`` calls one after another; each rings the browser's agent,
whose phone answers after ``--answer-after`` s and hangs up 2 s later; the
page then ends the wrap-up (POST /api/agent/wrapup/end) for the next call.

Two latencies per call, both on the wall clock of this one machine:

* ringing: the backend's ``ami_read_ms`` (logged by ``console.pop`` when the
  AMI link read AgentCalled) to the page's ``drawn_ms`` (Date.now() two
  animation frames after the pop was rendered, views/agent/desk.js);
* answered: ``ami_read_ms`` of AgentConnect to the frame in which the order
  form (prefilled from the pop) was on the screen.

Prints p50/p95/max per phase as Markdown rows for BENCHMARKS.md, with the
parts: the backend (read -> published, ``sent_ms``), the socket (published
-> the page's handler) and the page (handler -> drawn).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import platform
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from agents.models import Agent  # noqa: E402
from core import accounts  # noqa: E402
from core.accounts import User  # noqa: E402
from pbxsim import CallerScript, PhoneBehaviour  # noqa: E402
from tests.browser.stack import LiveStack  # noqa: E402
from tests.helpers import PASSWORD  # noqa: E402

# Where the backend logs each pop ("pop phase=... ami_read_ms=..."): the
# contract named console.pop; the module that publishes it logs under its name.
POP_LOGGERS = ("console.pop", "worksheets.pop")
POP_LINE = re.compile(r"pop phase=(\w+) uniqueid=(\S+) .*ami_read_ms=(\d+(?:\.\d+)?)")


class PopLog(logging.Handler):
    """The backend's ``console.pop`` lines: (phase, uniqueid) -> ami_read_ms."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.read: dict[tuple[str, str], float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        m = POP_LINE.search(record.getMessage())
        if m:
            self.read[(m.group(1), m.group(2))] = float(m.group(3))


def make_console_logins(stack: LiveStack, count: int) -> list[str]:
    """Logins for the plain consoles: every other agent, then supervisors."""
    def work(s: Any) -> list[str]:
        names: list[str] = []
        taken = {u.agent_id for u in s.scalars(select(User)) if u.agent_id}
        for agent in s.scalars(select(Agent).order_by(Agent.number)):
            if len(names) >= count:
                break
            if agent.id in taken:
                continue
            name = f"bench-a{agent.number}"
            accounts.create_user(s, username=name, password=PASSWORD, role="agent",
                                 now=stack_now(), agent_id=agent.id)
            names.append(name)
        for i in range(count - len(names)):
            name = f"bench-s{i}"
            accounts.create_user(s, username=name, password=PASSWORD, role="supervisor",
                                 now=stack_now())
            names.append(name)
        return names
    return stack.db(work)


def stack_now() -> Any:
    from datetime import UTC, datetime
    return datetime.now(UTC)


async def _consoles(base_url: str, names: list[str], ready: Any, stop: Any, counts: Any) -> None:
    import aiohttp

    async with aiohttp.ClientSession(base_url) as http:
        sockets = []
        for name in names:
            async with http.post("/api/login", json={"username": name,
                                                     "password": PASSWORD}) as r:
                token = (await r.json())["token"]
            sockets.append(await http.ws_connect(
                "/api/ws", headers={"Authorization": f"Bearer {token}"}))

        async def read(i: int, ws: Any) -> None:
            async for _msg in ws:
                counts[i] += 1
        readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()


def consoles_process(base_url: str, names: list[str], ready: Any, stop: Any, counts: Any) -> None:
    asyncio.run(_consoles(base_url, names, ready, stop, counts))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | 0 | – | – | – |"
    return (f"| {name} | {len(values)} | {statistics.median(values):.0f} | "
            f"{percentile(values, 95):.0f} | {max(values):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--consoles", type=int, default=49)
    parser.add_argument("--answer-after", type=float, default=1.5)
    args = parser.parse_args()

    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, VIEWPORT, log_in

    pops = PopLog()
    for name in POP_LOGGERS:
        logging.getLogger(name).addHandler(pops)
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).propagate = False
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pop-"))
    stack = LiveStack(tmp, settings_overrides={"recordings_dir": tmp / "recordings"}).start()
    agent = stack.agent
    names = make_console_logins(stack, args.consoles)
    ctx = mp.get_context("spawn")
    ready, stop, counts = ctx.Event(), ctx.Event(), ctx.Array("i", len(names))
    proc = ctx.Process(target=consoles_process, args=(stack.base_url, names, ready, stop, counts))
    proc.start()
    try:
        if not ready.wait(120):
            raise SystemExit("the plain consoles did not connect")

        async def phone() -> None:
            stack.sim.add_phone(agent["interface"], PhoneBehaviour(
                answer_after=args.answer_after, talk_seconds=2.0))
        stack.run(phone)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN",
                                          base_url=stack.base_url)
            log_in(context, stack.base_url, "oncall")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto("/")
            page.get_by_test_id("join").click()
            state = page.get_by_test_id("state")
            expect(state).to_have_attribute("data-state", "available", timeout=30_000)
            for i in range(args.calls):
                async def ring(i: int = i) -> Any:
                    return stack.sim.place_call(
                        caller_number=f"1390000{i:04d}", caller_name="压测", dialed="12345",
                        script=CallerScript(keys="1", key_delay=0.5, patience=120))
                call = stack.run(ring)
                stack.run(lambda call=call: asyncio.wait_for(asyncio.shield(call.done), 120),
                          timeout=130)
                expect(state).not_to_have_attribute("data-state", "on_call", timeout=30_000)
                page.evaluate("fetch('/api/agent/wrapup/end', {method: 'POST', headers: "
                              "{'Content-Type': 'application/json'}, body: '{}'})")
                expect(state).to_have_attribute("data-state", "available", timeout=30_000)
                print(f"call {i + 1}/{args.calls} done", file=sys.stderr, flush=True)
            timings = page.evaluate("window.__popTimings || []")
            browser.close()
    finally:
        stop.set()
        proc.join(30)
        stack.stop()

    parts: dict[str, list[float]] = {k: [] for k in (
        "ringing", "answered", "ringing_server", "answered_server", "transport", "render")}
    unmatched = 0
    for t in timings:
        read = pops.read.get((t["phase"], t["uniqueid"]))
        if read is None or (t["phase"] == "answered" and not t.get("form")):
            unmatched += 1
            continue
        parts[t["phase"]].append(t["drawn_ms"] - read)
        parts[t["phase"] + "_server"].append(t["sent_ms"] - read)
        parts["transport"].append(t["received_ms"] - t["sent_ms"])
        parts["render"].append(t["drawn_ms"] - t["received_ms"])
    received = sum(counts)
    print(f"# console pop: {args.calls} calls, 1 browser + {len(names)} WebSocket consoles "
          f"({received} messages to them); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; unmatched {unmatched}; page errors {len(errors)}")
    print("| latency (ms) | n | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    print(summary("AgentCalled read -> pop drawn", parts["ringing"]))
    print(summary("AgentConnect read -> order form drawn", parts["answered"]))
    print(summary("  of which: AgentCalled read -> published", parts["ringing_server"]))
    print(summary("  of which: AgentConnect read -> published", parts["answered_server"]))
    print(summary("  of which: published -> received by the page", parts["transport"]))
    print(summary("  of which: received -> drawn", parts["render"]))
    print(json.dumps(parts), file=sys.stderr)
    if errors:
        print("page errors:", *errors, sep="\n", file=sys.stderr)


if __name__ == "__main__":
    main()
