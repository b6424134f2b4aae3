"""callback and 回访 calls: the Originate's ActionID, stored before it is sent

Expand only: a nullable ``work_orders.visit_action_id`` (no server default)
and an index on it and on the existing ``callback_attempts.action_id``.
Asterisk sends each OriginateResponse to every AMI session (manager.c
fast_originate), with the Originate's ActionID: when the backend that sent
it died before the agent answered, another one finds the call by that id
and records the agent's channel, so the elected backend follows the call
instead of closing it as lost (worksheets/dialer_takeover.py).  An older
release running beside this one does not know the column: its 回访 calls
keep it NULL and are closed as lost when their backend dies, as before;
its callback attempts store the id after sending (the column was there).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None
# The oldest release head that runs on this schema (hotline/schema_compat.py):
# a nullable column and two indexes, so the release before keeps working.
compatible_from = '0023'


def upgrade() -> None:
    op.add_column('work_orders', sa.Column('visit_action_id', sa.String(length=40),
                                           nullable=True))
    op.create_index(op.f('ix_work_orders_visit_action_id'), 'work_orders',
                    ['visit_action_id'], unique=False)
    op.create_index(op.f('ix_callback_attempts_action_id'), 'callback_attempts',
                    ['action_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_callback_attempts_action_id'), table_name='callback_attempts')
    op.drop_index(op.f('ix_work_orders_visit_action_id'), table_name='work_orders')
    # Not a SQLite batch: it would copy work_orders and drop its report triggers.
    op.drop_column('work_orders', 'visit_action_id')
