"""FastAGI: our server against panoramisk's fast_agi.Application, one driver.

Usage: python bench/bench_fastagi.py [--sessions 1000] [--commands 10]
           [--rounds 5] [--warmup 1] [--driver protocol|streams]
           [--paced-seconds 5] [--skip-paced] [--skip-bare]
           [--only ours|panoramisk|bare]

The driver plays Asterisk over loopback, in the same process: it opens
``--sessions`` connections at once, sends an AGI environment, and answers
every command line with ``200 result=1``.  The server side sends
``--commands`` SET VARIABLE commands per session, timing each round trip.

* burst: all sessions at once; commands per second over the whole run and
  the p50/p99 of each command's round trip.  Each round runs panoramisk's
  Application and ours with the same driver, the order flipped every
  round; ``--warmup`` rounds are run first and not counted.  The summary
  gives each server's median over the rounds, the ratio of the medians and
  the range of the per-round ratios (ours / panoramisk in the same round).
* bare (reference, not a FastAGI server): a protocol that sends the same
  command lines with no handler, no parsing and no limits: the ceiling any
  server can reach with this driver, so the share of the driver is visible.
* paced (ours only): the same sessions each send one command a second for
  ``--paced-seconds`` seconds, as live calls do; p99 round trip.

Drivers: ``protocol`` (default) is an asyncio.Protocol that answers every
``\\n`` it receives; it costs a little in Python, as Asterisk costs nothing
to our process.  ``streams`` is the earlier StreamReader/StreamWriter driver
(a coroutine per session), kept for comparison: it spends more than either
server, so it compresses the ratio towards 1.

Our server runs with every limit on: header timeout, header size limit,
session cap (raised to fit the run), a timeout on every command, quoting of
every argument.  ``--only`` runs one server ``--rounds`` times and prints
nothing else (for ``valgrind --tool=callgrind``: the instructions of one
round are the difference between a 3-round and a 1-round run).
Real time; bounded by the session and command counts.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import platform
import resource
import statistics
import time
from collections.abc import Awaitable, Callable

from panoramisk.fast_agi import Application

from pbx.fastagi import AgiChannel, FastAgiServer

ENV = (b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
       b"agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1795945068.1\n"
       b"agi_callerid: 13800138000\nagi_calleridname: \xe5\xbc\xa0\xe4\xb8\x89\n\n")
ANSWER = b"200 result=1\n"
COMMAND = 'SET VARIABLE "HOTLINE_STEP" "step {i}"'


def session_env(n: int) -> bytes:
    return ENV.replace(b"trunk-00000001", f"trunk-{n:08x}".encode())


# ------------------------------------------------------------------ drivers
class FakeAsterisk(asyncio.Protocol):
    """One session: the environment, then one answer per command line."""

    def __init__(self, env: bytes, finished: Callable[[int], None]) -> None:
        self.env = env
        self.finished = finished
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport.write(self.env)

    def data_received(self, data: bytes) -> None:
        lines = data.count(b"\n")
        if lines:
            self.answered += lines
            self.transport.write(ANSWER * lines)

    def connection_lost(self, exc: Exception | None) -> None:
        self.finished(self.answered)


async def drive_protocol(port: int, sessions: int) -> int:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    total = [0, sessions]

    def finished(answered: int) -> None:
        total[0] += answered
        total[1] -= 1
        if total[1] == 0 and not done.done():
            done.set_result(total[0])

    await asyncio.gather(*(
        loop.create_connection(functools.partial(FakeAsterisk, session_env(n), finished),
                               "127.0.0.1", port)
        for n in range(sessions)))
    return await done


async def fake_asterisk_streams(port: int, n: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(session_env(n))
    answered = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(ANSWER)
        answered += 1
    writer.close()
    return answered


async def drive_streams(port: int, sessions: int) -> int:
    results = await asyncio.gather(*(fake_asterisk_streams(port, n) for n in range(sessions)))
    return sum(results)


DRIVERS: dict[str, Callable[[int, int], Awaitable[int]]] = {
    "protocol": drive_protocol, "streams": drive_streams}


# ------------------------------------------------------------------ servers
Run = tuple[int, float, list[float]]  # commands answered, seconds, round trips


async def ours(drive: Callable[[int, int], Awaitable[int]], sessions: int, commands: int,
               pace: float, header_timeout: float) -> Run:
    rtts: list[float] = []

    async def ivr(agi: AgiChannel) -> None:
        if pace:  # calls arrive spread over the first second, as real ones do
            await asyncio.sleep(pace * (hash(agi.env["agi_channel"]) % 1000) / 1000)
        for i in range(commands):
            start = time.perf_counter()
            await agi.set_variable("HOTLINE_STEP", f"step {i}")
            rtts.append(time.perf_counter() - start)
            if pace:
                await asyncio.sleep(pace)

    server = FastAgiServer({"ivr": ivr}, ivr, port=0, header_timeout=header_timeout,
                           command_timeout=30.0, max_sessions=sessions + 100)
    await server.start()
    start = time.perf_counter()
    answered = await drive(server.port, sessions)
    elapsed = time.perf_counter() - start
    await server.close()
    return answered, elapsed, rtts


async def theirs(drive: Callable[[int, int], Awaitable[int]], sessions: int,
                 commands: int) -> Run:
    rtts: list[float] = []

    async def ivr(request) -> None:  # type: ignore[no-untyped-def]
        for i in range(commands):
            start = time.perf_counter()
            await request.send_command(COMMAND.format(i=i))
            rtts.append(time.perf_counter() - start)
        request.writer.close()

    app = Application()
    app.add_route("ivr", ivr)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0, backlog=sessions)
    return *await timed_drive(server, drive, sessions), rtts


async def timed_drive(server: asyncio.Server, drive: Callable[[int, int], Awaitable[int]],
                      sessions: int) -> tuple[int, float]:
    """Drive a listening asyncio server; commands answered and seconds taken."""
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    answered = await drive(port, sessions)
    elapsed = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    return answered, elapsed


class Bare(asyncio.Protocol):
    """Reference: sends the command lines with nothing else (no handler, no
    parsing, no limits).  Not a FastAGI server."""

    commands = 10

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.head = b""
        self.sent = -1

    def data_received(self, data: bytes) -> None:
        if self.sent < 0:
            self.head += data
            if b"\n\n" not in self.head:
                return
        self.sent += 1
        if self.sent >= self.commands:
            self.transport.close()
            return
        self.transport.write(f"{COMMAND.format(i=self.sent)}\n".encode())


async def bare(drive: Callable[[int, int], Awaitable[int]], sessions: int, commands: int) -> Run:
    Bare.commands = commands
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Bare, "127.0.0.1", 0, backlog=sessions)
    return *await timed_drive(server, drive, sessions), []


# ------------------------------------------------------------------ report
def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


def row(name: str, run: Run) -> str:
    answered, elapsed, rtts = run
    p50 = f"{statistics.median(rtts) * 1000:>7.1f}" if rtts else f"{'-':>7}"
    p99_ = f"{p99(rtts) * 1000:>7.1f}" if rtts else f"{'-':>7}"
    return f"{name:40} {answered:>9} {elapsed:>8.3f} {answered / elapsed:>9,.0f} {p50} {p99_}"


async def burst_rounds(args: argparse.Namespace) -> None:
    drive = DRIVERS[args.driver]
    make: dict[str, Callable[[], Awaitable[Run]]] = {
        "panoramisk": lambda: theirs(drive, args.sessions, args.commands),
        "ours": lambda: ours(drive, args.sessions, args.commands, 0.0, args.header_timeout),
        "bare": lambda: bare(drive, args.sessions, args.commands),
    }
    names = ["panoramisk", "ours"] + ([] if args.skip_bare else ["bare"])
    rates: dict[str, list[float]] = {name: [] for name in names}
    p50s: dict[str, list[float]] = {name: [] for name in names}
    p99s: dict[str, list[float]] = {name: [] for name in names}
    ratios: list[float] = []
    for number in range(-args.warmup, args.rounds):
        order = names if number % 2 == 0 else [names[1], names[0], *names[2:]]
        this: dict[str, float] = {}
        for name in order:
            gc.collect()
            run = await make[name]()
            label = f"{'warm-up' if number < 0 else f'round {number + 1}'}: {name}"
            print(row(label, run), flush=True)
            if number < 0:
                continue
            this[name] = run[0] / run[1]
            rates[name].append(this[name])
            if run[2]:
                p50s[name].append(statistics.median(run[2]) * 1000)
                p99s[name].append(p99(run[2]) * 1000)
        if number >= 0:
            ratios.append(this["ours"] / this["panoramisk"])
            print(f"{'':40} ours / panoramisk this round: {ratios[-1]:.2f}x", flush=True)
    print(f"\nburst, {args.rounds} rounds, driver {args.driver!r}: medians (min - max)")
    for name in names:
        extra = ""
        if p99s[name]:
            extra = (f", p50 {statistics.median(p50s[name]):.1f} ms, "
                     f"p99 {statistics.median(p99s[name]):.1f} ms "
                     f"({min(p99s[name]):.1f} - {max(p99s[name]):.1f})")
        print(f"  {name:11} {statistics.median(rates[name]):>9,.0f} cmd/s "
              f"({min(rates[name]):,.0f} - {max(rates[name]):,.0f}){extra}")
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["panoramisk"])
    print(f"  RATIO ours / panoramisk: {ratio:.2f}x (ratio of the medians); "
          f"per round {min(ratios):.2f}x - {max(ratios):.2f}x, "
          f"median {statistics.median(ratios):.2f}x")


async def main(args: argparse.Namespace) -> None:
    if args.only:
        drive = DRIVERS[args.driver]
        for _ in range(args.rounds):
            if args.only == "ours":
                await ours(drive, args.sessions, args.commands, 0.0, args.header_timeout)
            elif args.only == "panoramisk":
                await theirs(drive, args.sessions, args.commands)
            else:
                await bare(drive, args.sessions, args.commands)
        return
    print(f"machine: {platform.machine()}, python {platform.python_version()}; "
          f"{args.sessions} sessions x {args.commands} commands, driver {args.driver!r} "
          f"in-process")
    print(f"{'run':40} {'commands':>9} {'seconds':>8} {'cmd/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
    await burst_rounds(args)
    if not args.skip_paced:
        run = await ours(DRIVERS[args.driver], args.sessions, args.paced_seconds, 1.0,
                         args.header_timeout)
        print()
        print(row(f"paced 1/s: ours ({args.paced_seconds} s)", run))


def raise_fd_limit(sessions: int) -> None:
    """Two sockets a session in one process: lift the soft limit if we may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * sessions + 200
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="counted burst rounds")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first")
    parser.add_argument("--driver", choices=sorted(DRIVERS), default="protocol")
    parser.add_argument("--paced-seconds", type=int, default=5)
    parser.add_argument("--skip-paced", action="store_true")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--header-timeout", type=float, default=5.0,
                        help="ours; raise it only under valgrind, where a burst is slow")
    parser.add_argument("--only", choices=["ours", "panoramisk", "bare"])
    arguments = parser.parse_args()
    raise_fd_limit(arguments.sessions)
    asyncio.run(main(arguments))
