"""The catalogue of live events, each with its audience.

Queue-level facts with masked numbers go to the hotline's staff; what one
agent does, or one call of theirs, to that agent and the supervisors; an
order to its agent, its department and the supervisors.  A field that names
an agent or department (``agent_id``, ``department_id``) is only data; the
audience is what :meth:`audience` says.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.events import (
    HOTLINE_STAFF,
    SUPERVISORS,
    Audience,
    LiveEvent,
    live_event,
    supervisors_and,
)

# ------------------------------------------------------------------ calls


@live_event
class CallEntered(LiveEvent):
    KIND = "call.entered"
    uniqueid: str
    caller: str  # masked

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class CallRouted(LiveEvent):
    KIND = "call.routed"
    uniqueid: str
    queue: str
    category: str | None

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class CallQueued(LiveEvent):
    KIND = "call.queued"
    uniqueid: str
    queue: str
    caller: str  # masked
    position: int

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class CallAnswered(LiveEvent):
    KIND = "call.answered"
    uniqueid: str
    queue: str
    member: str
    hold_seconds: int
    agent_id: int | None = None

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallAbandoned(LiveEvent):
    KIND = "call.abandoned"
    uniqueid: str
    queue: str

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class CallEnded(LiveEvent):
    KIND = "call.ended"
    uniqueid: str
    outcome: str
    agent_id: int | None = None

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallPop(LiveEvent):
    """The screen pop (worksheets.pop), with the caller's whole number: to the
    agent rung or answering (and supervisors, who see every call).  ``ami_read_ms``: wall
    clock when the AMI link read AgentCalled/AgentConnect; ``sent_ms``: when
    this was published (for the console's latency benchmark)."""

    KIND = "call.pop"
    agent_id: int
    phase: str  # ringing | answered
    pop: dict[str, Any]
    ami_read_ms: float
    sent_ms: float

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallbackRequested(LiveEvent):
    """A caller took the IVR's callback offer."""

    KIND = "callback.requested"
    uniqueid: str
    queue: str

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class PbxView(LiveEvent):
    """The PBX's queues, members and live channels, after each resync."""

    KIND = "pbx.state"
    resync: int
    queues: dict[str, Any]
    members: dict[str, Any]
    channels_up: int
    bridges: int = 0
    phones: dict[str, Any] = dataclasses.field(default_factory=dict)

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


# ----------------------------------------------------------------- orders


@live_event
class OrderDrafted(LiveEvent):
    KIND = "order.draft"
    order_id: int
    number: str
    agent_id: int | None
    uniqueid: str

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class OrderChanged(LiveEvent):
    """A step in an order's life: ``step`` is submitted, accepted, returned,
    closed, ... and consoles see ``order.<step>``."""

    KIND = "order.changed"
    step: str
    order_id: int
    number: str
    status: str
    agent_id: int | None
    department_id: int | None

    @property
    def type(self) -> str:
        return f"order.{self.step}"

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id, department_id=self.department_id)


@live_event
class TranscriptReady(LiveEvent):
    """A citizen's words: to the agent who has the call and supervisors only."""

    KIND = "transcript.ready"
    uniqueid: str
    call_id: int | None
    order_id: int | None
    agent_id: int | None
    kind: str  # description | call
    text: str
    final: bool
    transcript_id: int
    seconds_audio: float

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class TranscriptionFailed(LiveEvent):
    KIND = "transcription.failed"
    job_id: int
    kind: str  # description | call
    uniqueid: str
    reason: str

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


# ------------------------------------------------------- callbacks, 回访


@live_event
class CallbackCalling(LiveEvent):
    KIND = "callback.calling"
    task_id: int
    attempt_id: int
    agent_id: int

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallbackAnswered(LiveEvent):
    KIND = "callback.answered"
    attempt_id: int
    agent_id: int
    order_id: int | None
    order_number: str | None

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallbackFinished(LiveEvent):
    KIND = "callback.finished"
    task_id: int
    attempt_id: int
    agent_id: int | None
    result: str | None
    status: str
    attempts: int

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class CallbackClosed(LiveEvent):
    """A supervisor closed a task: every agent's list loses it."""

    KIND = "callback.closed"
    task_id: int
    status: str

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class VisitAnswered(LiveEvent):
    KIND = "visit.answered"
    order_id: int
    number: str  # the order's
    agent_id: int

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class VisitCallEnded(LiveEvent):
    KIND = "visit.call_ended"
    order_id: int
    result: str
    agent_id: int
    attempts: int | None = None  # 回访 calls made for this order so far

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


