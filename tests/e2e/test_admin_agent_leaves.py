"""An agent the admin deactivates while on the queues leaves them at once
(QueueRemove on the built-in PBX), and cannot join them again."""

from __future__ import annotations

import aiohttp

from core.clock import run_simulated
from tests.e2e.test_call_path import START, on_duty_agent, start_stack
from tests.e2e.test_callbacks import login, pbx_events
from tests.helpers import prepare_database


def test_given_an_agent_on_the_queues_when_deactivated_then_they_leave_them(database_url,
                                                                            tmp_path):
    prepare_database(database_url, START)
    agent_id, _interface, member = on_duty_agent(database_url)

    async def main():
        sim, backend = await start_stack(database_url, tmp_path)
        seen = pbx_events(sim, ("QueueMemberAdded", "QueueMemberRemoved"))
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                agent, admin = await login(http, "oncall"), await login(http, "admin")
                async with http.post("/api/agent/queues/login", headers=agent) as r:
                    assert r.status == 200, await r.text()
                async with http.post(f"/api/admin/agents/{agent_id}/deactivate",
                                     headers=admin) as r:
                    assert r.status == 200, await r.text()
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
