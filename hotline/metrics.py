"""Prometheus metrics on their own address (``HOTLINE_METRICS_LISTEN``; off
by default): no login there, so it belongs on an internal interface.

Each scrape reads the state as it is (nothing is counted on the hot paths):
the calls of today by outcome and the transcription backlog from the
database; the queues (callers waiting, answered and abandoned, waits) from
this backend's model of the PBX; the caller waiting longest, today's
service level and the callbacks pending per queue from the live floor (as
supervisors see them); agents per state; the AMI link and the FastAGI
server from their status.  Counters named ``*_total`` come from
this process's PBX model and restart at zero with it, as Prometheus
expects of counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calls.models import Call
from speech.tables import TranscriptionJob

log = logging.getLogger(__name__)


def database_figures(session: Session, since: datetime) -> dict[str, dict[str, int]]:
    calls = session.execute(select(Call.outcome, func.count()).where(
        Call.entered_at >= since).group_by(Call.outcome))
    jobs = session.execute(select(TranscriptionJob.status, func.count()).where(
        TranscriptionJob.status.in_(("queued", "running", "failed")))
        .group_by(TranscriptionJob.status))
    return {"calls": {o: n for o, n in calls}, "jobs": {s: n for s, n in jobs}}


class _Families:
    """A collector of metric families built before the scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def families(status: dict[str, Any], db_up: bool, figures: dict[str, dict[str, int]],
             pbx: dict[str, Any] | None, agents: list[dict[str, Any]] | None,
             floor: dict[str, dict[str, Any]] | None = None,
             now: datetime | None = None) -> list[Metric]:
    out: list[Metric] = []
    up = _gauge("hotline_database_up", "1 when the database answered this scrape")
    up.add_metric([], 1 if db_up else 0)
    out.append(up)
    calls = _gauge("hotline_calls_today", "calls entered since local midnight, by outcome",
                   ["outcome"])
    for outcome, n in sorted(figures.get("calls", {}).items()):
        calls.add_metric([outcome], n)
    jobs = _gauge("hotline_transcription_jobs", "transcription backlog by status",
                  ["status"])
    for state in ("queued", "running", "failed"):
        jobs.add_metric([state], figures.get("jobs", {}).get(state, 0))
    out += [calls, jobs]

    ami = status.get("ami", {})
    out.append(_one("hotline_ami_connected", "1 while the AMI link is logged in",
                    ami.get("connected")))
    out += _counters("hotline_ami_", ami, (
        ("events_received", "AMI events received"),
        ("events_dropped", "AMI events dropped (queue full; a resync follows)"),
        ("reconnects", "AMI reconnections")))
    agi = status.get("fastagi", {})
    out.append(_one("hotline_fastagi_listening", "1 while the FastAGI server listens",
                    agi.get("listening")))
    out.append(_one("hotline_fastagi_sessions_active", "FastAGI sessions open",
                    agi.get("sessions_active", 0)))
    out += _counters("hotline_fastagi_", agi, (
        ("sessions_served", "FastAGI sessions served"),
        ("sessions_rejected", "FastAGI sessions refused (limits, allow-list)"),
        ("bad_requests", "FastAGI requests refused as malformed")))

    out += _queues(pbx)
    if floor is not None and now is not None:
        out += _floor(floor, now)
    states = _gauge("hotline_agents", "agents followed by this backend, by state", ["state"])
    counts: dict[str, int] = {}
    for agent in agents or []:
        counts[agent.get("state", "unknown")] = counts.get(agent.get("state", "unknown"), 0) + 1
    for state, n in sorted(counts.items()):
        states.add_metric([state], n)
    out.append(states)
    return out


def _counters(prefix: str, status: dict[str, Any],
              docs: tuple[tuple[str, str], ...]) -> list[Metric]:
    out: list[Metric] = []
    for key, doc in docs:
        counter = CounterMetricFamily(prefix + key, doc)
        counter.add_metric([], status.get(key, 0))
        out.append(counter)
    return out


def _one(name: str, doc: str, value: Any) -> GaugeMetricFamily:
    gauge = _gauge(name, doc)
    gauge.add_metric([], float(value or 0))
    return gauge


def _queues(pbx: dict[str, Any] | None) -> list[Metric]:
    waiting = _gauge("hotline_queue_callers_waiting", "callers waiting in the queue", ["queue"])
    answered = CounterMetricFamily("hotline_queue_answered", "calls answered", labels=["queue"])
    abandoned = CounterMetricFamily("hotline_queue_abandoned", "calls abandoned", labels=["queue"])
    wait = CounterMetricFamily("hotline_queue_answer_wait_seconds",
                               "seconds answered callers waited, summed", labels=["queue"])
    longest = _gauge("hotline_queue_answer_wait_max_seconds",
                     "longest wait of an answered caller", ["queue"])
    for name, q in sorted(((pbx or {}).get("queues") or {}).items()):
        waiting.add_metric([name], q.get("waiting", 0))
        answered.add_metric([name], q.get("answered", 0))
        abandoned.add_metric([name], q.get("abandoned", 0))
        wait.add_metric([name], q.get("answer_wait_total", 0))
        longest.add_metric([name], q.get("answer_wait_max", 0))
    return [waiting, answered, abandoned, wait, longest]


def _floor(queues: dict[str, dict[str, Any]], now: datetime) -> list[Metric]:
    """From the live floor's per-queue entries (computed once per instance for
    the supervisors): the caller waiting longest now, today's service level,
    callbacks not yet made."""
    longest = _gauge("hotline_queue_longest_wait_seconds",
                     "how long the caller waiting longest has waited (0: nobody waits)",
                     ["queue"])
    level = _gauge("hotline_queue_service_level_today",
                   "calls answered within the target / calls offered today (absent: none)",
                   ["queue"])
    pending = _gauge("hotline_queue_callbacks_pending", "callback tasks not yet done",
                     ["queue"])
    for name, q in sorted(queues.items()):
        since = q.get("longest_since")
        waited = (now - datetime.fromisoformat(since)).total_seconds() if since else 0.0
        longest.add_metric([name], max(0.0, waited))
        if q.get("service_level") is not None:
            level.add_metric([name], float(q["service_level"]))
        pending.add_metric([name], q.get("callbacks_pending", 0))
    return [longest, level, pending]


class MetricsServer:
    """The scrape endpoint, ``GET /metrics``, on an aiohttp site of its own."""

    def __init__(self, deps: Any, status: Callable[[], dict[str, Any]],
                 agents: Callable[[], list[dict[str, Any]]],
                 floor: Callable[[], dict[str, dict[str, Any]]] | None = None) -> None:
        self.deps, self.status, self.agents, self.floor = deps, status, agents, floor
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def scrape(self, _request: web.Request) -> web.Response:
        deps = self.deps
        tz = deps.settings.tz
        midnight = datetime.combine(deps.clock.now().astimezone(tz).date(), time(), tz)
        try:
            figures = await deps.db.run(lambda s: database_figures(s, midnight))
            db_up = True
        except Exception:  # the scrape still says what it knows, and that the DB is down
            log.warning("metrics: the database did not answer", exc_info=True)
            figures, db_up = {}, False
        pbx = deps.pbx.live() if deps.pbx is not None else None
        registry = CollectorRegistry(auto_describe=False)
        floor = self.floor() if self.floor is not None else None
        registry.register(_Families(families(self.status(), db_up, figures, pbx,
                                             self.agents(), floor, deps.clock.now())))
        return web.Response(body=generate_latest(registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self.scrape)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
