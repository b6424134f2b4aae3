"""REST handlers for transcripts and the transcription queue.

The service is ``deps.transcription``; when the backend runs
without it these routes answer 503 ``transcription_off``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from calls.models import Call
from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, json_error, path_id
from speech.job_store import JobError
from worksheets import call_access


def _service(request: web.Request) -> Any:
    return request.app[DEPS_KEY].transcription


def _off() -> web.Response:
    return json_error(503, "transcription_off", "transcription is not running on this backend")


async def call_transcripts(request: web.Request) -> web.Response:
    """The call's transcripts: its description (while it grows) and the whole call."""
    call_id = path_id(request, "call_id", "call id must be a number", status=400)
    p = principal(request)
    visible = await request.app[DEPS_KEY].db.run(
        lambda s: _visible(s, call_id, p.role, p.agent_id))
    if visible is None:
        return json_error(404, "not_found", f"no call {call_id}")
    if not visible:
        return json_error(403, "forbidden",
                          "only the agent the call was offered to or answered by reads it")
    service = _service(request)
    if service is None:
        return _off()
    transcripts = await service.transcripts_for_call(call_id)
    return web.json_response({"call_id": call_id, "transcripts": transcripts or []})


def _visible(s: Session, call_id: int, role: str, agent_id: int | None) -> bool | None:
    """None: no such call; supervisors and admins read every call."""
    call = s.get(Call, call_id)
    if call is None:
        return None
    return role != "agent" or call_access.agent_may_see_call(s, call, agent_id)


async def stats(request: web.Request) -> web.Response:
    service = _service(request)
    if service is None:
        return _off()
    return web.json_response(await service.stats())


async def failed(request: web.Request) -> web.Response:
    service = _service(request)
    if service is None:
        return _off()
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 1000))
    except ValueError:
        limit = 100
    return web.json_response({"jobs": await service.failed_jobs(limit)})


async def retry(request: web.Request) -> web.Response:
    service = _service(request)
    if service is None:
        return _off()
    job_id = path_id(request, "job_id", "job id must be a number", status=400)
    try:
        job = await service.retry(job_id)
    except JobError as exc:
        status = 404 if "no transcription job" in str(exc) else 409
        return json_error(status, "not_found" if status == 404 else "not_failed", str(exc))
    return web.json_response(job)


ROUTES = [
    RouteSpec("GET", "/api/calls/{call_id}/transcripts", call_transcripts,
              "The call's timed transcripts (description, whole call)",
              roles=("agent", "supervisor"), tags=("transcripts",),
              params=(("call_id", "path", "call id"),)),
    RouteSpec("GET", "/api/transcription/stats", stats,
              "Transcription backlog, outcomes, throughput and real-time factor",
              roles=("supervisor",), tags=("transcripts",)),
    RouteSpec("GET", "/api/transcription/failed", failed,
              "Failed transcription jobs with their reasons, newest first",
              roles=("supervisor",), tags=("transcripts",),
              params=(("limit", "query", "at most this many (1-1000)"),)),
    RouteSpec("POST", "/api/transcription/jobs/{job_id}/retry", retry,
              "Queue a failed transcription job again", roles=("supervisor",),
              tags=("transcripts",), params=(("job_id", "path", "transcription job id"),)),
]
