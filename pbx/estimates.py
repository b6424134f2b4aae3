"""How long a caller joining a queue now may wait, from the backend's own
model of the PBX (:class:`pbx.state.PbxState`, fed by AMI events), not
from a QueueSummary asked per call.

The one place the IVR reads a wait from: the description is asked for
only when it costs the caller nothing, the callback is offered when the
wait is long.
"""

from __future__ import annotations

from pbx.state import PbxState

# Until the queue has answered calls of its own: how long one agent takes
# per call (talk and wrap-up), for the hold-time estimate.
ASSUMED_HANDLE_SECONDS = 180
# app_queue's AST_DEVICE_* values a member can take a call in (UNKNOWN, NOT_INUSE).
FREE_STATES = (0, 1)
# ... and those of a phone that is not there (INVALID, UNAVAILABLE).
ABSENT_STATES = (4, 5)


def callers_waiting(state: PbxState, queue: str) -> int:
    totals = state.queues.get(queue)
    return len(totals.waiting) if totals is not None else 0


def estimated_wait(state: PbxState, queue: str) -> int:
    """Seconds a caller joining ``queue`` now may expect to wait: 0 when a
    member is free for them; else the callers who would be ahead, spread
    over the staffed members at ASSUMED_HANDLE_SECONDS each, and never less
    than the queue's recent hold time (weighted as app_queue weighs it:
    each answer counts a quarter).  A queue nobody staffs is estimated as
    if one member were on it: the caller waits, the model cannot say how long.
    """
    members = [m for (q, _), m in state.members.items() if q == queue]
    free = sum(1 for m in members if not m.paused and not m.in_call
               and m.status in FREE_STATES)
    staffed = sum(1 for m in members if not m.paused and m.status not in ABSENT_STATES)
    ahead = callers_waiting(state, queue)
    if free > ahead:
        return 0
    totals = state.queues.get(queue)
    holdtime = totals.holdtime if totals is not None else 0.0
    per_caller = ASSUMED_HANDLE_SECONDS / max(staffed, 1)
    return int(max(holdtime, (ahead + 1 - free) * per_caller))
