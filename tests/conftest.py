"""Shared test fixtures: fixture files and fresh databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text

# Every domain's tables, as the application's entry points import them (core.db
# knows none): a test may query any table with a Database of its own.
import hotline.models  # noqa: F401

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "asterisk-22"
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def _postgres_available(url: str = PG_ADMIN_URL) -> str | None:
    """None when the server answers ``url``'s login, else the first line of why not."""
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT",
                               connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


# The server answered and turned the login down: a wrong password, user or
# database in HOTLINE_TEST_PG is a set-up to fix, never a reason to skip.
_REFUSED = ("password authentication failed", "no password supplied", "does not exist",
            "permission denied", "authentication failed", "pg_hba.conf")


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip a PostgreSQL test on a machine without the server; fail in CI, or
    when the server is there but refuses the test's login."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI and is not answering: {reason}")
    if any(marker in reason.lower() for marker in _REFUSED):
        pytest.fail(f"PostgreSQL refused the tests' login (HOTLINE_TEST_PG): {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def make_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of the given kind; drop it after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'hotline-test.db'}"
        return
    problem = _postgres_available()
    if problem is not None:
        postgres_unavailable(problem)
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, unmigrated database on each backend."""
    yield from make_database_url(request.param, tmp_path)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Browser tests run last.  Playwright's sync API keeps its event loop
    marked as running in the main thread while the session's chromium is
    open, and every later test that starts a loop (asyncio.run) would fail
    with "cannot be called from a running event loop"."""
    browser = [item for item in items if "/tests/browser/" in str(item.path)]
    if browser:
        others = [item for item in items if "/tests/browser/" not in str(item.path)]
        items[:] = others + browser
