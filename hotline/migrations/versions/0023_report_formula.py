"""reports: which counting wrote each daily roll-up row

Expand only: a nullable ``formula`` column (no server default) and an index
on ``formula, day`` on both daily roll-up tables.  An older release still
running beside this one does not know the column: the rows it writes (it
claims the 0018 marks and recounts those days its own way: "queued" calls
offered, no 加派 parts) keep ``formula`` NULL, and this release's refresh
recounts every day with a NULL or older formula (reports/rollup.py).  The
rows already there are left NULL: whichever release counted them, they are
recounted once.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 01:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None
# The oldest release head that runs on this schema (hotline/schema_compat.py):
# a nullable column and an index, so the release before keeps working.
compatible_from = '0021'

TABLES = ('report_calls_daily', 'report_orders_daily')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('formula', sa.Integer(), nullable=True))
        op.create_index(f'ix_{table}_formula_day', table, ['formula', 'day'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_formula_day', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('formula')
