"""the floor's alert thresholds, set by supervisors

Expand only: a new table (an older release keeps its constants).

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-06 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('floor_thresholds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('long_wait_seconds', sa.Integer(), nullable=False),
    sa.Column('service_level_target', sa.Float(), nullable=False),
    sa.Column('service_level_min_offered', sa.Integer(), nullable=False),
    sa.Column('draft_minutes', sa.Integer(), nullable=False),
    sa.Column('set_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'],
                            name=op.f('fk_floor_thresholds_set_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_floor_thresholds'))
    )


def downgrade() -> None:
    op.drop_table('floor_thresholds')
