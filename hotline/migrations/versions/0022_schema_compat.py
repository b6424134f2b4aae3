"""which releases the schema serves: one row per migration (rolling upgrades)

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-06 00:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0019'
branch_labels = None
depends_on = None
# The oldest release head that runs on this schema (hotline/schema_compat.py):
# a new table, so the release before keeps working.
compatible_from = '0017'


def upgrade() -> None:
    op.create_table(
        'schema_compat',
        sa.Column('revision', sa.String(length=32), nullable=False),
        sa.Column('down_revisions', sa.String(length=200), nullable=False),
        sa.Column('compatible_from', sa.String(length=32), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('revision', name=op.f('pk_schema_compat')),
    )


def downgrade() -> None:
    op.drop_table('schema_compat')
