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
