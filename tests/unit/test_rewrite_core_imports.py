"""scripts/dev/rewrite_core_imports.py: old ``hotline.<m>`` names to ``core.<m>``,
idempotent (the coordinator runs it again after each merge)."""
# rewrite_core_imports: skip this file (its examples keep the old names)

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from core.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "dev" / "rewrite_core_imports.py"

BEFORE = '''\
from hotline import settings
from hotline import app, accounts as acc
import hotline.clock
import hotline.db  # noqa: F401
import hotline.models
from hotline.db import Base, UTCDateTime
from hotline.migrate import upgrade
from hotline.live_events import (
    CallAnswered,
    CallEnded,
)
from hotline.outbox import CALL_RECORDING, OutboxWorker
from hotline.cli import _fail, build_parser
now = hotline.clock.Clock.now
monkeypatch.setattr("hotline.clock.VirtualTimeLoop", None)
log = logging.getLogger("hotline.pg_relay")
url = f"sqlite:///{tmp / 'hotline.db'}"
wal = var / "hotline.db-wal"
column = hotline.db.UTCDateTime(timezone=True)
def f():
    from hotline.settings import load_settings as load
'''
AFTER = '''\
from core import settings
from core import accounts as acc
from hotline import app
import core.clock
import core.db  # noqa: F401
import hotline.models
from core.db import Base, UTCDateTime
from hotline.migrate import upgrade
from core.live_events import (
    CallAnswered,
    CallEnded,
)
from speech.recording_outbox import CALL_RECORDING
from core.outbox import OutboxWorker
from core.commands import fail as _fail
from hotline.cli import build_parser
now = core.clock.Clock.now
monkeypatch.setattr("core.clock.VirtualTimeLoop", None)
log = logging.getLogger("core.pg_relay")
url = f"sqlite:///{tmp / 'hotline.db'}"
wal = var / "hotline.db-wal"
column = core.db.UTCDateTime(timezone=True)
def f():
    from core.settings import load_settings as load
'''


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rewrite_core_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_given_old_names_when_rewritten_then_core_names_and_again_nothing_changes() -> None:
    rewrite = script().rewrite
    assert rewrite(BEFORE) == AFTER
    assert rewrite(AFTER) == AFTER


def test_given_a_module_alias_when_a_name_left_it_then_the_new_module_is_imported() -> None:
    before = "from hotline import outbox\n\nkey = outbox.CALL_RECORDING\nworker = outbox.add\n"
    after = script().rewrite(before)
    assert after == ("from core import outbox\nfrom speech import recording_outbox\n\n"
                     "key = recording_outbox.CALL_RECORDING\nworker = outbox.add\n")


def test_given_this_checkout_then_nothing_is_left_to_rewrite() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout) == (0, "")


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          cwd=repo, capture_output=True, text=True, check=False)


def test_given_a_merge_stopped_on_a_shim_when_ported_then_the_change_is_in_core(
        tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "hotline").mkdir(parents=True)
    (repo / "hotline" / "clock.py").write_text('"""The clock."""\n\nA = 1\n', "utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "core")
    (repo / "core").mkdir()
    (repo / "core" / "clock.py").write_text('"""The clock."""\n\nA = 1\n', "utf-8")
    (repo / "hotline" / "clock.py").write_text(
        '"""Moved to core.clock; this alias is kept for one release (remove in the next)."""\n'
        "import sys\n\nimport core.clock as _m\n\nsys.modules[__name__] = _m\n", "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "move")
    git(repo, "checkout", "-q", "main")
    (repo / "hotline" / "clock.py").write_text('"""The clock."""\n\nA = 1\nB = 2\n', "utf-8")
    (repo / "user.py").write_text("from hotline.clock import B\n", "utf-8")
    git(repo, "commit", "-qam", "B")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "user")
    assert git(repo, "merge", "-q", "core").returncode != 0  # the shim's conflict

    out = subprocess.run([sys.executable, str(SCRIPT), "--port-merge", "--no-ruff",
                          "--root", str(repo)], capture_output=True, text=True, timeout=60)

    assert out.returncode == 0, out.stdout + out.stderr
    assert git(repo, "diff", "--name-only", "--diff-filter=U").stdout == ""
    assert (repo / "core" / "clock.py").read_text("utf-8").endswith("A = 1\nB = 2\n")
    assert "sys.modules[__name__]" in (repo / "hotline" / "clock.py").read_text("utf-8")
    assert (repo / "user.py").read_text("utf-8") == "from core.clock import B\n"
    assert git(repo, "commit", "-qm", "merged").returncode == 0
