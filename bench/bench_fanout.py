"""Live fan-out: N supervisor consoles on loopback receive each queue update.

Usage: python bench/bench_fanout.py [--consoles 50,200] [--updates 100]
           [--interval 0.02] [--rounds 3] [--postgres URL]

* ours: the backend (no PBX link) with its /api/ws: every console logged
  in as a supervisor, each update a ``CallQueued`` published on the bus
  (audience check, numbering, ring, per-console backlog and writer).
  With ``--postgres`` the backend runs on that database, so the relay's
  NOTIFY is sent too (the consoles still read the publishing instance).
* bare (reference): an aiohttp server whose WebSocket handler only keeps
  the socket in a list; an update is the same JSON text sent to every
  socket in a loop.  The floor for aiohttp on this machine.

The consoles run in a separate process (so their reading does not share
the server's event loop); the latency of one update at one console is
``perf_counter()`` at receipt minus at publish (one monotonic clock for
both processes on Linux).  Rounds alternate ours/bare; the summary gives
each one's median p50/p95/max over the rounds and the ratio of p95s.
Real time: ``updates x interval`` seconds per round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.bus import Delivery  # noqa: E402
from core.live_events import CallQueued  # noqa: E402
from hotline.app import Backend  # noqa: E402
from tests.helpers import PASSWORD, prepare_database, settings_for_test  # noqa: E402


def update(n: int) -> CallQueued:
    # The publish time rides in the uniqueid so that the console can time it.
    return CallQueued(uniqueid=f"{n}:{time.perf_counter():.9f}", queue="q-help",
                      caller="138****8000", position=n % 20 + 1)


# ------------------------------------------------------------- consoles
def consoles_main(url: str, headers: dict[str, str], count: int, updates: int,
                  ready: Any, results: Any) -> None:
    async def one(http: aiohttp.ClientSession, started: asyncio.Event,
                  connected: list[int]) -> list[float]:
        waits: list[float] = []
        async with http.ws_connect(url, headers=headers, max_msg_size=0) as ws:
            connected.append(1)
            if len(connected) == count:
                started.set()
            async for msg in ws:
                body = json.loads(msg.data)
                if body.get("type") != "call.queued":
                    continue
                waits.append(time.perf_counter() - float(body["uniqueid"].split(":")[1]))
                if len(waits) == updates:
                    break
        return waits

    async def main() -> None:
        connected: list[int] = []
        started = asyncio.Event()
        conn = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=conn) as http:
            tasks = [asyncio.create_task(one(http, started, connected)) for _ in range(count)]
            await started.wait()
            ready.set()
            waits = await asyncio.gather(*tasks)
        results.put([w for per in waits for w in per])

    asyncio.run(main())


# ----------------------------------------------------------- the servers
class Bare:
    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for _ in ws:
            pass
        self.sockets.remove(ws)
        return ws

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self.handler)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def publish(self, n: int) -> None:
        await self.send(Delivery(n, update(n), True).json())

    async def send(self, text: str) -> None:
        """The same text to every socket, one after the other (bench/fanout.py too)."""
        for ws in list(self.sockets):
            await ws.send_str(text)


async def token(port: int) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/api/login",
                             json={"username": "sup", "password": PASSWORD}) as r:
            return str((await r.json())["token"])


async def round_(kind: str, backend: Backend, bare: Bare, consoles: int, updates: int,
                 interval: float, sup_token: str) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    if kind == "ours":
        url = f"http://127.0.0.1:{backend.http_port}/api/ws"
        headers = {"Authorization": f"Bearer {sup_token}"}
    else:
        url, headers = f"http://127.0.0.1:{bare.port}/ws", {}
    proc = ctx.Process(target=consoles_main,
                       args=(url, headers, consoles, updates, ready, results))
    proc.start()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ready.wait)
    await asyncio.sleep(0.5)  # the last snapshots are written
    bus = backend.deps.bus  # type: ignore[union-attr]
    for n in range(updates):
        if kind == "ours":
            bus.publish(update(n))
        else:
            await bare.publish(n)
        await asyncio.sleep(interval)
    waits = sorted(await loop.run_in_executor(None, results.get))
    await loop.run_in_executor(None, proc.join)
    assert len(waits) == consoles * updates, (len(waits), consoles * updates)

    def pct(p: float) -> float:
        return waits[min(len(waits) - 1, int(p * len(waits)))] * 1000

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "max_ms": waits[-1] * 1000}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        prepare_database(url)
        backend = Backend(settings_for_test(url, Path(tmp)))
        await backend.start()
        bare = Bare()
        await bare.start()
        out: dict[str, Any] = {"database": url.split(":")[0], "rounds": {}}
        try:
            sup = await token(backend.http_port or 0)
            for consoles in [int(c) for c in args.consoles.split(",")]:
                rounds: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
                for r in range(args.rounds):
                    order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
                    for kind in order:
                        rounds[kind].append(await round_(kind, backend, bare, consoles,
                                                         args.updates, args.interval, sup))
                summary = {kind: {k: round(statistics.median(x[k] for x in rs), 2)
                                  for k in rs[0]} for kind, rs in rounds.items()}
                summary["p95_ratio"] = round(summary["ours"]["p95_ms"]
                                             / summary["bare"]["p95_ms"], 2)
                out["rounds"][consoles] = summary
        finally:
            await backend.stop()
            if bare.runner is not None:
                await bare.runner.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consoles", default="50,200")
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=None,
                        help="a migrated-or-empty PostgreSQL database URL (it is seeded)")
    args = parser.parse_args()
    out = asyncio.run(run(args))
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} cpus, Python " \
                     f"{platform.python_version()}, aiohttp {aiohttp.__version__}"
    out["command"] = " ".join(["python", *sys.argv])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
