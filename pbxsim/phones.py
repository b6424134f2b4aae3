"""Simulated agent softphones (PJSIP endpoints) and outbound trunk parties.

A :class:`Phone` is registered with ``PbxSim.add_phone``.  When a queue or
Dial() calls it, it rings, answers after ``answer_after`` seconds (if it
answers at all), and the agent hangs up ``talk_seconds`` after answering.
Its device state (NOT_INUSE, RINGING, INUSE, UNAVAILABLE) follows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbxsim.channels import RINGING, UP, Channel

if TYPE_CHECKING:
    from pbxsim.core import PbxSim


RTP_VARS = (
    "RTPAUDIOQOS",
    "RTPAUDIOQOSJITTER",
    "RTPAUDIOQOSLOSS",
    "RTPAUDIOQOSRTT",
    "RTPAUDIOQOSMES",
)
RTP_QOS = (
    "ssrc=263721114;themssrc=2366260301;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;"
    "txcount=0;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000"
)


@dataclass
class PhoneBehaviour:
    """How a simulated softphone behaves when called.

    ``answers=False`` rings until the caller gives up (queue member
    timeout); ``registered=False`` makes the device UNAVAILABLE.
    """

    answer_after: float = 2.0
    talk_seconds: float = 60.0
    answers: bool = True
    registered: bool = True


class Phone:
    """One PJSIP endpoint, e.g. ``PJSIP/1001``."""

    def __init__(self, sim: PbxSim, interface: str, behaviour: PhoneBehaviour) -> None:
        self.sim = sim
        self.interface = interface
        self.endpoint = interface.split("/", 1)[1]
        self.behaviour = behaviour
        self.channels: list[Channel] = []

    def device_state(self) -> str:
        if not self.behaviour.registered:
            return "UNAVAILABLE"
        live = [c for c in self.channels if not c.gone]
        if any(c.state == UP for c in live):
            return "INUSE"
        if any(c.state == RINGING for c in live):
            return "RINGING"
        return "INUSE" if live else "NOT_INUSE"

    def update_state(self) -> None:
        self.sim.set_device_state(self.interface, self.device_state())

    def new_channel(self, linkedid: str) -> Channel:
        """The outgoing channel to this phone (state Down, exten ``s``)."""
        idx = self.sim.next_tech_index("PJSIP")
        context = self.sim.endpoint_context.get(self.endpoint)
        if context is None:
            context = "agents-out" if "agents-out" in self.sim.dialplan.contexts else "default"
        chan = self.sim.new_channel(
            f"{self.interface}-{idx}", context=context, exten="s", linkedid=linkedid
        )
        self.channels.append(chan)

        def _gone(c: Channel) -> None:
            if c in self.channels:
                self.channels.remove(c)
            self.update_state()

        chan.on_hangup.append(_gone)
        return chan

    def ring(self, chan: Channel) -> None:
        """The phone signals ringing (Newstate Ringing); device RINGING is
        published by the caller of this method at the right moment."""
        chan.set_state(RINGING)

    async def wait_answer(self, chan: Channel, timeout: float | None) -> bool:
        """True when the agent picks up within ``timeout`` (the channel is
        then still alive); False on no answer or when the call was cancelled."""
        b = self.behaviour
        if not b.answers or not b.registered:
            await chan.sleep(timeout if timeout is not None else 24 * 3600)
            return False
        if timeout is not None and b.answer_after >= timeout:
            await chan.sleep(timeout)
            return False
        return await chan.sleep(b.answer_after)

    def start_talking(self, chan: Channel) -> None:
        """After answering, the agent hangs up ``talk_seconds`` later."""
        talk = self.behaviour.talk_seconds

        async def talk_then_hangup() -> None:
            if await chan.sleep(talk):
                # chan_pjsip publishes the RTP statistics as the BYE arrives.
                peer = (
                    next((c for c in chan.bridge.members if c is not chan), None)
                    if chan.bridge
                    else None
                )
                for name in RTP_VARS:
                    chan.set_var(name, RTP_QOS)
                    if peer is not None:
                        peer.set_var(name + "BRIDGED", RTP_QOS)
                chan.request_hangup(16, soft=False, show_cause=False)

        self.sim.spawn(talk_then_hangup(), name=f"talk {chan.name}")


class ExternalParty(Phone):
    """The far end of an outbound trunk call (``PJSIP/<number>@trunk``)."""

    def __init__(
        self, sim: PbxSim, interface: str, behaviour: PhoneBehaviour | None = None
    ) -> None:
        super().__init__(
            sim, interface, behaviour or PhoneBehaviour(answer_after=3.0, talk_seconds=20.0)
        )
        self.endpoint = interface.split("@")[-1].split("/")[-1]

    def update_state(self) -> None:
        return None


def phone_for(sim: PbxSim, interface: str) -> Phone | None:
    """The phone behind a dial string (registered phones and trunk numbers)."""
    base = interface.split("/n")[0]
    if base in sim.phones:
        return sim.phones[base]
    if base.startswith("PJSIP/") and "@" in base:
        number = base.split("/", 1)[1].split("@")[0]
        return ExternalParty(sim, base, sim.far_ends.get(number))
    return None


async def first_of(*futures: asyncio.Future[object], timeout: float | None = None) -> None:
    await asyncio.wait(list(futures), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)


def announce_registration(sim: PbxSim, interface: str, registered: bool) -> None:
    """What res_pjsip reports when a phone's contact comes or goes:
    ContactStatus (main/stasis_endpoints.c contactstatus_to_ami; the status
    label of res_pjsip/pjsip_options.c, shown here after the first qualify)
    and PeerStatus (the endpoint going online/offline,
    res_pjsip/pjsip_configuration.c).  The DeviceStateChange that follows
    comes from :meth:`PbxSim.set_device_state`."""
    endpoint = interface.split("/", 1)[1]
    sim.emit("ContactStatus", "system", [
        ("URI", f"sip:{endpoint}@127.0.0.1:5060"),
        ("ContactStatus", "Reachable" if registered else "Removed"),
        ("AOR", endpoint), ("EndpointName", endpoint), ("RoundtripUsec", "0")])
    sim.emit("PeerStatus", "system", [
        ("ChannelType", "PJSIP"), ("Peer", interface),
        ("PeerStatus", "Reachable" if registered else "Unreachable")])
