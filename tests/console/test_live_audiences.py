"""Who sees which live event, over real WebSockets: on one backend, and on
two backends sharing one PostgreSQL database (events published on either
reach the consoles of both, each console only what its user may see)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from agents.models import Agent
from core import accounts
from core.clock import Clock, run_simulated
from core.db import Database
from core.events import LiveEvent
from core.live_events import (
    AgentMe,
    AgentStateChanged,
    CallEntered,
    CallPop,
    CallQueued,
    OrderChanged,
    PbxView,
    StaffingAlert,
    TranscriptReady,
)
from floor.events import (
    FloorAgent,
    FloorAlertAcked,
    FloorAlertRaised,
    FloorOrders,
    FloorQueue,
    FloorThresholdsChanged,
    FloorTrends,
)
from hotline.app import Backend
from tests.conftest import make_database_url
from tests.console.test_lifecycle_http import NOW, seed_orders
from tests.helpers import PASSWORD, prepare_database, settings_for_test
from worksheets.models import Department

# Past a NOTIFY's 8000 bytes: it crosses instances in pieces.
LONG_TRANSCRIPT = "13800138000 我家楼下的路灯坏了，晚上很黑。" * 300
USERS = ("admin", "sup", "agent", "agent2", "loose", "dept", "dept2")


def add_users(url: str) -> dict[str, int]:
    """Besides prepare_database's: a second agent and department, and an
    agent login linked to no agent.  Returns the ids events refer to."""
    db = Database(url)
    try:
        def work(s: Any) -> dict[str, int]:
            agents = s.scalars(select(Agent).order_by(Agent.number).limit(2)).all()
            depts = s.scalars(select(Department).order_by(Department.id).limit(2)).all()
            accounts.create_user(s, username="agent2", password=PASSWORD, role="agent", now=NOW,
                                 agent_id=agents[1].id)
            accounts.create_user(s, username="dept2", password=PASSWORD, role="department",
                                 now=NOW, department_id=depts[1].id)
            accounts.create_user(s, username="loose", password=PASSWORD, role="agent", now=NOW)
            return {"X": agents[0].id, "X2": agents[1].id, "D": depts[0].id, "D2": depts[1].id}
        return db.call(work)
    finally:
        db.close()


BOSSES = {"admin", "sup"}


def cases(ids: dict[str, int]) -> list[tuple[str, LiveEvent, set[str]]]:
    """(label, event, who must see it): written out by hand, not derived."""
    x, x2, d, d2 = ids["X"], ids["X2"], ids["D"], ids["D2"]

    def order(label: str, agent: int | None, dept: int | None) -> OrderChanged:
        return OrderChanged(step="dispatched", order_id=1, number=label, status="dispatched",
                            agent_id=agent, department_id=dept)

    def words(label: str, agent: int | None) -> TranscriptReady:
        return TranscriptReady(uniqueid=label, call_id=1, order_id=1, agent_id=agent,
                               kind="call", text=LONG_TRANSCRIPT, final=True,
                               transcript_id=1, seconds_audio=3.0)

    return [
        ("alert", StaffingAlert(alert_id=1, subject_agent_id=x, kind="no_show", detail="alert",
                                raised_at=NOW.isoformat()), BOSSES),
        ("state-X", AgentStateChanged(agent_id=x, state="paused", reason="state-X",
                                      since=NOW.isoformat()), BOSSES | {"agent"}),
        ("state-X2", AgentStateChanged(agent_id=x2, state="paused", reason="state-X2",
                                       since=NOW.isoformat()), BOSSES | {"agent2"}),
        ("order-D", order("order-D", None, d), BOSSES | {"dept"}),
        ("order-D2", order("order-D2", None, d2), BOSSES | {"dept2"}),
        ("order-X-D2", order("order-X-D2", x, d2), BOSSES | {"agent", "dept2"}),
        ("words-X", words("words-X", x), BOSSES | {"agent"}),
        ("words-nobody", words("words-nobody", None), BOSSES),
        ("queued", CallQueued(uniqueid="queued", queue="q-help", caller="138****8000",
                              position=1), BOSSES | {"agent", "agent2", "loose"}),
        ("entered", CallEntered(uniqueid="entered", caller="138****8000"), BOSSES),
        ("pbx", PbxView(resync=1, queues={}, members={}, channels_up=0), BOSSES),
        # --- agentapi: the agent's own view and the pop, to that agent (and bosses) ---
        ("me-X", AgentMe(agent_id=x, me={"state": "me-X"}), BOSSES | {"agent"}),
        ("pop-X2", CallPop(agent_id=x2, phase="ringing", pop={"uniqueid": "pop-X2"},
                           ami_read_ms=1.0, sent_ms=2.0), BOSSES | {"agent2"}),
        # --- floor ---: the supervisors' floor, to nobody else (not even the agent named)
        ("floor-queue", FloorQueue(queue="floor-queue", figures={}), BOSSES),
        ("floor-agent", FloorAgent(agent_id=x, figures={"label": "floor-agent"}), BOSSES),
        ("floor-orders", FloorOrders(figures={"label": "floor-orders"}), BOSSES),
        ("floor-trends", FloorTrends(figures={"label": "floor-trends"}), BOSSES),
        ("floor-alert", FloorAlertRaised(alert_id=1, kind="long_wait", key="floor-alert",
                                         detail="", raised_at=NOW.isoformat()), BOSSES),
        ("floor-acked", FloorAlertAcked(source="floor", alert_id=1, by="floor-acked",
                                        at=NOW.isoformat()), BOSSES),
        ("floor-thresholds", FloorThresholdsChanged(version=1, thresholds={
            "label": "floor-thresholds"}), BOSSES),
    ]


def label_of(message: dict[str, Any]) -> str:
    kind = message["type"]
    if kind == "staffing.alert":
        return str(message["detail"])
    if kind == "agent.state":
        return str(message["reason"])
    if kind.startswith("order."):
        return str(message["number"])
    if kind == "pbx.state":
        return "pbx"
    if kind == "agent.me":
        return str(message["me"]["state"])
    if kind == "call.pop":
        return str(message["pop"]["uniqueid"])
    if kind.startswith("floor."):
        return str(message.get("queue") or message.get("key") or message.get("by")
                   or (message.get("figures") or message["thresholds"])["label"])
    return str(message["uniqueid"])


def fence(ids: dict[str, int], n: int) -> list[LiveEvent]:
    """Events that every user of USERS sees once: the end of one publisher's run."""
    return [OrderChanged(step="fence", order_id=0, number=f"fence-{n}", status="",
                         agent_id=ids["X"], department_id=ids["D"]),
            OrderChanged(step="fence", order_id=0, number=f"fence-{n}", status="",
                         agent_id=ids["X2"], department_id=ids["D2"]),
            CallQueued(uniqueid=f"fence-{n}", queue="", caller="", position=0)]


