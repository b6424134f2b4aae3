"""the queues each agent is on, with their penalties, as the supervisor left them

Expand only (the previous release keeps running beside this one during an
upgrade): one new table it does not know about.  A backend that takes over
(or the elected one after Asterisk restarted) puts agents back on these
queues with these penalties instead of what it happened to remember.

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-06 00:30:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0021'
down_revision = '0022'
branch_labels = None
depends_on = None
# The oldest release head that runs on this schema (hotline/schema_compat.py):
# a new table, so the release before keeps working.
compatible_from = '0022'


def upgrade() -> None:
    op.create_table('agent_queue_members',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('penalty', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'],
                            name=op.f('fk_agent_queue_members_agent_id_agents')),
    sa.PrimaryKeyConstraint('agent_id', 'queue', name=op.f('pk_agent_queue_members'))
    )


def downgrade() -> None:
    op.drop_table('agent_queue_members')
