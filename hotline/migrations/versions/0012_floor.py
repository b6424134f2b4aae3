"""the live floor: supervisors' phones, floor alerts

Expand only: a nullable column and a new table.

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-05 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0012'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=48), nullable=True))
    op.create_table('floor_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('raised_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('acknowledged_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'],
                            name=op.f('fk_floor_alerts_acknowledged_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_floor_alerts'))
    )
    op.create_index('ix_floor_alerts_key_open', 'floor_alerts', ['key', 'acknowledged_at'])
    op.create_index(op.f('ix_floor_alerts_raised_at'), 'floor_alerts', ['raised_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_floor_alerts_raised_at'), table_name='floor_alerts')
    op.drop_index('ix_floor_alerts_key_open', table_name='floor_alerts')
    op.drop_table('floor_alerts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone')
