"""a 加派 part's own 80 % warning, 催办 and extension

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06 00:20:00

Expand-only: every column is nullable or has a server default, and a part
without its own deadline (every row an older release writes) runs on the
order's, as before.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

COLUMNS = ('deadline_from', 'deadline_fallback', 'deadline_days', 'due_date', 'due_at',
           'warned_at', 'urged_at', 'urge_note', 'extension_days', 'extension_reason')


def upgrade() -> None:
    # Plain ADD COLUMNs, not a batch: on SQLite a batch may copy the table,
    # which drops the triggers migration 0018 put on it.
    for column in (
        sa.Column('deadline_from', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('deadline_fallback', sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.Column('deadline_days', sa.Integer(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('due_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('warned_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('urged_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('urge_note', sa.Text(), nullable=False, server_default=''),
        sa.Column('extension_days', sa.Integer(), nullable=True),
        sa.Column('extension_reason', sa.Text(), nullable=False, server_default=''),
    ):
        op.add_column('order_parts', column)


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column('order_parts', column)
