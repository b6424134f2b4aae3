"""Two backends in this process on one PostgreSQL database against one built-in
PBX, on the test's (virtual-time) loop: for the once-only duties and the calls
one backend owns, where the test must stop one at a chosen moment.

The first started is elected (it takes the advisory lock before the second
tries).  Stopping a backend in the middle of a duty cancels the duty where it
stands: what it had done is done, what it had not is not, as after kill -9
(the real-process kill -9 is tests/scale/test_two_backends.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.settings import PROJECT_ROOT, AmiTarget, Listen
from hotline.app import Backend
from hotline.demo import free_port
from pbxsim import PbxSim
from tests.helpers import settings_for_test

SECRET = "pair-secret"


@dataclass
class Pair:
    sim: PbxSim
    backends: dict[str, Backend]
    # (backend, command, interface, queue or "") of every queue command sent
    commands: list[tuple[str, str, str, str]] = field(default_factory=list)
    # backend name -> hook(command, interface, queue), awaited before the command
    hooks: dict[str, Callable[[str, str, str], Any]] = field(default_factory=dict)

    async def stop(self) -> None:
        for backend in self.backends.values():
            await backend.stop()
        await self.sim.stop()


async def start_pair(url: str, tmp_path: Path, start: datetime,
                     names: tuple[str, ...] = ("a", "b"), **overrides: Any) -> Pair:
    """``overrides``: settings of every backend (as settings_for_test takes them)."""
    clock = Clock.for_running_loop(start)
    agi = {name: free_port("127.0.0.1") for name in names}
    sim = PbxSim(PROJECT_ROOT / "asterisk-conf", clock=clock,
                 globals_override={"FASTAGI": f"agi://127.0.0.1:{agi[names[0]]}",
                                   "FASTAGI_FAILOVER": "|".join(
                                       f"agi://127.0.0.1:{agi[n]}" for n in names[1:])},
                 ami_secret_override={"hotline": SECRET},
                 recordings_dir=tmp_path / "recordings", queue_log_path=tmp_path / "queue_log")
    await sim.start()
    pair = Pair(sim, {})
    for name in names:
        await add_backend(pair, name, url, tmp_path, agi[name], **overrides)
    return pair


async def add_backend(pair: Pair, name: str, url: str, tmp_path: Path,
                      agi_port: int | None = None, **overrides: Any) -> Backend:
    """Start one more backend on the pair's PBX and database."""
    settings = replace(settings_for_test(url, tmp_path, **overrides),
                       ami=AmiTarget("127.0.0.1", pair.sim.ami_port, "hotline", SECRET),
                       agi_listen=Listen("127.0.0.1", agi_port or free_port("127.0.0.1")))
    backend = Backend(settings, clock=pair.sim.clock, instance_name=name)
    await backend.start()
    assert backend.deps is not None and backend.deps.ami is not None
    await backend.deps.ami.wait_ready(30)
    record_commands(pair, name, backend)
    pair.backends[name] = backend
    return backend


def record_commands(pair: Pair, name: str, backend: Backend) -> None:
    """Log the backend's QueueAdd/QueueRemove/QueuePause in ``pair.commands``,
    after ``pair.hooks[name]`` (if any) has had its say."""
    assert backend.deps is not None and backend.deps.pbx is not None
    commands = backend.deps.pbx.commands
    originals = {n: getattr(commands, n) for n in ("queue_add", "queue_remove", "pause")}

    def wrap(command: str) -> Callable[..., Any]:
        async def sent(*args: Any, **kwargs: Any) -> Any:
            if command == "pause":
                interface, queue = args[0], kwargs.get("queue") or ""
            else:
                queue, interface = args[0], args[1]
            hook = pair.hooks.get(name)
            if hook is not None:
                await hook(command, interface, queue)
            pair.commands.append((name, command, interface, queue))
            return await originals[command](*args, **kwargs)
        return sent

    for command in originals:
        setattr(commands, command, wrap(command))


async def elected(backend: Backend, timeout: float = 60.0) -> None:
    assert backend.election is not None
    await asyncio.wait_for(backend.election.wait_elected(), timeout)
