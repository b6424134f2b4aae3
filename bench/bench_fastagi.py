"""FastAGI: our server against panoramisk's fast_agi.Application, one driver.

Usage: python bench/bench_fastagi.py [--sessions 1000] [--commands 10]
                                     [--paced-seconds 5] [--skip-paced]

The driver plays Asterisk over loopback, in the same process: it opens
``--sessions`` connections at once, sends an AGI environment, and answers
every command line with ``200 result=1``.  The server side sends
``--commands`` SET VARIABLE commands per session.

* burst: all sessions at once; commands per second over the whole run and
  the p99 of each command's round trip (measured by the handler);
* paced (ours only): the same sessions each send one command a second for
  ``--paced-seconds`` seconds, as live calls do; p99 round trip.

Our server runs with its limits on (header timeout, header size limit,
session cap raised to fit the run, a command timeout, quoting of every
argument).  Real time; bounded by the session and command counts.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time

from panoramisk.fast_agi import Application

from pbx.fastagi import AgiChannel, Arg, FastAgiServer

ENV = (b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
       b"agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1795945068.1\n"
       b"agi_callerid: 13800138000\nagi_calleridname: \xe5\xbc\xa0\xe4\xb8\x89\n\n")


async def fake_asterisk(port: int, n: int) -> int:
    """One session: environment, then answer every command until closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV.replace(b"trunk-00000001", f"trunk-{n:08x}".encode()))
    answered = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(b"200 result=1\n")
        answered += 1
    writer.close()
    return answered


async def drive(port: int, sessions: int) -> int:
    results = await asyncio.gather(*(fake_asterisk(port, n) for n in range(sessions)))
    return sum(results)


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


async def ours(sessions: int, commands: int, pace: float) -> tuple[int, float, list[float]]:
    rtts: list[float] = []

    async def ivr(agi: AgiChannel) -> None:
        if pace:  # calls arrive spread over the first second, as real ones do
            await asyncio.sleep(pace * (hash(agi.env["agi_channel"]) % 1000) / 1000)
        for i in range(commands):
            start = time.perf_counter()
            await agi.set_variable("HOTLINE_STEP", f'step "{i}"')
            rtts.append(time.perf_counter() - start)
            if pace:
                await asyncio.sleep(pace)

    server = FastAgiServer({"ivr": ivr}, ivr, port=0, header_timeout=5.0, command_timeout=30.0,
                           max_sessions=sessions + 100)
    await server.start()
    start = time.perf_counter()
    answered = await drive(server.port, sessions)
    elapsed = time.perf_counter() - start
    await server.close()
    return answered, elapsed, rtts


async def theirs(sessions: int, commands: int) -> tuple[int, float, list[float]]:
    rtts: list[float] = []

    async def ivr(request) -> None:  # type: ignore[no-untyped-def]
        for i in range(commands):
            start = time.perf_counter()
            await request.send_command(f'SET VARIABLE "HOTLINE_STEP" "step {i}"')
            rtts.append(time.perf_counter() - start)
        request.writer.close()

    app = Application()
    app.add_route("ivr", ivr)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0, backlog=sessions)
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    answered = await drive(port, sessions)
    elapsed = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    return answered, elapsed, rtts


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {platform.machine()}, python {platform.python_version()}; "
          f"{args.sessions} sessions x {args.commands} commands, driver in-process")
    print(f"{'run':36} {'commands':>9} {'seconds':>8} {'cmd/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
    runs = []
    for _ in range(args.repeat):  # alternate, so that neither always runs on a warm loop
        runs += [("burst: panoramisk Application", theirs(args.sessions, args.commands)),
                 ("burst: ours (limits, quoting on)", ours(args.sessions, args.commands, 0.0))]
    if not args.skip_paced:
        runs.append((f"paced 1/s: ours ({args.paced_seconds} s)",
                     ours(args.sessions, args.paced_seconds, 1.0)))
    for name, coro in runs:
        answered, elapsed, rtts = await coro
        print(f"{name:36} {answered:>9} {elapsed:>8.2f} {answered / elapsed:>9,.0f} "
              f"{statistics.median(rtts) * 1000:>7.2f} {p99(rtts) * 1000:>7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--paced-seconds", type=int, default=5)
    parser.add_argument("--skip-paced", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="burst runs of each server")
    arguments = parser.parse_args()
    if Arg is None:  # pragma: no cover - keeps the import used for readers
        raise SystemExit(1)
    asyncio.run(main(arguments))
