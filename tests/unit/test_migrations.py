"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine

from hotline.migrate import alembic_config, current_revision, head_revision, upgrade


def test_migrations_match_the_models_and_form_one_line(database_url):
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        assert "," not in (head_revision() or "")  # one head: the history is linear
        assert current_revision(engine) == head_revision()
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.check(cfg)  # raises if autogenerate would find a difference
    finally:
        engine.dispose()


# Triggers the models cannot describe (autogenerate does not see them): a
# later migration that copies a table (a SQLite batch) would drop them unseen.
TRIGGERED = {"calls", "work_orders", "order_parts"}  # report_dirty marks (0014, 0018)


def test_the_report_triggers_survive_every_later_migration(database_url):
    from sqlalchemy import text

    engine = create_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.execute(text(
                    "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                    "WHERE action_statement LIKE '%report_mark%'"))
            else:
                rows = conn.execute(text(
                    "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                    "AND name LIKE 'report_%'"))
            tables = {r[0] for r in rows}
        assert TRIGGERED <= tables, f"report triggers missing on {TRIGGERED - tables}"
    finally:
        engine.dispose()
