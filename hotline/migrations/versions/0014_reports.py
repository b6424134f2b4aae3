"""reports: daily roll-ups kept by triggers, indexes the reports need

Expand only: three new tables, indexes and triggers that write to the new
``report_dirty`` table (an older release beside this one writes calls and
orders as before; the triggers mark them all the same).

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-05 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0014'
down_revision = '0015'
branch_labels = None
depends_on = None

CALL_SUMS = ("calls", "offered", "answered", "abandoned", "ivr_only", "within_target",
             "hold_sum", "talk_sum", "talk_n")
ORDER_SUMS = ("orders", "submitted", "closed", "closed_on_time", "dispatched", "returned",
              "rated", "satisfied", "surveyed", "survey_satisfied", "quick", "judged",
              "drafts_unsubmitted", "returned_by", "came_back")

# PostgreSQL: one function per table, the hour as 'YYYY-MM-DD HH' in UTC.
PG_HOUR = "to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
PG_FUNCTIONS = {
    "calls": f"""
CREATE FUNCTION report_mark_calls() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.entered_at IS DISTINCT FROM NEW.entered_at)
  THEN INSERT INTO report_dirty (kind, hour) VALUES ('c', {PG_HOUR.format('OLD.entered_at')});
  END IF;
  IF TG_OP <> 'DELETE'
  THEN INSERT INTO report_dirty (kind, hour) VALUES ('c', {PG_HOUR.format('NEW.entered_at')});
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "work_orders": f"""
CREATE FUNCTION report_mark_work_orders() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.created_at IS DISTINCT FROM NEW.created_at)
  THEN INSERT INTO report_dirty (kind, hour) VALUES ('o', {PG_HOUR.format('OLD.created_at')});
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO report_dirty (kind, hour) VALUES ('o', {PG_HOUR.format('NEW.created_at')});
    IF NEW.call_id IS NOT NULL AND (TG_OP = 'INSERT'
        OR OLD.department_id IS DISTINCT FROM NEW.department_id) THEN
      INSERT INTO report_dirty (kind, hour) SELECT 'c', {PG_HOUR.format('entered_at')}
        FROM calls WHERE id = NEW.call_id;
    END IF;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
}

# SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff': the hour is its first 13 characters.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER report_calls_ins AFTER INSERT ON calls BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('c', substr(NEW.entered_at, 1, 13)); END""",
    """CREATE TRIGGER report_calls_upd AFTER UPDATE ON calls BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('c', substr(NEW.entered_at, 1, 13));
  INSERT INTO report_dirty (kind, hour) SELECT 'c', substr(OLD.entered_at, 1, 13)
    WHERE OLD.entered_at IS NOT NEW.entered_at; END""",
    """CREATE TRIGGER report_calls_del AFTER DELETE ON calls BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('c', substr(OLD.entered_at, 1, 13)); END""",
    """CREATE TRIGGER report_orders_ins AFTER INSERT ON work_orders BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('o', substr(NEW.created_at, 1, 13));
  INSERT INTO report_dirty (kind, hour) SELECT 'c', substr(entered_at, 1, 13)
    FROM calls WHERE id = NEW.call_id; END""",
    """CREATE TRIGGER report_orders_upd AFTER UPDATE ON work_orders BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('o', substr(NEW.created_at, 1, 13));
  INSERT INTO report_dirty (kind, hour) SELECT 'o', substr(OLD.created_at, 1, 13)
    WHERE OLD.created_at IS NOT NEW.created_at;
  INSERT INTO report_dirty (kind, hour) SELECT 'c', substr(entered_at, 1, 13)
    FROM calls WHERE id = NEW.call_id AND OLD.department_id IS NOT NEW.department_id; END""",
    """CREATE TRIGGER report_orders_del AFTER DELETE ON work_orders BEGIN
  INSERT INTO report_dirty (kind, hour) VALUES ('o', substr(OLD.created_at, 1, 13)); END""",
]


def _daily(name, sums):
    op.create_table(name,
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *[sa.Column(s, sa.Integer(), nullable=False) for s in sums],
    sa.PrimaryKeyConstraint('day', 'dim', 'key', name=op.f(f'pk_{name}')),
    )
    op.create_index(op.f(f'ix_{name}_dim_day'), name, ['dim', 'day'])


def upgrade() -> None:
    op.create_table('report_dirty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('taken_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_dirty')),
    )
    _daily('report_calls_daily', CALL_SUMS)
    _daily('report_orders_daily', ORDER_SUMS)
    op.create_index(op.f('ix_calls_entered_at'), 'calls', ['entered_at'])
    op.create_index(op.f('ix_work_orders_created_at'), 'work_orders', ['created_at'])
    # department_id too: the overdue count per department is an index-only scan
    op.create_index(op.f('ix_work_orders_status_due_at'), 'work_orders',
                    ['status', 'due_at', 'department_id'])
    # Every hour that already has calls or orders is marked, so that the
    # backends count the existing history into the roll-ups (a month of
    # days a round, newest first: reports.rollup.refresh_job).
    pg = op.get_bind().dialect.name == "postgresql"
    for kind, table, column in (("c", "calls", "entered_at"), ("o", "work_orders", "created_at")):
        hour = PG_HOUR.format(column) if pg else f"substr({column}, 1, 13)"
        op.execute(f"INSERT INTO report_dirty (kind, hour) SELECT DISTINCT '{kind}', {hour} "
                   f"FROM {table}")
    if pg:
        for table, function in PG_FUNCTIONS.items():
            op.execute(function)
            op.execute(f"CREATE TRIGGER report_mark AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION report_mark_{table}()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in PG_FUNCTIONS:
            op.execute(f"DROP TRIGGER report_mark ON {table}")
            op.execute(f"DROP FUNCTION report_mark_{table}()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute("DROP TRIGGER " + trigger.split()[2])
    op.drop_index(op.f('ix_work_orders_status_due_at'), 'work_orders')
    op.drop_index(op.f('ix_work_orders_created_at'), 'work_orders')
    op.drop_index(op.f('ix_calls_entered_at'), 'calls')
    op.drop_table('report_orders_daily')
    op.drop_table('report_calls_daily')
    op.drop_table('report_dirty')
