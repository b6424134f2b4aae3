"""shift changes run once: early check-ins and changes in the database; 回访 calls owned

Expand only (the previous release keeps running beside this one during an
upgrade): two new tables and nullable columns it does not know about.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-05 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_checkins',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_in_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'],
                            name=op.f('fk_queue_checkins_agent_id_agents')),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_queue_checkins'))
    )
    op.create_table('shift_changes',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('shift_index', sa.Integer(), nullable=False),
    sa.Column('team_index', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('no_shows_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('day', 'shift_index', name=op.f('pk_shift_changes'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_owner', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('visit_lease_until',
                                      core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('visit_agent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('visit_uniqueid', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('visit_uniqueid')
        batch_op.drop_column('visit_agent_id')
        batch_op.drop_column('visit_lease_until')
        batch_op.drop_column('visit_owner')
    op.drop_table('shift_changes')
    op.drop_table('queue_checkins')
