"""agents: rota settings, swaps and leave, overtime, handover notes, pause
reasons, agent state history, staffing alerts

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The pause reasons a fresh install starts with; labels match what the
# console offers, limits are the usual ones of a 12345 centre.
PAUSE_REASONS = [
    ("break", "休息", 15),
    ("meal", "用餐", 45),
    ("training", "培训", 120),
    ("meeting", "班组会", 60),
    ("callback", "回访", 60),
]


def upgrade() -> None:
    op.create_table(
        "rota_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_starts", sa.String(length=100), nullable=False),
        sa.Column("team_count", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("epoch", sa.Date(), nullable=False),
        sa.Column("min_rest_hours", sa.Float(), nullable=False),
        sa.Column("min_on_duty", sa.Integer(), nullable=False),
        sa.Column("no_show_minutes", sa.Integer(), nullable=False),
        sa.Column("wrapup_seconds", sa.Integer(), nullable=False),
        sa.Column("early_login_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_settings")),
    )
    op.create_table(
        "rota_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_index", sa.Integer(), nullable=True),
        sa.Column("end_day", sa.Date(), nullable=True),
        sa.Column("other_agent_id", sa.Integer(), nullable=True),
        sa.Column("other_day", sa.Date(), nullable=True),
        sa.Column("other_shift_index", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_rota_requests_agent_id_agents")),
        sa.ForeignKeyConstraint(["other_agent_id"], ["agents.id"],
                                name=op.f("fk_rota_requests_other_agent_id_agents")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_rota_requests_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_requests")),
    )
    op.create_index(op.f("ix_rota_requests_agent_id"), "rota_requests", ["agent_id"])
    op.create_table(
        "overtime_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_index", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_overtime_grants_agent_id_agents")),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"],
                                name=op.f("fk_overtime_grants_granted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overtime_grants")),
    )
    op.create_index(op.f("ix_overtime_grants_agent_id"), "overtime_grants", ["agent_id"])
    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_index", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_handover_notes_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_notes")),
    )
    pause_reasons = op.create_table(
        "pause_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pause_reasons")),
        sa.UniqueConstraint("code", name=op.f("uq_pause_reasons_code")),
    )
    op.bulk_insert(pause_reasons, [
        {"code": code, "label": label, "max_minutes": minutes, "active": True}
        for code, label, minutes in PAUSE_REASONS
    ])
    op.create_table(
        "agent_state_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=True),
        sa.Column("started_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_agent_state_periods_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_periods")),
    )
    op.create_index("ix_agent_state_periods_agent_started", "agent_state_periods",
                    ["agent_id", "started_at"])
    op.create_table(
        "staffing_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("raised_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("acknowledged_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_staffing_alerts_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staffing_alerts")),
    )
    op.create_index(op.f("ix_staffing_alerts_raised_at"), "staffing_alerts", ["raised_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staffing_alerts_raised_at"), table_name="staffing_alerts")
    op.drop_table("staffing_alerts")
    op.drop_index("ix_agent_state_periods_agent_started", table_name="agent_state_periods")
    op.drop_table("agent_state_periods")
    op.drop_table("pause_reasons")
    op.drop_table("handover_notes")
    op.drop_index(op.f("ix_overtime_grants_agent_id"), table_name="overtime_grants")
    op.drop_table("overtime_grants")
    op.drop_index(op.f("ix_rota_requests_agent_id"), table_name="rota_requests")
    op.drop_table("rota_requests")
    op.drop_table("rota_settings")
