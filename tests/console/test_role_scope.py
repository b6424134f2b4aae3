"""Issue 14: what each role may see. Transcripts only for the agent the call was
offered to or answered by (and supervisors), transcript.ready never to an
agent login without an agent, and agent or department logins linked to
nothing refused where the route acts for their agent or department."""

from __future__ import annotations

from sqlalchemy import select

from agents.models import Agent
from calls import records
from core import accounts
from core.live_events import CallQueued, TranscriptReady
from tests.console.test_http import login, run_with_backend
from tests.helpers import PASSWORD, record_answer


def _calls(backend):
    """An unanswered call, one answered by the first agent, one offered to the second."""
    now = backend.deps.clock.now()

    def work(s):
        first, second = s.scalars(select(Agent).order_by(Agent.number)).all()[:2]
        for name, role, agent_id in (("loose", "agent", None), ("loosedept", "department", None),
                                     ("second", "agent", second.id)):
            accounts.create_user(s, username=name, password=PASSWORD, role=role, now=now,
                                 agent_id=agent_id)
        waiting = records.start_call(s, uniqueid="1764950000.1", now=now,
                                     caller_number="13800138000")
        records.mark_queued(s, "1764950000.1", queue="hotline-help", now=now)
        answered = records.start_call(s, uniqueid="1764950000.2", now=now,
                                      caller_number="13900139000")
        records.mark_queued(s, "1764950000.2", queue="hotline-help", now=now)
        record_answer(s, "1764950000.2", member_name=f"agent-{first.number}",
                      agent_id=first.id, hold_seconds=3, now=now)
        offered = records.start_call(s, uniqueid="1764950000.3", now=now,
                                     caller_number="13700137000")
        records.mark_queued(s, "1764950000.3", queue="hotline-help", now=now)
        records.record_offer(s, "1764950000.3", second.id, now)
        return waiting.id, answered.id, offered.id

    return backend.deps.db.run(work)


def test_transcripts_only_for_the_agent_offered_or_answering_and_supervisors(database_url,
                                                                              tmp_path):
    async def body(http, backend):
        waiting, answered, offered = await _calls(backend)
        heads = {n: await login(http, n) for n in ("agent", "second", "loose", "sup")}
        out = {}
        for who, head in heads.items():
            for name, call_id in (("waiting", waiting), ("answered", answered),
                                  ("offered", offered)):
                async with http.get(f"/api/calls/{call_id}/transcripts", headers=head) as r:
                    # 503 transcription_off: past the access check (no Vosk in this test)
                    out[(who, name)] = r.status
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out[("agent", "waiting")] == 403 and out[("second", "waiting")] == 403
    assert out[("agent", "answered")] == 503 and out[("second", "answered")] == 403
    assert out[("second", "offered")] == 503 and out[("agent", "offered")] == 403
    assert {out[("loose", c)] for c in ("waiting", "answered", "offered")} == {403}
    assert {out[("sup", c)] for c in ("waiting", "answered", "offered")} == {503}


def test_transcript_ready_never_reaches_an_agent_login_without_an_agent(database_url,
                                                                        tmp_path):
    async def body(http, backend):
        await _calls(backend)
        head = await login(http, "loose")
        async with http.ws_connect("/api/ws", headers=head) as ws:
            # hello is sent after the subscription is made
            assert (await ws.receive_json())["type"] == "hello"
            assert (await ws.receive_json())["type"] == "snapshot"
            backend.deps.bus.publish(TranscriptReady(
                uniqueid="1764950000.1", call_id=1, order_id=None, agent_id=None,
                kind="description", text="我家漏水了", final=True, transcript_id=1,
                seconds_audio=2.0))
            backend.deps.bus.publish(CallQueued(uniqueid="1764950000.9", queue="hotline-help",
                                                caller="138****8000", position=1))
            return await ws.receive_json()

    first = run_with_backend(database_url, tmp_path, body)
    assert first["type"] == "call.queued"


def test_unlinked_agent_and_department_logins_are_refused_where_the_link_is_assumed(
        database_url, tmp_path):
    async def body(http, backend):
        await _calls(backend)
        out = {}
        for who in ("loose", "loosedept", "agent", "dept"):
            head = await login(http, who)
            kind = "department" if "dept" in who else "visits"
            async with http.get(f"/api/worklists/{kind}", headers=head) as r:
                out[(who, "worklist")] = (r.status, (await r.json()).get("error", {}).get(
                    "code"))
            async with http.get("/api/me", headers=head) as r:
                out[(who, "me")] = r.status
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out[("loose", "worklist")] == (403, "unlinked")
    assert out[("loosedept", "worklist")] == (403, "unlinked")
    assert out[("agent", "worklist")][0] == 200 and out[("dept", "worklist")][0] == 200
    assert {out[(w, "me")] for w in ("loose", "loosedept", "agent", "dept")} == {200}


def test_walk_every_route_as_unlinked_agent_and_department(database_url, tmp_path):
    """Every route declared for agents (or departments) refuses their unlinked logins."""
    import re

    from console.auth import SPECS_KEY

    async def body(http, backend):
        await _calls(backend)
        heads = {"agent": await login(http, "loose"), "department": await login(http, "loosedept")}
        out = {}
        for (method, path), spec in backend._runner.app[SPECS_KEY].items():
            for role, head in heads.items():
                if role not in spec.roles:
                    continue
                url = re.sub(r"\{[a-z_]+\}", "1", path)
                async with http.request(method, url, headers=head) as r:
                    out[(role, method, path)] = (r.status, (await r.json()).get(
                        "error", {}).get("code"))
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert len(out) > 20
    assert {v for v in out.values()} == {(403, "unlinked")}, out
