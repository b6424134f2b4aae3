"""Database engine, declarative base and the async bridge to it.

The same models and migrations serve SQLite (the embedded default) and
PostgreSQL (the scale-out store).  Service code is plain synchronous
SQLAlchemy taking a ``Session``; the event loop reaches it through
:meth:`Database.run`, which runs the work in a worker thread so that AMI
reading and FastAGI sessions never wait on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, String, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class FieldTooLong(ValueError):
    """A text longer than its column: refused on every database, as PostgreSQL
    would (SQLite would store it whole).  The HTTP layer answers 400."""

    def __init__(self, field: str, limit: int, length: int) -> None:
        super().__init__(f"{field}: at most {limit} characters (got {length})")
        self.field, self.limit = field, limit


@event.listens_for(Session, "before_flush")
def _check_lengths(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            limit = getattr(column.type, "length", None)
            if not limit or not isinstance(column.type, String):
                continue
            value = getattr(obj, column.key, None)
            if isinstance(value, str) and len(value) > limit:
                raise FieldTooLong(f"{table.name}.{column.key}", limit, len(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """Owns the engine, the session factory and the thread that runs queries."""

    def __init__(self, url: str) -> None:
        # Every table a query reaches must be imported (declared on Base)
        # before it runs, or a foreign key to a table not yet imported cannot
        # be resolved: the application imports them all (hotline.models, by
        # its entry points and tests/conftest.py); this base knows none.
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: a single thread serialises writes
        # without lock errors.  PostgreSQL gets a few.
        workers = 1 if self.engine.dialect.name == "sqlite" else 4
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="db"
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction, synchronously."""
        with self.session() as session:
            return fn(session, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.call, fn, *args)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def call_on_configured(config_file: str | None, fn: Callable[[Session, Any], T]) -> T:
    """For one-shot commands: ``fn(session, settings)`` in one transaction on
    the database the settings name (``config_file`` as ``--config``)."""
    from core.settings import load_settings

    settings = load_settings(config_file=config_file)
    db = Database(settings.database_url)
    try:
        return db.call(lambda s: fn(s, settings))
    finally:
        db.close()
