"""the address of the matter on every work order

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-05 22:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_orders') as batch:
        batch.add_column(sa.Column('address', sa.String(length=200), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('work_orders') as batch:
        batch.drop_column('address')
