"""Prometheus metrics: off by default; with HOTLINE_METRICS_LISTEN, a scrape
of the separate address shows the calls of today, the queues, agents per
state, the AMI link and the FastAGI server, and the transcription backlog,
after traffic through the stand-in PBX."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from core.clock import run_simulated
from core.live_events import CallEnded
from core.settings import Listen
from pbxsim import CallerScript, PhoneBehaviour
from speech import job_store
from speech.transcript import Transcript
from tests.e2e.test_call_path import START, on_duty_agent
from tests.helpers import PASSWORD, free_port, prepare_database, start_stack


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def jobs(text: str) -> dict[str, float]:
    """The transcription backlog by status in a scrape."""
    return {dict(labels)["status"]: v for (name, labels), v in samples(text).items()
            if name == "hotline_transcription_jobs"}


def test_a_scrape_after_traffic_shows_calls_queues_agents_and_links(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)
    _, interface, _ = on_duty_agent(url)
    port = free_port("127.0.0.1")

    async def main():
        sim, backend = await start_stack(url, tmp_path, START, settings_overrides={
            "metrics_listen": Listen("127.0.0.1", port)})
        ended = backend.deps.bus.subscribe(lambda e: isinstance(e, CallEnded))
        try:
            sim.add_phone(interface, PhoneBehaviour(answer_after=2.0, talk_seconds=30.0))
            async with aiohttp.ClientSession(f"http://127.0.0.1:{backend.http_port}") as http:
                async with http.post("/api/login", json={"username": "oncall",
                                                         "password": PASSWORD}) as r:
                    headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
                async with http.post("/api/agent/queues/login", headers=headers) as r:
                    assert r.status == 200
                async with http.get("/metrics") as r:  # not on the console's address
                    on_console = r.status
            call = sim.place_call(caller_number="13800138000", dialed="12345",
                                  script=CallerScript(keys="2", key_delay=1.0, patience=300))
            await asyncio.wait_for(call.done, 600)
            while (await ended.get()).event.uniqueid != call.uniqueid:
                pass
            async with aiohttp.ClientSession() as scraper:
                async def scrape():
                    async with scraper.get(f"http://127.0.0.1:{port}/metrics") as r:
                        return r.status, r.headers["Content-Type"], await r.text()

                first = await scrape()
                # The transcription backlog: a job queued, running, then done.
                db, clock = backend.deps.db, backend.deps.clock
                await db.run(lambda s: job_store.enqueue(
                    s, key=f"{call.uniqueid}.wav", path=str(tmp_path / "r.wav"), kind="call",
                    uniqueid=call.uniqueid, language=None, now=clock.now()))
                backlog = [jobs((await scrape())[2])]
                [job] = await db.run(lambda s: job_store.claim_next(s, clock.now(), 1))
                backlog.append(jobs((await scrape())[2]))
                await db.run(lambda s: job_store.store_transcript(
                    s, job.id, job.claim, Transcript(text="路灯不亮"), now=clock.now(),
                    complete=True))
                backlog.append(jobs((await scrape())[2]))
                return (on_console, *first, backlog)
        finally:
            await backend.stop()
            await sim.stop()

    on_console, status, kind, text, backlog = run_simulated(main())
    assert on_console in (401, 404) and status == 200 and kind.startswith("text/plain")
    got = samples(text)
    assert got[("hotline_database_up", ())] == 1
    assert got[("hotline_calls_today", (("outcome", "answered"),))] == 1
    assert got[("hotline_ami_connected", ())] == 1
    assert got[("hotline_ami_events_received_total", ())] > 0
    assert got[("hotline_fastagi_listening", ())] == 1
    assert got[("hotline_fastagi_sessions_served_total", ())] >= 1
    queue = (("queue", "hotline-complaint"),)
    assert got[("hotline_queue_answered_total", queue)] == 1
    assert got[("hotline_queue_callers_waiting", queue)] == 0
    assert ("hotline_queue_answer_wait_seconds_total", queue) in got
    # From the live floor: nobody waits after the call; the queue's service level today.
    assert got[("hotline_queue_longest_wait_seconds", queue)] == 0
    assert 0 <= got[("hotline_queue_service_level_today", queue)] <= 1
    assert sum(v for (name, _), v in got.items() if name == "hotline_agents") >= 1
    assert jobs(text) == {"queued": 0, "running": 0, "failed": 0}
    assert backlog == [{"queued": 1, "running": 0, "failed": 0},
                       {"queued": 0, "running": 1, "failed": 0},
                       {"queued": 0, "running": 0, "failed": 0}]


def test_metrics_are_off_by_default(tmp_path) -> None:
    from hotline.app import Backend
    from tests.helpers import settings_for_test

    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, START)

    async def main():
        backend = Backend(settings_for_test(url, tmp_path))
        await backend.start()
        try:
            return backend.metrics
        finally:
            await backend.stop()

    assert run_simulated(main()) is None


def test_the_floor_gives_the_longest_wait_service_level_and_callbacks_per_queue() -> None:
    from datetime import timedelta

    from prometheus_client import CollectorRegistry, generate_latest

    from hotline.metrics import _Families, families

    now = START
    floor = {
        "hotline-help": {"longest_since": (now - timedelta(seconds=95)).isoformat(),
                         "service_level": 0.8, "callbacks_pending": 3},
        "hotline-general": {"longest_since": None, "service_level": None,
                            "callbacks_pending": 0},
    }
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families({}, True, {}, None, [], floor, now)))
    got = samples(generate_latest(registry).decode())
    help_q, general = (("queue", "hotline-help"),), (("queue", "hotline-general"),)
    assert got[("hotline_queue_longest_wait_seconds", help_q)] == 95
    assert got[("hotline_queue_longest_wait_seconds", general)] == 0
    assert got[("hotline_queue_service_level_today", help_q)] == 0.8
    assert ("hotline_queue_service_level_today", general) not in got  # nothing offered yet
    assert got[("hotline_queue_callbacks_pending", help_q)] == 3