FENCES_SEEN = {"admin": 3, "sup": 3, "agent": 2, "agent2": 2, "loose": 1, "dept": 1, "dept2": 1}


async def read_until_fences(ws: aiohttp.ClientWebSocketResponse, fences: int
                            ) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    seen = 0
    while seen < fences:
        message = await ws.receive_json(timeout=60)
        if message["type"] in ("hello", "snapshot"):
            continue
        if label_of(message).startswith("fence-"):
            seen += 1
        else:
            got.append(message)
    return got


async def run_audiences(backends: list[Backend], ids: dict[str, int], console_on: dict[str, int]
                        ) -> dict[str, Any]:
    """Consoles of USERS on ``backends[console_on[user]]``; every case published
    on the backends in turn, then each backend's fence."""
    out: dict[str, Any] = {}
    sessions = {i: aiohttp.ClientSession(f"http://127.0.0.1:{b.http_port}")
                for i, b in enumerate(backends)}
    try:
        sockets = {}
        for user in USERS:
            http = sessions[console_on[user]]
            async with http.post("/api/login",
                                 json={"username": user, "password": PASSWORD}) as r:
                headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
            sockets[user] = ws = await http.ws_connect("/api/ws", headers=headers)
            assert (await ws.receive_json(timeout=60))["type"] == "hello"
            out.setdefault("snapshots", {})[user] = await ws.receive_json(timeout=60)
        for n, (_label, event, _who) in enumerate(cases(ids)):
            backends[n % len(backends)].deps.bus.publish(event)  # type: ignore[union-attr]
        for n, backend in enumerate(backends):
            for event in fence(ids, n):
                backend.deps.bus.publish(event)  # type: ignore[union-attr]
        received = await asyncio.gather(*(
            read_until_fences(sockets[u], FENCES_SEEN[u] * len(backends)) for u in USERS))
        by_user = dict(zip(USERS, received, strict=True))
        out["seen"] = {u: Counter(label_of(m) for m in got) for u, got in by_user.items()}
        out["seqs"] = {u: [m["seq"] for m in got] for u, got in by_user.items()}
        out["text"] = {u: [m.get("text") for m in got if m["type"] == "transcript.ready"]
                       for u, got in by_user.items()}
        for ws in sockets.values():
            await ws.close()
    finally:
        for http in sessions.values():
            await http.close()
    return out


