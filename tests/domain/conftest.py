"""Fresh, migrated databases for the domain tests: SQLite and PostgreSQL.

PostgreSQL tests get a database with a unique name on the local server
(postgresql+psycopg://root@127.0.0.1:5432, trust auth), cloned from a
template migrated once per run with ``hotline.migrate.upgrade``, and
dropped after.
If the server does not answer they are skipped, unless CI=true, where a
missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db import Database, make_engine
from hotline.migrate import upgrade
from tests.conftest import postgres_unavailable
from tests.helpers import prepare_database
from worksheets.calendar import WorkingCalendar

# Same variable and format as tests/conftest.py: the admin database's URL.
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
PG_SERVER = PG_ADMIN_URL.rsplit("/", 1)[0]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _postgres_unavailable(reason: str) -> None:
    postgres_unavailable(reason)


def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@dataclass
class _PostgresServer:
    admin: Engine
    template: str | None = None
    problem: str | None = None


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_PostgresServer]:
    """The server, and a migrated template database cloned for each test (fast)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    server = _PostgresServer(admin)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        server.problem = str(exc.orig).strip().splitlines()[0]
        yield server
        admin.dispose()
        return
    template = f"hotline_test_tpl_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    try:
        engine = make_engine(f"{PG_SERVER}/{template}")
        upgrade(engine)
        engine.dispose()  # a template must have no connections when cloned
        server.template = template
        yield server
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


def _postgres_engine(server: _PostgresServer) -> Iterator[Engine]:
    if server.problem is not None or server.template is None:
        _postgres_unavailable(server.problem or "no template database")
        return
    name = f"hotline_test_{uuid.uuid4().hex[:16]}"
    with server.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}"'))
    engine = make_engine(f"{PG_SERVER}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with server.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path)
    else:
        yield from _postgres_engine(request.getfixturevalue("_postgres"))


@pytest.fixture
def db_sessions(db_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(db_engine, expire_on_commit=False)


@pytest.fixture
def db_session(db_sessions: sessionmaker[Session]) -> Iterator[Session]:
    with db_sessions() as session:
        yield session


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.official()


@pytest.fixture
def tz() -> ZoneInfo:
    return SHANGHAI


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0) -> datetime:
    """An aware Asia/Shanghai wall-clock time, converted to UTC like the clock gives."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


# Monday 30 November 2026, 10:00 in Baoji: the demo city seeded at that time.
SEEDED_AT = datetime(2026, 11, 30, 2, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database with the demo city and one login per role."""
    prepare_database(database_url, SEEDED_AT)
    database = Database(database_url)
    yield database
    database.close()
