"""Running Alembic programmatically: on a given engine, from a given script folder.

The schema's migrations are the application's (``hotline/migrations``,
whose env.py imports every domain's tables); ``hotline.migrate`` binds
these functions to them for `hotline migrate`, the start-up check and the
tests.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(engine: Engine, location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, location: Path, revision: str = "heads") -> None:
    cfg = alembic_config(engine, location)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema's revision(s), comma-separated and sorted; None if unmigrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision(location: Path) -> str | None:
    """The head(s) of the migrations in ``location``, as :func:`current_revision` gives them."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    return ",".join(sorted(ScriptDirectory.from_config(cfg).get_heads())) or None
