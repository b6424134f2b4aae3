"""Fan-out of the floor's queue updates to supervisors' consoles.

Usage: python bench/fanout.py [--consoles 500] [--updates 100] [--interval 0.1]
           [--rounds 3] [--procs 4] [--callers 10]

Three kinds of round, alternating, in one run:

* ``ours``: the backend (no PBX link) with its /api/ws; every console is a
  supervisor's (8 per login, the per-user cap), each update a ``floor.queue``
  event as the floor publishes it (audience check, numbering, replay ring,
  per-console bounded backlog and writer task), with ``--callers`` callers
  waiting in it (about the size of a busy queue's entry).
* ``stalled``: the same, plus one console that connects and then never reads
  (its socket's receive buffer is 4 KB): the others' latencies are measured.
* ``bare``: an aiohttp server whose WebSocket handler only keeps the socket
  in a list; an update is the same JSON text sent to each socket in a loop.

The consoles run in ``--procs`` other processes (reading 500 sockets is
work of its own); latency = ``perf_counter()`` at receipt minus at publish
(one monotonic clock for every process on Linux).  The summary gives each
kind's median p50/p95/max over the rounds and the p95 ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_fanout import Bare  # noqa: E402
from core import accounts  # noqa: E402
from core.bus import Delivery  # noqa: E402
from core.db import Database  # noqa: E402
from floor.events import FloorQueue  # noqa: E402
from hotline.app import Backend  # noqa: E402
from tests.helpers import PASSWORD, prepare_database, settings_for_test  # noqa: E402

PER_LOGIN = 8  # console/live.py WS_PER_USER


def update(n: int, callers: int) -> FloorQueue:
    """A queue's whole entry, as the floor sends it; the publish time rides in it."""
    now = datetime.now(UTC).isoformat()
    return FloorQueue(queue="hotline-help", figures={
        "t": time.perf_counter(), "n": n, "label": "求助", "answered": 812 + n, "abandoned": 31,
        "offered": 843 + n, "service_level": 0.9123, "abandon_rate": 0.0368, "asa": 7.4,
        "aht": 212.5, "waiting": callers, "longest_since": now, "callbacks_pending": 4,
        "logged_in": 24, "available": 3, "paused": 2,
        "callers": [{"uniqueid": f"17965{i:05d}.{n}", "since": now, "caller": "138****8000"}
                    for i in range(callers)]})


# ------------------------------------------------------------- consoles
def consoles_main(url: str, tokens: list[str], updates: int, ready: Any, results: Any) -> None:
    async def one(http: aiohttp.ClientSession, token: str, started: asyncio.Event,
                  connected: list[int]) -> list[float]:
        waits: list[float] = []
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with http.ws_connect(url, headers=headers, max_msg_size=0) as ws:
            connected.append(1)
            if len(connected) == len(tokens):
                started.set()
            async for msg in ws:
                body = json.loads(msg.data)
                if body.get("type") != "floor.queue":
                    continue
                waits.append(time.perf_counter() - body["figures"]["t"])
                if len(waits) == updates:
                    break
        return waits

    async def main() -> None:
        connected: list[int] = []
        started = asyncio.Event()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            tasks = [asyncio.create_task(one(http, tok, started, connected)) for tok in tokens]
            await started.wait()
            ready.set()
            waits = await asyncio.gather(*tasks)
        results.put([w for per in waits for w in per])

    asyncio.run(main())


