"""Upgrades one instance at a time: a backend starts on a schema newer than its
own head when the newer migrations say they serve it, refuses clearly when they
do not (or say nothing), and asks for `hotline migrate` on an older schema."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.clock import run_simulated
from hotline.app import Backend, StartupError
from hotline.migrate import head_revision, scripts, upgrade
from hotline.schema_compat import verdict
from tests.helpers import settings_for_test

HEAD = head_revision() or ""


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def newer(url: str, *chain: tuple[str, str]) -> None:
    """Pretend a later release migrated: (revision, compatible_from), oldest first."""
    engine = create_engine(url)
    with engine.begin() as conn:
        down = HEAD
        for revision, compatible_from in chain:
            if compatible_from:
                conn.execute(text("INSERT INTO schema_compat VALUES (:r, :d, :c, :t)"),
                             {"r": revision, "d": down, "c": compatible_from,
                              "t": datetime.now(UTC)})
            down = revision
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": down})
    engine.dispose()


def since_0022() -> set[str]:
    """Revisions at or after 0022 (the first that declares compatible_from)."""
    script = scripts()
    return {r.revision for r in script.walk_revisions()
            if "0022" in {a.revision for a in script.iterate_revisions(r.revision, "base")}}


def judged(url: str) -> tuple[bool, str]:
    engine = create_engine(url)
    try:
        result = verdict(engine)
    finally:
        engine.dispose()
    return result.refused, result.message


def test_every_migration_from_0022_on_says_which_releases_it_serves() -> None:
    script = scripts()
    since = since_0022()
    assert "0022" in since and HEAD in since
    for revision in since:
        module = script.get_revision(revision).module
        declared = getattr(module, "compatible_from", None)
        assert declared is not None, f"migration {revision} lacks compatible_from"
        before = {r.revision for r in script.iterate_revisions(revision, "base")}
        assert declared in before, f"{revision}: compatible_from {declared} is not before it"


def test_migrate_records_the_migrations_that_declare_it(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT revision, down_revisions, compatible_from "
                                     "FROM schema_compat")).all()
    finally:
        engine.dispose()
    assert ("0022", scripts().get_revision("0022").down_revision, "0017") in rows
    assert {r for r, _d, _c in rows} == since_0022()


def test_its_own_schema_is_served_in_silence(url: str) -> None:
    assert judged(url) == (False, "")


def test_given_an_older_schema_then_refused_run_migrate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0017'"))
    engine.dispose()
    assert judged(url) == (True, f"database schema is at 0017, needs {HEAD}: "
                                 "run `hotline migrate` first")


def test_given_newer_migrations_that_serve_this_release_then_served_with_a_warning(
        url: str) -> None:
    newer(url, ("9001", HEAD), ("9002", "0017"))
    refused, message = judged(url)
    assert not refused
    assert message == (f"database schema is at 9002, newer than this release's {HEAD}; its "
                       "newer migrations (9001, 9002) serve this release: starting "
                       "(upgrade this instance soon)")


def test_given_a_newer_migration_that_serves_only_later_releases_then_refused(
        url: str) -> None:
    newer(url, ("9001", HEAD), ("9002", "9001"))  # 9002 contracts what HEAD reads
    assert judged(url) == (True, f"database schema is at 9002, newer than this release's "
                                 f"{HEAD}, and its migration 9002 serves releases from 9001 "
                                 "on: run a release that has it")


def test_given_a_newer_migration_that_says_nothing_then_refused(url: str) -> None:
    newer(url, ("9001", HEAD), ("9002", ""))
    refused, message = judged(url)
    assert refused and "its migration 9002 does not say which releases it serves" in message


def test_given_a_compatible_newer_schema_then_the_backend_starts_with_a_warning(
        url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    newer(url, ("9001", HEAD))

    async def main() -> dict[str, object]:
        backend = Backend(settings_for_test(url, tmp_path))
        await backend.start()
        try:
            assert backend.http_port
            return backend.status()["schema"]  # type: ignore[no-any-return]
        finally:
            await backend.stop()

    with caplog.at_level(logging.WARNING, logger="hotline.app"):
        schema = run_simulated(main())
    note = f"database schema is at 9001, newer than this release's {HEAD}"
    assert note in caplog.text
    assert schema["newer"] is True and str(schema["note"]).startswith(note)  # /healthz


def test_given_an_incompatible_newer_schema_then_the_backend_refuses_to_start(
        url: str, tmp_path: Path) -> None:
    newer(url, ("9001", "9001"))

    async def main() -> None:
        await Backend(settings_for_test(url, tmp_path)).start()

    with pytest.raises(StartupError, match=r"^database schema is at 9001, newer than this "
                                           r"release's .*serves releases from 9001 on"):
        run_simulated(main())
