"""The backend's live view of the PBX: a :class:`pbx.state.PbxState` fed by
the AMI link, resynchronised after every (re)connect and published on the
event bus once corrected.

Resync: QueueStatus (members, waiting callers) then CoreShowChannels (live
channels), both sent with ``in_stream`` so that their answers reach the
state, and every other subscriber (the call tracker), in their place among
the events.  Nothing else is re-sent: actions that were unanswered when the
link dropped failed with AmiConnectionLost, and whoever sent them decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hotline.live_events import PbxView
from pbx import events as ev
from pbx.ami import AmiError, AmiLink
from pbx.state import PbxState

log = logging.getLogger(__name__)

Publish = Callable[[PbxView], None]


class LiveState:
    """Subscribe ``on_event`` to the link and register ``resync`` with ``on_ready``."""

    def __init__(self, link: AmiLink, publish: Publish) -> None:
        self.link = link
        self.publish = publish
        self.state = PbxState()

    def on_event(self, event: ev.AmiEvent) -> None:
        self.state.apply(event)
        if isinstance(event, ev.ListResult) and event.name.lower() == "coreshowchannels":
            self.publish(PbxView(resync=self.state.resyncs, **self.state.live()))

    async def resync(self) -> None:
        """Ask Asterisk for its queues and channels (after FullyBooted)."""
        try:
            await self.link.send("QueueStatus", in_stream=True)
            await self.link.send("CoreShowChannels", in_stream=True)
        except AmiError as exc:
            # The link is down again or Asterisk did not answer in time; the
            # next reconnect resyncs.
            log.error("AMI resync failed: %s", exc)

    def snapshot(self) -> dict[str, Any]:
        return self.state.live()
