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
from calls.models import Call, CallEvent
from core.accounts import LoginSession, User
from core.login_throttle import LoginFailure
from core.outbox import OutboxItem
from floor.models import FloorAlert
from hotline.schema_compat import SchemaCompat
from reports.models import CallsDaily, OrdersDaily, ReportDirty
from routing.models import (
    AuditEntry,
    BlockedNumber,
    LegacyLine,
    PriorityCaller,
    RoutingRuleSet,
    ServiceQueue,
)
from speech.tables import TranscriptionJob, TranscriptRecord
from worksheets.knowledge_models import KnowledgeArticle, KnowledgeArticleVersion
from worksheets.models import CallbackTask, Department, WorkOrder
from worksheets.order_models import DepartmentRuleSet, OrderAttachment, OrderPart

__all__ = [
    "Agent", "AgentStatePeriod", "HandoverNote", "OvertimeGrant", "PauseReason", "RotaRequest",
    "RotaSettings", "StaffingAlert", "Team",
    "LoginSession", "LoginFailure", "User", "ServiceQueue", "AuditEntry", "BlockedNumber",
    "LegacyLine", "PriorityCaller", "RoutingRuleSet",
    "Call", "CallbackTask", "CallEvent", "Department", "WorkOrder",
    "TranscriptionJob", "TranscriptRecord", "KnowledgeArticle", "KnowledgeArticleVersion",
    "OutboxItem", "SchemaCompat", "FloorAlert", "DepartmentRuleSet", "OrderAttachment",
    "OrderPart",
    "CallsDaily", "OrdersDaily", "ReportDirty",
]
