"""Seeded databases for the agents tests: SQLite and PostgreSQL.

Each test gets a migrated database holding the demo city (six teams of
seven agents) and one user per role.  PostgreSQL databases are cloned
from a template prepared once per run; without a server those tests are
skipped (failed under CI=true).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.db import Database
from tests.conftest import PG_ADMIN_URL, _postgres_available, postgres_unavailable
from tests.helpers import prepare_database

PG_SERVER = PG_ADMIN_URL.rsplit("/", 1)[0]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEEDED_AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str | None]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError:
        admin.dispose()
        yield None
        return
    name = f"hotline_agents_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        prepare_database(f"{PG_SERVER}/{name}", SEEDED_AT)
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents-template") / "template.db"
    prepare_database(f"sqlite:///{path}", SEEDED_AT)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:  # fold the WAL into the file before copying it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a migrated database with the demo city and users admin/sup/dept/agent."""
    if request.param == "sqlite":
        # Migrating, seeding and hashing five passwords takes a second or two:
        # do it once and copy the file.
        path = tmp_path / "agents.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_pg_template")
    if template is None:
        postgres_unavailable(_postgres_available() or "no template database")
    name = f"hotline_agents_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(seeded_url: str) -> Iterator[Database]:
    database = Database(seeded_url)
    try:
        yield database
    finally:
        database.close()
