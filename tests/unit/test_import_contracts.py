"""The package layering (pyproject's [tool.importlinter] contracts): core imports
no other first-party package; the application (hotline) sits over the domain
packages, which take only hotline.deps from it; hotline.deps imports only core."""
# rewrite_core_imports: skip this file (it checks the old names still work)

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

CONTRACTS = ("core-is-the-base", "app-over-domains-over-core", "deps-imports-only-core")
MOVED = ("settings", "clock", "db", "logmask", "tasks", "outbox", "leases", "election",
         "accounts", "bus", "events", "live_events", "passwords", "login_throttle",
         "pg_relay", "spreadsheet")


def test_given_the_project_then_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.exists(), "import-linter is missing: run scripts/setup (the test extra)"
    out = subprocess.run([str(lint_imports), "--no-cache"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    for contract in CONTRACTS:  # none was dropped from pyproject.toml unnoticed
        assert f"{contract}" in (PROJECT_ROOT / "pyproject.toml").read_text("utf-8")
    assert f"{len(CONTRACTS)} kept, 0 broken" in report, report


def test_given_a_package_of_ours_on_disk_then_the_contracts_know_it() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    roots = set(config["tool"]["importlinter"]["root_packages"])
    on_disk = {p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk == roots
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    assert set(contracts["core-is-the-base"]["forbidden_modules"]) == roots - {"core"}
    top, domains, bottom = contracts["app-over-domains-over-core"]["layers"]
    assert (top, bottom) == ("hotline", "core")
    assert {name.strip() for name in domains.split(":")} == roots - {"hotline", "core"}


@pytest.mark.parametrize("name", MOVED)
def test_given_an_old_hotline_name_then_it_is_the_core_module_itself(name: str) -> None:
    old = importlib.import_module(f"hotline.{name}")
    new = importlib.import_module(f"core.{name}")
    assert old is new
    assert getattr(importlib.import_module("hotline"), name) is new


def test_given_a_monkeypatch_through_the_old_name_then_core_code_sees_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import core.logmask

    monkeypatch.setattr("hotline.logmask.mask_number", lambda number: "patched")
    assert core.logmask.mask_number("13800138000") == "patched"
