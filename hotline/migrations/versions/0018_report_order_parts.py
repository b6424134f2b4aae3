"""reports: 加派 parts mark their order's day for the roll-ups

Expand only: triggers on ``order_parts`` that write to ``report_dirty``
(the per-department roll-up counts each co-handling part for its
department, reports/rollup.py), so a part given, signed for, returned,
answered or dropped recounts its order's day, ORM or not.  Days already
rolled up that hold parts, or calls still in the IVR or a queue (no longer
counted as offered), are marked to be counted again.  An older release
beside this one writes parts as before; the triggers mark them all the same.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:30:00
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# As 0014: the hour as 'YYYY-MM-DD HH' in UTC.
PG_HOUR = "to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
PG_MARK = ("INSERT INTO report_dirty (kind, hour) SELECT 'o', {hour} FROM work_orders "
           "WHERE id = {{}}.order_id;").format(hour=PG_HOUR.format('created_at'))
PG_FUNCTION = f"""
CREATE FUNCTION report_mark_order_parts() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.order_id IS DISTINCT FROM NEW.order_id)
  THEN {PG_MARK.format('OLD')}
  END IF;
  IF TG_OP <> 'DELETE' THEN {PG_MARK.format('NEW')}
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

SQLITE_MARK = ("INSERT INTO report_dirty (kind, hour) SELECT 'o', substr(created_at, 1, 13) "
               "FROM work_orders WHERE id = {}")
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER report_parts_ins AFTER INSERT ON order_parts BEGIN
  {SQLITE_MARK.format('NEW.order_id')}; END""",
    f"""CREATE TRIGGER report_parts_upd AFTER UPDATE ON order_parts BEGIN
  {SQLITE_MARK.format('NEW.order_id')};
  {SQLITE_MARK.format('OLD.order_id')} AND OLD.order_id IS NOT NEW.order_id; END""",
    f"""CREATE TRIGGER report_parts_del AFTER DELETE ON order_parts BEGIN
  {SQLITE_MARK.format('OLD.order_id')}; END""",
]


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    orders_hour = PG_HOUR.format("created_at") if pg else "substr(created_at, 1, 13)"
    calls_hour = PG_HOUR.format("entered_at") if pg else "substr(entered_at, 1, 13)"
    op.execute(f"INSERT INTO report_dirty (kind, hour) SELECT DISTINCT 'o', {orders_hour} "
               "FROM work_orders WHERE id IN (SELECT order_id FROM order_parts)")
    op.execute(f"INSERT INTO report_dirty (kind, hour) SELECT DISTINCT 'c', {calls_hour} "
               "FROM calls WHERE outcome IN ('in_ivr', 'queued')")
    if pg:
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER report_mark AFTER INSERT OR UPDATE OR DELETE ON order_parts "
                   "FOR EACH ROW EXECUTE FUNCTION report_mark_order_parts()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_mark ON order_parts")
        op.execute("DROP FUNCTION report_mark_order_parts()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute("DROP TRIGGER " + trigger.split()[2])
