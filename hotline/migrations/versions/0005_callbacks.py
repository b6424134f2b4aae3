"""click-to-call callbacks: attempts and who holds a task

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:40:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('agent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_result', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', core.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_callback_tasks_agent_id_agents'), 'agents',
                                    ['agent_id'], ['id'])
    op.create_table('callback_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.String(length=40), nullable=True),
    sa.Column('uniqueid', sa.String(length=64), nullable=True),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_callback_attempts_agent_id_agents')),
    sa.ForeignKeyConstraint(['task_id'], ['callback_tasks.id'], name=op.f('fk_callback_attempts_task_id_callback_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts'))
    )
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempts_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempts_task_id'))
    op.drop_table('callback_attempts')
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_callback_tasks_agent_id_agents'),
                                 type_='foreignkey')
        for column in ('note', 'last_attempt_at', 'last_result', 'agent_id', 'attempts'):
            batch_op.drop_column(column)
