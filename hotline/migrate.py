"""The application's schema migrations (Alembic, ``hotline/migrations``), run
by `hotline migrate`, checked at start-up and applied by the tests.

The folder stays in the application: its env.py imports every domain's
tables (``hotline.models``).  The Alembic plumbing is ``core.migrate``'s.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from core import migrate
from core.migrate import current_revision

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "scripts",
           "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    return migrate.alembic_config(engine, MIGRATIONS)


def upgrade(engine: Engine, revision: str = "heads") -> None:
    migrate.upgrade(engine, MIGRATIONS, revision)


def head_revision() -> str | None:
    return migrate.head_revision(MIGRATIONS)


def scripts() -> ScriptDirectory:
    """This release's migrations (hotline.schema_compat reads their declarations)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)
