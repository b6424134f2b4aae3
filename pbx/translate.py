"""What each AMI event means to the PBX model: the typed events it emits.

One translator per AMI event name (``TRANSLATORS``), called by
:meth:`pbx.model.PbxModel.on_ami` after the state has taken the event;
``before`` is the member as it was (member events only).  Events with no
translator only change the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pbx import events as ev
from pbx import model_events as me
from pbx.state import MemberState

if TYPE_CHECKING:
    from pbx.model import PbxModel

# A PJSIP endpoint's device is UNAVAILABLE exactly when it has no reachable
# contact (res_pjsip publishes the endpoint offline).
PHONE_DOWN = ("UNAVAILABLE", "INVALID")

Translator = Callable[["PbxModel", Any, datetime, MemberState | None], list[me.PbxEvent]]


def _entered(_m: PbxModel, e: ev.Newchannel, now: datetime, _b: Any) -> list[me.PbxEvent]:
    return [me.CallEntered(now, e.uniqueid, e.channel, e.linkedid, e.caller_number)]


def _joined(m: PbxModel, e: ev.QueueCallerJoin, now: datetime, _b: Any) -> list[me.PbxEvent]:
    m.abandons.pop(e.uniqueid, None)  # back in a queue: that abandon was no end
    return [me.CallQueued(now, e.uniqueid, e.queue, e.channel, e.linkedid, e.caller_number,
                          e.caller_name, e.position)]


def _ringing(_m: PbxModel, e: ev.AgentCalled, now: datetime, _b: Any) -> list[me.PbxEvent]:
    return [me.AgentRinging(now, e.uniqueid, e.queue, e.member_name, e.interface)]


def _ring_stopped(_m: PbxModel, e: ev.AgentRingNoAnswer, now: datetime,
                  _b: Any) -> list[me.PbxEvent]:
    return [me.AgentRingStopped(now, e.uniqueid, e.queue, e.member_name, e.interface)]


def _answered(m: PbxModel, e: ev.AgentConnect, now: datetime, _b: Any) -> list[me.PbxEvent]:
    m.abandons.pop(e.uniqueid, None)
    return [me.CallAnswered(now, e.uniqueid, e.queue, e.member_name, e.interface, e.hold_time)]


def _completed(_m: PbxModel, e: ev.AgentComplete, now: datetime,
               _b: Any) -> list[me.PbxEvent]:
    return [me.AgentCallCompleted(now, e.uniqueid, e.queue, e.member_name, e.interface,
                                  e.talk_time)]


def _abandoned(m: PbxModel, e: ev.QueueCallerAbandon, now: datetime,
               _b: Any) -> list[me.PbxEvent]:
    # Final only at the hangup (pbx.model keeps it until then).
    m.abandons[e.uniqueid] = me.CallAbandoned(now, e.uniqueid, e.queue, e.hold_time)
    return []


def _hangup(m: PbxModel, e: ev.Hangup, now: datetime, _b: Any) -> list[me.PbxEvent]:
    abandon = m.abandons.pop(e.uniqueid, None)
    return [*([abandon] if abandon else []), me.CallEnded(now, e.uniqueid, e.channel, e.cause)]


def _dial_begin(_m: PbxModel, e: ev.DialEvent, now: datetime, _b: Any) -> list[me.PbxEvent]:
    return [me.DialStarted(now, e.uniqueid, e.dest_uniqueid)]


def _dial_end(_m: PbxModel, e: ev.DialEvent, now: datetime, _b: Any) -> list[me.PbxEvent]:
    return [me.DialEnded(now, e.uniqueid, e.dest_uniqueid, e.dial_status)]


def _originated(_m: PbxModel, e: ev.OriginateResponse, now: datetime,
                _b: Any) -> list[me.PbxEvent]:
    return [me.OriginateOutcome(now, e.action_id, e.response.lower() == "success", e.uniqueid,
                                e.channel, e.reason)]


def _member(_m: PbxModel, e: ev.QueueMemberEvent, now: datetime,
            before: MemberState | None) -> list[me.PbxEvent]:
    fields = (now, e.queue, e.interface, e.member_name, e.paused, e.paused_reason, e.status,
              e.in_call)
    if e.name == "QueueMemberRemoved":
        return [me.MemberRemoved(*fields)]
    if e.name == "QueueMemberAdded" or before is None:
        return [me.MemberAdded(*fields)]
    if e.name == "QueueMemberPause":
        return [me.MemberPaused(*fields)]
    return [me.MemberStateChanged(*fields)]


def _contact(m: PbxModel, e: ev.ContactStatus, now: datetime, _b: Any) -> list[me.PbxEvent]:
    return m.phone_seen(e.endpoint, e.reachable, e.uri, now)


def _device(m: PbxModel, e: ev.DeviceState, now: datetime, _b: Any) -> list[me.PbxEvent]:
    if not e.device.startswith("PJSIP/") or e.state == "UNKNOWN":
        return []
    return m.phone_seen(e.device.removeprefix("PJSIP/"), e.state not in PHONE_DOWN, "", now)


TRANSLATORS: dict[str, Translator] = {
    "Newchannel": _entered, "QueueCallerJoin": _joined, "AgentCalled": _ringing,
    "AgentRingNoAnswer": _ring_stopped, "AgentConnect": _answered, "AgentComplete": _completed,
    "QueueCallerAbandon": _abandoned, "Hangup": _hangup, "DialBegin": _dial_begin,
    "DialEnd": _dial_end, "OriginateResponse": _originated,
    "QueueMemberAdded": _member, "QueueMemberRemoved": _member, "QueueMemberPause": _member,
    "QueueMemberStatus": _member,
    "ContactStatus": _contact, "PeerStatus": _contact, "DeviceStateChange": _device,
}