# ------------------------------------------------------- agents and rota


@live_event
class AgentCheckedIn(LiveEvent):
    KIND = "agent.checked_in"
    agent_id: int
    starts_at: str

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class AgentLoggedIn(LiveEvent):
    KIND = "agent.login"
    agent_id: int
    member: str
    queues: list[str]

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class AgentLoggedOut(LiveEvent):
    KIND = "agent.logout"
    agent_id: int
    member: str

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class AgentPaused(LiveEvent):
    KIND = "agent.pause"
    agent_id: int
    paused: bool
    reason: str

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class AgentStateChanged(LiveEvent):
    KIND = "agent.state"
    agent_id: int
    state: str
    reason: str
    since: str

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class AgentMe(LiveEvent):
    """The agent's whole own view (agents.desk): state, shift, phone, call."""

    KIND = "agent.me"
    agent_id: int
    me: dict[str, Any]

    def audience(self) -> Audience:
        # Supervisors see every event of the stream (their consoles count on
        # numbers without gaps, console/live.py); they need not show it.
        return supervisors_and(agent_id=self.agent_id)


@live_event
class StaffingAlert(LiveEvent):
    """A no-show or an over-long pause: the supervisors' business, not the
    agent's (``subject_agent_id`` names who it is about)."""

    KIND = "staffing.alert"
    alert_id: int
    subject_agent_id: int
    kind: str  # no_show | pause_overrun
    detail: str
    raised_at: str

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class ShiftChanged(LiveEvent):
    KIND = "shift.change"
    team_index: int
    day: str
    shift: int
    handover: list[Any]

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class RotaChanged(LiveEvent):
    """Rota settings, an approved or refused request, overtime granted."""

    KIND = "rota.changed"
    what: str
    request_id: int | None = None
    status: str | None = None
    agent_id: int | None = None
    day: str | None = None
    shift: int | None = None

    def audience(self) -> Audience:
        return Audience(HOTLINE_STAFF)


@live_event
class RotaRequested(LiveEvent):
    KIND = "rota.request"
    agent_id: int
    request_id: int
    kind: str  # swap | leave

    def audience(self) -> Audience:
        return supervisors_and(agent_id=self.agent_id)


@live_event
class OrderDeadlineRecomputed(LiveEvent):
    """The working-day calendar changed an open order's due date."""

    KIND = "order.deadline_recomputed"
    order_id: int
    number: str
    due_date: str | None

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


@live_event
class OrderDeadlineWarning(LiveEvent):
    """80 % of an order's time is gone: its department is warned."""

    KIND = "order.deadline_warning"
    order_id: int
    number: str
    department_id: int | None
    due_date: str | None

    def audience(self) -> Audience:
        return supervisors_and(department_id=self.department_id)


@live_event
class RetentionPurged(LiveEvent):
    """The nightly purge of old recordings and transcripts (PurgeReport's fields)."""

    KIND = "retention.purged"
    cutoff: str
    dry_run: bool
    calls: int = 0
    files: int = 0
    bytes: int = 0
    missing_files: int = 0
    transcripts: int = 0
    jobs: int = 0
    kept_open: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    outside: list[str] = dataclasses.field(default_factory=list)

    def audience(self) -> Audience:
        return Audience(SUPERVISORS)


# ------------------------------------------------------------ configuration


@live_event
class ConfigChanged(LiveEvent):
    """Settings kept in the database changed (on this backend or another):
    each backend reloads ``part`` (``key``: one item of it, such as an agent
    id; "" for all of it) from the database (:mod:`core.config_sync`).
    Internal: no console receives it."""

    KIND = "config.changed"
    part: str  # routing_rules | pause_reasons | rota_settings | agent_queues | ...
    key: str = ""
