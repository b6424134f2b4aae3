"""administration: teams deactivated, departments' contacts and leader, the old hotlines' kinds

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-05 21:00:00

Every legacy line so far was a dual-track one (双轨运行): ``kind`` starts
as ``dual``; merged (retired) and special lines are added by the admin.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('leader_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_departments_leader_user_id_users'), 'users', ['leader_user_id'], ['id'], use_alter=True)

    with op.batch_alter_table('legacy_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False, server_default='dual'))
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('legacy_lines', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('kind')

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_departments_leader_user_id_users'), type_='foreignkey')
        batch_op.drop_column('leader_user_id')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_name')

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('active')
