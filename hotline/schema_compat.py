"""Which releases a schema still serves, for upgrades one instance at a time.

A release's schema revision is its migrations' head.  Every migration from
0022 on declares, beside ``revision`` and ``down_revision``::

    compatible_from = "0022"

the oldest release head whose code still runs on the schema this migration
leaves: its own ``down_revision`` for an *expand* migration (new tables,
new nullable or defaulted columns: the release before keeps working), a
later revision for a *contract* migration that removes what older releases
read (``compatible_from = revision`` when only this release and later
work).  ``tests/unit/test_schema_compat.py`` refuses a migration without it.

Whenever a migration is applied (``hotline migrate``, or Alembic itself:
``migrations/env.py`` hooks :func:`record_step` on every step) its row in
``schema_compat`` says (revision, down revisions, compatible_from).  A
backend starting on a database whose revision it does not know, so newer
than its own head, reads those rows from the database's revision down to
its own head: it starts, with a warning, when every newer migration serves
its head, and refuses otherwise.  It needs no knowledge of the newer
revisions, so a release started after the next one migrated (a restart, a
rollback) keeps running.  On an older schema it refuses: run
``hotline migrate``.  Releases before 0022 do not read the table: they
refuse any revision but their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alembic.util import to_tuple
from sqlalchemy import String, delete, insert, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

TABLE = "schema_compat"


class SchemaCompat(Base):
    __tablename__ = TABLE

    revision: Mapped[str] = mapped_column(String(32), primary_key=True)
    down_revisions: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    compatible_from: Mapped[str] = mapped_column(String(32))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


def record_step(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    """Alembic's ``on_version_apply``: keep ``schema_compat`` in step with the
    migrations applied (and unapplied by a downgrade)."""
    conn: Connection = ctx.connection
    if not step.is_upgrade:
        if inspect(conn).has_table(TABLE):  # gone when 0022 itself is downgraded
            conn.execute(delete(SchemaCompat).where(SchemaCompat.revision == step.up_revision_id))
        return
    for revision in step.up_revision_ids:
        script = step.revision_map.get_revision(revision)
        declared = getattr(script.module, "compatible_from", None)
        if declared is None:  # before 0022: no table yet, and no release needs the row
            continue
        conn.execute(delete(SchemaCompat).where(SchemaCompat.revision == revision))
        conn.execute(insert(SchemaCompat).values(
            revision=revision, down_revisions=",".join(to_tuple(script.down_revision, ())),
            compatible_from=declared, applied_at=datetime.now(UTC)))


@dataclass(frozen=True)
class Verdict:
    """``refused``: the backend must not start; ``message`` says why, or (when
    it may start) what to know, or is empty when the schema is its own."""

    refused: bool
    message: str = ""


def verdict(engine: Engine) -> Verdict:
    """May a backend of this release run on the database's schema?"""
    from alembic.runtime.migration import MigrationContext

    from hotline.migrate import scripts

    script = scripts()
    mine = set(script.get_heads())
    known = {r.revision for r in script.walk_revisions()}
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
        rows = _rows(conn) if current - known else {}
    at, needs = ",".join(sorted(current)) or "nothing", ",".join(sorted(mine))
    if current == mine:
        return Verdict(False)
    if not current - known:
        return Verdict(True, f"database schema is at {at}, needs {needs}: "
                             "run `hotline migrate` first")
    mine_and_before = {r.revision for r in script.iterate_revisions(tuple(mine), "base")}
    newer: list[str] = []
    reached: set[str] = set()  # revisions this release knows, where the newer ones begin
    todo = sorted(current - known)
    while todo:
        revision = todo.pop()
        if revision in newer:
            continue
        newer.append(revision)
        row = rows.get(revision)
        head = f"database schema is at {at}, newer than this release's {needs}"
        if row is None:
            return Verdict(True, f"{head}, and its migration {revision} does not say which "
                                 "releases it serves: run a release that has it")
        down, compatible_from = row
        if compatible_from not in mine_and_before:
            return Verdict(True, f"{head}, and its migration {revision} serves releases from "
                                 f"{compatible_from} on: run a release that has it")
        for parent in filter(None, down.split(",")):
            if parent in known:
                reached.add(parent)
            else:
                todo.append(parent)
    if not mine <= reached or not reached <= mine_and_before:
        return Verdict(True, f"database schema is at {at}, which does not follow this "
                             f"release's {needs}: run a release that has it")
    return Verdict(False, f"database schema is at {at}, newer than this release's {needs}; "
                          f"its newer migrations ({', '.join(sorted(newer))}) serve this "
                          "release: starting (upgrade this instance soon)")


def _rows(conn: Connection) -> dict[str, tuple[str, str]]:
    if not inspect(conn).has_table(TABLE):
        return {}
    # Plain SQL on the columns this release knows: a later release may add some.
    result = conn.execute(text(
        f"SELECT revision, down_revisions, compatible_from FROM {TABLE}"))  # noqa: S608
    return {revision: (down, compatible) for revision, down, compatible in result}