def stalled_console(port: int, path: str, token: str) -> socket.socket:
    """A WebSocket handshake, then never a read: the console that stopped."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n")
                 .encode())
    return sock


# ----------------------------------------------------------- the servers
def supervisor_tokens(url: str, consoles: int) -> list[str]:
    """One session per console, at most PER_LOGIN consoles per supervisor login."""
    db = Database(url)
    now = datetime.now(UTC)
    try:
        def work(s: Any) -> list[str]:
            tokens = []
            for i in range(math.ceil((consoles + 1) / PER_LOGIN)):
                accounts.create_user(s, username=f"wall{i}", password=PASSWORD,
                                     role="supervisor", now=now)
                tokens += [accounts.open_session(s, f"wall{i}", now)[1]
                           for _ in range(PER_LOGIN)]
            return tokens
        return db.call(work)
    finally:
        db.close()


async def round_(kind: str, backend: Backend, bare: Bare, tokens: list[str],
                 args: argparse.Namespace) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    consoles = tokens[:args.consoles]
    if kind == "bare":
        url, port, consoles = f"http://127.0.0.1:{bare.port}/ws", bare.port, \
            [""] * args.consoles
    else:
        url, port = f"http://127.0.0.1:{backend.http_port}/api/ws", backend.http_port or 0
    stalled = stalled_console(port, "/api/ws", tokens[-1]) if kind == "stalled" else None
    share = math.ceil(len(consoles) / args.procs)
    procs, readies, results = [], [], ctx.Queue()
    for i in range(args.procs):
        ready = ctx.Event()
        proc = ctx.Process(target=consoles_main, args=(url, consoles[i * share:(i + 1) * share],
                                                       args.updates, ready, results))
        proc.start()
        procs.append(proc)
        readies.append(ready)
    loop = asyncio.get_running_loop()
    for ready in readies:
        await loop.run_in_executor(None, ready.wait)
    await asyncio.sleep(1.0)  # the last snapshots are written
    bus = backend.deps.bus  # type: ignore[union-attr]
    for n in range(args.updates):
        if kind == "bare":
            await bare.send(Delivery(n, update(n, args.callers), True).json())
        else:
            bus.publish(update(n, args.callers), relay=False)
        await asyncio.sleep(args.interval)
    waits: list[float] = []
    for _ in procs:
        waits += await loop.run_in_executor(None, results.get)
    for proc in procs:
        await loop.run_in_executor(None, proc.join)
    if stalled is not None:
        stalled.close()
    waits.sort()
    assert len(waits) == args.consoles * args.updates, (len(waits), args.consoles * args.updates)

    def pct(p: float) -> float:
        return round(waits[min(len(waits) - 1, int(p * len(waits)))] * 1000, 2)

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "max_ms": round(waits[-1] * 1000, 2)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        prepare_database(url)
        tokens = supervisor_tokens(url, args.consoles)
        backend = Backend(settings_for_test(url, Path(tmp)))
        await backend.start()
        bare = Bare()
        await bare.start()
        kinds = ("ours", "stalled", "bare")
        rounds: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
        try:
            for r in range(args.rounds):
                for kind in kinds[r % 3:] + kinds[:r % 3]:  # rotate the order
                    rounds[kind].append(await round_(kind, backend, bare, tokens, args))
        finally:
            await backend.stop()
            if bare.runner is not None:
                await bare.runner.cleanup()
    summary: dict[str, Any] = {k: {m: round(statistics.median(x[m] for x in rs), 2)
                                   for m in rs[0]} for k, rs in rounds.items()}
    summary["p95_ours_over_bare"] = round(summary["ours"]["p95_ms"]
                                          / summary["bare"]["p95_ms"], 2)
    summary["p95_stalled_over_ours"] = round(summary["stalled"]["p95_ms"]
                                             / summary["ours"]["p95_ms"], 2)
    return {"consoles": args.consoles, "updates": args.updates, "interval": args.interval,
            "callers": args.callers, "summary": summary, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consoles", type=int, default=500)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--callers", type=int, default=10)
    args = parser.parse_args()
    out = asyncio.run(run(args))
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} cpus, Python " \
                     f"{platform.python_version()}, aiohttp {aiohttp.__version__}; load " \
                     f"{os.getloadavg()[0]:.1f}"
    out["command"] = " ".join(["python", *sys.argv])
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
