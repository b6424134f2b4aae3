"""Backends as real processes for the scale-out tests: `hotline serve`/`demo` with
their own process groups, what they print, and what the database says after."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

HOTLINE = [sys.executable, "-m", "hotline.cli"]


def base_env(database_url: str, var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    # No wrap-up hold, as in settings_for_test: nobody submits these calls'
    # orders, so a held agent would take no second call for 5 minutes.
    env.update(HOTLINE_DATABASE_URL=database_url, HOTLINE_VAR_DIR=str(var),
               HOTLINE_RECORDINGS_DIR=str(var / "recordings"),
               HOTLINE_WRAPUP_MAX_SECONDS="0")
    env.update(extra)
    return env


class Proc:
    """A `hotline` process in its own process group, its output in files."""

    def __init__(self, args: list[str], env: dict[str, str], logs: Path, name: str) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = logs / f"{name}.out", logs / f"{name}.err"
        self.name = name
        self.popen = subprocess.Popen(  # noqa: S603 - our own command
            [*HOTLINE, *args], env=env, stdout=self.out_path.open("w"),
            stderr=self.err_path.open("w"), start_new_session=True)

    def output(self) -> str:
        return self.out_path.read_text() + self.err_path.read_text()

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Until ``text`` is in its output (it must still be running, or have printed it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.popen.returncode}) before "
                                     f"printing {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not print {text!r}:\n{self.output()[-3000:]}")

    def signal_group(self, sig: int) -> None:
        os.killpg(self.popen.pid, sig)

    def ended(self, timeout: float = 60.0) -> int:
        """Its exit status; the generous wait is the test's, not the process's deadline."""
        return self.popen.wait(timeout)

    def group_gone(self) -> bool:
        """No process of its group is left (speech workers included)."""
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return True
        # Zombies of an exited group leader's children are reaped by init soon.
        return not [p for p in group_members(self.popen.pid) if not _zombie(p)]

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(30)


def group_members(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except ProcessLookupError:
                continue
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


_TOKENS: dict[str, str] = {}


async def healthz(base_url: str, username: str = "admin") -> dict[str, Any]:
    """The backend's /healthz as a logged-in user sees it (anonymous: only ``ok``);
    ``username`` is one of tests.helpers.prepare_database's (password PASSWORD)."""
    from tests.helpers import PASSWORD

    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            if base_url not in _TOKENS:
                async with http.post(f"{base_url}/api/login",
                                     json={"username": username, "password": PASSWORD}) as r:
                    assert r.status == 200, await r.text()
                    _TOKENS[base_url] = (await r.json())["token"]
            async with http.get(f"{base_url}/healthz",
                                headers={"Authorization": f"Bearer {_TOKENS[base_url]}"}) as r:
                body = dict(await r.json())
            if set(body) != {"ok"}:
                return body
            del _TOKENS[base_url]  # another backend's (or database's) token: log in again
        raise AssertionError(f"{base_url}/healthz answers anonymously: {body}")


async def wait_until(predicate: Any, timeout: float, step: float = 0.2) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(step)
