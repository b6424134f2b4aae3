"""The stand-in's own capacity, so that it is never a benchmark's bottleneck.

Usage: python bench/bench_pbxsim.py [--calls 300] [--agents 10] [--max-seconds 120]

Calls arrive every 0.5 s (virtual) into an rrmemory queue of ``--agents``
PJSIP phones (answer after 1 s, talk 20 s), with our AMI link logged in and
counting every event it receives over the socket.  Runs on the virtual-time
loop, so the wall-clock time is the stand-in's (and the link's) own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from pathlib import Path

from core.clock import Clock, run_simulated
from core.settings import AmiTarget
from pbx.ami import AmiLink
from pbxsim import CallerScript, PbxSim, PhoneBehaviour

CONF = Path(__file__).resolve().parent.parent / "tests" / "pbxsim" / "conf"
QUEUE = "q-rrmemory"


async def run(calls: int, agents: int, max_seconds: float) -> dict[str, float]:
    sim = PbxSim(CONF, clock=Clock.for_running_loop(), ami_secret_override={"hotline": "pw"})
    await sim.start()
    emitted = 0

    def count(_event: str, _privilege: str, _headers: list[tuple[str, str]]) -> None:
        nonlocal emitted
        emitted += 1

    sim.event_listeners.append(count)
    link = AmiLink(AmiTarget("127.0.0.1", sim.ami_port, "hotline", "pw"), event_queue_size=100_000)
    received = 0

    def on_event(_event: object) -> None:
        nonlocal received
        received += 1

    link.subscribe(on_event)
    await link.start()
    await link.wait_ready(10)
    for n in range(agents):
        interface = f"PJSIP/{2001 + n}"
        sim.add_phone(interface, PhoneBehaviour(answer_after=1.0, talk_seconds=20.0))
        sim.queues.add_member(QUEUE, interface, membername=f"agent-{2001 + n}")
    loop = asyncio.get_running_loop()
    wall, virtual = time.perf_counter(), loop.time()
    placed = []
    for _ in range(calls):
        placed.append(sim.place_call(caller_number="13800138000", caller_name="张三",
                                     dialed="p0", context=QUEUE,
                                     script=CallerScript(patience=600)))
        await asyncio.sleep(0.5)
        if time.perf_counter() - wall > max_seconds:
            break
    await asyncio.wait_for(asyncio.gather(*(c.done for c in placed)), 3600)
    await asyncio.sleep(1)
    elapsed = time.perf_counter() - wall
    result = {"calls": len(placed), "virtual_s": loop.time() - virtual, "wall_s": elapsed,
              "emitted": emitted, "received": received, "dropped": link.events_dropped}
    await link.close()
    await sim.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()
    r = run_simulated(run(args.calls, args.agents, args.max_seconds))
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"{'calls':>6} {'virtual s':>10} {'wall s':>7} {'calls/s':>8} {'events':>8} "
          f"{'events/s':>9} {'received':>9} {'dropped':>8} {'speed-up':>9}")
    print(f"{r['calls']:>6.0f} {r['virtual_s']:>10.0f} {r['wall_s']:>7.2f} "
          f"{r['calls'] / r['wall_s']:>8.1f} {r['emitted']:>8.0f} "
          f"{r['emitted'] / r['wall_s']:>9,.0f} {r['received']:>9.0f} {r['dropped']:>8.0f} "
          f"{r['virtual_s'] / r['wall_s']:>8.0f}x")


if __name__ == "__main__":
    main()
