"""PbxSim: the Asterisk 22 stand-in's public object.

It owns the configuration (dialplan, queues, manager users), the live
channels, the simulated phones and callers, the AMI server and every task
it starts.  All waiting uses the running loop; wall-clock stamps come from
the injected :class:`core.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clock import Clock
from pbxsim.ami_server import AmiServer
from pbxsim.callers import CallerScript, SimCall, start_call
from pbxsim.channels import Channel
from pbxsim.config import Dialplan, load_manager, load_queues, read_conf
from pbxsim.phones import Phone, PhoneBehaviour, announce_registration
from pbxsim.queues import QueueManager

log = logging.getLogger(__name__)


@dataclass
class Interleavings:
    """Thread races of a real Asterisk, played the common way by default (as
    load-120-calls shows them most often) and the other way for the channels
    named here, so that a transcript of either can be reproduced.

    ``early_local_answer``: Local pairs (``Local/1001@agents-00000001``) whose
    ``;2`` answered before the dialling thread had marked the pair started
    (local_call() sets AST_UNREAL_CARETAKER_THREAD after ast_pbx_start()
    returns); the device state computed for that answer reads NOT_INUSE
    (2 of 30 queue answers in load-120-calls).

    ``late_agent_complete``: queue callers (channel names) whose AgentComplete
    app_queue's stasis thread sent only after the member channel was gone:
    after the caller's DIALEDTIME, without the Dest* headers (its snapshot
    was already dropped); 6 of 24 agent hangups in load-120-calls come
    this late or later.
    """

    early_local_answer: set[str] = field(default_factory=set)
    late_agent_complete: set[str] = field(default_factory=set)


class PbxSim:
    """A protocol-faithful Asterisk stand-in (AMI server + FastAGI client).

    See the package docstring / STATUS.md for the call model.  Typical use::

        sim = PbxSim(Path("asterisk-conf"), clock=clock,
                     globals_override={"FASTAGI": "agi://127.0.0.1:4573"})
        await sim.start()
        sim.add_phone("PJSIP/1001", PhoneBehaviour(answer_after=2))
        call = sim.place_call(caller_number="13800138000", caller_name="张三",
                              dialed="12345", script=CallerScript(keys="2"))
        await call.done
        await sim.stop()
    """

    def __init__(
        self,
        config_dir: Path,
        *,
        clock: Clock,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        globals_override: dict[str, str] | None = None,
        ami_secret_override: dict[str, str] | None = None,
        recordings_dir: Path | None = None,
        sounds_dir: Path | None = None,
        queue_log_path: Path | None = None,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.clock = clock
        self.ami_host = ami_host
        self._ami_port_wanted = ami_port
        self.recordings_dir = Path(recordings_dir) if recordings_dir else None
        self.sounds_dir = Path(sounds_dir) if sounds_dir else None
        self.queue_log_path = Path(queue_log_path) if queue_log_path else None
        self._globals_override = dict(globals_override or {})
        self._secret_override = dict(ami_secret_override or {})
        # The running loop is taken in start(); everything happens after it.
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._load_config()
        self.channels: dict[str, Channel] = {}
        self.phones: dict[str, Phone] = {}
        # How numbers dialled out through the trunk behave (by number; default:
        # answer after 3 s, talk 20 s).
        self.far_ends: dict[str, PhoneBehaviour] = {}
        self.device_states: dict[str, str] = {}
        # Live Local channel pairs by device (Local/exten@context), for its state.
        self.local_pairs: dict[str, set[Any]] = {}
        self.astdb: dict[str, str] = {}
        self.calls: list[SimCall] = []
        self.interleavings = Interleavings()
        # In-process taps on every AMI event (tests, benchmarks): f(event, privilege, headers).
        self.event_listeners: list[Callable[[str, str, list[tuple[str, str]]], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._uid_seq = 0
        self._tech_seq: dict[str, int] = {}
        self.started_at = 0.0
        self.reloaded_at = 0.0
        self.ami = AmiServer(self)
        self.queues = QueueManager(self)

    def _load_config(self) -> None:
        ext = self.config_dir / "extensions.conf"
        self.dialplan = (
            Dialplan.from_text(ext.read_text(encoding="utf-8")) if ext.exists() else Dialplan()
        )
        self.globals: dict[str, str] = dict(self.dialplan.globals)
        self.globals.update(self._globals_override)
        self.queue_general, self.queue_configs = load_queues(self.config_dir / "queues.conf")
        self.manager_general, self.manager_users = load_manager(self.config_dir / "manager.conf")
        for user, secret in self._secret_override.items():
            if user in self.manager_users:
                self.manager_users[user].secret = secret
        # The context a PJSIP endpoint's channels start in (pjsip.conf), if any.
        self.endpoint_context: dict[str, str] = {}
        for section in read_conf(self.config_dir / "pjsip.conf"):
            opts = dict(section.options)
            if opts.get("type") == "endpoint" and "context" in opts and not section.is_template:
                self.endpoint_context[section.name] = opts["context"]

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bind the AMI port and begin (QUEUESTART in queue_log)."""
        self.loop = asyncio.get_running_loop()
        self.started_at = self.reloaded_at = self.loop.time()
        self.queues.write_log("NONE", "NONE", "NONE", "QUEUESTART", "")
        await self.ami.start(self.ami_host, self._ami_port_wanted)

    @property
    def ami_port(self) -> int:
        """The TCP port the AMI server listens on (after ``start``)."""
        return self.ami.port

    async def stop(self) -> None:
        """Hang up every channel, close all sockets, await every task."""
        self.hangup_all()
        await self.ami.stop()
        await self._drain_tasks()

    async def restart(self) -> None:
        """Like an Asterisk restart: channels gone, AMI sessions dropped,
        queue members and statistics reset, FullyBooted on new logins."""
        self.hangup_all()
        await self._drain_tasks()
        await self.ami.drop_all()
        self._load_config()
        self.queues = QueueManager(self)
        self.device_states.clear()
        self.local_pairs.clear()
        self.started_at = self.reloaded_at = self.loop.time()
        self.queues.write_log("NONE", "NONE", "NONE", "QUEUESTART", "")

    def drop_ami_connections(self) -> None:
        """Fault injection: close every AMI socket now."""
        self.ami.close_all()

    def stall_ami(self, seconds: float) -> None:
        """Fault injection: stop reading and writing AMI for ``seconds``."""
        self.ami.stall(seconds)

    def inject_ami(self, data: bytes) -> None:
        """Fault injection: send ``data`` (garbage, say) on every AMI socket."""
        self.ami.inject(data)

    def fragment_ami(self, size: int) -> None:
        """Fault injection: send AMI in ``size``-byte TCP segments (0 = off)."""
        self.ami.fragment = size

    def hangup_all(self) -> None:
        for chan in list(self.channels.values()):
            chan.request_hangup(16, soft=True)

    async def _drain_tasks(self) -> None:
        for _ in range(50):
            pending = [t for t in self._tasks if not t.done()]
            if not pending:
                break
            await asyncio.wait(pending, timeout=5.0)
            for chan in list(self.channels.values()):
                chan.request_hangup(16, soft=True)
        for task in list(self._tasks):
            if not task.done():
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Start a task the simulator owns (awaited by ``stop``)."""
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("pbxsim task %s failed", t.get_name(), exc_info=t.exception())

        task.add_done_callback(_done)
        return task

    # --------------------------------------------------------------- events
    def loop_time(self) -> float:
        return self.loop.time()

    def emit(self, event: str, privilege: str, headers: list[tuple[str, str]]) -> None:
        """Broadcast one AMI event (``privilege`` = its class, e.g. "call")."""
        for listener in self.event_listeners:
            listener(event, privilege, headers)
        self.ami.broadcast(event, privilege, headers)

    def set_device_state(self, device: str, state: str, *, force: bool = False) -> None:
        if not force and self.device_states.get(device) == state:
            return
        self.device_states[device] = state
        # app_queue reacts before the device event goes out (QueueMemberStatus
        # first), and recomputes Queue:<q>_avail after it.
        self.queues.member_device_changed(device, state)
        self.emit("DeviceStateChange", "call", [("Device", device), ("State", state)])
        self.queues.device_state_changed(device, state)

    def device_state(self, device: str) -> str:
        """Current state of a device (PJSIP/x, Local/x@ctx, Custom:x)."""
        if device.startswith("PJSIP/"):
            phone = self.phones.get(device)
            return phone.device_state() if phone else "UNAVAILABLE"
        if device.startswith("Local/"):
            base = device.split("/n")[0] if device.endswith("/n") else device
            return self.device_states.get(base, "NOT_INUSE")
        return self.device_states.get(device, "UNKNOWN")

    # ------------------------------------------------------------- channels
    def new_uniqueid(self) -> str:
        uid = f"{int(self.clock.timestamp())}.{self._uid_seq}"
        self._uid_seq += 1
        return uid

    def next_tech_index(self, tech: str) -> str:
        n = self._tech_seq.get(tech, 0)
        self._tech_seq[tech] = n + 1
        return f"{n:08x}"

    def new_channel(
        self,
        name: str,
        *,
        context: str,
        exten: str,
        linkedid: str | None = None,
        state: int = 0,
        tech: str = "PJSIP",
        priority: int = 1,
        cid: tuple[str | None, str | None] = (None, None),
        event: bool = True,
    ) -> Channel:
        """Create and register a channel; emits Newchannel."""
        uid = self.new_uniqueid()
        chan = Channel(
            self,
            name,
            uid,
            linkedid or uid,
            context=context,
            exten=exten,
            priority=priority,
            state=state,
            tech=tech,
        )
        chan.cid_num, chan.cid_name = cid
        chan.seq = self._uid_seq
        self.channels[name] = chan
        if event:
            chan.emit("Newchannel", "call")
        return chan

    def channel_gone(self, chan: Channel) -> None:
        self.channels.pop(chan.name, None)

    def call_function(self, chan: Channel, name: str, args: str) -> str | None:
        if name.startswith("QUEUE_"):
            from pbxsim.queue_reports import dialplan_function

            return dialplan_function(self.queues, name, args)
        if name == "DB":
            return self.astdb.get(args, "")
        if name == "DEVICE_STATE":
            return self.device_state(args)
        return None

    # --------------------------------------------------------- phones/calls
    def add_phone(self, interface: str, behaviour: PhoneBehaviour | None = None) -> Phone:
        """Register a simulated PJSIP softphone (e.g. ``PJSIP/1001``)."""
        phone = Phone(self, interface, behaviour or PhoneBehaviour())
        self.phones[interface] = phone
        if phone.behaviour.registered:
            announce_registration(self, interface, True)
        self.set_device_state(interface, phone.device_state())
        return phone

    def set_phone_behaviour(self, interface: str, behaviour: PhoneBehaviour) -> None:
        """Change how a phone answers from now on (its current call is unaffected)."""
        phone = self.phones.get(interface)
        if phone is None:
            self.add_phone(interface, behaviour)
            return
        if phone.behaviour.registered != behaviour.registered:
            announce_registration(self, interface, behaviour.registered)
        phone.behaviour = behaviour
        self.set_device_state(interface, phone.device_state())

    def remove_phone(self, interface: str) -> None:
        """Unregister a phone: its device becomes UNAVAILABLE."""
        phone = self.phones.pop(interface, None)
        if phone is not None:
            if phone.behaviour.registered:
                announce_registration(self, interface, False)
            self.set_device_state(interface, "UNAVAILABLE")

    def place_call(
        self,
        *,
        caller_number: str,
        caller_name: str = "",
        dialed: str = "12345",
        script: CallerScript | None = None,
        context: str = "from-pstn",
    ) -> SimCall:
        """A PSTN call arrives on the trunk (``PJSIP/trunk-N`` in ``context``)."""
        call = start_call(
            self, caller_number, caller_name, dialed, script or CallerScript(), context
        )
        self.calls.append(call)
        return call
