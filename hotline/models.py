"""Imports every domain's tables so that metadata and migrations see them all."""

from agents.models import (
    Agent,
    AgentStatePeriod,
    HandoverNote,
    OvertimeGrant,
    PauseReason,
    RotaRequest,
    RotaSettings,
    StaffingAlert,
    Team,
)
from hotline.accounts import LoginSession, User
from hotline.outbox import OutboxItem
from routing.models import (
    AuditEntry,
    BlockedNumber,
    LegacyLine,
    PriorityCaller,
    RoutingRuleSet,
    ServiceQueue,
)
from speech.tables import TranscriptionJob, TranscriptRecord
from worksheets.models import Call, CallbackTask, CallEvent, Department, WorkOrder

__all__ = [
    "Agent", "AgentStatePeriod", "HandoverNote", "OvertimeGrant", "PauseReason", "RotaRequest",
    "RotaSettings", "StaffingAlert", "Team",
    "LoginSession", "User", "ServiceQueue", "AuditEntry", "BlockedNumber",
    "LegacyLine", "PriorityCaller", "RoutingRuleSet",
    "Call", "CallbackTask", "CallEvent", "Department", "WorkOrder",
    "TranscriptionJob", "TranscriptRecord", "OutboxItem",
]
