"""`hotline demo --instances N`: N backends on the database of the settings against one
built-in PBX; --json says which backend's IVR took each call."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_database_url
from tests.scale.processes import HOTLINE, base_env


@pytest.fixture
def pg_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


def test_given_two_instances_on_postgresql_then_every_call_is_reported_with_its_instance(
        pg_url: str, tmp_path: Path) -> None:
    env = base_env(pg_url, tmp_path / "var", HOTLINE_HTTP_LISTEN="127.0.0.1:0",
                   HOTLINE_AGI_LISTEN="127.0.0.1:0")
    proc = subprocess.run([*HOTLINE, "demo", "--instances", "2", "--calls", "8",
                           "--exit-when-done", "--json", "--simulated-time", "--seed", "3",
                           "--no-transcription"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["total"] == 8
    assert {c["instance"] for c in report["calls"]} <= {"b1", "b2"}
    assert all(c["instance"] for c in report["calls"] if c["outcome"] == "answered")
    assert "instance b2: console http://127.0.0.1:" in proc.stderr


def test_given_sqlite_then_several_instances_are_refused_with_the_reason(tmp_path: Path) -> None:
    env = base_env(f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "var")
    proc = subprocess.run([*HOTLINE, "demo", "--instances", "2"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "PostgreSQL" in proc.stderr and "SQLite serves one backend" in proc.stderr
