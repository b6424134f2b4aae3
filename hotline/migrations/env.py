"""Alembic environment: runs against the engine URL handed in by hotline.migrate."""

from alembic import context
from sqlalchemy import create_engine

import hotline.models  # noqa: F401  (registers every table)
from core.db import Base
from hotline.schema_compat import record_step

config = context.config
target_metadata = Base.metadata

# The knowledge base's search index lives outside the models (an FTS5 table
# and its shadow tables on SQLite, a generated tsvector column and its GIN
# index on PostgreSQL; migration 0010 makes them): autogenerate must neither
# drop nor compare it.
SEARCH_INDEX_NAMES = ("kb_articles_fts", "ix_kb_articles_search", "search_vector")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(SEARCH_INDEX_NAMES)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, include_name=include_name,
                          on_version_apply=record_step)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          include_name=include_name, on_version_apply=record_step)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
