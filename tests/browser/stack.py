"""The whole backend and the built-in PBX on real sockets and the wall clock,
in a thread of their own, for a real browser to talk to.

Browser tests cannot run on virtual time (chromium keeps its own clock), so
the stack runs on an ordinary asyncio loop in a background thread and the
test, driving Playwright's synchronous API, reaches into it with
:meth:`LiveStack.run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from agents import rota
from agents.models import Agent, Team
from core import accounts
from core.accounts import User
from core.db import Database
from tests.helpers import PASSWORD, prepare_database, start_stack

T = TypeVar("T")

# The login each role's page uses (tests.helpers.prepare_database makes them;
# "oncall" is an agent of the team on duty now, made here).
USERS = {"admin": "admin", "supervisor": "sup", "department": "dept", "agent": "oncall"}


def on_duty_agent(url: str, now: datetime, tz: str = "Asia/Shanghai") -> dict[str, Any]:
    """Log in ``oncall``: the first agent of the team on duty at ``now``."""
    db = Database(url)
    try:
        def work(s: Any) -> dict[str, Any]:
            team_index = rota.team_on_duty(rota.RotaConfig(), now, ZoneInfo(tz))
            agent = s.scalars(select(Agent).join(Team, Agent.team_id == Team.id)
                              .where(Team.rota_index == team_index)
                              .order_by(Agent.number)).first()
            accounts.create_user(s, username="oncall", password=PASSWORD, role="agent",
                                 now=now, agent_id=agent.id, display_name=agent.name)
            return {"id": agent.id, "interface": agent.interface,
                    "member": agent.member_name, "name": agent.name}
        return db.call(work)
    finally:
        db.close()


def _chinese_display_names(s: Any) -> None:
    """Users show by name in the header: the test logins get Chinese ones
    (the language check reads the header too)."""
    names = {"admin": "系统管理员", "sup": "值班长", "dept": "承办单位值班员"}
    for user in s.scalars(select(User).where(User.username.in_(names))):
        user.display_name = names[user.username]


class LiveStack:
    """PbxSim + Backend on a wall-clock loop in a daemon thread."""

    def __init__(self, tmp_path: Path, database_url: str | None = None, *,
                 start: datetime | None = None, **backend_options: Any) -> None:
        """``start``: where the stack's clock starts (default: now); it runs
        on the wall clock from there."""
        self.tmp_path = tmp_path
        self.start_at = start
        self.database_url = database_url or f"sqlite:///{tmp_path / 'browser.db'}"
        self.backend_options = backend_options
        self.loop = asyncio.new_event_loop()
        self.sim: Any = None
        self.backend: Any = None
        self.agent: dict[str, Any] = {}
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="live-stack", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.backend.http_port}"

    def start(self, timeout: float = 60) -> LiveStack:
        now = self.start_at or datetime.now(UTC)
        prepare_database(self.database_url, now)
        self.agent = on_duty_agent(self.database_url, now)
        self.db(_chinese_display_names)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the backend did not start in time")
        if self._failure is not None:
            raise RuntimeError("the backend did not start") from self._failure
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            self.sim, self.backend = await start_stack(
                self.database_url, self.tmp_path, self.start_at or datetime.now(UTC),
                **self.backend_options)
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.backend.stop()
            await self.sim.stop()

    def run(self, work: Callable[[], Awaitable[T]] | Awaitable[T], timeout: float = 60) -> T:
        """Run a coroutine (or a coroutine function) on the stack's loop; its result."""
        coro = work() if callable(work) else work
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def db(self, work: Callable[[Any], T]) -> T:
        """Run ``work(session)`` in a transaction of the stack's database (from the test)."""
        db = Database(self.database_url)
        try:
            return db.call(work)
        finally:
            db.close()

    def stop(self, timeout: float = 30) -> None:
        if self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