def expected(ids: dict[str, int]) -> dict[str, Counter[str]]:
    want: dict[str, Counter[str]] = {u: Counter() for u in USERS}
    for label, _event, who in cases(ids):
        for user in who:
            want[user][label] += 1
    return want


def check(out: dict[str, Any], ids: dict[str, int]) -> None:
    assert out["seen"] == expected(ids)
    for user in USERS:
        assert out["seqs"][user] == sorted(out["seqs"][user])  # numbered in order
    # Citizen words reach only the agent who has the call, and supervisors.
    assert out["text"]["agent"] == [LONG_TRANSCRIPT]
    assert not out["text"]["agent2"] and not out["text"]["loose"]
    assert not out["text"]["dept"] and not out["text"]["dept2"]
    snapshots = out["snapshots"]
    assert "agents" in snapshots["sup"]["state"] and "agents" not in snapshots["agent"]["state"]
    assert snapshots["dept"]["state"] == {}


def test_each_console_receives_what_its_user_may_see_and_nothing_else(database_url, tmp_path):
    prepare_database(database_url, NOW)
    ids = add_users(database_url)

    async def main() -> dict[str, Any]:
        backend = Backend(settings_for_test(database_url, tmp_path),
                          clock=Clock.for_running_loop(NOW))
        await backend.start()
        try:
            return await run_audiences([backend], ids, {u: 0 for u in USERS})
        finally:
            await backend.stop()

    check(run_simulated(main()), ids)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Any:
    yield from make_database_url("postgresql", tmp_path)


@pytest.mark.postgres
def test_two_backends_on_one_postgresql_each_console_gets_every_event_it_may_see(
        postgres_url, tmp_path):
    prepare_database(postgres_url, NOW)
    ids = add_users(postgres_url)
    (orders, _c, _b), mine, _other = seed_orders(postgres_url)
    on = {"admin": 1, "sup": 0, "agent": 1, "agent2": 0, "loose": 1, "dept": 0, "dept2": 1}

    async def main() -> dict[str, Any]:
        clock = Clock.for_running_loop(NOW)
        backends = [Backend(settings_for_test(postgres_url, tmp_path / str(i)),
                            clock=clock) for i in range(2)]
        for backend in backends:
            await backend.start()
        try:
            out = await run_audiences(backends, ids, on)
            # A real step: the department signs for its order on instance 1; its
            # console and the supervisor's, both on instance 0, hear of it.
            out["accept"] = await accept_elsewhere(backends, orders)
            out["relayed"] = [b.relay.received for b in backends]  # type: ignore[union-attr]
            return out
        finally:
            for backend in backends:
                await backend.stop()

    out = run_simulated(main())
    check(out, ids)
    assert out["accept"]["dept"]["department_id"] == mine
    assert out["accept"]["sup"]["order_id"] == out["accept"]["dept"]["order_id"] == orders
    assert all(n > 0 for n in out["relayed"])


async def accept_elsewhere(backends: list[Backend], order_id: int) -> dict[str, Any]:
    a = aiohttp.ClientSession(f"http://127.0.0.1:{backends[0].http_port}")
    b = aiohttp.ClientSession(f"http://127.0.0.1:{backends[1].http_port}")
    try:
        consoles = {}
        for user in ("dept", "sup"):
            async with a.post("/api/login", json={"username": user, "password": PASSWORD}) as r:
                headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
            consoles[user] = await a.ws_connect("/api/ws", headers=headers)
            for _ in range(2):  # hello, snapshot
                await consoles[user].receive_json(timeout=60)
        async with b.post("/api/login", json={"username": "dept", "password": PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with b.post(f"/api/work-orders/{order_id}/accept", headers=headers) as r:
            assert r.status == 200, await r.text()
        out = {}
        for user, ws in consoles.items():
            message = await ws.receive_json(timeout=60)
            while message["type"] != "order.accepted":
                message = await ws.receive_json(timeout=60)
            out[user] = message
            await ws.close()
        return out
    finally:
        await a.close()
        await b.close()
