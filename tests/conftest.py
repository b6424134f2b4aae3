"""Shared test fixtures: fixture files and fresh databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "asterisk-22"
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


def make_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of the given kind; drop it after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'hotline-test.db'}"
        return
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not answering: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
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
