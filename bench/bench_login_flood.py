"""Wrong-password flood: does the rest of the backend keep answering?

Usage: python bench/bench_login_flood.py [--parallel 50] [--seconds 10]
           [--database-url URL] [--spread|--one-address] [--old-way]

Starts the backend (no PBX) on a fresh database, then for ``--seconds``:
``--parallel`` clients post wrong-password logins back to back while a
probe asks ``GET /api/me`` (a logged-in agent) and runs one IVR database
step (a call entering the IVR and its menu choice, as ``ivr/flows.py``
does) every 50 ms.  Prints the p50/p95/max of both probes, before the
flood (baseline) and during it, and how the logins were answered.

``--spread`` (default): every wrong login comes from another address
(X-Forwarded-For through a trusted proxy) for another username, so
throttling never refuses it and every one costs a hash: the worst case
for the hashing pool.  ``--one-address``: all from one address; the
throttle answers 429 after 5 failures.  The attacker runs in a process of
its own.  ``--old-way``: hashes on the
database's own thread, as before issue 14, for comparison.
Real time; bounded by ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from calls import records

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import accounts  # noqa: E402
from core.db import Database  # noqa: E402
from core.passwords import HashingPool  # noqa: E402
from core.settings import Listen, load_settings  # noqa: E402
from hotline.app import Backend  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.seed import seed_demo_city  # noqa: E402

PASSWORD = "correct-horse-1"
PROBE_EVERY = 0.05


class OnTheDatabaseThread(HashingPool):
    """The old way: hashing queued on the database's worker threads."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._executor = db._executor


def prepare(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db.engine)
        now = datetime.now(UTC)
        db.call(lambda s: seed_demo_city(s, now))
        db.call(lambda s: accounts.create_user(s, username="agent", password=PASSWORD,
                                               role="supervisor", now=now))
    finally:
        db.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def probe(http: aiohttp.ClientSession, backend: Backend, me: dict[str, str],
                seconds: float) -> tuple[list[float], list[float]]:
    deps = backend.deps
    assert deps is not None
    me_times: list[float] = []
    ivr_times: list[float] = []
    counter = itertools.count()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        async with http.get("/api/me", headers=me) as r:
            assert r.status == 200, r.status
            await r.read()
        me_times.append(time.perf_counter() - t0)
        uid = f"{int(time.time())}.{next(counter) + 100000}"
        now = deps.clock.now()

        def ivr_step(s, uid=uid, now=now):  # type: ignore[no-untyped-def]
            records.start_call(s, uniqueid=uid, now=now, caller_number="13800138000")
            records.record_ivr_choice(s, uid, key="1", category="help", queue="hotline-help",
                                      now=now)
        t0 = time.perf_counter()
        await deps.db.run(ivr_step)
        ivr_times.append(time.perf_counter() - t0)
        await asyncio.sleep(PROBE_EVERY)
    return me_times, ivr_times


async def flood(base: str, parallel: int, seconds: float, spread: bool) -> Counter[int]:
    answers: Counter[int] = Counter()
    serial = itertools.count()
    end = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession) -> None:
        while time.perf_counter() < end:
            n = next(serial)
            headers = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
                       } if spread else {}
            async with http.post("/api/login", headers=headers, json={
                    "username": f"guess{n}" if spread else "agent",
                    "password": "wrong-password"}) as r:
                answers[r.status] += 1
                await r.read()

    connector = aiohttp.TCPConnector(limit=parallel + 10)
    async with aiohttp.ClientSession(base, connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(parallel)))
    return answers


def flood_process(base: str, parallel: int, seconds: float, spread: bool,
                  out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The attacker in a process of its own: its work is not the backend's."""
    out.put(dict(asyncio.run(flood(base, parallel, seconds, spread))))


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        prepare(url)
        settings = replace(load_settings(env={"HOTLINE_DATABASE_URL": url,
                                              "HOTLINE_VAR_DIR": tmp}),
                           agi_listen=Listen("127.0.0.1", 0), http_listen=Listen("127.0.0.1", 0),
                           trusted_proxies=("127.0.0.1",))
        backend = Backend(settings)
        await backend.start()
        assert backend.deps is not None
        if args.old_way:
            backend.deps.hashing = OnTheDatabaseThread(backend.deps.db)
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                async with http.post("/api/login", json={"username": "agent",
                                                         "password": PASSWORD}) as r:
                    me = {"Authorization": f"Bearer {(await r.json())['token']}"}
                base_me, base_ivr = await probe(http, backend, me, 3.0)
                results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
                attacker = multiprocessing.Process(target=flood_process, args=(
                    f"http://127.0.0.1:{backend.http_port}", args.parallel, args.seconds + 1.0,
                    not args.one_address, results))
                attacker.start()
                await asyncio.sleep(1.0)  # the flood is under way
                t0 = time.perf_counter()
                flood_me, flood_ivr = await probe(http, backend, me, args.seconds)
                elapsed = time.perf_counter() - t0
                answers = Counter(await asyncio.get_running_loop().run_in_executor(
                    None, results.get))
                attacker.join()
        finally:
            await backend.stop()
    dialect = url.split(":", 1)[0]
    print(f"database {dialect}; {args.parallel} parallel wrong logins, "
          f"{'one address' if args.one_address else 'spread over addresses'}"
          f"{', hashing on the database thread (old way)' if args.old_way else ''}")
    print("| phase | probes | /api/me p50 / p95 / max ms | IVR step p50 / p95 / max ms |")
    print("| --- | ---: | --- | --- |")
    for name, me_t, ivr_t in (("baseline", base_me, base_ivr),
                              ("during flood", flood_me, flood_ivr)):
        print(f"| {name} | {len(me_t)} | {pct(me_t, .5):.1f} / {pct(me_t, .95):.1f} / "
              f"{max(me_t) * 1000:.1f} | {pct(ivr_t, .5):.1f} / {pct(ivr_t, .95):.1f} / "
              f"{max(ivr_t) * 1000:.1f} |")
    total = sum(answers.values())
    print(f"logins answered: {total} in about {elapsed + 1:.1f} s "
          f"({total / max(elapsed, 1e-9):.0f}/s): " +
          ", ".join(f"{status}: {n}" for status, n in sorted(answers.items())))
    print(f"mean IVR step during flood: {statistics.mean(flood_ivr) * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url")
    parser.add_argument("--one-address", action="store_true")
    parser.add_argument("--spread", action="store_true", help="the default")
    parser.add_argument("--old-way", action="store_true")
    asyncio.run(main(parser.parse_args()))
