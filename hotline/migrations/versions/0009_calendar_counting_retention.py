"""loaded calendar years; deadlines flagged when counted on the fallback; the
post-call survey apart from the 回访 verdict; 回访 attempts kept; the 80 %
warning and the latest 催办 on the order

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-05 18:10:00

Expand only: the previous release keeps working on these tables (it does
not know the new columns; their server defaults fill them).
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('urge_note', 'urged_at', 'warned_at', 'visit_calling_since', 'visit_last_try_at', 'visit_attempts', 'survey_answer',
           'deadline_fallback', 'deadline_from')
DEADLINE_FROM = """
UPDATE work_orders SET deadline_from = COALESCE(
    (SELECT max(e.at) FROM order_events e WHERE e.order_id = work_orders.id
       AND e.kind IN ('dispatched', 'redispatched', 'reopened')),
    submitted_at)
WHERE due_at IS NOT NULL
"""
# The shipped arrangements end with 2026: an open order due later was
# counted on the Monday-Friday fallback.  Recomputed when 2027 is loaded.
FALLBACK = """
UPDATE work_orders SET deadline_fallback = true
WHERE status IN ('dispatched', 'accepted') AND due_date >= '2027-01-01'
"""
# Until now the survey answer was written into satisfaction, and a 回访
# overwrote it: the survey comes back from the call's timeline, and
# satisfaction keeps only what a 回访 said.
SURVEY = """
UPDATE work_orders SET survey_answer = (
    SELECT ce.detail FROM call_events ce WHERE ce.call_id = work_orders.call_id
       AND ce.kind = 'survey' ORDER BY ce.id DESC LIMIT 1)
WHERE call_id IS NOT NULL
"""
SATISFACTION = """
UPDATE work_orders SET satisfaction = CASE
    WHEN visit_result IN ('satisfied', 'basically_satisfied', 'dissatisfied')
    THEN visit_result ELSE NULL END
"""


def upgrade() -> None:
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('arrangement', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('loaded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_years_version'), ['version'],
                              unique=False)
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_from', core.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('deadline_fallback', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('survey_answer', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('visit_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('visit_last_try_at',
                                      core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('visit_calling_since',
                                      core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('warned_at', core.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('urged_at', core.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('urge_note', sa.Text(), nullable=False,
                                      server_default=''))
    op.execute(DEADLINE_FROM)
    op.execute(FALLBACK)
    op.execute(SURVEY)
    op.execute(SATISFACTION)


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_column(column)
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_years_version'))
    op.drop_table('calendar_years')
