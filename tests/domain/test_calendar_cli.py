"""`hotline calendar load|show|deadline` as an admin uses them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.test_cli import HOTLINE, env_for

FIXTURE_2027 = Path(__file__).resolve().parents[1] / "fixtures" / "calendar" / "2027-test.json"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HOTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_calendar_commands_say_whether_a_deadline_rests_on_the_fallback(tmp_path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "var")
    assert run(env, "migrate").returncode == 0
    before = run(env, "calendar", "deadline", "--type", "help", "--from", "2026-12-30T10:00")
    assert before.returncode == 0, before.stderr
    assert "due 2027-01-04" in before.stdout and "FALLBACK" in before.stdout
    missing = run(env, "calendar", "show", "2027")
    assert missing.returncode == 1 and "fallback" in missing.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"years": [{"year": 2027, "holidays": [], "workdays": [
        {"date": "2027-01-05"}]}]}), encoding="utf-8")
    refused = run(env, "calendar", "load", str(bad))
    assert refused.returncode == 1
    assert "2027-01-05 is not a Saturday" in refused.stderr and "no 春节" in refused.stderr
    loaded = run(env, "calendar", "load", str(FIXTURE_2027))
    assert loaded.returncode == 0, loaded.stderr
    after = run(env, "calendar", "deadline", "--type", "consult", "--from", "2027-02-03 10:00",
                "--json")
    assert json.loads(after.stdout)["due_date"] == "2027-02-15"
    assert json.loads(after.stdout)["basis"] == "arrangement"
    complex_ = run(env, "calendar", "deadline", "--type", "help", "--complex", "--from",
                   "2027-02-01T09:00+08:00")
    assert "5 working days: due 2027-02-16" in complex_.stdout
    shown = run(env, "calendar", "show", "2027")
    assert shown.returncode == 0 and "working days: 248" in shown.stdout
    wrong = run(env, "calendar", "deadline", "--type", "report", "--complex", "--from",
                "2027-02-01")
    assert wrong.returncode == 2 and "complex" in wrong.stderr
