"""AMI actions (manager.c / app_queue.c wording and permissions)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pbx.ami_protocol import AmiMessage
from pbxsim.channels import storage_order

if TYPE_CHECKING:
    from pbxsim.ami_server import AmiSession
    from pbxsim.channels import Channel

Handler = Callable[["AmiSession", AmiMessage], Awaitable[bool | None]]
# action -> (write classes any of which allows it; empty = anyone logged in)
ACTIONS: dict[str, tuple[frozenset[str], Handler]] = {}


def action(name: str, *classes: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ACTIONS[name.lower()] = (frozenset(classes), fn)
        return fn

    return register


async def handle_action(s: AmiSession, m: AmiMessage) -> bool:
    """Dispatch one message; False closes the session."""
    name = (m.get("Action") or "").strip()
    if not name:
        s.error(m, "Missing action in request")
        return True
    key = name.lower()
    if not s.authenticated and key not in ("login", "logoff", "challenge"):
        s.error(m, "Permission denied")
        return True
    found = ACTIONS.get(key)
    if found is None:
        s.error(
            m,
            f"Invalid/unknown command: {name}. "
            "Use Action: ListCommands to show available commands.",
        )
        return True
    classes, fn = found
    if classes and s.user is not None and not ("all" in s.user.write or classes & s.user.write):
        s.error(m, "Permission denied")
        return True
    result = await fn(s, m)
    return result is not False


def list_response(
    s: AmiSession,
    m: AmiMessage,
    message: str,
    events: list[tuple[str, list[tuple[str, str]]]],
    complete: str,
) -> None:
    s.respond(m, "Success", ("EventList", "start"), message=message)
    aid = m.get("ActionID")
    from pbxsim.ami_server import render

    for event, headers in events:
        s.send(render([("Event", event), *headers, *([("ActionID", aid)] if aid else [])]))
    tail: list[tuple[str, object]] = [("Event", complete)]
    if aid:
        tail.append(("ActionID", aid))
    tail += [("EventList", "Complete"), ("ListItems", len(events))]
    s.send(render(tail))


@action("Login")
async def login(s: AmiSession, m: AmiMessage) -> bool:
    if s.authenticated:
        s.ack(m, "Already authenticated")
        return True
    from pbxsim.ami_server import ALL_CLASSES, acl_allows, render

    user = s.sim.manager_users.get(m.get("Username") or "")
    if (
        user is None
        or not user.secret
        or user.secret != (m.get("Secret") or "")
        or not acl_allows(user, s.host)
    ):
        await asyncio.sleep(1.0)  # manager.c sleeps before refusing
        s.error(m, "Authentication failed")
        return False
    s.user, s.authenticated = user, True
    events = (m.get("Events") or "on").strip().lower()
    if events in ("off", "no", "false", "0"):
        s.event_mask = set()
    elif events not in ("on", "yes", "true", "1", "all"):
        s.event_mask = {c.strip() for c in events.split(",")} & ALL_CLASSES
    s.ack(m, "Authentication accepted")
    if "system" in s.event_mask and ("system" in user.read or "all" in user.read):
        now = s.sim.loop_time()
        s.send(
            render(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", int(now - s.sim.started_at)),
                    ("LastReload", int(now - s.sim.reloaded_at)),
                    ("Status", "Fully Booted"),
                ]
            )
        )
    return True


@action("Logoff")
async def logoff(s: AmiSession, m: AmiMessage) -> bool:
    s.respond(m, "Goodbye", message="Thanks for all the fish.")
    return False


@action("Challenge")
async def challenge(s: AmiSession, m: AmiMessage) -> None:
    s.error(m, "Must specify AuthType")


@action("Ping")
async def ping(s: AmiSession, m: AmiMessage) -> None:
    s.respond(m, "Success", ("Ping", "Pong"), ("Timestamp", f"{s.sim.clock.timestamp():.6f}"))


@action("Events")
async def events_action(s: AmiSession, m: AmiMessage) -> None:
    mask = (m.get("EventMask") or "").strip().lower()
    s.event_mask = (
        set()
        if mask in ("off", "no", "false", "0", "")
        else (
            set(s.event_mask)
            | {"system", "call", "agent", "user", "dtmf", "reporting", "cdr", "dialplan"}
            if mask in ("on", "yes", "true", "1", "all")
            else {c.strip() for c in mask.split(",")}
        )
    )
    s.respond(m, "Success", ("Events", "On" if s.event_mask else "Off"))


@action("CoreShowChannels", "system", "reporting")
async def core_show_channels(s: AmiSession, m: AmiMessage) -> None:
    now = s.sim.loop_time()
    events = []
    # manager.c walks the snapshot cache, a container hashed by name.
    for chan in storage_order(list(s.sim.channels.values())):
        secs = int(now - chan.created_at)
        events.append(
            (
                "CoreShowChannel",
                chan.block()
                + [
                    ("Application", chan.app),
                    ("ApplicationData", chan.app_data),
                    ("Duration", f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"),
                    ("BridgeId", chan.bridge.id if chan.bridge else ""),
                ],
            )
        )
    # CoreShowChannel puts ActionID first; _list appends it, so build here.
    aid = m.get("ActionID")
    s.respond(m, "Success", ("EventList", "start"), message="Channels will follow")
    from pbxsim.ami_server import render

    for event, headers in events:
        s.send(render([("Event", event), *([("ActionID", aid)] if aid else []), *headers]))
    s.send(
        render(
            [
                ("Event", "CoreShowChannelsComplete"),
                *([("ActionID", aid)] if aid else []),
                ("EventList", "Complete"),
                ("ListItems", len(events)),
            ]
        )
    )


@action("Hangup", "system", "call")
async def hangup(s: AmiSession, m: AmiMessage) -> None:
    name = (m.get("Channel") or "").strip()
    if not name:
        s.error(m, "No channel specified")
        return
    chan = s.sim.channels.get(name)
    if chan is None:
        s.error(m, "No such channel")
        return
    try:
        cause = int(m.get("Cause") or 16)
    except ValueError:
        cause = 16
    chan.request_hangup(cause if 0 < cause <= 127 else 16, soft=True)
    s.ack(m, "Channel Hungup")


def _variable_target(s: AmiSession, m: AmiMessage) -> tuple[str, Any] | None:
    """Getvar/Setvar: the variable and its channel (None: a global); answers
    the error itself and returns None when the action names neither right."""
    var = (m.get("Variable") or "").strip()
    if not var:
        s.error(m, "No variable specified")
        return None
    name = (m.get("Channel") or "").strip()
    chan = s.sim.channels.get(name) if name else None
    if name and chan is None:
        s.error(m, "No such channel")
        return None
    return var, chan


def _priority(s: AmiSession, context: str, exten: str, priority: str) -> int:
    """A number, or a label looked up as ast_findlabel_extension does (0: none)."""
    if priority.lstrip("-").isdigit():
        return int(priority)
    ext = s.sim.dialplan.find(context, exten)
    return ext.labels.get(priority, 0) if ext is not None else 0


def _channel_up(s: AmiSession, m: AmiMessage, name: str, missing: str,
                down: str) -> Channel | None:
    chan = s.sim.channels.get(name)
    if chan is None:
        s.error(m, f"{missing}: {name}")
    elif chan.hungup:
        s.error(m, f"Redirect failed, {down}.")
    else:
        return chan
    return None


@action("Redirect", "call")
async def redirect(s: AmiSession, m: AmiMessage) -> None:
    """manager.c action_redirect: its checks in its order, with its words.
    A single channel in a queue's bridge leaves it (pbxsim.ami_transfer);
    a dual redirect of bridged channels is refused ("Redirect failed")."""
    def header(name: str) -> str:
        return (m.get(name) or "").strip()

    name, name2 = header("Channel"), header("ExtraChannel")
    context, exten, priority = header("Context"), header("Exten"), header("Priority")
    for value, what in ((name, "Channel"), (context, "Context"), (exten, "Exten"),
                        (priority, "Priority")):
        if not value:
            s.error(m, f"{what} not specified")
            return
    pi = _priority(s, context, exten, priority)
    if pi < 1:
        s.error(m, "Priority is invalid")
        return
    second = (context, exten, pi)
    context2 = header("ExtraContext")
    if name2 and context2:
        exten2, priority2 = header("ExtraExten"), header("ExtraPriority")
        for value, what in ((exten2, "ExtraExten"), (priority2, "ExtraPriority")):
            if not value:
                s.error(m, f"{what} not specified")
                return
        second = (context2, exten2, _priority(s, context2, exten2, priority2))
        if second[2] < 1:
            s.error(m, "ExtraPriority is invalid")
            return
    chan = _channel_up(s, m, name, "Channel does not exist", "channel not up")
    if chan is None:
        return
    if not name2:
        if chan.bridge is not None and not chan.bridge.broken.done():
            # In a bridge: pbx.c's async goto takes it out (its peer, a queue
            # member's leg, is hung up) and it goes on at the new place.
            chan.bridge.break_up(("redirect", chan, context, exten, pi))
            s.ack(m, "Redirect successful")
        elif chan.async_goto(context, exten, pi):
            s.ack(m, "Redirect successful")
        else:
            s.error(m, "Redirect failed")
        return
    chan2 = _channel_up(s, m, name2, "ExtraChannel does not exist", "extra channel not up")
    if chan2 is None:
        return
    if not chan.async_goto(context, exten, pi):
        s.error(m, "Redirect failed")
    elif not chan2.async_goto(*second):
        s.error(m, "Secondary redirect failed")
    else:
        s.ack(m, "Dual Redirect successful")


@action("Getvar", "call", "reporting")
async def getvar(s: AmiSession, m: AmiMessage) -> None:
    target = _variable_target(s, m)
    if target is None:
        return
    var, chan = target
    if chan is not None:
        value = (
            chan.substitute("${" + var + "}") if var.endswith(")") else (chan.get_var(var) or "")
        )
    else:
        value = s.sim.globals.get(var, "")
    s.respond(m, "Success", ("Variable", var), ("Value", value))


@action("Setvar", "call")
async def setvar(s: AmiSession, m: AmiMessage) -> None:
    target = _variable_target(s, m)
    if target is None:
        return
    var, chan = target
    if chan is None:
        s.sim.globals[var] = m.get("Value") or ""
    else:
        from pbxsim.apps import assign

        assign(chan, var, m.get("Value") or "")
    s.ack(m, "Variable Set")


@action("Command", "command")
async def command(s: AmiSession, m: AmiMessage) -> None:
    cmd = (m.get("Command") or "").strip()
    if not cmd:
        s.error(m, "No command provided")
        return
    out = (
        "Asterisk 22.10.1 built by pbxsim"
        if cmd == "core show version"
        else f"No such command '{cmd}'"
    )
    s.respond(m, "Success", ("Output", out), message="Command output follows")


@action("MixMonitor", "system")
async def mixmonitor(s: AmiSession, m: AmiMessage) -> None:
    chan = s.sim.channels.get((m.get("Channel") or "").strip())
    if chan is None:
        s.error(m, "No such channel")
        return
    from pbxsim.apps import app_mixmonitor

    await app_mixmonitor(
        chan, ",".join(x for x in (m.get("File") or "", m.get("Options") or "") if x)
    )
    s.respond(m, "Success")


@action("StopMixMonitor", "system", "call")
async def stop_mixmonitor(s: AmiSession, m: AmiMessage) -> None:
    if (m.get("Channel") or "").strip() not in s.sim.channels:
        s.error(m, "No such channel")
        return
    s.ack(m, "Stopped monitoring channel")


@action("PJSIPShowContacts", "system")
async def pjsip_show_contacts(s: AmiSession, m: AmiMessage) -> None:
    list_response(
        s,
        m,
        "A listing of Contacts follows, presentation ends with ContactListComplete",
        [
            (
                "ContactList",
                [
                    ("ObjectType", "contact"),
                    ("ObjectName", p.endpoint),
                    ("Endpoint", p.endpoint),
                    ("Status", "Reachable"),
                ],
            )
            for p in s.sim.phones.values()
            if p.behaviour.registered
        ],
        "ContactListComplete",
    )


@action("DeviceStateList", "call", "reporting")
async def device_state_list(s: AmiSession, m: AmiMessage) -> None:
    # res/res_manager_devicestate.c: every cached device state as a
    # DeviceStateChange (ActionID right after Event), then the Complete event.
    states = {**s.sim.device_states,
              **{iface: phone.device_state() for iface, phone in s.sim.phones.items()}}
    aid = m.get("ActionID")
    s.respond(m, "Success", ("EventList", "start"), message="Device State Changes will follow")
    from pbxsim.ami_server import render

    for device, state in sorted(states.items()):
        s.send(render([("Event", "DeviceStateChange"), *([("ActionID", aid)] if aid else []),
                       ("Device", device), ("State", state)]))
    s.send(render([("Event", "DeviceStateListComplete"), *([("ActionID", aid)] if aid else []),
                   ("EventList", "Complete"), ("ListItems", len(states))]))


@action("UserEvent", "user")
async def user_event(s: AmiSession, m: AmiMessage) -> None:
    headers = [(k, v) for k, v in m.headers if k.lower() not in ("action", "actionid")]
    s.sim.emit("UserEvent", "user", headers)
    s.ack(m, "Event Sent")


@action("Originate", "originate")
async def originate(s: AmiSession, m: AmiMessage) -> None:
    from pbxsim.originate import originate_action

    originate_action(s, m)


# Queue actions register themselves on import.
from pbxsim import ami_queue_actions, ami_transfer  # noqa: E402, F401
