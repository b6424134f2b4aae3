"""AMI ingestion on the shared load trace, side by side with panoramisk.

Usage: python bench/bench_ami.py [--rounds N] [--max-seconds S] [--chunk BYTES]

The server-to-client bytes of tests/fixtures/asterisk-22/scenarios/
load-120-calls.ami.raw (9,072 events) are fed in TCP-sized chunks, in one
process, to:

* panoramisk's AMIProtocol.data_received (its parse and dispatch to the
  Manager's callbacks; a no-op callback here);
* ours, parse and dispatch: pbx.ami_protocol.parse + pbx.events.parse_event
  + a call to a no-op handler;
* ours, the full pipeline: the same plus the call/queue state machine
  (pbx.state.PbxState.apply).

Each variant runs ``--rounds`` times (bounded also by ``--max-seconds``);
the best round counts.  No sockets: this measures the code, not the kernel.
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path

from panoramisk.ami_protocol import AMIProtocol

from pbx import ami_protocol
from pbx.events import parse_event
from pbx.state import PbxState

TRACE = (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "asterisk-22"
         / "scenarios" / "load-120-calls.ami.raw")


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def panoramisk_round(parts: list[bytes]) -> int:
    count = 0

    class Factory:
        forgetable_actions: tuple[str, ...] = ()
        awaiting_actions: list[object] = []

        def dispatch(self, message: object) -> None:
            nonlocal count
            count += 1

    proto = AMIProtocol()
    proto.connection_made(type("T", (), {"close": lambda self: None})())
    proto.factory = Factory()
    proto.encoding = "utf8"
    proto.log = logging.getLogger("bench.panoramisk")
    for part in parts:
        proto.data_received(part)
    return count


def ours_round(parts: list[bytes], full: bool) -> int:
    count = 0
    state = PbxState()

    def handler(event: object) -> None:
        nonlocal count
        count += 1

    sink: Callable[[object], None] = state.apply if full else handler  # type: ignore[assignment]
    buffer = b""
    for part in parts:
        buffer += part
        messages, buffer = ami_protocol.parse(buffer)
        for message in messages:
            if message.headers and message.headers[0][0] == "Event":
                event = parse_event(message)
                sink(event)
                count += full
    return count


def measure(fn: Callable[[], int], rounds: int, max_seconds: float) -> tuple[int, float]:
    best = float("inf")
    events = 0
    deadline = time.perf_counter() + max_seconds
    for _ in range(rounds):
        start = time.perf_counter()
        events = fn()
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return events, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    data = b"".join(ami_protocol.iter_transcript_received(TRACE.read_bytes()))
    parts = chunks(data, args.chunk)
    logging.getLogger("bench.panoramisk").setLevel(logging.CRITICAL)
    rows = [
        ("panoramisk AMIProtocol (parse+dispatch)",
         measure(lambda: panoramisk_round(parts), args.rounds, args.max_seconds)),
        ("ours: parse + typed events + dispatch",
         measure(lambda: ours_round(parts, False), args.rounds, args.max_seconds)),
        ("ours: full pipeline (+ PbxState)",
         measure(lambda: ours_round(parts, True), args.rounds, args.max_seconds)),
    ]
    base = rows[0][1][0] / rows[0][1][1]
    print(f"machine: {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}; trace {len(data):,} bytes, chunk {args.chunk}")
    print(f"{'variant':42} {'events':>7} {'best s':>8} {'events/s':>10} {'vs panoramisk':>14}")
    for name, (events, seconds) in rows:
        rate = events / seconds
        print(f"{name:42} {events:>7} {seconds:>8.4f} {rate:>10,.0f} {rate / base:>13.2f}x")


if __name__ == "__main__":
    main()
