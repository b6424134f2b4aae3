"""AMI BlindTransfer (manager.c action_blind_transfer, bridge.c
ast_bridge_transfer_blind) and Redirect of a channel in a queue bridge.

BlindTransfer: the channel named is the transferer; its bridge peer (the
transferee) leaves the bridge and goes on in the dialplan at Exten@Context
priority 1 (bridge_channel.c bridge_channel_blind_transfer: async goto,
then kicked), the transferer is removed from the bridge and, being a queue
member's leg, hung up.  Checks and words are manager.c's: "No channel
specified", "No extension specified", "Channel specified does not exist";
then bridge.c's results: a channel in no bridge is "Transfer invalid".
The BlindTransfer event (stasis_bridges.c blind_transfer_to_ami) carries
Result, the Transferer* and Transferee* channel blocks, the Bridge* block,
IsExternal (Yes: from AMI), Context and Extension; app_queue answers it
with AgentComplete (Reason: transfer) and a BLINDTRANSFER queue_log line
(handle_blind_transfer).  A failed transfer publishes the event too, with
its Result, as bridge.c does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbxsim.ami_actions import action

if TYPE_CHECKING:
    from pbxsim.ami_protocol import AmiMessage
    from pbxsim.ami_server import AmiSession

RESULTS = {"fail": "Fail", "invalid": "Invalid", "not_permitted": "Not Permitted",
           "success": "Success"}
ERRORS = {"fail": "Transfer failed", "invalid": "Transfer invalid",
          "not_permitted": "Transfer not permitted"}


@action("BlindTransfer", "call")
async def blind_transfer(s: AmiSession, m: AmiMessage) -> None:
    name = (m.get("Channel") or "").strip()
    exten = (m.get("Exten") or "").strip()
    context = (m.get("Context") or "").strip()
    if not name:
        s.error(m, "No channel specified")
        return
    if not exten:
        s.error(m, "No extension specified")
        return
    chan = s.sim.channels.get(name)
    if chan is None:
        s.error(m, "Channel specified does not exist")
        return
    context = context or chan.context
    bridge = chan.bridge
    peers = [c for c in bridge.members if c is not chan] if bridge is not None else []
    result = "success" if bridge is not None and peers else "invalid"
    headers = [("Result", RESULTS[result])] + chan.block("Transferer")
    if peers:
        headers += peers[0].block("Transferee")
    if bridge is not None:
        headers += bridge.headers()
    headers += [("IsExternal", "Yes"), ("Context", context), ("Extension", exten)]
    if result != "success":
        s.sim.emit("BlindTransfer", "call", headers)
        s.error(m, ERRORS[result])
        return
    assert bridge is not None
    s.ack(m, "Transfer succeeded")
    s.sim.emit("BlindTransfer", "call", headers)
    bridge.break_up(("transfer", chan, peers[0], context, exten))
