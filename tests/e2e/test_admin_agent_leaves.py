"""An agent the admin deactivates while on the queues -- through the
deactivate route, an uploaded file, or `hotline import` on the command line
(no backend served it: the backend in charge finds them) -- leaves them
(QueueRemove on the built-in PBX), and cannot join them again."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from agents.staffing import Staffing
from core.clock import run_simulated
from hotline.cli import main as hotline
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login, pbx_events
from tests.helpers import prepare_database


async def _deactivate(http, admin, agent_id: int, how: str, tmp_path) -> None:
    if how == "route":
        async with http.post(f"/api/admin/agents/{agent_id}/deactivate", headers=admin) as r:
            assert r.status == 200, await r.text()
        return
    async with http.get("/api/admin/agents", headers=admin) as r:
        number = next(a["number"] for a in (await r.json())["agents"] if a["id"] == agent_id)
    csv = f"工号,启用\n{number},否\n".encode()
    if how == "cli":
        (tmp_path / "agents.csv").write_bytes(csv)
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, hotline, [
            "import", "agents", str(tmp_path / "agents.csv")]) == 0
        return
    async with http.post("/api/admin/import/agents", data=csv,
                         headers={**admin, "Content-Type": "text/csv"}) as r:
        report = await r.json()
        assert r.status == 200 and report["changed"] == 1, report


@pytest.mark.parametrize("how", ["route", "import", "cli"])
def test_given_an_agent_on_the_queues_when_deactivated_then_they_leave_them(
        database_url, tmp_path, monkeypatch, how):
    prepare_database(database_url, START)
    agent_id, _interface, member = on_duty_agent(database_url)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    if how != "cli":  # the request itself takes them off, not the sweep for the CLI's
        async def nothing(self):
            return []
        monkeypatch.setattr(Staffing, "drop_deactivated", nothing)

    async def main():
        sim, backend = await start_stack(database_url, tmp_path)
        seen = pbx_events(sim, ("QueueMemberAdded", "QueueMemberRemoved"))
        removed = asyncio.Event()
        sim.event_listeners.append(
            lambda event, _p, headers: removed.set() if event == "QueueMemberRemoved"
            and dict(headers).get("MemberName") == member else None)
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent, admin = await login(http, "oncall"), await login(http, "admin")
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200, await r.text()
                await _deactivate(http, admin, agent_id, how, tmp_path)
                await asyncio.wait_for(removed.wait(), 60)
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    again = r.status
            return seen, again
        finally:
            await backend.stop()
            await sim.stop()

    seen, again = run_simulated(main())
    added = {e["Queue"] for name, e in seen if name == "QueueMemberAdded"
             and e.get("MemberName") == member}
    removed = {e["Queue"] for name, e in seen if name == "QueueMemberRemoved"
               and e.get("MemberName") == member}
    assert added and removed == added
    assert again >= 400
