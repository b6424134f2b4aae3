"""AMI Originate: call a PJSIP phone or a Local channel, then run the
dialplan (Context/Exten/Priority) or an application on the answered leg.
OriginateResponse reports the outcome (Reason 4 = answered, 3 = no
answer, 1 = hung up, 0 = failed), as manager.c's fast_originate does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.ami_protocol import AmiMessage
from pbxsim.apps import execute, parse_callerid
from pbxsim.member_calls import LocalCall, MemberCall, place
from pbxsim.pbx import run_pbx

if TYPE_CHECKING:
    from pbxsim.ami_server import AmiSession
    from pbxsim.channels import Channel
    from pbxsim.core import PbxSim


class _Dummy:
    """Stands in for the caller when nobody originated the leg."""

    def __init__(self, sim: PbxSim) -> None:
        self.linkedid = ""
        self.sim = sim


def originate_action(s: AmiSession, m: AmiMessage) -> None:
    sim = s.sim
    name = (m.get("Channel") or "").strip()
    context, exten, prio_s = (
        (m.get("Context") or "").strip(),
        (m.get("Exten") or "").strip(),
        (m.get("Priority") or "").strip(),
    )
    app, data = (m.get("Application") or "").strip(), m.get("Data") or ""
    if not name:
        s.error(m, "Channel not specified")
        return
    prio = 0
    if prio_s:
        if prio_s.isdigit():
            prio = int(prio_s)
        else:
            ext = sim.dialplan.find(context, exten)
            prio = ext.labels.get(prio_s, 0) if ext else 0
            if prio < 1:
                s.error(m, "Invalid priority")
                return
    try:
        timeout = int(m.get("Timeout") or 30000) / 1000
    except ValueError:
        s.error(m, "Invalid timeout")
        return
    if "/" not in name:
        s.error(m, "Invalid channel")
        return
    if not app and not (exten and context and prio):
        s.error(m, "Originate with 'Exten' requires 'Context' and 'Priority'")
        return
    if not app and not sim.dialplan.exists(context, exten, prio):
        s.error(m, "Extension does not exist.")
        return
    cid_name, cid_num = parse_callerid(m.get("CallerID") or "")
    variables = m.variables()
    aid = m.get("ActionID")
    if not m.get("Async") or (m.get("Async") or "").lower() not in ("true", "yes", "1"):
        # Synchronous originate: Asterisk answers after the call; we answer
        # at once and report through OriginateResponse like the async case.
        pass
    sim.spawn(
        _run(
            sim, name, context, exten, prio, app, data, timeout, cid_num, cid_name, variables, aid
        ),
        name=f"originate {name}",
    )
    s.ack(m, "Originate successfully queued")


async def _run(
    sim: PbxSim,
    name: str,
    context: str,
    exten: str,
    prio: int,
    app: str,
    data: str,
    timeout: float,
    cid_num: str,
    cid_name: str,
    variables: dict[str, str],
    aid: str | None,
) -> None:
    dummy = _Dummy(sim)
    call: MemberCall | None = place(sim, name, dummy)  # type: ignore[arg-type]
    if call is None:
        _response(sim, aid, "Failure", name, context, exten, app, data, 0, "", cid_num, cid_name)
        return
    chan: Channel = call.chan
    chan.linkedid = chan.uniqueid
    chan.newexten("AppDial2", "(Outgoing Line)")
    for k, v in reversed(list(variables.items())):
        chan.set_var(k, v)
    chan.set_caller(cid_num or None, cid_name or None)
    chan.set_connected(cid_num or None, cid_name or None)
    if isinstance(call, LocalCall):
        # Originated: ;2's Answer() gets media at once (three-calls' callers:
        # no 500 ms wait, unlike a member dialled by Queue).
        call.two.answer_waits_for_media = False
        call.start()
    dial_string = name.split("/", 1)[1]
    sim.emit("DialBegin", "call", chan.block("Dest") + [("DialString", dial_string)])
    call.ring()
    if not isinstance(call, LocalCall):
        sim.emit("DialState", "call", chan.block("Dest") + [("DialStatus", "RINGING")])
    call.publish_state()
    answered = await call.wait_answer(timeout)
    if not answered:
        sim.emit("DialEnd", "call", chan.block("Dest") + [("DialStatus", "NOANSWER")])
        uid = chan.uniqueid
        call.cancel(0)
        call.publish_state()
        _response(
            sim,
            aid,
            "Failure",
            name,
            context,
            exten,
            app,
            data,
            3 if not chan.hungup else 1,
            uid,
            cid_num,
            cid_name,
        )
        return
    call.answer()
    call.publish_state()
    sim.emit("DialEnd", "call", chan.block("Dest") + [("DialStatus", "ANSWER")])
    call.start_talking()
    if app:
        _response(
            sim, aid, "Success", chan.name, "", "", app, data, 4, chan.uniqueid, cid_num, cid_name
        )
        # pbx_exec() publishes the application, but its context, exten and
        # priority stay: no Newexten (manager_channels.c needs a CEP change).
        chan.app, chan.app_data = app, data
        await execute(chan, app, data)
        # Then ast_hangup(): the cause is whatever was set, else 0.
        chan.finish(None if chan.hungup else 0)
        return
    chan.context, chan.exten, chan.priority = context, exten, prio
    _response(
        sim, aid, "Success", chan.name, context, exten, "", "", 4, chan.uniqueid, cid_num, cid_name
    )
    await run_pbx(chan)


def _response(
    sim: PbxSim,
    aid: str | None,
    result: str,
    channel: str,
    context: str,
    exten: str,
    app: str,
    data: str,
    reason: int,
    uid: str,
    cid_num: str,
    cid_name: str,
) -> None:
    headers: list[tuple[str, str]] = [("ActionID", aid)] if aid else []
    headers += [("Response", result), ("Channel", channel)]
    headers += (
        [("Application", app), ("Data", data)] if app else [("Context", context), ("Exten", exten)]
    )
    headers += [
        ("Reason", str(reason)),
        ("Uniqueid", uid or "<null>"),
        ("CallerIDNum", cid_num or "<unknown>"),
        ("CallerIDName", cid_name or "<unknown>"),
    ]
    sim.emit("OriginateResponse", "call", headers)
